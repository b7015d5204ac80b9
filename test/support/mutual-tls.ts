import { createHash, X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import { decodeJwt } from 'jose';
import { generate } from 'selfsigned';
import { expect } from 'vitest';

/** A certificate and its private key, PEM. */
export type Pem = { readonly cert: string; readonly key: string };

type AltName = { type: 2; value: string } | { type: 7; ip: string };

/**
 * A certificate (EC P-256) with the given subject RDNs, in encoding order: issued by `ca`, else
 * self-signed.
 */
export async function certificate(
  rdns: [string, string][],
  altNames: AltName[],
  ca?: Pem,
): Promise<Pem> {
  const pems = await generate(
    rdns.map(([name, value]) => ({ name, value })),
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames }],
      ...(ca && { ca: { key: ca.key, cert: ca.cert } }),
    },
  );
  return { cert: pems.cert, key: pems.private };
}

/** A certificate authority that can issue client certificates (a truststore's content). */
export async function certificateAuthority(commonName: string): Promise<Pem> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The RFC 8705 §3.1 thumbprint of a certificate: `x5t#S256`. */
export const thumbprint = (pem: string) =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

export interface CallOptions {
  readonly body?: string;
  readonly type?: string;
  /** The certificate the client presents in the handshake. */
  readonly client?: Pem;
  readonly headers?: Record<string, string>;
}
export type Reply = { status: number; headers: IncomingHttpHeaders; body: Record<string, unknown> };
export type Call = (path: string, options?: CallOptions) => Promise<Reply>;

/** One request over a new TLS connection, trusting `ca` for the server, presenting `client`. */
function tlsRequest(
  url: string,
  options: {
    method: string;
    ca: string;
    client?: Pem | undefined;
    headers?: Record<string, string>;
    body?: string | undefined;
  },
) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; text: string }>(
    (resolve, reject) => {
      const req = request(
        url,
        {
          method: options.method,
          ca: options.ca,
          agent: false,
          ...(options.client && { cert: options.client.cert, key: options.client.key }),
          headers: options.headers ?? {},
          // The server's certificate names the loopback address it listens on, whatever name
          // the Host header carries.
          checkServerIdentity: (_host, cert) => checkServerIdentity(new URL(url).hostname, cert),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(options.body);
    },
  );
}

/**
 * Requests to `base()` over a real TLS handshake (a new connection each), trusting `serverCa()`
 * for the server and presenting the client's certificate when given. A handshake the server
 * refuses rejects. (Getters: the server and its certificate are made in beforeAll.)
 */
export const httpsCaller =
  (base: () => string, serverCa: () => string): Call =>
  async (path, options = {}) => {
    const { status, headers, text } = await tlsRequest(`${base()}${path}`, {
      method: options.body === undefined ? 'GET' : 'POST',
      ca: serverCa(),
      client: options.client,
      headers: {
        ...(options.body !== undefined && { 'content-type': options.type ?? 'application/json' }),
        ...options.headers,
      },
      body: options.body,
    });
    return { status, headers, body: text ? JSON.parse(text) : {} };
  };

/**
 * A `fetch` for client libraries that reaches names through `hosts` (name → the loopback origin
 * serving it, as DNS would resolve it), over a real TLS handshake presenting `client`'s
 * certificate, if any. A name `hosts` does not know fails, as it would not resolve.
 */
export const resolvingFetch =
  (hosts: Readonly<Record<string, string>>, serverCa: string, client?: Pem) =>
  async (
    input: string,
    init: {
      method?: string;
      headers?: ConstructorParameters<typeof Headers>[0];
      body?: unknown;
    } = {},
  ): Promise<Response> => {
    const url = new URL(input);
    const origin = hosts[url.host];
    if (origin === undefined) throw new Error(`${url.host} does not resolve here`);
    const { status, headers, text } = await tlsRequest(`${origin}${url.pathname}${url.search}`, {
      method: init.method ?? 'GET',
      ca: serverCa,
      client,
      headers: { ...Object.fromEntries(new Headers(init.headers).entries()), host: url.host },
      ...(init.body !== undefined && init.body !== null && { body: String(init.body) }),
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      for (const v of [value ?? []].flat()) responseHeaders.append(name, v);
    }
    return new Response(text === '' ? null : text, { status, headers: responseHeaders });
  };

/** The OAuth calls the mutual TLS tests make, over `call`. */
export function oauthCalls(call: Call) {
  const form = (path: string, body: string, client?: Pem) =>
    call(path, {
      body,
      type: 'application/x-www-form-urlencoded',
      ...(client && { client }),
    });
  return {
    register: (metadata: Record<string, unknown>, client?: Pem) =>
      call('/register', { body: JSON.stringify(metadata), ...(client && { client }) }),
    token: (body: string, client?: Pem) => form('/token', body, client),
    introspect: (body: string, client?: Pem) => form('/introspect', body, client),
  };
}

/** Discovery advertises tls_client_auth and certificate-bound tokens (RFC 8705 §2.1.1, §3.3). */
export async function expectMutualTlsAdvertised(call: Call, client?: Pem) {
  const { status, body } = await call('/.well-known/oauth-authorization-server', {
    ...(client && { client }),
  });
  expect(status).toBe(200);
  expect(body.token_endpoint_auth_methods_supported).toContain('tls_client_auth');
  expect(body.tls_client_certificate_bound_access_tokens).toBe(true);
}

/**
 * RFC 8705 end to end: registers a `tls_client_auth` client named by `names` (presenting
 * `registrar`'s certificate, if any), has it get a client_credentials token with `agent`'s
 * certificate, and checks that both the token and introspection carry the certificate's
 * thumbprint as `cnf`. Returns the registered client and its token request.
 */
export async function expectCertificateBoundToken(
  call: Call,
  names: Record<string, string>,
  agent: Pem,
  registrar?: Pem,
) {
  const { register, token, introspect } = oauthCalls(call);
  const registered = await register(
    {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'tls_client_auth',
      ...names,
    },
    registrar,
  );
  expect(registered.status).toBe(201);
  expect(registered.body).not.toHaveProperty('client_secret');
  const form = `grant_type=client_credentials&client_id=${registered.body.client_id}`;

  const issued = await token(form, agent);
  expect(issued.status).toBe(200);
  const binding = { 'x5t#S256': thumbprint(agent.cert) };
  expect(decodeJwt(issued.body.access_token as string).cnf).toEqual(binding);

  const introspected = await introspect(
    `token=${issued.body.access_token}&client_id=${registered.body.client_id}`,
    agent,
  );
  expect(introspected.body).toMatchObject({ active: true, cnf: binding });
  return { client: registered.body, form };
}
