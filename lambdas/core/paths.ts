/** Every endpoint's path, relative to the issuer. Discovery, routes and responses all use these. */
export const PATHS = {
  /** The home page: what this server is, and where to go from here. */
  home: '/',
  authorizationServerMetadata: '/.well-known/oauth-authorization-server',
  openidConfiguration: '/.well-known/openid-configuration',
  register: '/register',
  clientConfiguration: '/register/:clientId',
  jwks: '/.well-known/jwks.json',
  token: '/token',
  introspect: '/introspect',
  revoke: '/revoke',
  /** The authorization endpoint, and the pages of the sign-in it leads through. */
  authorize: '/authorize',
  /** Where the upstream OpenID Provider sends the browser back (its redirect URI). */
  callback: '/callback',
  consent: '/consent',
  /** The operator's logo (DCR_SERVICE_LOGO), shown on the consent page. */
  serviceLogo: '/service-logo',
  /** The signed-in user's connected apps: their grants, each revocable. */
  account: '/account',
  /** The development login (local only; never routed in AWS). */
  login: '/login',
  adminClients: '/admin/clients',
  adminClient: '/admin/clients/:clientId',
  adminRotateSecret: '/admin/clients/:clientId/rotate-secret',
  adminBulkDelete: '/admin/bulk-delete',
  /** Clients expiring soon (the dashboard's overview), from the expiry index. */
  adminExpiringClients: '/admin/expiring-clients',
  adminStats: '/admin/stats',
  adminExport: '/admin/export',
  adminImport: '/admin/import',
  adminStatsRecount: '/admin/stats/recount',
  /** The software_ids with the most active clients. */
  adminStatsSoftware: '/admin/stats/software',
  adminInitialAccessTokens: '/admin/initial-access-tokens',
  adminInitialAccessToken: '/admin/initial-access-tokens/:tokenId',
  /** The software_id kill switch. */
  adminBlockedSoftwareIds: '/admin/blocked-software-ids',
  adminBlockedSoftwareId: '/admin/blocked-software-ids/:softwareId',
  adminTrustedIssuers: '/admin/trusted-issuers',
  /** One trusted issuer, its `iss` URL-encoded as one path segment. */
  adminTrustedIssuer: '/admin/trusted-issuers/:issuer',
  /** Who got tokens for trusted issuers' assertions, summed per subject. */
  adminFederatedSubjects: '/admin/federated-subjects',
  /** The operator's dashboard (local server and `dcr-admin dashboard` only; never in AWS). */
  dashboard: '/dashboard',
  dashboardSignIn: '/dashboard/sign-in',
  dashboardSignOut: '/dashboard/sign-out',
  dashboardClients: '/dashboard/clients',
  dashboardClient: '/dashboard/clients/:clientId',
  dashboardDelete: '/dashboard/clients/:clientId/delete',
  dashboardRotate: '/dashboard/clients/:clientId/rotate-secret',
  dashboardBlock: '/dashboard/block-software',
  dashboardBlocked: '/dashboard/blocked',
  dashboardUnblock: '/dashboard/unblock-software',
  dashboardTrustedIssuers: '/dashboard/trusted-issuers',
  dashboardRemoveTrustedIssuer: '/dashboard/trusted-issuers/remove',
  dashboardFederatedSubjects: '/dashboard/federated-subjects',
} as const;

/** An endpoint's absolute URL under an issuer (which may carry a path). */
export const endpointUrl = (issuer: string, path: string): string => `${issuer}${path}`;

export const clientConfigurationUrl = (issuer: string, clientId: string): string =>
  endpointUrl(issuer, `${PATHS.register}/${encodeURIComponent(clientId)}`);
