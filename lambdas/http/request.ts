import { invalidRequest, OAuthError } from '../core/errors.js';

/** Largest request body accepted (the 64 KiB); larger bodies get a 413. */
export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = () =>
  new OAuthError(413, 'invalid_request', `request body exceeds ${MAX_BODY_BYTES} bytes`);

const mediaType = (request: Request) =>
  (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a bounded body as UTF-8 text. */
async function readText(request: Request): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidRequest('request body is not valid UTF-8');
  }
}

/** The body of a JSON endpoint (register, client configuration), which must be a JSON object. */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  if (mediaType(request) !== 'application/json') {
    throw invalidRequest('content type must be application/json');
  }
  const text = await readText(request);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest('request body is not well-formed JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest('request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** RFC 6750 §2.1: the token of an `Authorization: Bearer` header, if there is one. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  const match = header?.match(/^Bearer +([A-Za-z0-9\-._~+/]+=*)\s*$/i);
  return match?.[1];
}
