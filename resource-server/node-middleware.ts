import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Refusal, refusal } from './challenges.js';
import {
  type MetadataOptions,
  metadataResponse,
  metadataUrl,
} from './protected-resource-metadata.js';
import {
  type AccessTokenIdentity,
  ResourceError,
  type Verifier,
  type VerifyOptions,
} from './verifier.js';

export interface GuardOptions extends VerifyOptions {
  /** The largest body read (for the MCP profile's digest), in bytes (default 4 MiB). */
  maxBodyBytes?: number;
}

/** What the MCP TypeScript SDK reads from `req.auth` and hands to tools as `extra.authInfo`. */
export interface McpAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  resource: URL;
  extra: { sub: string; jkt?: string; claims: Record<string, unknown> };
}

export const mcpAuthInfo = (verifier: Verifier, identity: AccessTokenIdentity): McpAuthInfo => ({
  token: identity.token,
  clientId: identity.clientId,
  scopes: identity.scopes,
  expiresAt: identity.expiresAt,
  resource: new URL(verifier.resource),
  extra: {
    sub: identity.sub,
    ...(identity.jkt && { jkt: identity.jkt }),
    claims: identity.claims,
  },
});

/** Reads a request body up to `limit` bytes; undefined when it is larger. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The URL the client addressed: the resource's own origin (this server's canonical URL, which a
 * proxy in front does not change) and the request's path.
 */
const requestUrl = (verifier: Verifier, req: IncomingMessage) =>
  new URL(req.url ?? '/', new URL(verifier.resource).origin).href;

/** Verifies a node:http request whose body was read; a refusal is the answer to send. */
export async function authorizeNodeRequest(
  verifier: Verifier,
  req: IncomingMessage,
  body: Buffer | undefined,
  options: VerifyOptions = {},
): Promise<{ identity: AccessTokenIdentity } | { refusal: Refusal }> {
  try {
    const identity = await verifier.verify(
      {
        method: req.method ?? 'GET',
        url: requestUrl(verifier, req),
        authorization: req.headers.authorization,
        dpop: req.headersDistinct.dpop,
        body: body ?? Buffer.alloc(0),
      },
      options,
    );
    return { identity };
  } catch (error) {
    if (error instanceof ResourceError) return { refusal: refusal(verifier, error) };
    throw error;
  }
}

export const send = (res: ServerResponse, answer: Refusal) => {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
};

const tooLarge: Refusal = {
  status: 413,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ error: 'invalid_request', error_description: 'the body is too large' }),
};

/**
 * A guard for node:http: reads the body, verifies the request, and either answers the refusal
 * (and resolves undefined) or resolves the caller's identity and the body it read. It also sets
 * `req.auth` for the MCP SDK's transports.
 */
export function nodeGuard(verifier: Verifier, options: GuardOptions = {}) {
  return async (
    req: IncomingMessage & { auth?: McpAuthInfo },
    res: ServerResponse,
  ): Promise<{ identity: AccessTokenIdentity; body: Buffer } | undefined> => {
    const body = await readBody(req, options.maxBodyBytes ?? 4 * 1024 * 1024);
    if (body === undefined) {
      send(res, tooLarge);
      return undefined;
    }
    const result = await authorizeNodeRequest(verifier, req, body, options);
    if ('refusal' in result) {
      send(res, result.refusal);
      return undefined;
    }
    req.auth = mcpAuthInfo(verifier, result.identity);
    return { identity: result.identity, body };
  };
}

/**
 * Serves the RFC 9728 metadata at its well-known URL: answers and returns true for that path,
 * returns false for any other.
 */
export function nodeMetadataHandler(verifier: Verifier, options: MetadataOptions = {}) {
  const path = new URL(metadataUrl(verifier.resource)).pathname;
  const answer = metadataResponse(verifier, options);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, {
        status: 405,
        headers: { 'content-type': 'application/json', allow: 'GET, HEAD' },
        body: JSON.stringify({ error: 'invalid_request', error_description: 'use GET' }),
      });
      return true;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(req.method === 'HEAD' ? undefined : answer.body);
    return true;
  };
}
