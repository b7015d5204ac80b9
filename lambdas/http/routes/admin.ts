import type { ClientFilter, RequestOrigin } from '../../core/clients/ports.js';
import type { Clock } from '../../core/clock.js';
import { invalidAdminToken, invalidRequest, notFound } from '../../core/errors.js';
import type { FederatedSubjects } from '../../core/federation/federated-tokens.js';
import type { TrustedIssuerAdministration } from '../../core/federation/issuer-administration.js';
import type { AdminService } from '../../core/operator/admin.js';
import { STATS_DAYS_KEPT } from '../../core/operator/client-statistics.js';
import {
  IMPORT_BATCH,
  type RegistryArchive,
  restoreItems,
} from '../../core/operator/registry-archive.js';
import { PATHS } from '../../core/paths.js';
import type { InitialAccessTokens } from '../../core/registration/initial-access-tokens.js';
import { MAX_SOFTWARE_ID_LENGTH } from '../../core/registration/software-statements.js';
import { hashSecret, secretMatches } from '../../core/secrets.js';
import * as z from '../../zod.js';
import type { HttpRequest, HttpResponse } from '../message.js';
import { bearerToken, readJsonObject } from '../request.js';
import { json, noContent } from '../responses.js';
import type { Route, RouteContext } from '../router.js';

/** An instant: integer epoch seconds or an ISO 8601 date/time. */
const instant = z.union([
  z.coerce.number().check(z.int(), z.nonnegative()),
  z.pipe(
    z.iso.date(),
    z.transform((d: string) => Date.parse(`${d}T00:00:00Z`) / 1000),
  ),
  z.pipe(
    z.iso.datetime({ offset: true }),
    z.transform((d: string) => Math.floor(Date.parse(d) / 1000)),
  ),
]);

/** Text of `min` to `max` characters. */
const textOf = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
/** A whole number from `min` to `max` (`coerce`: given as text, in a query string). */
const wholeNumber = (min: number, max: number | undefined, coerce: boolean) =>
  (coerce ? z.coerce.number() : z.number()).check(
    z.int(),
    z.minimum(min),
    ...(max === undefined ? [] : [z.maximum(max)]),
  );
/** A query parameter's whole number from `min` to `max`, `fallback` when absent. */
const queryNumber = (min: number, max: number, fallback: number) =>
  z._default(wholeNumber(min, max, true), fallback);

/** Items a Scan of the export reads per call (the filter keeps the registry's). */
const EXPORT_SCAN_PAGE = 500;

/** A continuation token from an earlier page of the same listing. */
const cursorSchema = textOf(1, 4096);
const softwareIdSchema = textOf(1, MAX_SOFTWARE_ID_LENGTH);

const filterSchema = z.object({
  software_id: z.optional(softwareIdSchema),
  client_name_prefix: z.optional(textOf(1, 1000)),
  registration_method: z.optional(textOf(1, 64)),
  initial_access_token_id: z.optional(textOf(1, 64)),
  created_after: z.optional(instant),
  created_before: z.optional(instant),
  last_used_after: z.optional(instant),
  last_used_before: z.optional(instant),
  search: z.optional(textOf(1, 1000)),
  cursor: z.optional(cursorSchema),
});

const listSchema = z.extend(filterSchema, { limit: queryNumber(1, 500, 100) });
const bulkSchema = z.extend(filterSchema, { dry_run: z._default(z.boolean(), true) });
const blockSchema = z.object({
  software_id: softwareIdSchema,
  delete_clients: z._default(z.boolean(), false),
  cursor: z.optional(cursorSchema),
});
const listBlockedSchema = z.object({
  limit: queryNumber(1, 500, 100),
  cursor: z.optional(cursorSchema),
});
const statsSchema = z.object({ days: queryNumber(1, STATS_DAYS_KEPT, 30) });
const expiringSchema = z.object({
  within: queryNumber(1, 30 * 24 * 3600, 24 * 3600),
  limit: queryNumber(1, 100, 20),
});
const topSoftwareSchema = z.object({ limit: queryNumber(1, 100, 10) });
/** `jwks=full`: the registered key set itself, rather than a description of its keys. */
const getClientSchema = z.object({ jwks: z.optional(z.enum(['full'])) });
const recountSchema = z.object({ cursor: z.optional(cursorSchema) });
const exportSchema = z.object({ cursor: z.optional(cursorSchema) });
/** Items are checked one by one by restoreItems; here only their number. */
const importSchema = z.object({
  items: z.array(z.unknown()).check(z.minLength(1), z.maxLength(IMPORT_BATCH)),
  /** Check the batch as an import would, write nothing. */
  dry_run: z._default(z.boolean(), false),
});
const rotateSchema = z.object({
  grace_period_seconds: z._default(wholeNumber(0, 30 * 24 * 3600, false), 0),
});

