import { decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { MAX_IDENTIFIER_LENGTH, MAX_SOFTWARE_ID_LENGTH } from '../clients/client-metadata.js';
import type { RemoteKeySets } from '../clients/ports.js';
import {
  invalidSoftwareStatement,
  temporarilyUnavailable,
  unapprovedSoftwareStatement,
} from '../errors.js';
import { jwtFault, type KeySource, keysOf } from '../federation/trusted-issuers.js';
import { isDisplaySafe } from '../text.js';
import type { SoftwareStatements, VerifiedStatement } from './ports.js';

/**
 * Software statements (RFC 7591 §2.3): JWTs signed by an issuer the operator trusts, asserting
 * metadata about a piece of software. Pure rules; keys come inline or through RemoteKeySets.
 */

/** One trusted issuer, as configured (DCR_SOFTWARE_STATEMENT_ISSUERS): its keys. */
export type StatementIssuerSettings = KeySource;

/** A statement longer than this is refused before it is parsed. */
export const MAX_STATEMENT_LENGTH = 16 * 1024;
/** Longest software_id accepted: the body member's bound (client-metadata.ts). */
export { MAX_SOFTWARE_ID_LENGTH };
/** Clock skew allowed on exp, nbf and iat. */
export const STATEMENT_LEEWAY_SECONDS = 30;
/**
 * The `typ` header a statement must carry (RFC 8725 §3.11 explicit typing; `application/`
 * may be prefixed, RFC 7515 §4.1.9): no other JWT of a trusted issuer (an ID token, an access
 * token, a client assertion) can pass for a statement. RFC 7591 registers no type of its own.
 */
export const SOFTWARE_STATEMENT_TYPE = 'software-statement+jwt';
/** A statement must expire (`exp` is required), and no later than this from now. */
export const MAX_STATEMENT_LIFETIME_SECONDS = 366 * 24 * 3600;

/** Registered JWT claims: they describe the statement, not the client, and are never metadata. */
const JWT_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'software_statement']);

const isSoftwareId = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length > 0 &&
  value.length <= MAX_SOFTWARE_ID_LENGTH &&
  isDisplaySafe(value);

/** Verifies statements against the configured issuers. */
export class TrustedSoftwareStatements implements SoftwareStatements {
  private readonly keys = new Map<string, { keys: JWTVerifyGetKey; algorithms: string[] }>();

  constructor(issuers: ReadonlyMap<string, StatementIssuerSettings>, remoteKeySets: RemoteKeySets) {
    for (const [issuer, settings] of issuers) {
      this.keys.set(issuer, {
        keys: keysOf(settings, remoteKeySets),
        algorithms: [...settings.algorithms],
      });
    }
  }

  async verify(statement: string, now: number): Promise<VerifiedStatement> {
    if (statement.length > MAX_STATEMENT_LENGTH) {
      throw invalidSoftwareStatement(`software_statement: longer than ${MAX_STATEMENT_LENGTH}`);
    }
    let issuer: unknown;
    try {
      issuer = decodeJwt(statement).iss;
    } catch {
      throw invalidSoftwareStatement('software_statement: not a signed JWT');
    }
    if (typeof issuer !== 'string' || issuer.length > MAX_IDENTIFIER_LENGTH) {
      throw invalidSoftwareStatement('software_statement: iss is missing');
    }
    // The issuer is looked up before anything is verified: an unknown one costs no key fetch.
    const trusted = this.keys.get(issuer);
    if (trusted === undefined) {
      throw unapprovedSoftwareStatement('software_statement: its issuer is not trusted here');
    }
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(statement, trusted.keys, {
        issuer,
        typ: SOFTWARE_STATEMENT_TYPE,
        requiredClaims: ['exp'],
        algorithms: trusted.algorithms,
        clockTolerance: STATEMENT_LEEWAY_SECONDS,
        currentDate: new Date(now * 1000),
      }));
    } catch (error) {
      const fault = jwtFault(error);
      if (fault !== undefined) throw invalidSoftwareStatement(`software_statement: ${fault}`);
      throw temporarilyUnavailable("the statement issuer's keys could not be obtained");
    }
    // jose checks exp and nbf; a lifetime past the bound, or an iat in the future, is refused here.
    if ((claims.exp as number) > now + MAX_STATEMENT_LIFETIME_SECONDS) {
      throw invalidSoftwareStatement(
        `software_statement: its exp is more than ${MAX_STATEMENT_LIFETIME_SECONDS / 86_400} days away`,
      );
    }
    if (typeof claims.iat === 'number' && claims.iat > now + STATEMENT_LEEWAY_SECONDS) {
      throw invalidSoftwareStatement('software_statement: claim iat is in the future');
    }
    if (!isSoftwareId(claims.software_id)) {
      throw invalidSoftwareStatement(
        `software_statement: software_id is required (a string of at most ${MAX_SOFTWARE_ID_LENGTH} characters)`,
      );
    }
    return { issuer, softwareId: claims.software_id, claims };
  }
}

/**
 * RFC 7591 §3.1.1: the statement's claims take precedence over the same members of the body.
 * The result is validated exactly like a body (a statement cannot smuggle invalid metadata);
 * its software_id is the statement's. `asserted` names the members the statement set.
 */
export function withStatementClaims(
  body: Readonly<Record<string, unknown>>,
  verified: VerifiedStatement,
): { readonly body: Record<string, unknown>; readonly asserted: readonly string[] } {
  const { software_statement: _, ...rest } = body;
  const claims = Object.entries(verified.claims).filter(([name]) => !JWT_CLAIMS.has(name));
  return {
    body: { ...rest, ...Object.fromEntries(claims), software_id: verified.softwareId },
    asserted: [...new Set([...claims.map(([name]) => name), 'software_id'])],
  };
}
