import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  certificate,
  certificateAuthority,
  expectCertificateBoundToken,
  expectMutualTlsAdvertised,
  httpsCaller,
  oauthCalls,
  type Pem,
  resolvingFetch,
  thumbprint,
} from '../support/mutual-tls.js';
import { MTLS_STACK } from '../support/stack-variants.js';
import { type StackApp, startStackServer } from '../support/synthesized-stack.js';

/**
 * RFC 8705 on the synthesized stack, with the default registration policy: the issuer's custom
 * domain asks for no certificate, and a second custom domain with a truststore does mutual TLS
 * (RFC 8705 §5 endpoint aliases). The API Gateway stand-in serves each domain on its own
 * loopback port as API Gateway does: the mutual TLS one verifies client certificates against
 * the truststore in the handshake and passes the verified one to the bundled functions.
 */
const { domain: DOMAIN, mtlsDomain: MTLS_DOMAIN, truststore: TRUSTSTORE } = MTLS_STACK;
/** A SigV4-shaped header stands for one API Gateway verified (see the stand-in). */
const SIGV4 =
  'AWS4-HMAC-SHA256 Credential=operator/20261127/local/execute-api/aws4_request, SignedHeaders=host, Signature=0';

const tls = inject('tls');
let app: StackApp;
let fleetCa: Pem;
/** Issued by the fleet CA: O=Fleet, CN=agent-7 (the client) and CN=agent-8 (another one). */
let agent: Pem;
let other: Pem;
/** Self-signed, with the agent's very names: not in the truststore. */
let stranger: Pem;

/** The issuer's domain, and the mutual TLS domain (each resolved to the port serving it). */
const main = httpsCaller(
  () => app.domains[DOMAIN] as string,
  () => tls.cert,
);
const alias = httpsCaller(
  () => app.domains[MTLS_DOMAIN] as string,
  () => tls.cert,
);
const onMain = oauthCalls(main);
const onAlias = oauthCalls(alias);
const admin = (clientId: string) =>
  main(`/admin/clients/${clientId}`, { headers: { authorization: SIGV4 } });

const handshakeRefused = (code: RegExp) =>
  expect.objectContaining({ code: expect.stringMatching(code) });

const startStack = (env: Record<string, string> = {}) =>
  startStackServer({
    // Synthesized by the global setup, with the default registration policy.
    cdkOut: inject('stack').cdkOut,
    stackName: 'ServerlessDcrMtls',
    tls,
    // The truststore object in S3: the fleet CA.
    truststores: { [TRUSTSTORE]: fleetCa.cert },
    env: { DCR_REGISTRATION_RATE_LIMIT: 'off', ...env },
  });

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

  app = await startStack();
});

afterAll(async () => {
  await app?.close();
});

