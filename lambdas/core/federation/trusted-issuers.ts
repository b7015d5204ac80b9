import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { RemoteKeySets } from '../clients/ports.js';
import type { StoredIssuerLookup } from './stored-issuers.js';

/**
 * The one trust engine for JWTs signed by someone outside (software statements, workload
 * identity assertions, ID-JAGs): whose keys verify them (inline, or fetched through the guarded
 * fetcher when first needed, cached, fetched again for an unknown `kid` at most every 30 s),
 * which algorithms (asymmetric only), how long they may live, and — for assertions that ask for
 * tokens — the operator's ordered claim rules. Pure rules; keys come through RemoteKeySets.
 */

/** Where an issuer's public keys come from. */
export interface KeySource {
  /** Inline public keys, or */
  readonly jwks?: JSONWebKeySet;
  /** an https URL of the issuer's key set (guarded fetch, cached). */
  readonly jwksUri?: string;
  /** Signature algorithms accepted from this issuer (asymmetric only). */
  readonly algorithms: readonly string[];
}

/** The kinds of trusted token issuers: platforms' workload identities, enterprise IdPs' ID-JAGs. */
export const ISSUER_KINDS = ['workload', 'id-jag'] as const;
export type IssuerKind = (typeof ISSUER_KINDS)[number];

/**
 * What a claim must be: an exact value or a glob (`*` one segment, `**` anything); or, for an
 * object claim (AWS's `https://sts.amazonaws.com/`), an object whose members' patterns its
 * members must match.
 */
export type ClaimPattern = string | { readonly [member: string]: ClaimPattern };

/** What an assertion that matches a rule may get. */
export interface TrustRule {
  /** Claim name → its pattern; all must match. */
  readonly claims: Readonly<Record<string, ClaimPattern>>;
  /** The scopes it may be granted (space-separated); absent = none. */
  readonly scope?: string;
  /** The RFC 8707 resources its tokens may be for. */
  readonly resources: readonly string[];
}

/** A trusted token issuer, as configured (DCR_TRUSTED_ISSUERS). */
export interface TrustedIssuerSettings extends KeySource {
  readonly kind: IssuerKind;
  /** Matched in order: the first whose claims all match decides. */
  readonly rules: readonly TrustRule[];
}

/** The key resolver jose verifies with: the inline set, or the shared remote one. */
export const keysOf = (source: KeySource, remoteKeySets: RemoteKeySets): JWTVerifyGetKey =>
  source.jwks !== undefined
    ? createLocalJWKSet(source.jwks)
    : remoteKeySets.resolver(source.jwksUri as string);

