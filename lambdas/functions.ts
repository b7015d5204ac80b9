import { PATHS } from './core/paths.js';

/**
 * Every deployed function, described once: what reaches it over HTTP, what it may touch in the
 * table and in KMS, what it counts, what it runs with. The wiring (lambdas/wiring.ts) serves
 * each endpoint's routes, the stack (lib/serverless-dcr-stack.ts) deploys, routes and grants
 * from it, the Lambda handler counts its metric. Plain data: the stack reads it at synth without
 * any route code, and a bundle carries nothing of the stack.
 */

/**
 * A partition key pattern (IAM `StringLike`): every item of one type (docs/architecture.md
 * "Storage"), or one partition by its exact key (`stats#software`, which a Query names).
 */
export type KeyPattern = `${string}#*` | `stats#${string}`;

/**
 * DynamoDB actions that name their items' keys (a Query of the table: its partition), so IAM
 * can condition them on `LeadingKeys`.
 */
export type ItemAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'Query';

export interface Access {
  /** Item actions on the table, each on exactly the partition keys this function owns. */
  readonly items?: Partial<Record<ItemAction, readonly KeyPattern[]>>;
  /** Query on the expiry index: cleanup's only way to find what has expired. */
  readonly queryExpiryIndex?: true;
  /** Scan of the whole table: the operator's listing, search and stats. */
  readonly scan?: true;
  /** KMS: the signing key (kms mode), or the wrapping key (wrapped mode, `wrapped` below). */
  readonly key?: 'sign' | 'publicKey' | 'unwrap' | 'generate';
}

export interface FunctionDescriptor {
  /**
   * The paths API Gateway sends to it (router syntax, `:name`), each with ANY: its router
   * answers its methods, CORS preflights and 405 with Allow, exactly as the local server does.
   * Absent: a background function, not an endpoint.
   */
  readonly paths?: readonly string[];
  /** Its routes require IAM (SigV4) authorization at API Gateway. */
  readonly iam?: true;
  /** Everything no path names (unknown paths, RFC 8414 path-inserted metadata) reaches it. */
  readonly defaultRoute?: true;
  /** Deployed only when users can sign in, and reads the sign-in's secrets. */
  readonly signIn?: true;
  /** Background work: deployed in the primary region only (a replica region's stack has none). */
  readonly background?: true;
  /** Deployed only in the wrapped signing mode. */
  readonly wrappedOnly?: true;
  /**
   * What it may do in the kms signing mode, and nothing more: DynamoDB actions on the items it
   * owns (one row per action: the key patterns it may touch), and its use of the signing key.
   * The stack grants exactly this; the stack tests read it back from the template.
   */
  readonly access: Access;
  /**
   * What the wrapped mode adds to its access (docs/architecture.md "Storage": `keyring#signing`,
   * `signingkey#<kid>`), the KMS signing key replaced by this `key` (none if absent).
   */
  readonly wrapped?: {
    readonly items: Partial<
      Record<'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem', KeyPattern[]>
    >;
    readonly key?: Access['key'];
  };
  /** The business event it counts when it succeeds (a CloudWatch metric). */
  readonly successMetric?: string;
  /** Lambda memory (MB) and timeout (seconds), where the defaults do not fit. */
  readonly memorySize?: number;
  readonly timeoutSeconds?: number;
}

