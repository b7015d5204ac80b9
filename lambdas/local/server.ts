import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_BODY_BYTES } from '../http/request.js';
import type { Router } from '../http/router.js';

/** Past this, an oversized upload is cut off rather than drained. */
const DRAIN_LIMIT = 16 * MAX_BODY_BYTES;

export interface LocalServer {
  readonly issuer: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Collects at most MAX_BODY_BYTES + 1 bytes: enough for the router to answer 413. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    size += chunk.length;
    if (size > DRAIN_LIMIT) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES + 1);
}

async function serve(router: Router, issuer: string, req: IncomingMessage, res: ServerResponse) {
  const method = req.method ?? 'GET';
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
  // The URL's origin is the issuer's: the Host header is client-supplied and never trusted.
  const target = req.url?.startsWith('/') ? req.url : '/';
  const url = new URL(`${new URL(issuer).origin}${target}`);
  const response = await router(new Request(url, { method, headers, body }), issuer);
  const payload = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(payload);
}

/**
 * Serves the router over node:http on 127.0.0.1. With port 0 the OS picks a free port; the
 * issuer defaults to http://127.0.0.1:<port>.
 */
export async function startLocalServer(
  router: Router,
  options: { port: number; issuer?: string },
): Promise<LocalServer> {
  let issuer = options.issuer ?? '';
  const server: Server = createServer((req, res) => {
    serve(router, issuer, req, res).catch(() => {
      // Only a broken connection gets here: the router turns every error into a response.
      if (!res.headersSent) res.writeHead(400);
      res.end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  issuer ||= `http://127.0.0.1:${port}`;
  return {
    issuer,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
