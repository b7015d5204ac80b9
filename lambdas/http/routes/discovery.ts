import { authorizationServerMetadata, type DiscoverySettings } from '../../core/discovery.js';
import { PATHS } from '../../core/paths.js';
import { preserialized } from '../responses.js';
import type { Route } from '../router.js';

const CACHEABLE = { 'cache-control': 'public, max-age=3600' };

/** RFC 8414 metadata under both well-known names, serialised once per issuer. */
export function discoveryRoutes(settings: DiscoverySettings): Route[] {
  const documents = new Map<string, string>();
  const metadata = ({ issuer }: { issuer: string }) => {
    let document = documents.get(issuer);
    if (document === undefined) {
      document = JSON.stringify(authorizationServerMetadata(issuer, settings));
      documents.set(issuer, document);
    }
    return preserialized(document, CACHEABLE);
  };
  return [
    { method: 'GET', path: PATHS.authorizationServerMetadata, cors: true, handle: metadata },
    { method: 'GET', path: PATHS.openidConfiguration, cors: true, handle: metadata },
  ];
}
