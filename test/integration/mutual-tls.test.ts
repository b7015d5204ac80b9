import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import {
  certificate,
  expectCertificateBoundToken,
  expectMutualTlsAdvertised,
  httpsCaller,
  oauthCalls,
  type Pem,
  thumbprint,
} from '../support/mutual-tls.js';

let app: LocalApp;
let dir: string;
let files: Record<string, string>;
let server: Pem;
let agent: Pem;
let stranger: Pem;

/** An https request over a real TLS handshake, presenting `client`'s certificate if given. */
const call = httpsCaller(
  () => app.issuer,
  () => server.cert,
);
const { register, token } = oauthCalls(call);

beforeAll(async () => {
  server = await certificate([['commonName', '127.0.0.1']], [{ type: 7, ip: '127.0.0.1' }]);
  // Encoded O then CN, as most certificates are: RFC 4514 writes it CN first.
  agent = await certificate(
    [
      ['organizationName', 'Fleet'],
      ['commonName', 'agent-7'],
    ],
    [{ type: 2, value: 'agent7.fleet.example' }],
  );
  stranger = await certificate(
    [['commonName', 'agent-7']],
    [{ type: 2, value: 'agent7.fleet.example' }],
  );
  dir = mkdtempSync(join(tmpdir(), 'dcr-mtls-'));
  const file = (name: string, pem: string) => {
    writeFileSync(join(dir, name), pem);
    return join(dir, name);
  };
  files = {
    DCR_TLS_CERT: file('server.pem', server.cert),
    DCR_TLS_KEY: file('server.key', server.key),
    // The agents' CA: here the agent's own self-signed certificate is the trust anchor.
    DCR_TLS_CLIENT_CA: file('clients.pem', agent.cert),
  };
  app = await startLocalApp(loadConfig({ PORT: '0', ...files }), { store: 'memory' });
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('mutual TLS (RFC 8705) over a real TLS handshake', () => {
  it('serves https and advertises tls_client_auth and certificate-bound tokens', async () => {
    expect(app.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expectMutualTlsAdvertised(call);
  });

  it.each([
    ['its SAN dNSName', { tls_client_auth_san_dns: 'AGENT7.fleet.example' }],
    ['its subject DN', { tls_client_auth_subject_dn: 'CN=agent-7, O=Fleet' }],
  ])('authenticates a tls_client_auth client by %s and binds its token', async (_, names) => {
    const { form } = await expectCertificateBoundToken(call, names, agent);

    // No certificate, or one the CA did not issue (same names): not this client.
    expect(await token(form)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await token(form, stranger)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
  });

  it('refuses a certificate whose names differ from the registered ones', async () => {
    const registered = await register({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_dns: 'agent8.fleet.example',
    });
    const form = `grant_type=client_credentials&client_id=${registered.body.client_id}`;
    expect(await token(form, agent)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
  });

  it('binds a secret client’s tokens when it registered for it, and needs the certificate then', async () => {
    const registered = await register({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
      tls_client_certificate_bound_access_tokens: true,
    });
    const form = `grant_type=client_credentials&client_id=${registered.body.client_id}&client_secret=${registered.body.client_secret}`;
    expect(await token(form)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const issued = await token(form, agent);
    expect(issued.status).toBe(200);
    expect(decodeJwt(issued.body.access_token as string).cnf).toEqual({
      'x5t#S256': thumbprint(agent.cert),
    });
  });

  it.each([
    ['no certificate name', { token_endpoint_auth_method: 'tls_client_auth' }],
    [
      'two certificate names',
      {
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_dns: 'a.example',
        tls_client_auth_subject_dn: 'CN=a',
      },
    ],
    ['a certificate name without tls_client_auth', { tls_client_auth_san_dns: 'a.example' }],
  ])('refuses a registration with %s', async (_, metadata) => {
    const response = await register({ grant_types: ['client_credentials'], ...metadata });
    expect(response).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata' } });
  });
});

describe('registration admitted by a certificate (the mtls way)', () => {
  let open: LocalApp;
  beforeAll(async () => {
    open = app;
    // An internal platform: only certificate holders register.
    app = await startLocalApp(
      loadConfig({ PORT: '0', ...files, DCR_REGISTRATION_ACCESS: 'mtls' }),
      {
        store: 'memory',
      },
    );
  });
  afterAll(async () => {
    await app.close();
    app = open;
  });

  it('registers a certificate holder and refuses anyone else, a stranger’s certificate included', async () => {
    const metadata = { grant_types: ['client_credentials'], client_name: 'agent-7' };
    expect((await register(metadata, agent)).status).toBe(201);
    for (const client of [undefined, stranger]) {
      expect(await register(metadata, client)).toMatchObject({
        status: 401,
        body: { error: expect.any(String) },
      });
    }
  });
});
