import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { misdirectedRequest } from '../lambdas/core/errors.js';
import type { Writable } from '../lambdas/core/writable.js';
import { clientCertificate } from '../lambdas/http/client-certificate.js';
import type { HttpRequest } from '../lambdas/http/message.js';
import { MAX_BODY_BYTES } from '../lambdas/http/request.js';
import { errorResponse } from '../lambdas/http/responses.js';
import type { Router } from '../lambdas/http/router.js';

/** Past this, an oversized upload is no longer read: the answer closes the connection. */
const DRAIN_LIMIT = 16 * MAX_BODY_BYTES;
/** How long a closing connection still takes (and discards) what the client sends. */
const LINGER_MS = 2000;

export interface LocalServer {
  readonly issuer: string;
  readonly port: number;
  /**
   * Drains: accepts no more connections, closes the idle ones, answers every request in flight
   * (and any that arrives on a connection already open) with `Connection: close`, then resolves;
   * connections still busy after `graceMs` are cut.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Collects at most MAX_BODY_BYTES + 1 bytes: enough for the router to answer 413. A body up to
 * DRAIN_LIMIT is read to its end (discarded past the limit), so the connection can serve the
 * next request; past it, reading stops there and `whole` is false.
 */
function readBody(req: IncomingMessage): Promise<{ bytes: Buffer; whole: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      size += chunk.length;
      if (size > DRAIN_LIMIT) {
        req.off('data', onData).off('end', onEnd).off('error', reject);
        resolve({ bytes: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES + 1), whole: false });
      }
    };
    // Most bodies arrive in one chunk: no copy then.
    const onEnd = () => {
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      resolve({ bytes: bytes.subarray(0, MAX_BODY_BYTES + 1), whole: true });
    };
    req.on('data', onData).on('end', onEnd).on('error', reject);
  });
}

/**
 * Ends a connection whose request body was not read to its end: the answer says
 * `Connection: close`, then the server half-closes and goes on discarding what the client
 * still sends until it stops (or LINGER_MS), so the client reads the whole answer instead of
 * a reset, and never sends its next request down a connection the server has dropped.
 */
function lingerAndClose(req: IncomingMessage): void {
  const { socket } = req;
  // Node's server calls destroySoon once a `Connection: close` answer is written, and it would
  // destroy the socket at once: a reset to a client still uploading. Half-close instead.
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(timer));
  };
  req.resume();
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether a request's Host names this server: the issuer's host, or a loopback name (any port:
 * proxies and tools on this machine). A page whose own name an attacker rebinds to 127.0.0.1
 * (DNS rebinding) names itself in Host, and is refused before any route runs: the password-less
 * development login, the dashboard and the API stay out of its reach.
 */
function namesThisServer(header: string | undefined, issuer: URL): boolean {
  const url = URL.parse(`${issuer.protocol}//${header ?? ''}`);
  return url !== null && (url.host === issuer.host || LOOPBACK_NAMES.has(url.hostname));
}

/** namesThisServer, remembering the last Host header's answer: a client sends the same one. */
function hostCheck(issuer: () => URL): (header: string | undefined) => boolean {
  let last: { readonly header: string | undefined; readonly names: boolean } | undefined;
  return (header) => {
    if (last === undefined || last.header !== header) {
      last = { header, names: namesThisServer(header, issuer()) };
    }
    return last.names;
  };
}

async function serve(
  router: Router,
  issuer: string,
  req: IncomingMessage,
  res: ServerResponse,
  draining: () => boolean,
) {
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const headers: Record<string, string> = {};
  const incoming = req.headers;
  for (const name in incoming) {
    const value = incoming[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const body = method !== 'GET' && method !== 'HEAD' ? await readBody(req) : undefined;
  const certificate = verifiedCertificate(req);
  // The issuer comes from configuration: the Host header is client-supplied and never trusted.
  // Members assigned when present rather than spread in: a conditional spread allocates an
  // object each, on every request.
  const request: Writable<HttpRequest> = {
    method,
    path: queryAt === -1 ? target : target.slice(0, queryAt),
    query: queryAt === -1 ? '' : target.slice(queryAt + 1),
    headers,
  };
  const sourceIp = req.socket.remoteAddress;
  if (sourceIp) request.sourceIp = sourceIp;
  if (certificate) request.clientCertificate = certificate;
  if (body) request.body = body.bytes;
  const response = await router(request, issuer);
  const closing = body !== undefined && !body.whole;
  if (closing) lingerAndClose(req);
  const payload =
    response.base64 && response.body !== undefined
      ? Buffer.from(response.body, 'base64')
      : response.body;
  // A body goes out with its length, in one piece, not in chunked encoding (writeHead fixes the
  // headers before end() could count it). The response's own headers are never written to: a
  // published document's are shared by every answer.
  const written: Record<string, string | string[]> = { ...response.headers };
  if (response.cookies) written['set-cookie'] = [...response.cookies];
  // Stopping: the client opens its next connection elsewhere (or to the restarted server).
  if (closing || draining()) written.connection = 'close';
  if (payload !== undefined) written['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(response.status, written);
  res.end(payload);
}

/** RFC 9110 §15.5.20: this server does not answer for the host the request names. */
function misdirected(res: ServerResponse, issuerHost: string): void {
  const response = errorResponse(
    misdirectedRequest(
      `this server answers for ${issuerHost} (the issuer's host) and the loopback names at its port only`,
    ),
  );
  res.writeHead(response.status, { ...response.headers, 'x-content-type-options': 'nosniff' });
  res.end(response.body);
}

/** A client certificate the TLS handshake verified against DCR_TLS_CLIENT_CA, if any. */
function verifiedCertificate(req: IncomingMessage) {
  const socket = req.socket as TLSSocket;
  if (!socket.encrypted || !socket.authorized) return undefined;
  const { raw } = socket.getPeerCertificate(false);
  return raw ? clientCertificate(raw) : undefined;
}

/** PEM files for https, and the CA whose client certificates are verified (mutual TLS). */
export interface LocalTls {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string;
}

/**
 * Serves the router over node:http (or https, with `tls`) on 127.0.0.1. With port 0 the OS
 * picks a free port; the issuer defaults to http(s)://127.0.0.1:<port>. With a client CA the
 * server asks for a certificate but still serves requests without one (registration may be
 * open): only a certificate the handshake verified reaches the router.
 */
export async function startLocalServer(
  router: Router,
  options: { port: number; issuer?: string; tls?: LocalTls },
): Promise<LocalServer> {
  let issuer = options.issuer ?? '';
  const { tls } = options;
  let issuerUrl: URL | undefined;
  const issuerOf = () => {
    issuerUrl ??= new URL(issuer);
    return issuerUrl;
  };
  const namesUs = hostCheck(issuerOf);
  let draining = false;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (!namesUs(req.headers.host)) {
      misdirected(res, issuerOf().host);
      return;
    }
    serve(router, issuer, req, res, () => draining).catch(() => {
      // Only a broken connection gets here: the router turns every error into a response.
      if (!res.headersSent) res.writeHead(400);
      res.end();
    });
  };
  const server: Server = tls
    ? createHttpsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.clientCa && { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }),
        },
        handle,
      )
    : createServer(handle);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  issuer ||= `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    issuer,
    port,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        draining = true;
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