const scopeString = z
  .string()
  .check(
    z.regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'space-separated scopes'),
    z.maxLength(1000),
  );
const createTokenSchema = z.strictObject({
  max_uses: z.optional(wholeNumber(1, 1_000_000, false)),
  /** Default one day; at most a year. */
  expires_in: z._default(wholeNumber(60, 365 * 24 * 3600, false), 24 * 3600),
  scope: z.optional(scopeString),
  software_id: z.optional(softwareIdSchema),
  client_lifetime_seconds: z.optional(wholeNumber(60, undefined, false)),
  /** The most clients it may have alive at once (given back as they leave). */
  max_active_clients: z.optional(wholeNumber(1, 1_000_000, false)),
  description: z.optional(
    z
      .string()
      .check(
        z.maxLength(500),
        z.regex(/^[^\p{Cc}\u202a-\u202e\u2066-\u2069]*$/u, 'no control or bidi characters'),
      ),
  ),
});
const listTokensSchema = z.object({
  limit: queryNumber(1, 500, 100),
  cursor: z.optional(cursorSchema),
});
const deleteTokenSchema = z.object({
  delete_clients: z._default(z.enum(['true', 'false']), 'false'),
  cursor: z.optional(cursorSchema),
});
const TOKEN_ID = /^[A-Za-z0-9_-]{1,64}$/;

