import { PATHS } from '../../core/paths.js';
import type { PublishedKey, Signer } from '../../core/signing/ports.js';
import type { Route, RouteContext } from '../router.js';
import {
  type PublishedDocument,
  publishDocument,
  publishedResponse,
} from './published-document.js';

/**
 * `GET /.well-known/jwks.json`: the public keys, serialised (with their ETag) again only when
 * they change (wrapped keys rotate); a client revalidating a current copy gets `304`.
 * `maxAgeSeconds`: how long clients may cache it.
 */
export function jwksRoutes(signer: Signer, maxAgeSeconds = 300): Route[] {
  let published:
    | { readonly keys: readonly PublishedKey[]; readonly document: PublishedDocument }
    | undefined;
  const publishKeys = async ({ request }: RouteContext) => {
    const keys = await signer.publishedKeys();
    if (published?.keys !== keys) {
      published = {
        keys,
        document: publishDocument(
          { keys: keys.map((k) => k.jwk) },
          `public, max-age=${maxAgeSeconds}`,
        ),
      };
    }
    return publishedResponse(request, published.document);
  };
  return [{ method: 'GET', path: PATHS.jwks, cors: true, handle: publishKeys }];
}
