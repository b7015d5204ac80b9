import { connect } from 'node:net';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { FUZZ_TIMEOUT_MS, fuzzParameters } from '../support/fuzz.js';
import { HEADER_NAMES } from '../support/fuzz-arbitraries.js';
import { startTestServer } from '../support/server.js';

/**
 * Fuzzing over real HTTP (docs/testing.md "Fuzzing"): raw requests on a socket to the local server (node:http in
 * front of the same router), with odd methods, targets, header names and values, and bodies
 * that node:http's own parser sees first. Whatever arrives, the answer is a status line below
 * 500 (node:http's own 400 for what it cannot parse counts), a 4xx JSON body is RFC-shaped,
 * the admin token never shows, and the server keeps serving.
 */
const ADMIN_TOKEN = 'http-fuzz-admin-token-0123456789-abcdefghij';
let app: LocalApp;
let port: number;

beforeAll(async () => {
  app = await startTestServer(
    { DCR_ADMIN_TOKEN: ADMIN_TOKEN, DCR_AUDIT_LOG: 'off', DCR_CLEANUP_INTERVAL_SECONDS: '0' },
    { store: 'memory' },
  );
  port = app.port;
});
afterAll(() => app?.close());

interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/** The body of an answer, its chunked framing (if any) taken off. */
function bodyOf(head: string, raw: string): string {
  if (!/^transfer-encoding: *chunked/im.test(head)) return raw;
  let body = '';
  let rest = raw;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (eol < 0 || !(size > 0)) return body;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/**
 * Sends bytes on a fresh connection and reads until the server closes it (every request says
 * `Connection: close`). `halfClose`: then shuts the sending side, telling a server that waits
 * for body bytes the request promised that none will come.
 */
function exchange(bytes: Buffer, halfClose: boolean): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer was written is an ending, not a failure.
      if (error.code === 'ECONNRESET' && chunks.length > 0) return;
      reject(error);
    });
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      const head = at < 0 ? text : text.slice(0, at);
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body:
          at < 0 ? '' : Buffer.from(bodyOf(head, text.slice(at + 4)), 'latin1').toString('utf8'),
      });
    });
    if (halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
const headerValue = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')),
  fc.constantFrom(
    'application/json',
    'application/x-www-form-urlencoded',
    `Bearer ${ADMIN_TOKEN}`,
    'Bearer',
    'Basic Og==',
    'x'.repeat(9000),
    '',
    '\t',
    'é',
  ),
);

const rawRequest = fc.record({
  method: fc.oneof(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'),
    token,
  ),
  target: fc.oneof(
    fc.constantFrom(
      '/register',
      '/token',
      '/introspect',
      '/revoke',
      '/authorize?response_type=code',
      '/login?tx=%zz',
      '/consent',
      '/account?revoked=%zz',
      '/admin/clients?limit=%',
      '/admin/stats?days=1e308',
      '/.well-known/oauth-authorization-server',
      '/.well-known/jwks.json',
      '/register/%ED%A0%80',
      '*',
      'http://127.0.0.1/token',
      '//token',
      '/%',
    ),
    fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((s) => `/${s.replace(/[\s]/g, '')}`),
  ),
  headers: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...HEADER_NAMES), token), headerValue), {
    maxLength: 5,
  }),
  body: fc.oneof(
    fc.constant(''),
    fc.constantFrom('{}', '{"redirect_uris":"x"}', 'grant_type=client_credentials', '%', '{'),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  ),
  framing: fc.constantFrom('length', 'chunked', 'none', 'short'),
});

type RawRequest = typeof rawRequest extends fc.Arbitrary<infer T> ? T : never;

function bytesOf(r: RawRequest): Buffer {
  const lines = [`${r.method} ${r.target} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [name, value] of r.headers) lines.push(`${name}: ${value}`);
  const body = Buffer.from(r.body, 'latin1');
  if (r.framing === 'length') lines.push(`Content-Length: ${body.length}`);
  if (r.framing === 'short') lines.push(`Content-Length: ${body.length + 10}`);
  if (r.framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  lines.push('Connection: close', '', '');
  const payload =
    r.framing === 'chunked'
      ? Buffer.concat([
          Buffer.from(`${body.length.toString(16)}\r\n`),
          body,
          Buffer.from('\r\n0\r\n\r\n'),
        ])
      : r.framing === 'none'
        ? Buffer.alloc(0)
        : body;
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), payload]);
}

/**
 * Whether the request leaves the server waiting for body bytes: exactly one Content-Length, a
 * number beyond the bytes sent. Only such a request is half-closed after sending: a client that
 * shuts its side down after a whole request is one that gave up, and a server may drop the
 * answer then (node:http does, whenever it reads the stream's end before it writes the answer).
 */
function leavesServerWaiting(r: RawRequest): boolean {
  const given = r.headers.filter(([name]) => name.toLowerCase() === 'content-length');
  const framed = r.framing === 'length' || r.framing === 'short';
  // Chunked framing and a length, or two lengths: refused as soon as the head is read.
  if (r.framing === 'chunked' || given.length + (framed ? 1 : 0) !== 1) return false;
  if (framed) return r.framing === 'short';
  // The fuzzed length alone, and no body sent.
  const [, value = ''] = given[0] ?? [];
  return /^[ \t]*\d+[ \t]*$/.test(value) && Number(value) > 0;
}

describe('fuzzing over real HTTP', () => {
  it(
    'raw requests of any method, target, headers and framing: a status below 500, RFC error bodies, no admin token',
    async () => {
      await fc.assert(
        fc.asyncProperty(rawRequest, async (r) => {
          const answer = await exchange(bytesOf(r), leavesServerWaiting(r));
          expect(answer.status, answer.head).toBeGreaterThanOrEqual(200);
          expect(answer.status, answer.head).toBeLessThan(500);
          expect(answer.head + answer.body).not.toContain(ADMIN_TOKEN);
          // A HEAD answer has no body (RFC 9110 §9.3.2): node:http sends only the head.
          const bodied = r.method !== 'HEAD';
          if (
            bodied &&
            answer.status >= 400 &&
            /content-type: application\/json/i.test(answer.head)
          ) {
            const error = JSON.parse(answer.body);
            expect(typeof error.error).toBe('string');
            expect(
              Object.keys(error).every((k) => k === 'error' || k === 'error_description'),
            ).toBe(true);
          }
        }),
        {
          ...fuzzParameters<[RawRequest]>(300),
          // A whole request to a page answered after a read of the store: the answer comes
          // after the end of the client's stream would have been read.
          examples: [
            [
              {
                method: 'GET',
                target: '/account?revoked=%zz',
                headers: [],
                body: '',
                framing: 'length',
              },
            ],
          ],
        },
      );
      const health = await fetch(`${app.issuer}/.well-known/oauth-authorization-server`);
      expect(health.status).toBe(200);
    },
    FUZZ_TIMEOUT_MS,
  );
});