export const FUNCTIONS = {
  discovery: {
    paths: [PATHS.authorizationServerMetadata, PATHS.openidConfiguration, PATHS.home],
    defaultRoute: true,
    access: {},
  },
  // The publishing and verifying functions read the keyring (public keys) in the wrapped mode,
  // and nothing of KMS.
  jwks: {
    paths: [PATHS.jwks],
    access: { key: 'publicKey' },
    wrapped: { items: { GetItem: ['keyring#*'] } },
  },
  // GetItem: the software_id kill switch (is the software blocked?); GetItem + UpdateItem on an
  // initial access token: its check and its counted use (and place given back when the
  // client's own write fails); UpdateItem: the anonymous registration counters and the active
  // clients per software_id (abuse control; one atomic add each).
  register: {
    paths: [PATHS.register],
    access: {
      items: {
        GetItem: ['blocked#*', 'iat#*'],
        PutItem: ['client#*'],
        UpdateItem: ['iat#*', 'ratelimit#*', 'software#*'],
      },
    },
    successMetric: 'ClientsRegistered',
  },
  // UpdateItem: the deletion marker written just before DeleteItem (audit reads it). GetItem
  // on blocked#*: an update is held to the software_id kill switch.
  'client-configuration': {
    paths: [PATHS.clientConfiguration],
    access: {
      items: {
        GetItem: ['blocked#*', 'client#*'],
        PutItem: ['client#*'],
        UpdateItem: ['client#*'],
        DeleteItem: ['client#*'],
      },
    },
  },
  // PutItem: used client assertion ids, DPoP proof ids and trusted issuers' assertion ids (one
  // conditional put each: single use across containers; an assertion's carries its token's
  // audit event), and each exchanged token's audit record (exchange#, TTL its exp); UpdateItem: the client's "last used"
  // (token issuance counts as use). Codes are spent (UpdateItem) and read back on a refusal;
  // grants (refresh token families) are created, read, rotated and revoked. GetItem on
  // revoked#*: a token exchange's subject token must not be revoked. GetItem on
  // trusted-issuer#*: an issuer the operator stored through the admin API, read once per
  // container and cached (DCR_TRUSTED_ISSUER_CACHE_SECONDS). The wrapped mode reads the
  // private halves too and unwraps them.
  token: {
    paths: [PATHS.token],
    access: {
      items: {
        GetItem: ['client#*', 'code#*', 'grant#*', 'revoked#*', 'trusted-issuer#*'],
        PutItem: ['assertion#*', 'dpop#*', 'exchange#*', 'federated#*', 'grant#*'],
        // stats#client#*: a refresh token reuse counted in its client's health.
        UpdateItem: ['client#*', 'code#*', 'grant#*', 'stats#client#*'],
      },
      key: 'sign',
    },
    wrapped: { items: { GetItem: ['keyring#*', 'signingkey#*'] }, key: 'unwrap' },
    successMetric: 'TokensIssued',
  },
  // The browser's side: the authorization request, the upstream's return, the consent form,
  // and the users' connected-apps page. Reads the client asking, stores the authorization code
  // it is given (the code's hash), marks the consent answered (a replayed form mints nothing)
  // and files the authorization under its user (user#<sub>, the one writer of that index).
  // Reads the user's index (a Query of their own partition) and each grant it names: consent
  // asks only for scopes not yet granted, and the page lists grants and revokes one (an update
  // of the grant).
  authorize: {
    paths: [PATHS.authorize, PATHS.callback, PATHS.consent, PATHS.serviceLogo, PATHS.account],
    signIn: true,
    access: {
      items: {
        GetItem: ['client#*', 'grant#*'],
        PutItem: ['code#*', 'consent#*', 'user#*'],
        UpdateItem: ['grant#*'],
        Query: ['user#*'],
      },
    },
  },
  // Introspection reads revocations and refresh token families, revocation writes them (a
  // family's revocation is an update); both record used assertion ids, and count the
  // authenticated client's use ("last used"). A federated workload's token is active while its
  // issuer is trusted: a stored one is read (trusted-issuer#*, cached as on the token path).
  introspect: {
    paths: [PATHS.introspect],
    access: {
      items: {
        GetItem: ['client#*', 'revoked#*', 'grant#*', 'trusted-issuer#*'],
        PutItem: ['assertion#*'],
        UpdateItem: ['client#*'],
      },
      key: 'publicKey',
    },
    wrapped: { items: { GetItem: ['keyring#*'] } },
  },
  revoke: {
    paths: [PATHS.revoke],
    access: {
      items: {
        GetItem: ['client#*', 'grant#*'],
        PutItem: ['assertion#*', 'revoked#*'],
        UpdateItem: ['client#*', 'grant#*'],
      },
      key: 'publicKey',
    },
    wrapped: { items: { GetItem: ['keyring#*'] } },
    successMetric: 'TokensRevoked',
  },
  // The operator's API: every path below /admin, behind IAM authorization.
  // BatchGetItem: the statistics items (stats read a bounded number of items, never a scan);
  // UpdateItem on them: a recount of the active clients.
  // PutItem/DeleteItem on blocked#*: the software_id kill switch (block, unblock); its listing,
  // like the clients' and the initial access tokens', is a filtered Scan; so is an export.
  // trusted-issuer#*: the trusted issuers the operator adds, replaces and removes at runtime.
  admin: {
    paths: ['/admin/{proxy+}'],
    iam: true,
    access: {
      items: {
        GetItem: ['client#*', 'trusted-issuer#*'],
        BatchGetItem: ['stats#*'],
        // grant#*, user#*: an import restores refresh token families and their index (only
        // where no item has the key: conditional puts).
        PutItem: ['blocked#*', 'client#*', 'grant#*', 'iat#*', 'trusted-issuer#*', 'user#*'],
        // trusted-issuer#*: who removes one is written on it just before it is deleted.
        UpdateItem: ['client#*', 'stats#*', 'trusted-issuer#*'],
        DeleteItem: ['blocked#*', 'client#*', 'iat#*', 'trusted-issuer#*'],
        // The software_ids with the most active clients, and the federated subjects: one
        // partition of counters each.
        Query: ['stats#software', 'stats#federated'],
      },
      scan: true,
      // The clients expiring soon (GET /admin/expiring-clients): keys from the expiry index.
      queryExpiryIndex: true,
    },
  },
  // Deletes whatever has expired (expired private halves too, in the wrapped mode); reads and
  // moves its own cursor.
  cleanup: {
    background: true,
    access: {
      items: {
        GetItem: ['cleanup#*'],
        PutItem: ['cleanup#*'],
        // Day statistics expire too (their TTL puts them in the expiry index).
        DeleteItem: [
          'client#*',
          'revoked#*',
          'assertion#*',
          'dpop#*',
          'federated#*',
          'exchange#*',
          'stats#*',
          'code#*',
          'consent#*',
          'grant#*',
          'user#*',
          'iat#*',
          'ratelimit#*',
          'software#*',
        ],
      },
      queryExpiryIndex: true,
    },
    wrapped: { items: { DeleteItem: ['signingkey#*'] } },
    memorySize: 512,
    timeoutSeconds: 300,
  },
  // Reads the stream (granted by its event source); writes only counters: atomic adds to the
  // statistics items (the federated subjects' summaries among them: stats#federated), and the places departed clients give back under the active-client caps
  // (their initial access token's, their software_id's).
  audit: {
    background: true,
    access: { items: { UpdateItem: ['iat#*', 'software#*', 'stats#*'] } },
  },
  // The wrapped mode's own function: writes the keyring and the private halves, generates keys.
  'key-rotation': {
    background: true,
    wrappedOnly: true,
    access: {},
    wrapped: {
      items: {
        GetItem: ['keyring#*'],
        PutItem: ['keyring#*', 'signingkey#*'],
        UpdateItem: ['signingkey#*'],
      },
      key: 'generate',
    },
    timeoutSeconds: 60,
  },
} satisfies Record<string, FunctionDescriptor>;

