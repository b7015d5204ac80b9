import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { McpServerStack } from '../../examples/mcp-server/cdk/stack.js';
import { accessTokenHash, contentDigest } from '../../lambdas/core/tokens/dpop-proof.js';
import { freePort } from '../support/free-port.js';
import { type InteractiveServer, startInteractiveServer } from '../support/interactive.js';
import {
  callMcp,
  type DpopKeys,
  dpopProof,
  machineToken as machineTokenOf,
  WHOAMI_CALL,
  whoamiThroughCodeFlow,
} from '../support/mcp-sdk-provider.js';
import { type Json, readJson } from '../support/server.js';
import { startHttpApiStack } from '../support/synthesized-stack.js';

/**
 * The example MCP server as its CDK app deploys it (examples/mcp-server/cdk), synthesized with
 * its bundles and run on the synthesized-stack harness: the HTTP API's routes, the kit's Lambda
 * request authorizer as the template wires it (identity source, payload 2.0, simple responses,
 * no caching, its invoke permission) and the server's function, with the authorization server
 * stack issuing the tokens.
 */
let server: InteractiveServer;
let example: Awaited<ReturnType<typeof startHttpApiStack>>;
let outdir: string;
let resource: string;

beforeAll(async () => {
  const port = await freePort();
  resource = `https://127.0.0.1:${port}/mcp`;
  server = await startInteractiveServer({
    DCR_RESOURCES: resource,
    DCR_ALLOWED_SCOPES: 'mcp:tools mcp:admin',
  });
  outdir = mkdtempSync(join(tmpdir(), 'mcp-example-cdk-'));
  const app = new App({ outdir });
  new McpServerStack(app, 'McpServerExample', {
    issuer: server.app.issuer,
    scopes: ['mcp:tools'],
    resource,
  });
  app.synth({ validateOnSynthesis: false });
  example = await startHttpApiStack({
    cdkOut: outdir,
    stackName: 'McpServerExample',
    tls: inject('tls'),
    port,
  });
}, 240_000);
afterAll(async () => {
  await example?.close();
  await server?.close();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const call = (headers: Record<string, string>, body?: string) => callMcp(resource, headers, body);

/** A client_credentials token for `scope`, for the example (or, `audience: null`, the issuer). */
async function machineToken(
  scope: string,
  { audience = resource, keys }: { audience?: string | null; keys?: DpopKeys } = {},
) {
  const issued = await machineTokenOf(server.app.issuer, scope, {
    ...(audience && { resource: audience }),
    ...(keys && { keys }),
  });
  expect(issued.tokenType).toBe(keys ? 'DPoP' : 'Bearer');
  return issued;
}

const whoami = async (response: Response) => {
  expect(response.status).toBe(200);
  const { result } = await readJson(response);
  return JSON.parse(result.content[0].text);
};

/** What API Gateway answers when the authorizer says no: 403, its own body, no challenge. */
const expectDenied = async (response: Response) => {
  expect(response.status).toBe(403);
  expect(await response.json()).toEqual({ message: 'Forbidden' });
};

describe('the example MCP server behind the authorizer, on the synthesized stack', () => {
  it('serves its RFC 9728 metadata publicly', async () => {
    const metadata = await fetch(
      resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'),
    );
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({
      resource,
      authorization_servers: [server.app.issuer],
      scopes_supported: ['mcp:tools'],
    });
  });

  it('without Authorization: API Gateway’s 401 (the identity source is missing)', async () => {
    const response = await call({});
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'Unauthorized' });
  });

  it('a client_credentials token as Bearer reaches whoami through the authorizer', async () => {
    const { client, token } = await machineToken('mcp:tools');
    expect(await whoami(await call({ authorization: `Bearer ${token}` }))).toEqual({
      sub: client.client_id,
      client_id: client.client_id,
      scope: 'mcp:tools',
    });
  });

  it('the MCP SDK client signs the user in at the stack and calls whoami', async () => {
    const { whoami: answer, clientId } = await whoamiThroughCodeFlow(resource);
    expect(answer).toEqual({ sub: server.subOf('alice'), client_id: clientId, scope: 'mcp:tools' });
  });

  it('the authorizer refuses a token without the scope, for another audience, or forged', async () => {
    const withoutScope = await machineToken('mcp:admin');
    await expectDenied(await call({ authorization: `Bearer ${withoutScope.token}` }));
    const forTheIssuer = await machineToken('mcp:tools', { audience: null });
    await expectDenied(await call({ authorization: `Bearer ${forTheIssuer.token}` }));
    const [header, payload] = forTheIssuer.token.split('.');
    await expectDenied(await call({ authorization: `Bearer ${header}.${payload}.forged` }));
  });
});

describe('DPoP-bound tokens through the authorizer (the MCP profile: a digest of the body)', () => {
  let keys: DpopKeys;
  let token: string;
  let client: Json;
  beforeAll(async () => {
    keys = await generateKeyPair('ES256');
    ({ token, client } = await machineToken('mcp:tools', { keys }));
  });

  /** A proof for the call to the MCP endpoint, as the profile asks, with these changes. */
  const resourceProof = (changes: Record<string, unknown> = {}, by = keys) =>
    dpopProof(by, {
      htm: 'POST',
      htu: resource,
      ath: accessTokenHash(token),
      content_digest: contentDigest(WHOAMI_CALL),
      ...changes,
    });

  it('a proof for this call, its body and the token reaches whoami', async () => {
    const response = await call({ authorization: `DPoP ${token}`, dpop: await resourceProof() });
    expect(await whoami(response)).toMatchObject({ client_id: client.client_id });
  });

  it('refuses the bound token as Bearer, a proof by another key, for another URL, replayed', async () => {
    await expectDenied(await call({ authorization: `Bearer ${token}` }));
    const other = await generateKeyPair('ES256');
    await expectDenied(
      await call({ authorization: `DPoP ${token}`, dpop: await resourceProof({}, other) }),
    );
    await expectDenied(
      await call({
        authorization: `DPoP ${token}`,
        dpop: await resourceProof({ htu: `${resource}/other` }),
      }),
    );
    const once = await resourceProof();
    expect((await call({ authorization: `DPoP ${token}`, dpop: once })).status).toBe(200);
    await expectDenied(await call({ authorization: `DPoP ${token}`, dpop: once }));
  });

  it('a proof signed for another body: the server’s 401 with the DPoP challenge', async () => {
    const response = await call(
      { authorization: `DPoP ${token}`, dpop: await resourceProof() },
      WHOAMI_CALL.replace('"id":1', '"id":2'),
    );
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /, DPoP resource_metadata="[^"]+", algs="[^"]+", error="invalid_dpop_proof"/,
    );
    expect(await response.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });
});
