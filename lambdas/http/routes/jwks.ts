import { PATHS } from '../../core/paths.js';
import type { PublishedKey, Signer } from '../../core/signing/ports.js';
import { preserialized } from '../responses.js';
import type { Route } from '../router.js';

/**
 * `GET /.well-known/jwks.json`: the public keys, serialised again only when they change (wrapped
 * keys rotate). `maxAgeSeconds`: how long clients may cache it.
 */
export function jwksRoutes(signer: Signer, maxAgeSeconds = 300): Route[] {
  let document: { readonly keys: readonly PublishedKey[]; readonly body: string } | undefined;
  const publishKeys = async () => {
    const keys = await signer.publishedKeys();
    if (document?.keys !== keys) {
      document = { keys, body: JSON.stringify({ keys: keys.map((k) => k.jwk) }) };
    }
    return preserialized(document.body, { 'cache-control': `public, max-age=${maxAgeSeconds}` });
  };
  return [{ method: 'GET', path: PATHS.jwks, cors: true, handle: publishKeys }];
}
