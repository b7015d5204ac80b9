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
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // The issuer comes from configuration: the Host header is client-supplied and never trusted.
  const response = await router(
    {
      method,
      path: queryAt === -1 ? target : target.slice(0, queryAt),
      query: queryAt === -1 ? '' : target.slice(queryAt + 1),
      headers,
      ...(req.socket.remoteAddress && { sourceIp: req.socket.remoteAddress }),
      ...(hasBody && { body: await readBody(req) }),
    },
    issuer,
  );
  res.writeHead(
    response.status,
    response.cookies
      ? { ...response.headers, 'set-cookie': [...response.cookies] }
      : response.headers,
  );
  res.end(response.body);
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
