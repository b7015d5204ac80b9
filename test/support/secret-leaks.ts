/** A secret the server handed out, and what it was. */
export interface IssuedSecret {
  readonly kind: string;
  readonly value: string;
}

export interface Leak {
  readonly kind: string;
  /** The line, with the secret masked. */
  readonly line: string;
}

/** Response members that carry a secret (RFC 6749, 7591, 7592, OpenID Connect, this server). */
const SECRET_MEMBERS = new Set([
  'client_secret',
  'registration_access_token',
  'initial_access_token',
  'access_token',
  'refresh_token',
  'id_token',
  'code',
]);

/** Runs of base64url characters: how every secret, token part and sealed cookie is spelt. */
const RUNS = /[A-Za-z0-9_-]{16,}/g;

/**
 * What identifies a secret in text: its longest base64url run (a JWT's signature, a sealed
 * cookie's ciphertext, an initial access token's secret part). Short values identify nothing.
 */
function needle(value: string): string | undefined {
  const runs = value.match(RUNS) ?? [];
  return runs.reduce<string | undefined>(
    (longest, run) => (longest === undefined || run.length > longest.length ? run : longest),
    undefined,
  );
}

/** Every secret in `issued` that appears in a line, each with the line it is in (masked). */
export function findLeaks(issued: readonly IssuedSecret[], lines: readonly string[]): Leak[] {
  const inLine = new Map<string, number>();
  lines.forEach((line, index) => {
    for (const run of line.match(/[A-Za-z0-9_-]+/g) ?? []) inLine.set(run, index);
  });
  const leaks: Leak[] = [];
  const seen = new Set<string>();
  for (const { kind, value } of issued) {
    const secret = needle(value);
    if (secret === undefined || seen.has(secret)) continue;
    seen.add(secret);
    const index = inLine.get(secret);
    if (index !== undefined) {
      leaks.push({ kind, line: (lines[index] as string).replaceAll(secret, '«secret»') });
    }
  }
  return leaks;
}

/** The secret members of a JSON value, at any depth. */
function secretMembers(value: unknown, kind = 'response'): IssuedSecret[] {
  if (Array.isArray(value)) return value.flatMap((item) => secretMembers(item, kind));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([name, member]) =>
    SECRET_MEMBERS.has(name) && typeof member === 'string'
      ? [{ kind: name, value: member }]
      : secretMembers(member, kind),
  );
}

/**
 * The secrets a response hands out: JSON members by name, a redirect's `code` (and any token
 * in its query or fragment), and cookie values. Streams (server-sent events) are not read.
 */
export async function secretsInResponse(response: Response): Promise<IssuedSecret[]> {
  const found: IssuedSecret[] = [];
  const location = response.headers.get('location');
  if (location && URL.canParse(location, 'http://localhost/')) {
    const url = new URL(location, 'http://localhost/');
    for (const params of [url.searchParams, new URLSearchParams(url.hash.slice(1))]) {
      for (const [name, value] of params) {
        if (SECRET_MEMBERS.has(name)) found.push({ kind: `redirect ${name}`, value });
      }
    }
  }
  for (const cookie of response.headers.getSetCookie()) {
    const [pair = ''] = cookie.split(';');
    found.push({ kind: 'cookie', value: pair.slice(pair.indexOf('=') + 1) });
  }
  if (/^application\/json/i.test(response.headers.get('content-type') ?? '')) {
    try {
      found.push(...secretMembers(JSON.parse(await response.clone().text())));
    } catch {
      // Not JSON after all, or the body went away: nothing to record.
    }
  }
  return found;
}
