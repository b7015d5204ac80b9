import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchedMetadataDocuments } from '../../lambdas/adapters/fetch/metadata-documents.js';
import { GuardedRemoteKeySets } from '../../lambdas/adapters/fetch/remote-key-sets.js';
import type { MetadataDocumentResult } from '../../lambdas/core/clients/ports.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import { FakeClock } from '../support/fakes.js';

let server: DocumentServer;

beforeAll(async () => {
  server = await startDocumentServer();
});
afterAll(() => server.close());

/** A document at a fresh path on the test server, describing the client at its URL. */
function newDocument(extra: Record<string, unknown> = {}) {
  const { path, clientId, document } = server.publishClient(['http://127.0.0.1/callback'], extra);
  return { path, url: clientId, document };
}

function source(
  options: {
    trusted?: boolean;
    timeoutMs?: number;
    cacheLimits?: { entries: number; bytes: number };
  } = {},
) {
  const clock = new FakeClock();
  const documents = new FetchedMetadataDocuments({
    clock,
    ...(options.trusted !== false && { trustedOrigins: new Set([server.origin]) }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.cacheLimits !== undefined && { cacheLimits: options.cacheLimits }),
  });
  return { clock, documents };
}

const problemOf = (result: MetadataDocumentResult) =>
  'problem' in result ? result.problem : `no problem: ${JSON.stringify(result)}`;

describe('Client ID Metadata Documents fetched over https (trusted test origin)', () => {
  it('a served document is the client, asked for as JSON, and kept for its max-age', async () => {
    const { path, url, document } = newDocument();
    server.serve(path, {
      headers: { 'content-type': 'application/json', 'cache-control': 'max-age=60' },
      body: JSON.stringify(document),
    });
    const { clock, documents } = source();

    const first = await documents.resolve(url);
    expect('client' in first && first.client).toMatchObject({
      clientId: url,
      registrationMethod: 'metadata_document',
      clientIdIssuedAt: clock.now(),
      metadata: { client_name: document.client_name, token_endpoint_auth_method: 'none' },
    });
    expect(server.lastHeaders(path)?.accept).toBe('application/json');

    clock.advance(59);
    expect(await documents.resolve(url)).toEqual(first);
    expect(server.hits(path)).toBe(1);

    clock.advance(1);
    await documents.resolve(url);
    expect(server.hits(path)).toBe(2);
  });

  it('a changed document is seen once the cached one expires', async () => {
    const { path, url, document } = newDocument();
    server.serve(path, {
      headers: { 'cache-control': 'max-age=10' },
      body: JSON.stringify(document),
    });
    const { clock, documents } = source();
    await documents.resolve(url);
    server.serve(path, { body: JSON.stringify({ ...document, client_name: 'Renamed' }) });
    clock.advance(10);
    const result = await documents.resolve(url);
    expect('client' in result && result.client.metadata.client_name).toBe('Renamed');
  });

  it('no caching headers: kept for the default 5 minutes', async () => {
    const { path, url, document } = newDocument();
    server.serve(path, document);
    const { clock, documents } = source();
    await documents.resolve(url);
    clock.advance(299);
    await documents.resolve(url);
    expect(server.hits(path)).toBe(1);
    clock.advance(1);
    await documents.resolve(url);
    expect(server.hits(path)).toBe(2);
  });

  it('no-store: fetched every time', async () => {
    const { path, url, document } = newDocument();
    server.serve(path, {
      headers: { 'cache-control': 'no-store' },
      body: JSON.stringify(document),
    });
    const { documents } = source();
    expect('client' in (await documents.resolve(url))).toBe(true);
    expect('client' in (await documents.resolve(url))).toBe(true);
    expect(server.hits(path)).toBe(2);
  });

  it('the cache keeps so many documents, dropping the least recently used first', async () => {
    const [a, b, c] = [newDocument(), newDocument(), newDocument()];
    const { documents } = source({ cacheLimits: { entries: 2, bytes: 1024 * 1024 } });
    await documents.resolve(a.url);
    await documents.resolve(b.url);
    await documents.resolve(a.url); // a is now the most recently used
    await documents.resolve(c.url); // b goes
    await documents.resolve(a.url);
    await documents.resolve(b.url);
    expect([a, b, c].map((d) => server.hits(d.path))).toEqual([1, 2, 1]);
  });

  it('the cache keeps so many bytes: a document larger than all of it is not kept', async () => {
    const { path, url } = newDocument({ client_uri: `https://app.example.com/${'x'.repeat(500)}` });
    const { documents } = source({ cacheLimits: { entries: 100, bytes: 500 } });
    expect('client' in (await documents.resolve(url))).toBe(true);
    expect('client' in (await documents.resolve(url))).toBe(true);
    expect(server.hits(path)).toBe(2);
  });

  it('concurrent requests for one URL share one fetch', async () => {
    const { path, url, document } = newDocument();
    server.serve(path, {
      headers: { 'cache-control': 'no-store' },
      body: JSON.stringify(document),
      delayMs: 100,
    });
    const { documents } = source();
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => documents.resolve(url)));
    expect(results.every((r) => 'client' in r)).toBe(true);
    expect(server.hits(path)).toBe(1);
  });

  it('a document that cannot be used is said why, and not fetched again for 30 s', async () => {
    const { path, url, document } = newDocument();
    server.serve(path, { ...document, client_id: server.url('/someone-else.json') });
    const { clock, documents } = source();
    expect(problemOf(await documents.resolve(url))).toBe(
      'its client_id is not the URL it was fetched from',
    );
    clock.advance(29);
    await documents.resolve(url);
    expect(server.hits(path)).toBe(1);
    clock.advance(1);
    await documents.resolve(url);
    expect(server.hits(path)).toBe(2);
  });

  it('an answer other than 200 is a problem', async () => {
    const { path, url } = newDocument();
    server.serve(path, { status: 404, body: 'nothing here' });
    expect(problemOf(await source().documents.resolve(url))).toBe('its server answered HTTP 404');
  });

  it('a redirect is refused, not followed', async () => {
    const target = newDocument();
    server.serve(target.path, target.document);
    const { path, url } = newDocument();
    server.serve(path, { status: 302, headers: { location: target.url } });
    expect(problemOf(await source().documents.resolve(url))).toMatch(/redirects/);
    expect(server.hits(target.path)).toBe(0);
  });

  it('a document over 64 KiB is refused, whether or not its length is declared', async () => {
    const big = newDocument({ padding: 'x'.repeat(64 * 1024) });
    server.serve(big.path, big.document);
    expect(problemOf(await source().documents.resolve(big.url))).toBe(
      'it could not be fetched: the response is larger than 64 KiB',
    );

    const streamed = newDocument({ padding: 'x'.repeat(64 * 1024) });
    server.serve(streamed.path, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = JSON.stringify(streamed.document);
      // Chunked: no content-length to go by.
      for (let i = 0; i < body.length; i += 8192) res.write(body.slice(i, i + 8192));
      res.end();
    });
    expect(problemOf(await source().documents.resolve(streamed.url))).toBe(
      'it could not be fetched: the response is larger than 64 KiB',
    );
  });

  it('a document just under 64 KiB is accepted', async () => {
    const { path, url, document } = newDocument();
    const size = JSON.stringify({ ...document, padding: '' }).length;
    server.serve(path, { ...document, padding: 'x'.repeat(64 * 1024 - size) });
    expect('client' in (await source().documents.resolve(url))).toBe(true);
  });

  it('a server slower than the timeout is refused', async () => {
    const { path, url, document } = newDocument();
    server.serve(path, { body: JSON.stringify(document), delayMs: 2000 });
    const started = Date.now();
    expect(problemOf(await source({ timeoutMs: 300 }).documents.resolve(url))).toBe(
      'it could not be fetched: no answer within 0.3 seconds',
    );
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a body that stalls past the timeout is refused too', async () => {
    const { path, url } = newDocument();
    server.serve(path, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"client_id":');
    });
    expect(problemOf(await source({ timeoutMs: 300 }).documents.resolve(url))).toMatch(
      /no answer within 0.3 seconds/,
    );
  });

  it('a URL breaking the client_id rules is never fetched', async () => {
    const { documents } = source();
    expect(problemOf(await documents.resolve(`${server.origin}/`))).toMatch(/no path/);
    expect(problemOf(await documents.resolve(`${server.origin}/a/../b.json`))).toMatch(/"\.\."/);
    expect(problemOf(await documents.resolve(`http://127.0.0.1/client.json`))).toMatch(/https/);
  });
});

