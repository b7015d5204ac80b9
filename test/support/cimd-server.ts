import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';

interface Canned {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Wait this long before answering. */
  readonly delayMs?: number;
}

/** What a path answers: a canned response, or a handler of its own. */
export type Served = Canned | ((req: IncomingMessage, res: ServerResponse) => void);

export interface DocumentServer {
  /** https://127.0.0.1:<port> */
  readonly origin: string;
  url(path: string): string;
  /** Sets what a path answers (JSON bodies: pass an object). */
  serve(path: string, served: Served | Record<string, unknown>): void;
  /**
   * Serves a client's metadata document at a fresh path: client_id is its URL (unless the
   * document given names another), a name, the redirect URIs, the code and refresh grants.
   */
  publishClient(
    redirectUris: readonly string[],
    document?: Record<string, unknown>,
  ): { path: string; clientId: string; document: Record<string, unknown> };
  /** How many requests a path has had. */
  hits(path: string): number;
  /** The headers of the last request to a path. */
  lastHeaders(path: string): IncomingMessage['headers'] | undefined;
  close(): Promise<void>;
}

const isCanned = (s: Served | Record<string, unknown>): s is Canned =>
  'status' in s || 'headers' in s || 'body' in s || 'delayMs' in s;

/**
 * An https server on 127.0.0.1 with the run's test certificate (trusted through
 * NODE_EXTRA_CA_CERTS, see tls-global-setup): serves Client ID Metadata Documents and key sets.
 */
export async function startDocumentServer(): Promise<DocumentServer> {
  const { key, cert } = inject('tls');
  const routes = new Map<string, Served>();
  const counts = new Map<string, number>();
  const headers = new Map<string, IncomingMessage['headers']>();
  const timers = new Set<NodeJS.Timeout>();
  let published = 0;
  const server = createServer({ key, cert }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    headers.set(path, req.headers);
    const served = routes.get(path) ?? { status: 404, body: 'not found' };
    if (typeof served === 'function') return served(req, res);
    const answer = () => {
      res.writeHead(served.status ?? 200, served.headers ?? {});
      res.end(served.body ?? '');
    };
    if (served.delayMs === undefined) return answer();
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) answer();
    }, served.delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const serve: DocumentServer['serve'] = (path, served) => {
    routes.set(
      path,
      typeof served === 'function' || isCanned(served)
        ? served
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(served) },
    );
  };
  return {
    origin,
    url: (path) => `${origin}${path}`,
    serve,
    publishClient(redirectUris, extra = {}) {
      published += 1;
      const path = `/clients/${published}/metadata.json`;
      const clientId = `${origin}${path}`;
      const document = {
        client_id: clientId,
        client_name: `Client ${published}`,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        ...extra,
      };
      serve(path, document);
      return { path, clientId, document };
    },
    hits: (path) => counts.get(path) ?? 0,
    lastHeaders: (path) => headers.get(path),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
