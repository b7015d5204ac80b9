import { describe, expect, it } from 'vitest';
import type { ClientMetadata } from '../../lambdas/core/clients/client-metadata.js';
import {
  clientHealth,
  familyCounterUpdates,
  metadataFingerprint,
  REPEAT_WINDOW_SECONDS,
} from '../../lambdas/core/operator/client-health.js';

const metadata = {
  client_name: 'Claude',
  redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'http://127.0.0.1/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
} as unknown as ClientMetadata;

describe('the metadata fingerprint', () => {
  it('stays the value stored before: a run that began under an earlier version goes on', () => {
    expect(metadataFingerprint(metadata)).toBe('YKspSnbocMnBWy3TjyJ2EzMoO5SOIkL1IFIM6Znvf_s');
    expect(
      metadataFingerprint({
        ...metadata,
        response_types: [],
        contacts: ['b@x', 'a@x'],
        scope: 'x',
      } as unknown as ClientMetadata),
    ).toBe('Ap-1CzABwjyzv7JYUGSslZpPDumYpPQi2L-fruYCuu0');
  });

  it('is the same for the same metadata in any member or list order, and differs for any other value', () => {
    const reordered = {
      token_endpoint_auth_method: 'none',
      grant_types: ['refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback', 'https://claude.ai/api/mcp/auth_callback'],
      client_name: 'Claude',
    } as unknown as ClientMetadata;
    expect(metadataFingerprint(reordered)).toBe(metadataFingerprint(metadata));
    expect(metadataFingerprint(metadata)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const changed of [
      { client_name: 'Claude ' },
      { redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] },
      { scope: 'mcp' },
    ]) {
      expect(metadataFingerprint({ ...metadata, ...changed } as ClientMetadata)).not.toBe(
        metadataFingerprint(metadata),
      );
    }
  });
});

describe('client health', () => {
  it('counts a family created and its first rotation only', () => {
    expect(
      familyCounterUpdates([
        { clientId: 'c', after: 1, at: 10 },
        { clientId: 'c', before: 1, after: 2, at: 11 },
        { clientId: 'c', before: 2, after: 2, at: 12 },
        { clientId: 'c', before: 2, after: 3, at: 13 },
      ]),
    ).toEqual([
      { item: 'client#c', deltas: { refresh_families: 1 }, at: 10 },
      { item: 'client#c', deltas: { refresh_families_used: 1 }, at: 11 },
    ]);
  });

  it('reads never used as families less those used, and a run only while it goes', () => {
    const counters = { refresh_families: 5, refresh_families_used: 3, reuse_absorbed: 2 };
    const run = { registrations: 4, firstAt: 100, lastAt: 200 };
    expect(clientHealth(counters, 'fp', run, 200 + REPEAT_WINDOW_SECONDS - 1)).toEqual({
      refresh_tokens_never_used: 2,
      refresh_reuse_absorbed: 2,
      refresh_families_revoked_by_reuse: 0,
      metadata_fingerprint: 'fp',
      same_metadata_registrations: 4,
      same_metadata_since: 100,
      same_metadata_last_at: 200,
    });
    expect(clientHealth({}, 'fp', run, 200 + REPEAT_WINDOW_SECONDS)).toEqual({
      refresh_tokens_never_used: 0,
      refresh_reuse_absorbed: 0,
      refresh_families_revoked_by_reuse: 0,
      metadata_fingerprint: 'fp',
      same_metadata_registrations: 1,
    });
  });
});
