import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  authorizeNodeRequest,
  type GuardOptions,
  type McpAuthInfo,
  mcpAuthInfo,
  nodeMetadataHandler,
  readBody,
  send,
} from './node-middleware.js';
import type { MetadataOptions } from './protected-resource-metadata.js';
import type { AccessTokenIdentity, Verifier } from './verifier.js';

/**
 * Express adapters, typed by the shapes Express gives (a node:http request and response and a
 * `next`), so the kit does not depend on Express.
 */
type ExpressRequest = IncomingMessage & {
  body?: unknown;
  rawBody?: Buffer;
  auth?: McpAuthInfo;
  identity?: AccessTokenIdentity;
};
type Next = (error?: unknown) => void;

/** The raw body: read here when nothing read it first, or kept by a body parser. */
async function rawBodyOf(req: ExpressRequest, limit: number): Promise<Buffer | undefined | null> {
  if (!req.readableEnded && req.body === undefined) {
    const body = await readBody(req, limit);
    if (body === undefined) return null;
    req.rawBody = body;
    return body;
  }
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (Buffer.isBuffer(req.body)) return req.body;
  return undefined;
}

/**
 * Middleware: verifies the request and sets `req.identity` (and `req.auth` for the MCP SDK), or
 * answers the refusal. Mount it before body parsers, or keep the raw body as `req.rawBody`
 * (`express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })`) when the MCP DPoP
 * profile's digest is checked.
 */
export function expressGuard(verifier: Verifier, options: GuardOptions = {}) {
  return async (req: ExpressRequest, res: ServerResponse, next: Next) => {
    try {
      const body = await rawBodyOf(req, options.maxBodyBytes ?? 4 * 1024 * 1024);
      if (body === null) {
        send(res, {
          status: 413,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            error: 'invalid_request',
            error_description: 'the body is too large',
          }),
        });
        return;
      }
      if (body === undefined && verifier.options.dpop?.contentDigest)
        throw new Error('the raw body was consumed before the guard: keep it as req.rawBody');
      const result = await authorizeNodeRequest(verifier, req, body, options);
      if ('refusal' in result) {
        send(res, result.refusal);
        return;
      }
      req.identity = result.identity;
      req.auth = mcpAuthInfo(verifier, result.identity);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** Middleware answering the RFC 9728 metadata at its well-known path. */
export function expressMetadata(verifier: Verifier, options: MetadataOptions = {}) {
  const handle = nodeMetadataHandler(verifier, options);
  return (req: IncomingMessage, res: ServerResponse, next: Next) => {
    if (!handle(req, res)) next();
  };
}
