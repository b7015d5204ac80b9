import { createLocalJWKSet, decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Clock } from '../clock.js';
import { invalidClient, invalidRequest, OAuthError } from '../errors.js';
import { hashSecret, secretMatches } from '../secrets.js';
import type { TokenStore } from '../tokens/ports.js';
import type { ClientLifecycle } from './client-lifecycle.js';
import { type AuthMethod, MAX_IDENTIFIER_LENGTH, SIGNING_ALGS } from './client-metadata.js';
import type { ClientCertificate, ClientRecord, RemoteKeySets } from './ports.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Longest lifetime accepted for a client assertion (RFC 7523 §3: exp required and short). */
const MAX_ASSERTION_LIFETIME = 300;
const CLOCK_TOLERANCE = 30;

/**
 * draft-ietf-oauth-rfc7523bis: the audience is this server's issuer identifier and nothing else
 * (a string, or an array holding exactly it). Accepting endpoint URLs or extra audiences would
 * let an assertion a client made for another server be replayed here.
 */
const isOwnAudience = (aud: unknown, issuer: string): boolean =>
  aud === issuer || (Array.isArray(aud) && aud.length === 1 && aud[0] === issuer);
/** Compared against when the client is unknown, so both failures take the same time. */
const UNKNOWN_CLIENT_HASH = hashSecret('unknown-client');

export interface AuthenticatedClient {
  readonly client: ClientRecord;
  readonly method: AuthMethod;
}

/** What a client presented: the Authorization header and the form parameters. */
export interface ClientCredentials {
  readonly authorization: string | undefined;
  readonly params: URLSearchParams;
  /** The certificate the TLS layer verified, when mutual TLS is on. */
  readonly certificate?: ClientCertificate;
}

const authenticationFailed = (basicTried: boolean, description = 'client authentication failed') =>
  invalidClient(description, { basicTried });

/**
 * RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined with ':'. Ours are
 * base64url, so most carry nothing to decode.
 */
function formDecode(value: string): string {
  return ENCODED.test(value) ? decodeURIComponent(value.replace(/\+/g, ' ')) : value;
}
const ENCODED = /[%+]/;

