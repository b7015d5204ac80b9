import { type LookupAddress, lookup } from 'node:dns';
import { request } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import {
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  type JWTVerifyGetKey,
} from 'jose';
import type { RemoteKeySets } from '../core/ports.js';

/** A key set larger than this is refused. */
export const MAX_JWKS_BYTES = 64 * 1024;
const TIMEOUT_MS = 3000;
const CACHE_MS = 10 * 60 * 1000;
const MAX_CACHED_URIS = 1000;

/**
 * Addresses a client's jwks_uri must never reach: private, loopback, link-local, and the like.
 * (BlockList checks IPv4-mapped IPv6 addresses against the IPv4 rules by itself.)
 */
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
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Resolves like dns.lookup but refuses hosts with any non-public address. The connection then
 * uses the checked address, so DNS rebinding cannot swap it afterwards.
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const refused = addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address));
    if (refused) {
      return callback(new Error(`${hostname} resolves to a non-public address`), '', 0);
    }
    if (options.all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses as [LookupAddress];
    callback(null, first.address, first.family);
  });
};

/**
 * The fetch jose uses for jwks_uri: https only, public addresses only, no redirects, at most
 * MAX_JWKS_BYTES, aborted by jose's timeout signal.
 */
export const guardedFetch: FetchImplementation = (url, options) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (target.protocol !== 'https:') return reject(new Error('jwks_uri must be https'));
    if (isIP(host) !== 0 && !isPublicAddress(host)) {
      return reject(new Error('jwks_uri points at a non-public address'));
    }
    const req = request(
      target,
      {
        method: 'GET',
        headers: { accept: 'application/json, application/jwk-set+json' },
        lookup: publicOnlyLookup,
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_JWKS_BYTES) {
            req.destroy(new Error('jwks_uri response is too large'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve(
            new Response(Buffer.concat(chunks), {
              status: res.statusCode ?? 502,
              headers: { 'content-type': res.headers['content-type'] ?? 'application/json' },
            }),
          ),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });

/** jose remote key sets per jwks_uri, cached (bounded) across requests of one container. */
export class GuardedRemoteKeySets implements RemoteKeySets {
  private readonly sets = new Map<string, JWTVerifyGetKey>();

  constructor(private readonly fetchImplementation: FetchImplementation = guardedFetch) {}

  resolver(uri: string): JWTVerifyGetKey {
    let set = this.sets.get(uri);
    if (set === undefined) {
      set = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: TIMEOUT_MS,
        cacheMaxAge: CACHE_MS,
        [customFetch]: this.fetchImplementation,
      });
      if (this.sets.size >= MAX_CACHED_URIS) {
        this.sets.delete(this.sets.keys().next().value as string);
      }
      this.sets.set(uri, set);
    }
    return set;
  }
}
