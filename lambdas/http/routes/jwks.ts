import { PATHS } from '../../core/endpoints.js';
import type { Signer } from '../../core/ports.js';
import { preserialized } from '../responses.js';
import type { Route } from '../router.js';

/** `GET /.well-known/jwks.json`: the public keys, serialised once per container. */
export function jwksRoutes(signer: Signer): Route[] {
  let document: Promise<string> | undefined;
  return [
    {
      method: 'GET',
      path: PATHS.jwks,
      cors: true,
      handle: async () => {
        document ??= signer
          .publishedKeys()
          .then((keys) => JSON.stringify({ keys: keys.map((k) => k.jwk) }));
        document.catch(() => {
          document = undefined;
        });
        return preserialized(await document, { 'cache-control': 'public, max-age=300' });
      },
    },
  ];
}
