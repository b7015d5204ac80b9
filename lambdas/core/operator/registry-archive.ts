import * as z from '../../zod.js';
import { invalidRequest } from '../errors.js';

/**
 * The items that make up the registry, by key prefix: clients, refresh token families and each
 * user's index of them, initial access tokens, blocked software_ids, the trusted issuers stored
 * through the admin API. Everything else in the table is either recounted (statistics:
 * `recount-stats`) or short-lived (codes, used proofs, revocations, rate counters); the signing
 * keys are the deployment's own.
 */
export const REGISTRY_PREFIXES = [
  'client#',
  'grant#',
  'user#',
  'iat#',
  'blocked#',
  'trusted-issuer#',
] as const;
const TRUSTED_ISSUER = 'trusted-issuer#';

/** The export file's first line names its format; an import refuses any other. */
export const ARCHIVE_FORMAT = 'serverless-dcr-registry';
export const ARCHIVE_VERSION = 1;
/** A key attribute's length an import accepts: within DynamoDB's 1,024 bytes in UTF-8. */
const MAX_KEY_CHARACTERS = 341;
/** Items an import call restores at most. */
export const IMPORT_BATCH = 100;

/** One table item as stored (plain JSON: strings, numbers, booleans, lists, maps). */
export type RegistryItem = Readonly<Record<string, unknown>> & {
  readonly pk: string;
  readonly sk: string;
};

/** What one import call did with each item. */
export interface ImportCounts {
  imported: number;
  /** An item with this key exists already (an earlier run, or the registry's own). */
  present: number;
  /** Its `ttl` has passed: an expired item is not brought back. */
  expired: number;
}

/** The table's registry items, read and restored item by item. */
export interface RegistryArchive {
  /** A page of the registry's items (a Scan filtered by REGISTRY_PREFIXES). */
  page(
    cursor: string | undefined,
    scanLimit: number,
  ): Promise<{ items: RegistryItem[]; cursor?: string }>;
  /** Writes the item unless one with its key exists; false when one does. */
  restore(item: RegistryItem): Promise<boolean>;
}

/**
 * Whether the store keeps the value as it is, as it did every exported one: numbers exact
 * (within ±2^53), nesting within DynamoDB's 32 levels (the embedded store has no such bound).
 */
const storable = (value: unknown, depth = 0): boolean =>
  typeof value === 'number'
    ? Math.abs(value) <= Number.MAX_SAFE_INTEGER
    : typeof value !== 'object' ||
      value === null ||
      (depth < 32 && Object.values(value).every((v) => storable(v, depth + 1)));

const text = z.string().check(z.minLength(1));
const count = z.number();
/**
 * What each kind's readers need of an item, and its id as its key says: an import never leaves
 * an item the server cannot read (the rest of the item is kept as it is).
 */
const KINDS: Record<string, { schema: z.ZodMiniType; id?: string }> = {
  'client#': {
    id: 'clientId',
    schema: z.looseObject({
      clientId: text,
      metadata: z.record(z.string(), z.unknown()),
      clientIdIssuedAt: count,
      version: count,
    }),
  },
  'grant#': {
    id: 'grantId',
    schema: z.looseObject({
      grantId: text,
      clientId: text,
      sub: text,
      currentHash: text,
      generation: count,
      createdAt: count,
    }),
  },
  'user#': {
    id: 'sub',
    schema: z.looseObject({ sub: text, grantId: text, clientId: text, createdAt: count }),
  },
  'iat#': {
    id: 'id',
    schema: z.looseObject({ id: text, tokenHash: text, createdAt: count, expiresAt: count }),
  },
  'blocked#': { id: 'softwareId', schema: z.looseObject({ softwareId: text, blockedAt: count }) },
  // Its definition is checked further as the admin API's PUT checks it (restoreItems).
  [TRUSTED_ISSUER]: {
    id: 'issuer',
    schema: z.looseObject({ issuer: text, definition: text, updatedAt: count }),
  },
};