function parse<T extends z.ZodMiniType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw invalidRequest(`${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

const toFilter = (input: z.infer<typeof filterSchema>): ClientFilter => ({
  ...(input.software_id !== undefined && { softwareId: input.software_id }),
  ...(input.client_name_prefix !== undefined && { clientNamePrefix: input.client_name_prefix }),
  ...(input.registration_method !== undefined && { registrationMethod: input.registration_method }),
  ...(input.initial_access_token_id !== undefined && {
    initialAccessTokenId: input.initial_access_token_id,
  }),
  ...(input.created_after !== undefined && { createdAfter: input.created_after }),
  ...(input.created_before !== undefined && { createdBefore: input.created_before }),
  ...(input.last_used_after !== undefined && { lastUsedAfter: input.last_used_after }),
  ...(input.last_used_before !== undefined && { lastUsedBefore: input.last_used_before }),
  ...(input.search !== undefined && { search: input.search }),
});

/** The actor the audit trail names for the bearer of the local admin token. */
const LOCAL_ADMIN_ACTOR = 'admin-token';

/**
 * Who may use the admin API, and who they are: in AWS, whoever API Gateway authenticated with
 * IAM (SigV4) on the admin routes, named by the principal's ARN; locally, the bearer of
 * DCR_ADMIN_TOKEN. A client's registration access token or access token is never an admin
 * credential.
 */
function authorize(request: HttpRequest, adminTokenHash: string | undefined): string {
  if (request.principal !== undefined) return request.principal;
  if (adminTokenHash === undefined)
    throw invalidAdminToken('the admin API needs IAM authorization');
  const token = bearerToken(request);
  if (token === undefined) throw invalidAdminToken('admin credentials are required');
  if (!secretMatches(token, adminTokenHash))
    throw invalidAdminToken('admin credentials are not valid');
  return LOCAL_ADMIN_ACTOR;
}

const query = (request: HttpRequest) => Object.fromEntries(new URLSearchParams(request.query));

/** An admin route's work, once its caller is authorized: the origin names who acted, from where. */
type AdminHandler = (context: RouteContext, origin: RequestOrigin) => Promise<HttpResponse>;

const clientIdOf = (context: RouteContext) => context.params.clientId as string;

/** The initial access tokens' routes: issue, list, revoke (and delete the clients of one). */
function initialAccessTokenHandlers(service: AdminService, tokens: InitialAccessTokens) {
  const issueToken: AdminHandler = async ({ request }, origin) => {
    const input = parse(createTokenSchema, readJsonObject(request));
    const issued = await tokens.issue(
      {
        expiresIn: input.expires_in,
        ...(input.max_uses !== undefined && { maxUses: input.max_uses }),
        ...(input.scope !== undefined && { scope: input.scope }),
        ...(input.software_id !== undefined && { softwareId: input.software_id }),
        ...(input.client_lifetime_seconds !== undefined && {
          clientLifetimeSeconds: input.client_lifetime_seconds,
        }),
        ...(input.max_active_clients !== undefined && {
          maxActiveClients: input.max_active_clients,
        }),
        ...(input.description !== undefined && { description: input.description }),
      },
      service.now(),
      origin,
    );
    return json(201, issued);
  };

  const listTokens: AdminHandler = async ({ request }) => {
    const input = parse(listTokensSchema, query(request));
    return json(200, await tokens.list(input.cursor, input.limit, service.now()));
  };

  const revokeToken: AdminHandler = async (context, origin) => {
    const id = context.params.tokenId as string;
    if (!TOKEN_ID.test(id)) throw notFound('no such initial access token');
    const input = parse(deleteTokenSchema, query(context.request));
    // A continuation (cursor) deletes more clients of a token already revoked.
    if (input.cursor === undefined) await tokens.revoke(id);
    if (input.delete_clients === 'false') return noContent();
    const deleted = await service.bulkDelete(
      { initialAccessTokenId: id },
      false,
      input.cursor,
      origin,
    );
    return json(200, {
      id,
      deleted_clients: deleted.matched,
      ...(deleted.next_cursor !== undefined && { next_cursor: deleted.next_cursor }),
    });
  };

  return { issueToken, listTokens, revokeToken };
}

/** The registry's routes: clients, statistics, bulk deletion, the software_id kill switch. */
function registryHandlers(service: AdminService) {
  const listClients: AdminHandler = async ({ request }) => {
    const input = parse(listSchema, query(request));
    return json(200, await service.list(toFilter(input), input.cursor, input.limit));
  };

  const expiringClients: AdminHandler = async ({ request }) => {
    const input = parse(expiringSchema, query(request));
    return json(200, await service.expiring(input.within, input.limit));
  };

  const stats: AdminHandler = async ({ request }) =>
    json(200, await service.stats(parse(statsSchema, query(request)).days));

  const topSoftware: AdminHandler = async ({ request }) =>
    json(200, await service.topSoftware(parse(topSoftwareSchema, query(request)).limit));

  const recount: AdminHandler = async ({ request }) => {
    const input = parse(recountSchema, readJsonObject(request));
    return json(200, await service.recount(input.cursor));
  };

  const bulkDelete: AdminHandler = async ({ request }, origin) => {
    const input = parse(bulkSchema, readJsonObject(request));
    return json(
      200,
      await service.bulkDelete(toFilter(input), input.dry_run, input.cursor, origin),
    );
  };

  const blockSoftware: AdminHandler = async ({ request }, origin) => {
    const input = parse(blockSchema, readJsonObject(request));
    return json(
      200,
      await service.blockSoftware(input.software_id, input.delete_clients, input.cursor, origin),
    );
  };

  const listBlocked: AdminHandler = async ({ request }) => {
    const input = parse(listBlockedSchema, query(request));
    return json(200, await service.listBlocked(input.cursor, input.limit));
  };

  const unblockSoftware: AdminHandler = async (context) => {
    const softwareId = parse(softwareIdSchema, context.params.softwareId);
    await service.unblockSoftware(softwareId);
    return noContent();
  };

  const getClient: AdminHandler = async (context) => ({
    ...json(
      200,
      await service.get(
        clientIdOf(context),
        parse(getClientSchema, query(context.request)).jwks === 'full',
      ),
    ),
    clientId: clientIdOf(context),
  });

  const deleteClient: AdminHandler = async (context, origin) => {
    await service.remove(clientIdOf(context), origin);
    return { ...noContent(), clientId: clientIdOf(context) };
  };

  const rotateSecret: AdminHandler = async (context, origin) => {
    const input = parse(rotateSchema, readJsonObject(context.request));
    const rotated = await service.rotateSecret(
      clientIdOf(context),
      input.grace_period_seconds,
      origin,
    );
    return { ...json(200, rotated), clientId: rotated.client_id };
  };

  return {
    listClients,
    expiringClients,
    stats,
    topSoftware,
    recount,
    bulkDelete,
    blockSoftware,
    listBlocked,
    unblockSoftware,
    getClient,
    deleteClient,
    rotateSecret,
  };
}

const listTrustedIssuersSchema = z.object({ cursor: z.optional(cursorSchema) });

/** The trusted issuers: the configured ones listed, the stored ones managed (same checks). */
function trustedIssuerHandlers(issuers: TrustedIssuerAdministration) {
  const issuerOf = (context: RouteContext) => context.params.issuer as string;
  const listIssuers: AdminHandler = async ({ request }) =>
    json(200, await issuers.list(parse(listTrustedIssuersSchema, query(request)).cursor));
  const getIssuer: AdminHandler = async (context) =>
    json(200, await issuers.get(issuerOf(context)));
  const putIssuer: AdminHandler = async (context, origin) => {
    const { created, view } = await issuers.put(
      issuerOf(context),
      readJsonObject(context.request),
      origin,
    );
    return json(created ? 201 : 200, view);
  };
  const deleteIssuer: AdminHandler = async (context, origin) => {
    await issuers.remove(issuerOf(context), origin);
    return noContent();
  };
  return { listIssuers, getIssuer, putIssuer, deleteIssuer };
}

/** Export and import of the registry's items, a page or a batch a call. */
function archiveHandlers(
  archive: RegistryArchive,
  clock: Clock,
  issuers: TrustedIssuerAdministration | undefined,
) {
  const exportPage: AdminHandler = async ({ request }) => {
    const input = parse(exportSchema, query(request));
    const page = await archive.page(input.cursor, EXPORT_SCAN_PAGE);
    return json(200, {
      items: page.items,
      ...(page.cursor !== undefined && { next_cursor: page.cursor }),
    });
  };
  const importBatch: AdminHandler = async ({ request }) => {
    const input = parse(importSchema, readJsonObject(request));
    const counts = await restoreItems(archive, input.items, clock.now(), {
      checkIssuer: issuers?.problemWith ?? (() => 'trusted issuers are not managed here'),
      dryRun: input.dry_run,
      ...(issuers && { restoredIssuer: issuers.restored }),
    });
    return json(200, input.dry_run ? { checked: input.items.length } : counts);
  };
  return { exportPage, importBatch };
}

const listSubjectsSchema = z.object({
  limit: queryNumber(1, 500, 100),
  cursor: z.optional(cursorSchema),
});

/** Who got tokens for trusted issuers' assertions: a page of subjects, most recent facts. */
const federatedSubjectsHandler =
  (service: AdminService, subjects: FederatedSubjects): AdminHandler =>
  async ({ request }) => {
    const input = parse(listSubjectsSchema, query(request));
    return json(200, await subjects.list(input.cursor, input.limit, service.now()));
  };

/** The operator's registry API (`/admin/...`). */
export function adminRoutes(
  service: AdminService,
  adminToken: string | undefined,
  tokens?: InitialAccessTokens,
  archive?: { readonly store: RegistryArchive; readonly clock: Clock },
  trustedIssuers?: TrustedIssuerAdministration,
  federatedSubjects?: FederatedSubjects,
): Route[] {
  const tokenHash = adminToken === undefined ? undefined : hashSecret(adminToken);
  // Every admin change records who made it and from where; the request log names the actor.
  const guarded =
    (handle: AdminHandler) =>
    async (context: RouteContext): Promise<HttpResponse> => {
      const actor = authorize(context.request, tokenHash);
      const { sourceIp } = context.request;
      const response = await handle(context, {
        actor,
        ...(sourceIp !== undefined && { sourceIp }),
      });
      return { ...response, actor };
    };
  const route = (method: Route['method'], path: string, handle: AdminHandler): Route => ({
    method,
    path,
    handle: guarded(handle),
  });
  const iat = tokens && initialAccessTokenHandlers(service, tokens);
  const registry = registryHandlers(service);
  const archived = archive && archiveHandlers(archive.store, archive.clock, trustedIssuers);
  const issuers = trustedIssuers && trustedIssuerHandlers(trustedIssuers);
  return [
    ...(issuers === undefined
      ? []
      : [
          route('GET', PATHS.adminTrustedIssuers, issuers.listIssuers),
          route('GET', PATHS.adminTrustedIssuer, issuers.getIssuer),
          route('PUT', PATHS.adminTrustedIssuer, issuers.putIssuer),
          route('DELETE', PATHS.adminTrustedIssuer, issuers.deleteIssuer),
        ]),
    ...(archived === undefined
      ? []
      : [
          route('GET', PATHS.adminExport, archived.exportPage),
          route('POST', PATHS.adminImport, archived.importBatch),
        ]),
    ...(iat === undefined
      ? []
      : [
          route('POST', PATHS.adminInitialAccessTokens, iat.issueToken),
          route('GET', PATHS.adminInitialAccessTokens, iat.listTokens),
          route('DELETE', PATHS.adminInitialAccessToken, iat.revokeToken),
        ]),
    ...(federatedSubjects === undefined
      ? []
      : [
          route(
            'GET',
            PATHS.adminFederatedSubjects,
            federatedSubjectsHandler(service, federatedSubjects),
          ),
        ]),
    route('GET', PATHS.adminClients, registry.listClients),
    route('GET', PATHS.adminExpiringClients, registry.expiringClients),
    route('GET', PATHS.adminStats, registry.stats),
    route('GET', PATHS.adminStatsSoftware, registry.topSoftware),
    route('POST', PATHS.adminStatsRecount, registry.recount),
    route('POST', PATHS.adminBulkDelete, registry.bulkDelete),
    route('POST', PATHS.adminBlockedSoftwareIds, registry.blockSoftware),
    route('GET', PATHS.adminBlockedSoftwareIds, registry.listBlocked),
    route('DELETE', PATHS.adminBlockedSoftwareId, registry.unblockSoftware),
    route('GET', PATHS.adminClient, registry.getClient),
    route('DELETE', PATHS.adminClient, registry.deleteClient),
    route('POST', PATHS.adminRotateSecret, registry.rotateSecret),
  ];
}
