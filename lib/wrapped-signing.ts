import type { Access } from './serverless-dcr-stack.js';

/** The wrapped mode's own function, beside the endpoints, cleanup and audit. */
export const KEY_ROTATION = 'key-rotation' as const;

type KeyPattern = `${string}#*`;

/**
 * What the wrapped mode adds to each function's access (docs/architecture.md "Storage": `keyring#signing`,
 * `signingkey#<kid>`): the publishing and verifying functions read the keyring (public keys)
 * and nothing of KMS; the token function also reads the private halves and unwraps them; the
 * rotation function writes both and generates keys; cleanup deletes expired private halves.
 */
const ADDED: Record<
  string,
  {
    items: Partial<Record<'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem', KeyPattern[]>>;
    key?: Access['key'];
  }
> = {
  jwks: { items: { GetItem: ['keyring#*'] } },
  introspect: { items: { GetItem: ['keyring#*'] } },
  revoke: { items: { GetItem: ['keyring#*'] } },
  token: { items: { GetItem: ['keyring#*', 'signingkey#*'] }, key: 'unwrap' },
  cleanup: { items: { DeleteItem: ['signingkey#*'] } },
  [KEY_ROTATION]: {
    items: {
      GetItem: ['keyring#*'],
      PutItem: ['keyring#*', 'signingkey#*'],
      UpdateItem: ['signingkey#*'],
    },
    key: 'generate',
  },
};

/** A function's access in the wrapped mode: its own, the KMS signing key replaced. */
export function wrappedAccess(name: string, base: Access = {}): Access {
  const added = ADDED[name];
  const { key: _kmsKey, ...rest } = base;
  const items = { ...rest.items };
  for (const [action, patterns] of Object.entries(added?.items ?? {})) {
    const current = items[action as keyof typeof items] ?? [];
    items[action as keyof typeof items] = [...current, ...patterns];
  }
  return {
    ...rest,
    ...(Object.keys(items).length > 0 && { items }),
    ...(added?.key && { key: added.key }),
  };
}