describe('the stack with a mutual TLS domain beside the issuer’s (RFC 8705 §5)', () => {
  it('serves discovery and keys on the issuer’s domain without a certificate, with the aliases', async () => {
    expect(Object.keys(app.domains).sort()).toEqual([DOMAIN, MTLS_DOMAIN]);
    await expectMutualTlsAdvertised(main);
    const { body } = await main('/.well-known/oauth-authorization-server');
    expect(body).toMatchObject({
      issuer: `https://${DOMAIN}`,
      token_endpoint: `https://${DOMAIN}/token`,
      registration_endpoint: `https://${DOMAIN}/register`,
      mtls_endpoint_aliases: {
        token_endpoint: `https://${MTLS_DOMAIN}/token`,
        registration_endpoint: `https://${MTLS_DOMAIN}/register`,
        introspection_endpoint: `https://${MTLS_DOMAIN}/introspect`,
        revocation_endpoint: `https://${MTLS_DOMAIN}/revoke`,
      },
    });
    // One issuer, whichever host answers (both domains map to the same functions).
    const onTheAlias = await alias('/.well-known/oauth-authorization-server', { client: agent });
    expect(onTheAlias.body).toEqual(body);
    // Resource servers fetch the keys without a certificate.
    const jwks = await main('/.well-known/jwks.json');
    expect(jwks).toMatchObject({ status: 200, body: { keys: [expect.any(Object)] } });
  });

  it('refuses a handshake on the mutual TLS domain without a trusted certificate', async () => {
    const form = 'grant_type=client_credentials&client_id=x';
    await expect(onAlias.token(form)).rejects.toEqual(
      handshakeRefused(/^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/),
    );
    await expect(onAlias.register({ grant_types: ['client_credentials'] })).rejects.toEqual(
      handshakeRefused(/^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/),
    );
    await expect(onAlias.token(form, stranger)).rejects.toEqual(
      handshakeRefused(/^(ERR_SSL_TLSV13_ALERT_UNKNOWN_CA|ECONNRESET)$/),
    );
  });

  it('registers an anonymous client on the issuer’s domain (open is in the policy)', async () => {
    const registered = await onMain.register({
      grant_types: ['client_credentials'],
      client_name: 'anonymous',
    });
    expect(registered.status).toBe(201);
    expect(await admin(registered.body.client_id as string)).toMatchObject({
      status: 200,
      body: { registration_method: 'open' },
    });
  });

  it('registers a certificate holder through the alias the mtls way; dcr-admin sees it on the issuer’s domain', async () => {
    const registered = await onAlias.register(
      { grant_types: ['client_credentials'], client_name: 'agent-7' },
      agent,
    );
    expect(registered.status).toBe(201);
    const clientId = registered.body.client_id as string;
    // The operator's SigV4 request, with no certificate, on the issuer's domain.
    expect(await admin(clientId)).toMatchObject({
      status: 200,
      body: { registration_method: 'mtls' },
    });
    // RFC 7592 management takes the registration access token, on the issuer's domain.
    expect(registered.body.registration_client_uri).toBe(`https://${DOMAIN}/register/${clientId}`);
    const read = await main(`/register/${clientId}`, {
      headers: { authorization: `Bearer ${registered.body.registration_access_token}` },
    });
    expect(read).toMatchObject({ status: 200, body: { client_id: clientId } });
  });

  it.each([
    ['its SAN dNSName', { tls_client_auth_san_dns: 'agent7.fleet.example' }],
    ['its subject DN', { tls_client_auth_subject_dn: 'CN=agent-7,O=Fleet' }],
  ])(
    'authenticates a tls_client_auth client by %s at the alias and binds its token',
    async (_, names) => {
      const { form } = await expectCertificateBoundToken(alias, names, agent, agent);
      // Another certificate of the same CA, with other names: not this client.
      expect(await onAlias.token(form, other)).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      // The issuer's domain never sees a certificate: the client must use the alias.
      expect(await onMain.token(form)).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
    },
  );

  it('lets an RFC 8705 client library find the alias in the metadata (oauth4webapi)', async () => {
    const registered = await onAlias.register(
      {
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_dns: 'agent7.fleet.example',
      },
      agent,
    );
    const client = { client_id: registered.body.client_id as string };
    const issuer = new URL(`https://${DOMAIN}`);
    // Discovery without a certificate, as any client does it.
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, {
        [oauth.customFetch]: resolvingFetch(app.domains, tls.cert),
      }),
    );
    // The token request with the certificate: only the mutual TLS domain resolves here, so the
    // library has to take the alias.
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      { ...client, use_mtls_endpoint_aliases: true },
      oauth.TlsClientAuth(),
      new URLSearchParams(),
      {
        [oauth.customFetch]: resolvingFetch(
          { [MTLS_DOMAIN]: app.domains[MTLS_DOMAIN] as string },
          tls.cert,
          agent,
        ),
      },
    );
    const { access_token } = await oauth.processClientCredentialsResponse(as, client, response);
    expect(decodeJwt(access_token).cnf).toEqual({ 'x5t#S256': thumbprint(agent.cert) });
  });
});

describe('with mtls the only way to register', () => {
  let open: StackApp;
  beforeAll(async () => {
    open = app;
    app = await startStack({ DCR_REGISTRATION_ACCESS: 'mtls' });
  });
  afterAll(async () => {
    await app.close();
    app = open;
  });

  it('challenges an anonymous registration on the issuer’s domain, admits a certificate at the alias', async () => {
    const metadata = { grant_types: ['client_credentials'], client_name: 'agent-7' };
    const anonymous = await onMain.register(metadata);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await onAlias.register(metadata, agent)).status).toBe(201);
  });
});