/**
 * What is wrong with storing this trusted issuer's definition on this server (the admin API's
 * own check: the configuration's schema, the served resources and scopes, not a configured
 * issuer), or undefined.
 */
export type IssuerDefinitionCheck = (issuer: string, definition: unknown) => string | undefined;

/** A stored trusted issuer's definition (JSON text), as the admin API would accept it. */
function issuerProblem(item: Record<string, unknown>, check: IssuerDefinitionCheck) {
  let definition: unknown;
  try {
    definition = JSON.parse(item.definition as string);
  } catch {
    return 'definition: not JSON';
  }
  return check(item.issuer as string, definition);
}

/** Whether the item is one its kind's readers can read, under the key its id gives. */
function readable(item: Record<string, unknown>, pk: string): boolean {
  const prefix = REGISTRY_PREFIXES.find((p) => pk.startsWith(p));
  const kind = prefix && KINDS[prefix];
  return (
    kind !== undefined &&
    z.safeParse(kind.schema, item).success &&
    (kind.id === undefined || pk === `${prefix}${item[kind.id]}`)
  );
}

/** Whether the key belongs to the registry (a prefix above). */
export const isRegistryKey = (pk: string) => REGISTRY_PREFIXES.some((p) => pk.startsWith(p));

export interface RestoreOptions {
  readonly checkIssuer: IssuerDefinitionCheck;
  /** Check only, write nothing (an import checks every batch before it writes any). */
  readonly dryRun?: boolean;
  /** Told of each trusted issuer written (the local server forgets what it remembered of it). */
  readonly restoredIssuer?: (issuer: string) => void;
}

/**
 * Restores items: each one a conditional put, so a second run (or the rest of an interrupted
 * one) skips what is there. Every item is checked before any is written: a batch with one bad
 * item writes nothing.
 */
export async function restoreItems(
  archive: RegistryArchive,
  items: readonly unknown[],
  now: number,
  options: RestoreOptions,
): Promise<ImportCounts> {
  const checked = items.map((item, index) => {
    const { pk, sk, ttl } = (item ?? {}) as Record<string, unknown>;
    if (
      typeof item !== 'object' ||
      Array.isArray(item) ||
      typeof pk !== 'string' ||
      typeof sk !== 'string' ||
      sk === '' ||
      // DynamoDB's bounds for key attributes (bytes; a character is at most 3 here).
      pk.length > MAX_KEY_CHARACTERS ||
      sk.length > MAX_KEY_CHARACTERS ||
      !isRegistryKey(pk) ||
      (ttl !== undefined && typeof ttl !== 'number') ||
      !storable(item) ||
      !readable(item as Record<string, unknown>, pk)
    )
      throw invalidRequest(
        `item ${index + 1} is not a registry item (pk with one of ${REGISTRY_PREFIXES.join(', ')}, a non-empty sk, a numeric ttl if any, numbers within ±2^53, at most 32 levels deep, the attributes its kind needs and its id as its key says)`,
      );
    const problem = pk.startsWith(TRUSTED_ISSUER)
      ? issuerProblem(item as Record<string, unknown>, options.checkIssuer)
      : undefined;
    if (problem !== undefined) {
      throw invalidRequest(
        `item ${index + 1}, the trusted issuer ${pk.slice(TRUSTED_ISSUER.length)}: ${problem}`,
      );
    }
    return item as RegistryItem;
  });
  const counts: ImportCounts = { imported: 0, present: 0, expired: 0 };
  if (options.dryRun) return counts;
  for (const item of checked) {
    if (typeof item.ttl === 'number' && item.ttl <= now) counts.expired++;
    else if (await archive.restore(item)) {
      counts.imported++;
      if (item.pk.startsWith(TRUSTED_ISSUER)) options.restoredIssuer?.(item.issuer as string);
    } else counts.present++;
  }
  return counts;
}