function parseBasic(header: string): { clientId: string; secret: string } | undefined {
  const match = header.match(/^Basic +([A-Za-z0-9+/]+={0,2})\s*$/i);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  try {
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      secret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

/** RFC 4514 DN for comparison: attribute types upper-cased, spaces around `,` and `=` dropped. */
const normalizeDn = (dn: string): string =>
  dn
    .split(/(?<!\\),/)
    .map((rdn) => {
      const at = rdn.indexOf('=');
      return at < 0
        ? rdn.trim()
        : `${rdn.slice(0, at).trim().toUpperCase()}=${rdn.slice(at + 1).trim()}`;
    })
    .join(',');

/** RFC 8705 §2.1.2: the certificate carries the one subject DN or SAN the client registered. */
function certificateMatches(client: ClientRecord, certificate: ClientCertificate | undefined) {
  if (!certificate) return false;
  const m = client.metadata;
  if (m.tls_client_auth_subject_dn !== undefined) {
    return normalizeDn(m.tls_client_auth_subject_dn) === normalizeDn(certificate.subjectDn);
  }
  if (m.tls_client_auth_san_dns !== undefined) {
    const dns = m.tls_client_auth_san_dns.toLowerCase();
    return certificate.sanDns.some((name) => name.toLowerCase() === dns);
  }
  if (m.tls_client_auth_san_uri !== undefined)
    return certificate.sanUri.includes(m.tls_client_auth_san_uri);
  if (m.tls_client_auth_san_ip !== undefined)
    return certificate.sanIp.includes(m.tls_client_auth_san_ip);
  if (m.tls_client_auth_san_email !== undefined) {
    return certificate.sanEmail.includes(m.tls_client_auth_san_email);
  }
  return false;
}

/**
 * Client authentication for the token, introspection and revocation endpoints:
 * client_secret_basic, client_secret_post, private_key_jwt (RFC 7523) and none. Every failure is
 * a 401 invalid_client that says nothing about which part was wrong.
 */
export class ClientAuthenticator {
  private readonly clock: Clock;

  constructor(
    private readonly lifecycle: ClientLifecycle,
    private readonly tokenStore: TokenStore,
    private readonly remoteKeySets: RemoteKeySets,
  ) {
    this.clock = lifecycle.clock;
  }

  /**
   * @param issuer this server's issuer identifier: the only `aud` a client assertion may carry.
   */
  async authenticate(
    { authorization, params, certificate }: ClientCredentials,
    issuer: string,
  ): Promise<AuthenticatedClient> {
    const basicTried = authorization !== undefined && /^Basic /i.test(authorization);
    const assertion = params.get('client_assertion') ?? undefined;
    const postedSecret = params.get('client_secret') ?? undefined;
    const bodyClientId = params.get('client_id') ?? undefined;
    const presented =
      Number(basicTried) + Number(postedSecret !== undefined) + Number(assertion !== undefined);
    if (presented > 1) {
      throw invalidRequest('use exactly one client authentication method');
    }

    if (basicTried) {
      const basic = parseBasic(authorization as string);
      if (!basic) throw authenticationFailed(true, 'malformed Basic credentials');
      if (bodyClientId !== undefined && bodyClientId !== basic.clientId) {
        throw invalidRequest('client_id in the body differs from the authenticated client');
      }
      // Awaited: an async function handing back a pending promise costs two more ticks.
      return await this.withSecret(basic.clientId, basic.secret, 'client_secret_basic', true);
    }
    if (postedSecret !== undefined) {
      if (bodyClientId === undefined) throw authenticationFailed(false);
      return await this.withSecret(bodyClientId, postedSecret, 'client_secret_post', false);
    }
    if (assertion !== undefined) {
      return await this.withAssertion(assertion, params, bodyClientId, issuer);
    }
    if (bodyClientId !== undefined) {
      // A public client (registered with `none`, or described by its metadata document), or a
      // tls_client_auth client whose verified certificate is the one it registered.
      const resolved = await this.lifecycle.resolve(bodyClientId);
      const client = resolved && 'client' in resolved ? resolved.client : undefined;
      const method = client?.metadata.token_endpoint_auth_method;
      if (client && method === 'none') return { client, method };
      if (client && method === 'tls_client_auth' && certificateMatches(client, certificate)) {
        return { client, method };
      }
      throw authenticationFailed(false);
    }
    throw authenticationFailed(false, 'client authentication is required');
  }

  private async withSecret(
    clientId: string,
    secret: string,
    method: 'client_secret_basic' | 'client_secret_post',
    basicTried: boolean,
  ): Promise<AuthenticatedClient> {
    const client = await this.lifecycle.findActive(clientId);
    const now = this.clock.now();
    // During an operator's rotation grace period, the previous secret still works.
    const previousValid =
      client?.previousSecretHash !== undefined && (client.previousSecretValidUntil ?? 0) > now;
    const matches =
      secretMatches(secret, client?.secretHash ?? UNKNOWN_CLIENT_HASH) ||
      (previousValid && secretMatches(secret, client?.previousSecretHash as string));
    if (
      !client ||
      !matches ||
      client.metadata.token_endpoint_auth_method !== method ||
      this.lifecycle.secretExpired(client, now)
    ) {
      throw authenticationFailed(basicTried);
    }
    return { client, method };
  }

  private async withAssertion(
    assertion: string,
    params: URLSearchParams,
    bodyClientId: string | undefined,
    issuer: string,
  ): Promise<AuthenticatedClient> {
    if (params.get('client_assertion_type') !== JWT_BEARER_ASSERTION) {
      throw invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    }
    let clientId: unknown;
    try {
      clientId = decodeJwt(assertion).sub;
    } catch {
      throw authenticationFailed(false, 'client_assertion is not a JWT');
    }
    // Unverified until the signature is: any JSON may stand there.
    if (typeof clientId !== 'string' || (bodyClientId !== undefined && bodyClientId !== clientId)) {
      throw authenticationFailed(false);
    }
    // A registered client, or one described by its metadata document.
    const resolved = await this.lifecycle.resolve(clientId);
    const client = resolved && 'client' in resolved ? resolved.client : undefined;
    const { metadata } = client ?? {};
    if (!client || !metadata || metadata.token_endpoint_auth_method !== 'private_key_jwt') {
      throw authenticationFailed(false);
    }
    const keys: JWTVerifyGetKey | undefined = metadata.jwks
      ? createLocalJWKSet(metadata.jwks as Parameters<typeof createLocalJWKSet>[0])
      : metadata.jwks_uri
        ? this.remoteKeySets.resolver(metadata.jwks_uri)
        : undefined;
    if (!keys) throw authenticationFailed(false);

    const now = this.clock.now();
    let jti: unknown;
    let exp: number;
    try {
      const { payload } = await jwtVerify(assertion, keys, {
        issuer: clientId,
        subject: clientId,
        algorithms: metadata.token_endpoint_auth_signing_alg
          ? [metadata.token_endpoint_auth_signing_alg]
          : [...SIGNING_ALGS],
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(now * 1000),
        clockTolerance: CLOCK_TOLERANCE,
      });
      if (!isOwnAudience(payload.aud, issuer)) throw authenticationFailed(false, 'wrong audience');
      jti = payload.jti;
      exp = payload.exp as number;
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw authenticationFailed(false, 'client_assertion is invalid');
    }
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_IDENTIFIER_LENGTH) {
      throw authenticationFailed(false, 'client_assertion jti must be a short string');
    }
    if (exp > now + MAX_ASSERTION_LIFETIME + CLOCK_TOLERANCE) {
      throw authenticationFailed(
        false,
        `client_assertion must expire within ${MAX_ASSERTION_LIFETIME} s`,
      );
    }
    // Each assertion is accepted once (RFC 7523 §3 item 7).
    if (!(await this.tokenStore.useAssertionId(clientId, jti, exp + CLOCK_TOLERANCE))) {
      throw authenticationFailed(false, 'client_assertion was already used');
    }
    return { client, method: 'private_key_jwt' };
  }
}
