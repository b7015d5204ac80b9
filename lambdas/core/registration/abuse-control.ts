/**
 * Abuse control of anonymous registration (docs/registration.md): a fixed-window rate limit per source
 * address, and the redirect URIs an anonymous client may register. Pure: the counter is a port.
 *
 * "Anonymous" = the request presents no credential (the registration policy's `classify`: way `open`). Registrations with
 * an initial access token, a software statement or a client certificate are classified by the
 * registration policy and are neither counted nor restricted here.
 */
import { parseRedirectUri } from '../clients/client-metadata.js';
import type { Clock } from '../clock.js';
import { invalidRedirectUri, OAuthError, tooManyRequests } from '../errors.js';
import type { RegistrationCounter } from './ports.js';

/** `N/SECONDS`: at most `limit` anonymous registrations per source per window of `windowSeconds`. */
export interface RateLimit {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** Longest window accepted: a day (the counters' TTL and the expiry index stay small). */
export const MAX_WINDOW_SECONDS = 86_400;

/** `off` → undefined; `N/SECONDS` → the limit; anything else → an error message. */
export function parseRateLimit(value: string): RateLimit | undefined | string {
  if (value.trim().toLowerCase() === 'off') return undefined;
  const match = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(value);
  if (!match) return 'must be N/SECONDS (e.g. 120/3600) or off';
  const limit = Number(match[1]);
  const windowSeconds = Number(match[2]);
  if (limit < 1) return 'N must be at least 1 (use off to turn the limit off)';
  if (windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS) {
    return `SECONDS must be between 1 and ${MAX_WINDOW_SECONDS}`;
  }
  return { limit, windowSeconds };
}

/** The fixed window an instant falls in: [start, end), aligned to multiples of its length. */
export function windowOf(now: number, windowSeconds: number) {
  const start = now - (now % windowSeconds);
  return { start, end: start + windowSeconds };
}

/** Expand an IPv6 address (no zone, maybe with an embedded IPv4 tail) to 8 hextets. */
function ipv6Hextets(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    if (bytes.some((b) => b > 255)) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = bytes;
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string | undefined) => (s ? s.split(':') : []);
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => Number.parseInt(g, 16));
}

/**
 * What one source counts as. IPv4: the address. IPv6: its /64 — one host (SLAAC, privacy
 * addresses) or one customer usually holds a whole /64 and can rotate through 2^64 addresses,
 * so counting per address would not limit anyone. IPv4-mapped IPv6 counts as the IPv4 address.
 * Anything unparsable (or absent) counts under one shared key: it never escapes the limit.
 */
export function sourceKey(sourceIp: string | undefined): string {
  const ip = (sourceIp ?? '').trim().replace(/^\[|\]$/g, '');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && ip.split('.').every((b) => Number(b) <= 255)) {
    return ip.split('.').map(Number).join('.');
  }
  const hextets = ip.includes(':') ? ipv6Hextets(ip.replace(/%.*$/, '')) : undefined;
  if (!hextets) return 'unknown';
  const mapped = hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
  if (mapped) {
    const [hi = 0, lo = 0] = hextets.slice(6);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(':')}::/64`;
}

/** The counter's partition key: `ratelimit#<source>#<window start>`. */
export const rateLimitKey = (source: string, windowStart: number) =>
  `ratelimit#${source}#${windowStart}`;

/** Counters live this long past their window (clock skew between functions; TTL is lazy anyway). */
export const COUNTER_TTL_MARGIN_SECONDS = 60;

/** RFC 6585 §4: 429, with Retry-After (seconds until the window ends) and an RFC 6749-shaped body. */
export const tooManyRegistrations = (retryAfterSeconds: number) =>
  tooManyRequests(
    `too many anonymous registrations from this address; retry after ${retryAfterSeconds} s`,
    retryAfterSeconds,
  );

/**
 * One conditional-free atomic add per anonymous registration; no read. Fail-open: when the
 * counter's store is throttled or unavailable (a 503 from the adapter) the registration goes on
 * (and is logged): the limit is abuse control, not authorization; the stage's throttle still
 * caps the rate, and the registration's own write meets the same store and fails there if the
 * table really is down. Refusing every newcomer because a counter could not be written would
 * turn a throttled counter into an outage of registration.
 */
export class RegistrationRateLimiter {
  constructor(
    private readonly counter: RegistrationCounter,
    private readonly clock: Clock,
    private readonly rateLimit: RateLimit,
    private readonly onUnavailable: (error: OAuthError) => void = () => {},
  ) {}

