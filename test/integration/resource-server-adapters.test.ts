import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressGuard, expressMetadata } from '../../resource-server/express.js';
import { honoGuard, honoMetadata } from '../../resource-server/hono.js';
import {
  type AccessTokenIdentity,
  createVerifier,
  type Verifier,
} from '../../resource-server/index.js';
import { dpopKey, type StandInIssuer, startStandInIssuer } from '../support/stand-in-issuer.js';

/**
 * The Express and Hono adapters in the real frameworks: the metadata route, the challenge, the
 * caller handed to the handler, and the MCP DPoP profile's body digest checked on the raw body
 * while the handler still reads the body.
 */
const RESOURCE = 'https://api.example.com/api';
const METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/api';
const BODY = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' });

let issuer: StandInIssuer;
let verifier: Verifier;
let expressServer: Server;
let expressOrigin: string;
let hono: Hono<{ Variables: { identity: AccessTokenIdentity } }>;

beforeAll(async () => {
  issuer = await startStandInIssuer({ aud: RESOURCE });
  verifier = createVerifier({
    issuer: issuer.issuer,
    resource: RESOURCE,
    dpop: { contentDigest: true },
  });

  const app = express();
  app.use(expressMetadata(verifier, { scopes: ['mcp:tools'] }));
  app.post('/api', expressGuard(verifier, { scopes: ['mcp:tools'] }), (req, res) => {
    const identity = req.identity as AccessTokenIdentity;
    res.json({ sub: identity.sub, body: JSON.parse(String(req.rawBody)) });
  });
  // A route behind a JSON parser that keeps the raw body for the guard.
  app.post(
    '/api/parsed',
    express.json({ verify: (req, _res, raw) => Object.assign(req, { rawBody: raw }) }),
    expressGuard(verifier, { scopes: ['mcp:tools'] }),
    (req, res) => res.json({ sub: (req.identity as AccessTokenIdentity).sub, body: req.body }),
  );
  expressServer = await new Promise<Server>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
  expressOrigin = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;

  hono = new Hono<{ Variables: { identity: AccessTokenIdentity } }>();
  const metadata = honoMetadata(verifier, { scopes: ['mcp:tools'] });
  hono.get(metadata.path, metadata.handler);
  hono.use('/api', honoGuard(verifier, { scopes: ['mcp:tools'] }));
  hono.post('/api', async (c) => c.json({ sub: c.get('identity').sub, body: await c.req.json() }));
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    expressServer?.close(() => resolve());
    expressServer?.closeAllConnections();
  });
  await issuer?.close();
});

/** The same request to either framework: Express over loopback, Hono in process. */
const frameworks: [string, (path: string, init?: RequestInit) => Promise<Response>][] = [
  ['Express', (path, init) => fetch(`${expressOrigin}${new URL(path).pathname}`, init)],
  ['Hono', async (path, init) => hono.request(path, init)],
];

for (const [name, send] of frameworks) {
  describe(`${name}`, () => {
    const post = (headers: Record<string, string>, body = BODY, path = RESOURCE) =>
      send(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });

    it('serves the RFC 9728 metadata at the well-known path', async () => {
      const response = await send(METADATA);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        resource: RESOURCE,
        scopes_supported: ['mcp:tools'],
      });
    });

    it('no token: 401 with the challenge naming the metadata', async () => {
      const response = await post({});
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain(`resource_metadata="${METADATA}"`);
    });

    it('a Bearer token: the handler sees the caller and reads the body', async () => {
      const response = await post({ authorization: `Bearer ${await issuer.token()}` });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ sub: 'user-1', body: JSON.parse(BODY) });
    });

    it('a token without the scope: 403 insufficient_scope', async () => {
      const response = await post({
        authorization: `Bearer ${await issuer.token({ scope: 'x' })}`,
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    });

    it('DPoP: a proof of this body passes, a proof of another body is 401', async () => {
      const key = await dpopKey();
      const token = await issuer.token({ cnf: { jkt: key.jkt } });
      const good = await key.proof({ method: 'POST', url: RESOURCE, token, body: BODY });
      expect((await post({ authorization: `DPoP ${token}`, dpop: good })).status).toBe(200);
      const other = await key.proof({ method: 'POST', url: RESOURCE, token, body: '{}' });
      const refused = await post({ authorization: `DPoP ${token}`, dpop: other });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    });
  });
}

it('Express behind a JSON parser keeping the raw body: the digest is checked on it', async () => {
  const key = await dpopKey();
  const token = await issuer.token({ cnf: { jkt: key.jkt } });
  const url = `${RESOURCE}/parsed`;
  const post = async (body: string) =>
    fetch(`${expressOrigin}/api/parsed`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `DPoP ${token}`,
        dpop: await key.proof({ method: 'POST', url, token, body }),
      },
      body: BODY,
    });
  const passed = await post(BODY);
  expect(passed.status).toBe(200);
  expect(await passed.json()).toEqual({ sub: 'user-1', body: JSON.parse(BODY) });
  expect((await post('{}')).status).toBe(401);
});