describe('the address guard (no trusted origin)', () => {
  it('the same document on 127.0.0.1 is refused for its non-public address, unfetched', async () => {
    const { path, url, document } = newDocument();
    server.serve(path, document);
    expect(problemOf(await source({ trusted: false }).documents.resolve(url))).toBe(
      'it could not be fetched: the URL points at a non-public address',
    );
    expect(server.hits(path)).toBe(0);
  });

  it('a host name that resolves to loopback is refused on the address it resolves to', async () => {
    const { path, document } = newDocument();
    server.serve(path, document);
    const port = new URL(server.origin).port;
    const url = `https://localhost:${port}${path}`;
    expect(problemOf(await source({ trusted: false }).documents.resolve(url))).toBe(
      'it could not be fetched: the host name does not resolve to a public address',
    );
    expect(server.hits(path)).toBe(0);
  });

  it('a name resolving to a private address and a name that does not resolve are told apart by no one', async () => {
    // Otherwise the problem shown would tell anyone which names this server's resolver maps
    // to private addresses.
    const { documents } = source({ trusted: false });
    const port = new URL(server.origin).port;
    const [loopback, missing] = await Promise.all([
      documents.resolve(`https://localhost:${port}/client.json`),
      documents.resolve('https://no-such-host.invalid/client.json'),
    ]);
    expect(problemOf(loopback)).toBe(problemOf(missing));
  });

  it('trusting one origin does not trust another port on the same host', async () => {
    const { path, document } = newDocument();
    server.serve(path, document);
    const documents = new FetchedMetadataDocuments({
      clock: new FakeClock(),
      trustedOrigins: new Set(['https://127.0.0.1:1']),
    });
    expect(problemOf(await documents.resolve(server.url(path)))).toMatch(/non-public address/);
  });
});

describe('jwks_uri through the same guard', () => {
  it('a key set on a trusted origin verifies; untrusted, it is refused', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    server.serve('/jwks.json', { keys: [jwk] });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(privateKey);

    const trusted = new GuardedRemoteKeySets(new Set([server.origin]));
    await expect(
      jwtVerify(token, trusted.resolver(server.url('/jwks.json'))),
    ).resolves.toBeDefined();

    const untrusted = new GuardedRemoteKeySets();
    await expect(jwtVerify(token, untrusted.resolver(server.url('/jwks.json')))).rejects.toThrow(
      /non-public/,
    );
    expect(server.hits('/jwks.json')).toBe(1);
  });
});