  /** Counts one anonymous registration from `sourceIp`; throws a 429 past the limit. */
  async admit(sourceIp: string | undefined): Promise<void> {
    const now = this.clock.now();
    const { start, end } = windowOf(now, this.rateLimit.windowSeconds);
    let hits: number;
    try {
      hits = await this.counter.hit(
        rateLimitKey(sourceKey(sourceIp), start),
        end + COUNTER_TTL_MARGIN_SECONDS,
      );
    } catch (error) {
      if (error instanceof OAuthError && error.status === 503) {
        this.onUnavailable(error);
        return;
      }
      throw error;
    }
    if (hits > this.rateLimit.limit) throw tooManyRegistrations(Math.max(1, end - now));
  }
}

/**
 * Which redirect URIs an anonymous client may register. Loopback (http on 127.0.0.1, [::1],
 * localhost) is always allowed. `hosts`: patterns for https redirect URIs' hosts, or `any`.
 * `schemes`: private-use schemes, or `any`.
 */
export interface RedirectPolicy {
  readonly hosts: 'any' | readonly string[];
  readonly schemes: 'any' | ReadonlySet<string>;
}

/**
 * Defaults: the https callbacks of the well-known hosted MCP clients (docs/registration.md "Abuse control"):
 * Claude (claude.ai, claude.com: /api/mcp/auth_callback), ChatGPT connectors (chatgpt.com:
 * /connector_platform_oauth_redirect, /connector/oauth/…), VS Code for the Web (vscode.dev,
 * insiders.vscode.dev: /redirect), Cursor's web callback (cursor.com, www.cursor.com).
 */
export const DEFAULT_REDIRECT_HOSTS: readonly string[] = [
  'claude.ai',
  'claude.com',
  'chatgpt.com',
  'vscode.dev',
  'insiders.vscode.dev',
  'cursor.com',
  'www.cursor.com',
];
/** Cursor's desktop callback `cursor://anysphere.cursor-retrieval/oauth/…`. */
export const DEFAULT_PRIVATE_USE_SCHEMES: readonly string[] = ['cursor'];

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_PATTERN = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);

/** A host pattern from configuration: `example.com` or `*.example.com`, lower case; else why not. */
export function hostPatternProblem(pattern: string): string | undefined {
  if (!HOST_PATTERN.test(pattern)) {
    return `${pattern}: must be a host name or *.host.name (lower case, no port, no scheme)`;
  }
  if (pattern.startsWith('*.') && !pattern.slice(2).includes('.')) {
    return `${pattern}: a wildcard needs at least two labels after it (*.example.com)`;
  }
  return undefined;
}

/**
 * `example.com` matches exactly that host. `*.example.com` matches one or more labels before
 * `.example.com` (`a.example.com`, `a.b.example.com`), never `example.com` itself. Comparison
 * is on the normalised (lower-case, punycode) host name; the port is not considered.
 */
export function hostMatches(pattern: string, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!pattern.startsWith('*.')) return name === pattern;
  const suffix = pattern.slice(1);
  return name.endsWith(suffix) && name.length > suffix.length;
}

/**
 * Why a (valid) redirect URI is outside the policy, or undefined when it is within: loopback
 * always is; an https host must match DCR_REDIRECT_HOSTS, a private-use scheme be listed.
 */
export function redirectOutsidePolicy(
  policy: RedirectPolicy,
  uri: string,
): { readonly uri: string; readonly reason: string } | undefined {
  const { kind, normalized } = parseRedirectUri(uri);
  const url = new URL(normalized);
  if (kind === 'web' && policy.hosts !== 'any') {
    if (!policy.hosts.some((p) => hostMatches(p, url.hostname))) {
      return { uri: normalized, reason: 'host not in DCR_REDIRECT_HOSTS' };
    }
  }
  if (kind === 'private-use' && policy.schemes !== 'any') {
    if (!policy.schemes.has(url.protocol.slice(0, -1))) {
      return { uri: normalized, reason: 'scheme not in DCR_PRIVATE_USE_SCHEMES' };
    }
  }
  return undefined;
}

/** Refuses (`invalid_redirect_uri`, naming it) the first redirect URI outside the policy. */
export function assertRedirectsAllowed(
  policy: RedirectPolicy,
  redirectUris: readonly string[] | undefined,
): void {
  for (const uri of redirectUris ?? []) {
    const outside = redirectOutsidePolicy(policy, uri);
    if (outside !== undefined) {
      throw invalidRedirectUri(
        `redirect_uris: ${outside.uri} is not allowed for clients registered without a credential (${outside.reason})`,
      );
    }
  }
}