export type DeployedFunction = keyof typeof FUNCTIONS;

/** The functions API Gateway routes requests to. */
export type Endpoint = {
  [F in DeployedFunction]: (typeof FUNCTIONS)[F] extends { paths: readonly string[] } ? F : never;
}[DeployedFunction];

export const DEPLOYED_FUNCTIONS = Object.keys(FUNCTIONS) as DeployedFunction[];

/** A function's descriptor, as the common shape. */
export const descriptorOf = (name: DeployedFunction): FunctionDescriptor => FUNCTIONS[name];

export const ENDPOINTS = DEPLOYED_FUNCTIONS.filter(
  (name): name is Endpoint => descriptorOf(name).paths !== undefined,
);

/** A function's access: in the wrapped signing mode, its own with the KMS key replaced. */
export function accessOf(name: DeployedFunction, wrappedMode: boolean): Access {
  const { access, wrapped } = descriptorOf(name);
  if (!wrappedMode) return access;
  const { key: _kmsKey, ...rest } = access;
  const items: Partial<Record<ItemAction, readonly KeyPattern[]>> = { ...rest.items };
  for (const [action, patterns] of Object.entries(wrapped?.items ?? {})) {
    items[action as ItemAction] = [...(items[action as ItemAction] ?? []), ...patterns];
  }
  return {
    ...rest,
    ...(Object.keys(items).length > 0 && { items }),
    ...(wrapped?.key && { key: wrapped.key }),
  };
}
