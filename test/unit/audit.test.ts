import { describe, expect, it } from 'vitest';
import type { ClientRecord } from '../../lambdas/core/clients/ports.js';
import { auditEventFor } from '../../lambdas/core/operator/audit.js';
import { auditedClient } from '../support/fakes.js';

const base = auditedClient();
const AT = 1_800_000_100;

describe('auditEventFor', () => {
  it('writes the members it has in one order, the two instants last', () => {
    const record = auditedClient({
      initialAccessTokenId: 'iat-1',
      metadataFingerprint: 'fp',
      metadata: { ...base.metadata, dpop_bound_access_tokens: true },
    });
    const registered = auditEventFor({ kind: 'INSERT', newImage: record, at: AT });
    expect(Object.keys(registered ?? {})).toEqual([
      'type',
      'client_id',
      'client_name',
      'software_id',
      'registration_method',
      'initial_access_token_id',
      'token_binding',
      'metadata_fingerprint',
      'source_ip',
      'client_id_issued_at',
      'occurred_at',
    ]);
    const deleted = auditEventFor({
      kind: 'REMOVE',
      oldImage: { ...base, deletion: { by: 'operator', at: AT, actor: 'admin-token' } },
      at: AT,
    });
    expect(Object.keys(deleted ?? {})).toEqual([
      'type',
      'client_id',
      'client_name',
      'software_id',
      'registration_method',
      'actor',
      'client_id_issued_at',
      'occurred_at',
    ]);
  });

  it.each<[string, Parameters<typeof auditEventFor>[0], string | undefined, string | undefined]>([
    ['a new client', { kind: 'INSERT', newImage: base, at: AT }, 'client.registered', '192.0.2.1'],
    [
      'an RFC 7592 update',
      {
        kind: 'MODIFY',
        oldImage: base,
        newImage: { ...base, version: 2, lastChange: { at: AT, sourceIp: '192.0.2.2' } },
        at: AT,
      },
      'client.updated',
      '192.0.2.2',
    ],
    [
      'a new secret',
      {
        kind: 'MODIFY',
        oldImage: base,
        newImage: { ...base, version: 2, secretHash: 'hash-2' },
        at: AT,
      },
      'client.secret_rotated',
      '192.0.2.1',
    ],
    [
      'a use',
      {
        kind: 'MODIFY',
        oldImage: base,
        newImage: { ...base, lastUsedAt: AT, activeUntil: AT + 90 },
        at: AT,
      },
      undefined,
      undefined,
    ],
    [
      'the deletion marker',
      {
        kind: 'MODIFY',
        oldImage: base,
        newImage: { ...base, deletion: { by: 'client', at: AT } },
        at: AT,
      },
      undefined,
      undefined,
    ],
    [
      'a deletion by the client',
      {
        kind: 'REMOVE',
        oldImage: { ...base, deletion: { by: 'client', at: AT, sourceIp: '192.0.2.3' } },
        at: AT,
      },
      'client.deleted_by_client',
      '192.0.2.3',
    ],
    [
      'a deletion by the operator',
      { kind: 'REMOVE', oldImage: { ...base, deletion: { by: 'operator', at: AT } }, at: AT },
      'client.deleted_by_operator',
      undefined,
    ],
    [
      'a TTL or cleanup removal',
      { kind: 'REMOVE', oldImage: base, at: AT },
      'client.expired',
      undefined,
    ],
  ])('%s', (_, change, type, sourceIp) => {
    const event = auditEventFor(change);
    if (type === undefined) {
      expect(event).toBeUndefined();
      return;
    }
    expect(event).toEqual({
      type,
      client_id: 'c1',
      client_name: 'agent',
      software_id: 'sw-1',
      registration_method: 'open',
      ...(sourceIp && { source_ip: sourceIp }),
      client_id_issued_at: 1_800_000_000,
      occurred_at: AT,
    });
    const serialized = JSON.stringify(event);
    for (const secret of ['hash-1', 'hash-2', 'rat-hash']) expect(serialized).not.toContain(secret);
  });
});

describe('who acted', () => {
  const principal = 'arn:aws:iam::123456789012:user/alice';

  it('names the operator on a deletion, a forced rotation and a bulk deletion', () => {
    const deletion = { by: 'operator', at: AT, sourceIp: '192.0.2.9', actor: principal } as const;
    expect(
      auditEventFor({ kind: 'REMOVE', oldImage: { ...base, deletion }, at: AT }),
    ).toMatchObject({
      type: 'client.deleted_by_operator',
      actor: principal,
      source_ip: '192.0.2.9',
    });
    const rotated = {
      ...base,
      version: 2,
      secretHash: 'hash-2',
      lastChange: { at: AT, actor: 'admin-token' },
    };
    expect(
      auditEventFor({ kind: 'MODIFY', oldImage: base, newImage: rotated, at: AT }),
    ).toMatchObject({ type: 'client.secret_rotated', actor: 'admin-token' });
  });

  it('names nobody when the client acts on itself', () => {
    const deletion = { by: 'client', at: AT, sourceIp: '192.0.2.3' } as const;
    const event = auditEventFor({ kind: 'REMOVE', oldImage: { ...base, deletion }, at: AT });
    expect(event).not.toHaveProperty('actor');
  });
});

describe('token binding', () => {
  const registered = (metadata: Partial<ClientRecord['metadata']>) =>
    auditEventFor({
      kind: 'INSERT',
      newImage: auditedClient({ metadata: { ...base.metadata, ...metadata } }),
      at: AT,
    });

  it('says when a client’s tokens must be DPoP- or certificate-bound, and nothing for Bearer', () => {
    expect(registered({ dpop_bound_access_tokens: true })?.token_binding).toBe('dpop');
    expect(registered({ tls_client_certificate_bound_access_tokens: true })?.token_binding).toBe(
      'certificate',
    );
    expect(registered({ token_endpoint_auth_method: 'tls_client_auth' })?.token_binding).toBe(
      'certificate',
    );
    expect(registered({ dpop_bound_access_tokens: false })).not.toHaveProperty('token_binding');
    expect(registered({})).not.toHaveProperty('token_binding');
  });
});
