import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LocalApp } from '../../lambdas/local/app.js';
import {
  certificate,
  certificateAuthority,
  expectCertificateBoundToken,
  expectMutualTlsAdvertised,
  httpsCaller,
  oauthCalls,
  type Pem,
} from '../support/mutual-tls.js';
import { startStackServer, synthesizeStack } from '../support/synthesized-stack.js';

/**
 * RFC 8705 on the synthesized stack: a custom domain with a truststore (mutual TLS at API
 * Gateway) and only certificate holders allowed to register. The API Gateway stand-in serves
 * the domain as API Gateway does: it verifies client certificates against the truststore in the
 * handshake and passes the verified one to the bundled functions in the request context.
 */
const DOMAIN = 'auth.example.com';
const TRUSTSTORE = 's3://dcr-truststore/clients.pem';

const tls = inject('tls');
let dir: string;
let app: LocalApp;
let fleetCa: Pem;
/** Issued by the fleet CA: O=Fleet, CN=agent-7 (the client) and CN=agent-8 (another one). */
let agent: Pem;
let other: Pem;
/** Self-signed, with the agent's very names: not in the truststore. */
let stranger: Pem;

const call = httpsCaller(
  () => `https://127.0.0.1:${app.port}`,
  () => tls.cert,
);
const { register, token } = oauthCalls(call);

beforeAll(async () => {
  fleetCa = await certificateAuthority('Fleet CA');
  const names: [string, string][] = [
    ['organizationName', 'Fleet'],
    ['commonName', 'agent-7'],
  ];
  const san = [{ type: 2 as const, value: 'agent7.fleet.example' }];
  agent = await certificate(names, san, fleetCa);
  other = await certificate(
    [['commonName', 'agent-8']],
    [{ type: 2, value: 'agent8.fleet.example' }],
    fleetCa,
  );
  stranger = await certificate(names, san);

  dir = mkdtempSync(join(tmpdir(), 'dcr-stack-mtls-'));
  synthesizeStack(dir, {
    'dcr:domainName': DOMAIN,
    'dcr:certificateArn': 'arn:aws:acm:local:000000000000:certificate/auth',
    'dcr:mtlsTruststoreUri': TRUSTSTORE,
    'dcr:registrationAccess': 'mtls',
    'dcr:cognitoLogin': false,
  });
  app = await startStackServer({
    cdkOut: dir,
    tls,
    // The truststore object in S3: the fleet CA.
    truststores: { [TRUSTSTORE]: fleetCa.cert },
    env: { DCR_REGISTRATION_RATE_LIMIT: 'off' },
  });
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the stack with mutual TLS on its custom domain (RFC 8705)', () => {
  it('refuses a handshake without a certificate, or with one the truststore did not issue', async () => {
    const handshakeRefused = expect.objectContaining({
      code: expect.stringMatching(/^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/),
    });
    await expect(call('/.well-known/oauth-authorization-server')).rejects.toEqual(handshakeRefused);
    // Anonymous registration never reaches the register function.
    await expect(register({ grant_types: ['client_credentials'] })).rejects.toEqual(
      handshakeRefused,
    );
    await expect(register({ grant_types: ['client_credentials'] }, stranger)).rejects.toMatchObject(
      { code: expect.stringMatching(/^(ERR_SSL_TLSV13_ALERT_UNKNOWN_CA|ECONNRESET)$/) },
    );
  });

  it('advertises tls_client_auth and certificate-bound tokens, with the domain as issuer', async () => {
    await expectMutualTlsAdvertised(call, agent);
    const { body } = await call('/.well-known/oauth-authorization-server', { client: agent });
    expect(body.issuer).toBe(`https://${DOMAIN}`);
  });

  it('registers a certificate holder the mtls way, and records it so', async () => {
    const registered = await register(
      { grant_types: ['client_credentials'], client_name: 'agent-7' },
      agent,
    );
    expect(registered.status).toBe(201);
    // The admin API (IAM at API Gateway) on the same domain: it too needs a certificate.
    const recorded = await call(`/admin/clients/${registered.body.client_id}`, {
      client: agent,
      headers: {
        // A SigV4-shaped header stands for one API Gateway verified (see apigw stand-in).
        authorization:
          'AWS4-HMAC-SHA256 Credential=operator/20261127/local/execute-api/aws4_request, SignedHeaders=host, Signature=0',
      },
    });
    expect(recorded).toMatchObject({ status: 200, body: { registration_method: 'mtls' } });
  });

  it.each([
    ['its SAN dNSName', { tls_client_auth_san_dns: 'agent7.fleet.example' }],
    ['its subject DN', { tls_client_auth_subject_dn: 'CN=agent-7,O=Fleet' }],
  ])('authenticates a tls_client_auth client by %s and binds its token', async (_, names) => {
    const { form } = await expectCertificateBoundToken(call, names, agent, agent);
    // Another certificate of the same CA, with other names: not this client.
    expect(await token(form, other)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
  });
});
