import { type LookupAddress, lookup } from 'node:dns';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { logger } from '../../log.js';

/**
 * One https GET of a URL that someone outside named (a client's jwks_uri, a Client ID Metadata
 * Document): https only, public addresses only (checked on the address the connection then
 * uses), no redirects followed, within a time limit, at most a size limit.
 */

/** Addresses outsiders' URLs must never reach: private, loopback, link-local, and the like. */
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  // IPv4-compatible addresses (deprecated, ::1 and :: included), and the IPv4-translated
  // ::ffff:0:0:0/96 (RFC 2765); BlockList maps only ::ffff:0:0/96 onto the IPv4 rules itself.
  ['::', 96],
  ['::ffff:0:0:0', 96],
  // NAT64 (RFC 6052, RFC 8215 local use), 6to4 (RFC 3056) and Teredo (RFC 4380): each carries
  // an IPv4 address that a gateway may forward to.
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
  ['2001::', 32],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** (BlockList checks IPv4-mapped IPv6 addresses against the IPv4 rules by itself.) */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A host name that does not resolve, or resolves to an address outsiders must not reach. */
const UNRESOLVED = 'the host name does not resolve to a public address';

/** Why a guarded GET did not happen or was cut short, in a short phrase (shown to people). */
export class FetchRefused extends Error {
  override readonly name = 'FetchRefused';
}

/**
 * Resolves like dns.lookup but refuses hosts with any non-public address. The connection then
 * uses the checked address, so DNS rebinding cannot swap it afterwards.
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      logger.info('guarded fetch could not resolve a host', { hostname, code: error.code });
      return callback(new FetchRefused(UNRESOLVED), '', 0);
    }
    const refused = addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address));
    if (refused) {
      // The same words as a name that does not resolve: anyone can name a host, and must not
      // learn which names this server's resolver maps to private addresses. The log says which.
      logger.info('guarded fetch refused a host with a non-public address', { hostname });
      return callback(new FetchRefused(UNRESOLVED), '', 0);
    }
    if (options.all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses as [LookupAddress];
    callback(null, first.address, first.family);
  });
};

export interface GuardedGetOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly accept: string;
  /**
   * TESTS ONLY (DCR_TRUSTED_FETCH_ORIGINS): https origins whose addresses are not checked, so
   * tests can serve documents from 127.0.0.1. Everything else still applies.
   */
  readonly trustedOrigins?: ReadonlySet<string>;
  /** The caller's own cancellation (jose's timeout), besides timeoutMs. */
  readonly signal?: AbortSignal;
}

export interface GuardedResponse {
  /** 3xx included: redirects are never followed, the caller decides what they mean. */
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const CONNECTION_PROBLEMS: Readonly<Record<string, string>> = {
  ENOTFOUND: UNRESOLVED,
  EAI_AGAIN: UNRESOLVED,
  ECONNREFUSED: 'the server refused the connection',
  ECONNRESET: 'the server closed the connection',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server has no trusted TLS certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server has no trusted TLS certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server has no trusted TLS certificate',
  CERT_HAS_EXPIRED: 'the server has no trusted TLS certificate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server has no trusted TLS certificate',
};

/** Sends the GET and resolves with the response head (the body is still to be read). */
const send = (target: URL, options: GuardedGetOptions, trusted: boolean, signal: AbortSignal) =>
  new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'GET',
        headers: { accept: options.accept },
        // A connection of its own, never a pooled one: its address is the one just checked.
        agent: false,
        signal,
        ...(!trusted && { lookup: publicOnlyLookup }),
      },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });

/** Reads the body, refusing it as soon as it passes maxBytes. */
async function readBody(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => {
    res.destroy();
    return new FetchRefused(`the response is larger than ${maxBytes / 1024} KiB`);
  };
  if (Number(res.headers['content-length']) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * GETs an outsider's https URL under the guard. Resolves with any status (3xx included: never
 * followed); rejects with FetchRefused saying why, or with the caller's own abort.
 */
export async function guardedGet(
  url: string,
  options: GuardedGetOptions,
): Promise<GuardedResponse> {
  const target = URL.parse(url);
  if (target === null || target.protocol !== 'https:') {
    throw new FetchRefused('the URL is not https');
  }
  const trusted = options.trustedOrigins?.has(target.origin) ?? false;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!trusted && isIP(host) !== 0 && !isPublicAddress(host)) {
    throw new FetchRefused('the URL points at a non-public address');
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const res = await send(target, options, trusted, signal);
    const body = await readBody(res, options.maxBytes);
    return { status: res.statusCode ?? 0, headers: res.headers, body };
  } catch (error) {
    if (error instanceof FetchRefused) throw error;
    if (options.signal?.aborted) throw error;
    if (timeout.aborted) {
      throw new FetchRefused(`no answer within ${options.timeoutMs / 1000} seconds`);
    }
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new FetchRefused(CONNECTION_PROBLEMS[code] ?? 'the connection failed');
  }
}
