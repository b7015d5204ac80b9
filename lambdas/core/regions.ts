/**
 * Multi-region (docs/deployment.md "Multi-region"): what a server makes in its region (refresh token
 * families, authorization codes, initial access tokens) is used in that region only, where its
 * conditional writes are serialized; under a global table's last-writer-wins replication, two
 * regions could otherwise both rotate one refresh token, both spend one code, or both count
 * the last use of an initial access token.
 */
export const pinnedElsewhere = (
  record: { readonly homeRegion?: string },
  region: string | undefined,
): boolean =>
  region !== undefined && record.homeRegion !== undefined && record.homeRegion !== region;

/** The home region a server records on what it makes: its own, when it has one. */
export const homeRegionOf = (region: string | undefined) =>
  region === undefined ? {} : { homeRegion: region };