/** JOSE errors that mean "the JWT is bad"; any other failure is the key source's. */
const JWT_FAULTS = new Set([
  'ERR_JWS_INVALID',
  'ERR_JWT_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/**
 * What is wrong with a JWT that failed verification, in words that reveal nothing of the keys;
 * undefined when the failure is not the JWT's (the key set could not be fetched).
 */
export function jwtFault(error: unknown): string | undefined {
  if (!(error instanceof errors.JOSEError) || !JWT_FAULTS.has(error.code)) return undefined;
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return 'has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `claim ${(error as InstanceType<typeof errors.JWTClaimValidationFailed>).claim} is not valid`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'its signature algorithm is not accepted for this issuer';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'the signature does not verify with the issuer’s keys';
    default:
      return 'malformed';
  }
}

// ---------------------------------------------------------------------------------------------
// Claim rules.

/** The characters one `*` never crosses: GitHub's `:` fields, paths' and SPIFFE IDs' `/`. */
const SEGMENT = '[^/:]+';

/**
 * A claim pattern as a regular expression. Without `*` it is the exact value. `*` stands for one
 * or more characters within one segment (no `/`, no `:`), `**` for one or more of any: so
 * `repo:org/*:ref:refs/heads/main` is the main branch of any one repository of `org`, and
 * `repo:org/app:**` anything of one repository. Neither ever matches an absent claim.
 */
export function claimPattern(pattern: string): RegExp {
  const source = pattern
    .split(/(\*\*|\*)/)
    .map((part) =>
      part === '**' ? '.+' : part === '*' ? SEGMENT : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, 's');
}

/**
 * A pattern that is nothing but wildcards — a glob of `*` alone, or an object pattern whose
 * members all are: it says nothing about who the workload is.
 */
export const isWildcardOnly = (pattern: ClaimPattern): boolean =>
  typeof pattern === 'string'
    ? /^\*+$/.test(pattern)
    : Object.values(pattern).every(isWildcardOnly);

/** Claim values rules compare: strings, and numbers and booleans by their JSON text. */
const claimText = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : undefined;

const isObjectClaim = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Whether a claim value matches a pattern: a glob matches a string (or a number's or boolean's
 * text); an object pattern matches an object claim whose members all match its members'
 * patterns. An absent member, or a claim of the other shape, matches nothing.
 */
export function claimMatcher(pattern: ClaimPattern): (value: unknown) => boolean {
  if (typeof pattern === 'string') {
    const glob = claimPattern(pattern);
    return (value) => {
      const text = claimText(value);
      return text !== undefined && glob.test(text);
    };
  }
  const members = Object.entries(pattern).map(
    ([name, inner]) => [name, claimMatcher(inner)] as const,
  );
  return (value) =>
    isObjectClaim(value) &&
    members.every(([name, matches]) => Object.hasOwn(value, name) && matches(value[name]));
}

interface CompiledRule {
  readonly rule: TrustRule;
  readonly matches: (claims: JWTPayload) => boolean;
}

// A rule's claims are one object pattern matched against the whole payload.
const compile = (rule: TrustRule): CompiledRule => ({ rule, matches: claimMatcher(rule.claims) });

/** The first rule whose claims all match, with its position (1-based, as the operator counts). */
function firstMatch(rules: readonly CompiledRule[], claims: JWTPayload) {
  for (const [index, compiled] of rules.entries()) {
    if (compiled.matches(claims)) return { rule: compiled.rule, ruleNumber: index + 1 };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Verification.

/** Why an assertion is refused: its fault (`invalid_grant`), or its issuer's keys are out of reach. */
export class AssertionRefused extends Error {
  override readonly name = 'AssertionRefused';
  constructor(
    message: string,
    /** The key set could not be obtained: try again later, the assertion may be fine. */
    readonly unavailable = false,
  ) {
    super(message);
  }
}

/** An assertion longer than this is refused before it is parsed. */
export const MAX_ASSERTION_LENGTH = 16 * 1024;
/** Clock skew allowed on exp, nbf and iat. */
export const ASSERTION_LEEWAY_SECONDS = 30;
/** Longest `jti` and `sub` accepted (they are stored and put into tokens). */
export const MAX_ASSERTION_ID_LENGTH = 256;
export const MAX_ASSERTION_SUBJECT_LENGTH = 1024;

export interface AssertionExpectations {
  /** The issuer kind the grant takes. */
  readonly kind: IssuerKind;
  /** The accepted `aud` values (any one of them). */
  readonly audiences: readonly string[];
  /** The header `typ` values accepted, lower-case without `application/`; `''` = none given. */
  readonly types: readonly string[];
  /** Remaining lifetime allowed: `exp` no later than now + this (plus leeway). */
  readonly maxLifetimeSeconds: number;
  readonly now: number;
}

/** A verified assertion and the rule that decides what it gets. */
export interface VerifiedAssertion {
  readonly issuer: string;
  readonly subject: string;
  readonly jti: string;
  readonly expiresAt: number;
  readonly claims: JWTPayload;
  readonly rule: TrustRule;
  /** The rule's position among its issuer's (1-based): audit events name it. */
  readonly ruleNumber: number;
}

interface Trusted {
  readonly kind: IssuerKind;
  readonly keys: JWTVerifyGetKey;
  readonly algorithms: string[];
  readonly rules: readonly CompiledRule[];
}

/** The longest `iss` a trusted issuer may have. */
export const MAX_TRUSTED_ISSUER_LENGTH = 256;

/** An `iss` that can name a trusted issuer: an https URL, bounded, without fragment. */
export const isTrustedIssuerId = (iss: string) =>
  iss.length <= MAX_TRUSTED_ISSUER_LENGTH &&
  iss.startsWith('https://') &&
  !iss.includes('#') &&
  URL.canParse(iss);

/** `typ` compared as RFC 7515 §4.1.9 says: case-insensitive, `application/` optional. */
export const normalisedType = (typ: unknown) =>
  typeof typ === 'string' ? typ.toLowerCase().replace(/^application\//, '') : '';

/**
 * The trusted issuers, their keys and rules: the configured ones (DCR_TRUSTED_ISSUERS), then
 * those the operator stored through the admin API (an `iss` is one or the other, never both).
 */
export class TrustedIssuers {
  private readonly issuers = new Map<string, Trusted>();
  /** Stored issuers compiled once per definition read (the lookup keeps the same object). */
  private readonly compiled = new WeakMap<TrustedIssuerSettings, Trusted>();

  constructor(
    issuers: ReadonlyMap<string, TrustedIssuerSettings>,
    private readonly remoteKeySets: RemoteKeySets,
    private readonly stored?: StoredIssuerLookup,
  ) {
    for (const [issuer, settings] of issuers) this.issuers.set(issuer, this.trustedOf(settings));
  }

  private trustedOf(settings: TrustedIssuerSettings): Trusted {
    return {
      kind: settings.kind,
      // Built now, fetched only when an assertion first needs them.
      keys: keysOf(settings, this.remoteKeySets),
      algorithms: [...settings.algorithms],
      rules: settings.rules.map(compile),
    };
  }

  /** A configured issuer, else a stored one (read through the per-container cache). */
  private async find(issuer: string): Promise<Trusted | undefined> {
    const configured = this.issuers.get(issuer);
    if (configured !== undefined || this.stored === undefined) return configured;
    const settings = await this.stored.find(issuer);
    if (settings === undefined) return undefined;
    let trusted = this.compiled.get(settings);
    if (trusted === undefined) {
      trusted = this.trustedOf(settings);
      this.compiled.set(settings, trusted);
    }
    return trusted;
  }

  /** Whether the issuer is trusted, as this kind: its subjects' tokens stay valid meanwhile. */
  async trusts(issuer: string, kind: IssuerKind): Promise<boolean> {
    return (await this.find(issuer))?.kind === kind;
  }

  /**
   * Verifies an assertion: a trusted issuer of the expected kind (looked up before anything is
   * verified: an unknown one costs no key fetch), its signature by an accepted algorithm, the
   * explicit type, `aud`, `exp` (required, in the future, not too far), `nbf`, `iat` (not in the
   * future), `sub` and `jti` (required, bounded); then the first rule whose claims all match.
   * Throws AssertionRefused.
   */
  async verify(assertion: string, expected: AssertionExpectations): Promise<VerifiedAssertion> {
    if (assertion.length > MAX_ASSERTION_LENGTH) {
      throw new AssertionRefused(`the assertion is longer than ${MAX_ASSERTION_LENGTH}`);
    }
    let issuer: unknown;
    let typ: unknown;
    try {
      issuer = decodeJwt(assertion).iss;
      typ = decodeProtectedHeader(assertion).typ;
    } catch {
      throw new AssertionRefused('the assertion is not a signed JWT');
    }
    // Only an issuer that could be configured is looked up in the table.
    const trusted =
      typeof issuer === 'string' && isTrustedIssuerId(issuer) ? await this.find(issuer) : undefined;
    if (typeof issuer !== 'string' || trusted === undefined || trusted.kind !== expected.kind) {
      throw new AssertionRefused('the assertion’s issuer is not trusted here');
    }
    if (!expected.types.includes(normalisedType(typ))) {
      throw new AssertionRefused(`the assertion’s type ${String(typ)} is not accepted here`);
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(assertion, trusted.keys, {
        issuer,
        audience: [...expected.audiences],
        requiredClaims: ['exp', 'sub', 'jti'],
        algorithms: trusted.algorithms,
        clockTolerance: ASSERTION_LEEWAY_SECONDS,
        currentDate: new Date(expected.now * 1000),
      }));
    } catch (error) {
      const fault = jwtFault(error);
      if (fault === undefined) {
        throw new AssertionRefused('the issuer’s keys could not be obtained', true);
      }
      throw new AssertionRefused(`assertion: ${fault}`);
    }
    const { now, maxLifetimeSeconds } = expected;
    const exp = claims.exp as number;
    // A stolen long-lived assertion is a long-lived credential: bounded like Kubernetes' hour.
    if (exp > now + maxLifetimeSeconds + ASSERTION_LEEWAY_SECONDS) {
      throw new AssertionRefused(
        `the assertion expires more than ${maxLifetimeSeconds} seconds from now`,
      );
    }
    if (typeof claims.iat === 'number' && claims.iat > now + ASSERTION_LEEWAY_SECONDS) {
      throw new AssertionRefused('the assertion’s iat is in the future');
    }
    const { sub, jti } = claims;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_ASSERTION_SUBJECT_LENGTH) {
      throw new AssertionRefused('the assertion’s sub is missing or too long');
    }
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_ASSERTION_ID_LENGTH) {
      throw new AssertionRefused(
        `the assertion’s jti is missing or longer than ${MAX_ASSERTION_ID_LENGTH}`,
      );
    }
    const decided = firstMatch(trusted.rules, claims);
    if (decided === undefined) {
      throw new AssertionRefused('no rule of the assertion’s issuer matches its claims');
    }
    return { issuer, subject: sub, jti, expiresAt: exp, claims, ...decided };
  }
}
