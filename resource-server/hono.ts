import { refusal } from './challenges.js';
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

/**
 * Hono adapters over the Fetch API's Request and Response, typed by the part of Hono's context
 * they use, so the kit does not depend on Hono.
 */
export interface HonoContextLike {
  req: { raw: Request; arrayBuffer(): Promise<ArrayBuffer> };
  set(key: 'identity', value: AccessTokenIdentity): void;
}

/** The URL the client addressed, on the resource's canonical origin. */
const addressed = (verifier: Verifier, request: Request) => {
  const url = new URL(request.url);
  return new URL(`${url.pathname}${url.search}`, new URL(verifier.resource).origin).href;
};

/** Verifies a Fetch API request; a Response when refused. */
export async function authorizeFetchRequest(
  verifier: Verifier,
  request: Request,
  body: Uint8Array,
  options: VerifyOptions = {},
): Promise<AccessTokenIdentity | Response> {
  try {
    return await verifier.verify(
      {
        method: request.method,
        url: addressed(verifier, request),
        authorization: request.headers.get('authorization') ?? undefined,
        dpop: request.headers.get('dpop') ?? undefined,
        body,
      },
      options,
    );
  } catch (error) {
    if (!(error instanceof ResourceError)) throw error;
    const answer = refusal(verifier, error);
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  }
}

/** Middleware: sets `c.get('identity')` or answers the refusal. */
export function honoGuard(verifier: Verifier, options: VerifyOptions = {}) {
  return async (c: HonoContextLike, next: () => Promise<void>): Promise<Response | undefined> => {
    // Hono keeps the body it read, so handlers after this can still read it.
    const body = new Uint8Array(await c.req.arrayBuffer());
    const result = await authorizeFetchRequest(verifier, c.req.raw, body, options);
    if (result instanceof Response) return result;
    c.set('identity', result);
    await next();
    return undefined;
  };
}

/** The metadata route for Hono: `app.get(path, handler)`. */
export function honoMetadata(verifier: Verifier, options: MetadataOptions = {}) {
  const answer = metadataResponse(verifier, options);
  return {
    path: new URL(metadataUrl(verifier.resource)).pathname,
    handler: () => new Response(answer.body, { status: answer.status, headers: answer.headers }),
  };
}
