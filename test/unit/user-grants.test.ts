import { decodeJwt } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import { MemoryGrantStore } from '../../lambdas/adapters/memory/memory-grant-store.js';
import { MemoryTokenStore } from '../../lambdas/adapters/memory/memory-token-store.js';
import { LocalSigner } from '../../lambdas/adapters/signing/local-signer.js';
import { s256 } from '../../lambdas/core/authorization/pkce.js';
import { ClientAuthenticator } from '../../lambdas/core/clients/client-authentication.js';
import { ClientLifecycle } from '../../lambdas/core/clients/client-lifecycle.js';
import { RegistrationService } from '../../lambdas/core/registration/registration.js';
import { hashSecret, newSecret, newTokenId } from '../../lambdas/core/secrets.js';
import { AccessTokenIssuer, AccessTokenVerifier } from '../../lambdas/core/tokens/access-tokens.js';
import { TokenEndpointProofs } from '../../lambdas/core/tokens/token-endpoint-proofs.js';
import { TokenService } from '../../lambdas/core/tokens/token-service.js';
import { type RefreshReuseEvent, UserGrants } from '../../lambdas/core/tokens/user-grants.js';
import { FakeClock, NO_EXPIRY, oauthFailure } from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const RESOURCE = 'https://mcp.example.com/mcp';
const OTHER_RESOURCE = 'https://other.example.com/api';
const REDIRECT = 'http://127.0.0.1:51234/callback';
// RFC 7636 appendix B, with `.` and `~` added: the whole unreserved alphabet is allowed.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk.~';
const signer = LocalSigner.create('ES256');
const DAY = 86_400;

function world() {
  const clock = new FakeClock(Math.floor(Date.now() / 1000));
  const repository = new MemoryClientRepository();
  const grants = new MemoryGrantStore();
  const lifecycle = new ClientLifecycle(repository, clock, {
    ...NO_EXPIRY,
    clientIdleLifetimeSeconds: 90 * DAY,
  });
  const settings = {
    accessTokenLifetimeSeconds: 600,
    refreshTokenLifetimeSeconds: 30 * DAY,
    refreshTokenIdleLifetimeSeconds: 7 * DAY,
    refreshTokenReuseGraceSeconds: 60,
    resources: new Set([RESOURCE, OTHER_RESOURCE]),
    introspectorClientIds: new Set<string>(),
  };
  const reuses: RefreshReuseEvent[] = [];
  const issuer = new AccessTokenIssuer(signer);
  const store = new MemoryTokenStore(clock);
  const tokens = new TokenService(
    new ClientAuthenticator(lifecycle, store, { resolver: () => () => Promise.reject() }),
    issuer,
    new AccessTokenVerifier(signer),
    lifecycle,
    store,
    settings,
    new UserGrants(grants, issuer, lifecycle, settings, (event) => {
      reuses.push(event);
    }),
    new TokenEndpointProofs(store, clock),
  );
  const registration = new RegistrationService(lifecycle, {});
  return { clock, repository, grants, tokens, registration, settings, reuses };
}

type World = ReturnType<typeof world>;

/** What the authorization endpoint stores when the user allows (tested there). */
async function authorize(w: World, clientId: string, overrides: Record<string, unknown> = {}) {
  const code = newSecret();
  await w.grants.putCode({
    codeHash: hashSecret(code),
    clientId,
    redirectUri: REDIRECT,
    codeChallenge: s256(VERIFIER),
    resources: [RESOURCE],
    scope: 'read write',
    sub: 'dev:alice',
    authTime: w.clock.now(),
    grantId: newTokenId(),
    issuedAt: w.clock.now(),
    expiresAt: w.clock.now() + 60,
    ...overrides,
  });
  return code;
}

const form = (params: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) body.append(k, x);
  return body;
};

describe('authorization_code and refresh_token grants', () => {
  let w: World;
  let clientId: string;

  const token = async (params: Record<string, string | string[]>, id = clientId) =>
    (
      await w.tokens.token(
        { authorization: undefined, params: form({ client_id: id, ...params }) },
        ISSUER,
      )
    ).response;
  const exchange = (code: string, extra: Record<string, string | string[]> = {}) =>
    token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: VERIFIER,
      ...extra,
    });
  const refresh = (refreshToken: string, extra: Record<string, string | string[]> = {}) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
  /** A refresh with `refreshToken` by another public client registered for refresh tokens. */
  const refreshAsAnotherClient = async (refreshToken: string) => {
    const other = await w.registration.register(
      {
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      },
      ISSUER,
    );
    return oauthFailure(
      token({ grant_type: 'refresh_token', refresh_token: refreshToken }, other.client_id),
    );
  };
  /** What a resource server allowed to introspect any token learns. */
  const introspect = async (t: string) => {
    const server = await w.registration.register({ grant_types: ['client_credentials'] }, ISSUER);
    w.settings.introspectorClientIds.add(server.client_id);
    const basic = Buffer.from(`${server.client_id}:${server.client_secret}`).toString('base64');
    return (
      await w.tokens.introspect(
        { authorization: `Basic ${basic}`, params: form({ token: t }) },
        ISSUER,
      )
    ).response;
  };

  beforeEach(async () => {
    w = world();
    // An MCP client: public, code + refresh.
    clientId = (
      await w.registration.register(
        {
          redirect_uris: ['http://127.0.0.1/callback'],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          scope: 'read write',
        },
        ISSUER,
      )
    ).client_id;
  });

  it('exchanges a code for an RFC 9068 token naming the user, and a refresh token', async () => {
    const response = await exchange(await authorize(w, clientId));
    expect(response).toMatchObject({
      token_type: 'Bearer',
      expires_in: 600,
      scope: 'read write',
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/),
    });
    const claims = decodeJwt(response.access_token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      sub: 'dev:alice',
      aud: RESOURCE,
      client_id: clientId,
      scope: 'read write',
      auth_time: w.clock.now(),
    });
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
  });

  it.each<[string, Record<string, string>, string]>([
    ['a wrong verifier', { code_verifier: 'x'.repeat(43) }, 'invalid_grant'],
    ['another redirect URI', { redirect_uri: 'http://127.0.0.1:51234/other' }, 'invalid_grant'],
    ['another loopback port', { redirect_uri: 'http://127.0.0.1:9/callback' }, 'invalid_grant'],
    ['no verifier', { code_verifier: '' }, 'invalid_request'],
    ['a short verifier', { code_verifier: 'a'.repeat(42) }, 'invalid_request'],
    ['a verifier with a bad character', { code_verifier: `${'a'.repeat(42)}+` }, 'invalid_request'],
    ['a resource not granted', { resource: OTHER_RESOURCE }, 'invalid_target'],
  ])('refuses %s', async (_, extra, error) => {
    const code = await authorize(w, clientId);
    const params = { ...extra };
    if (params.code_verifier === '') {
      const e = await oauthFailure(
        token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
      );
      expect(e.error).toBe(error);
      return;
    }
    expect((await oauthFailure(exchange(code, params))).error).toBe(error);
  });

  it.each([
    ['a resource not granted', OTHER_RESOURCE],
    ['a resource this server does not serve', 'https://elsewhere.example/mcp'],
    ['an empty resource', ''],
  ])(
    'refuses %s with invalid_target and leaves the code unspent (found by fuzzing)',
    async (_, resource) => {
      const code = await authorize(w, clientId);
      expect((await oauthFailure(exchange(code, { resource }))).error).toBe('invalid_target');
      expect(await exchange(code, { resource: RESOURCE })).toMatchObject({ token_type: 'Bearer' });
    },
  );

  it('refuses a code of another client, an expired one, and an unknown one', async () => {
    const other = await w.registration.register(
      { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' },
      ISSUER,
    );
    const code = await authorize(w, other.client_id);
    expect((await oauthFailure(exchange(code))).error).toBe('invalid_grant');
    const expiring = await authorize(w, clientId);
    w.clock.advance(60);
    expect((await oauthFailure(exchange(expiring))).error).toBe('invalid_grant');
    expect((await oauthFailure(exchange(newSecret()))).error).toBe('invalid_grant');
  });

  it('a reused code is refused and revokes what it gave', async () => {
    const code = await authorize(w, clientId);
    const first = await exchange(code);
    expect((await oauthFailure(exchange(code))).error).toBe('invalid_grant');
    expect(await introspect(first.access_token)).toEqual({ active: false });
    expect((await oauthFailure(refresh(first.refresh_token as string))).error).toBe(
      'invalid_grant',
    );
  });

  it('rotates the refresh token on every use; reuse of an old one revokes the family', async () => {
    const first = await exchange(await authorize(w, clientId));
    const second = await refresh(first.refresh_token as string);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const third = await refresh(second.refresh_token as string);
    expect(await introspect(third.access_token)).toMatchObject({ active: true, sub: 'dev:alice' });
    // The first token again: stolen. Everything of the family dies, the newest token too.
    expect((await oauthFailure(refresh(first.refresh_token as string))).error).toBe(
      'invalid_grant',
    );
    expect((await oauthFailure(refresh(third.refresh_token as string))).error).toBe(
      'invalid_grant',
    );
    expect(await introspect(third.access_token)).toEqual({ active: false });
    expect(await introspect(third.refresh_token as string)).toEqual({ active: false });
  });

  it('refuses a refresh token presented by another client, and the family lives on', async () => {
    const first = await exchange(await authorize(w, clientId));
    expect((await refreshAsAnotherClient(first.refresh_token as string)).error).toBe(
      'invalid_grant',
    );
    // The rightful client still refreshes with the same token: the other client's attempt
    // neither used nor revoked it.
    expect((await refresh(first.refresh_token as string)).refresh_token).toEqual(
      expect.any(String),
    );
  });

  it('a made-up token of a known family does not revoke it', async () => {
    const first = await exchange(await authorize(w, clientId));
    const grantId = (first.refresh_token as string).split('.')[0];
    expect((await oauthFailure(refresh(`${grantId}.${newSecret()}`))).error).toBe('invalid_grant');
    expect((await refresh(first.refresh_token as string)).access_token).toEqual(expect.any(String));
  });

  it('narrows scope and resource on refresh, never widens them', async () => {
    const code = await authorize(w, clientId, { resources: [RESOURCE, OTHER_RESOURCE] });
    const first = await exchange(code);
    expect(decodeJwt(first.access_token).aud).toEqual([RESOURCE, OTHER_RESOURCE]);
    const narrowed = await refresh(first.refresh_token as string, {
      scope: 'read offline_access',
      resource: OTHER_RESOURCE,
    });
    expect(narrowed.scope).toBe('read');
    expect(decodeJwt(narrowed.access_token)).toMatchObject({ aud: OTHER_RESOURCE, scope: 'read' });
    expect(
      (await oauthFailure(refresh(narrowed.refresh_token as string, { scope: 'admin' }))).error,
    ).toBe('invalid_scope');
  });

  it('ends a family unused for the idle lifetime, and at its absolute lifetime', async () => {
    const idle = await exchange(await authorize(w, clientId));
    w.clock.advance(7 * DAY);
    expect((await oauthFailure(refresh(idle.refresh_token as string))).error).toBe('invalid_grant');

    let current = (await exchange(await authorize(w, clientId))).refresh_token as string;
    for (let day = 0; day < 29; day++) {
      w.clock.advance(DAY);
      current = (await refresh(current)).refresh_token as string;
    }
    w.clock.advance(DAY);
    expect((await oauthFailure(refresh(current))).error).toBe('invalid_grant');
  });

  it('gives no refresh token to a client not registered for that grant', async () => {
    const codeOnly = await w.registration.register(
      { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' },
      ISSUER,
    );
    const response = await exchange(await authorize(w, codeOnly.client_id), {
      client_id: codeOnly.client_id,
    });
    expect(response).not.toHaveProperty('refresh_token');
  });

  it('a deleted client can neither exchange nor refresh', async () => {
    const first = await exchange(await authorize(w, clientId));
    const code = await authorize(w, clientId);
    await w.repository.delete(clientId, { by: 'client', at: w.clock.now() });
    expect((await oauthFailure(refresh(first.refresh_token as string))).error).toBe(
      'invalid_client',
    );
    expect((await oauthFailure(exchange(code))).error).toBe('invalid_client');
  });

  it('a public client revokes its refresh token by naming itself: the family ends', async () => {
    const first = await exchange(await authorize(w, clientId));
    await w.tokens.revoke(
      {
        authorization: undefined,
        params: form({ client_id: clientId, token: first.refresh_token as string }),
      },
      ISSUER,
    );
    expect((await oauthFailure(refresh(first.refresh_token as string))).error).toBe(
      'invalid_grant',
    );
  });

  it('counts each exchange and refresh as a use of the client', async () => {
    const first = await exchange(await authorize(w, clientId));
    const usedAt = (await w.repository.get(clientId))?.lastUsedAt;
    expect(usedAt).toBe(w.clock.now());
    w.clock.advance(DAY);
    await refresh(first.refresh_token as string);
    expect((await w.repository.get(clientId))?.lastUsedAt).toBe(w.clock.now());
  });

  describe('the reuse grace window', () => {
    const familyOf = (t: string) => t.split('.')[0] as string;

    it('answers concurrent refreshes with one token alike: the same successor, fresh access tokens', async () => {
      const first = await exchange(await authorize(w, clientId));
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => refresh(first.refresh_token as string)),
      );
      const successors = new Set(answers.map((a) => a.refresh_token));
      expect(successors.size).toBe(1);
      expect(new Set(answers.map((a) => a.access_token)).size).toBe(8);
      const [successor] = [...successors] as [string];
      expect(successor).not.toBe(first.refresh_token);
      expect(w.reuses.map((e) => e.type)).toEqual(Array(7).fill('refresh.reuse_absorbed'));
      expect(w.reuses[0]).toMatchObject({ client_id: clientId, sub: 'dev:alice' });
      // The family lives on: the successor refreshes as usual, and every access token works.
      expect((await refresh(successor)).refresh_token).toEqual(expect.any(String));
      for (const a of answers) {
        expect(await introspect(a.access_token)).toMatchObject({ active: true });
      }
    });

    it('stores no usable token: the successor is sealed under its parent', async () => {
      const first = await exchange(await authorize(w, clientId));
      const second = (await refresh(first.refresh_token as string)).refresh_token as string;
      const stored = JSON.stringify(await w.grants.getGrant(familyOf(second)));
      expect(stored).toContain('sealedSuccessor');
      expect(stored).not.toContain(second.split('.')[1]);
      expect(stored).not.toContain((first.refresh_token as string).split('.')[1]);
    });

    it('a parent presented after its successor was used ends the family', async () => {
      const first = await exchange(await authorize(w, clientId));
      const second = (await refresh(first.refresh_token as string)).refresh_token as string;
      const third = (await refresh(second)).refresh_token as string;
      expect((await oauthFailure(refresh(first.refresh_token as string))).error).toBe(
        'invalid_grant',
      );
      expect((await oauthFailure(refresh(second))).error).toBe('invalid_grant');
      expect((await oauthFailure(refresh(third))).error).toBe('invalid_grant');
      expect(w.reuses.map((e) => e.type)).toEqual(['refresh.family_revoked_by_reuse']);
    });

    it('a parent presented after the window ends the family', async () => {
      const first = await exchange(await authorize(w, clientId));
      const second = (await refresh(first.refresh_token as string)).refresh_token as string;
      w.clock.advance(59);
      expect((await refresh(first.refresh_token as string)).refresh_token).toBe(second);
      w.clock.advance(1);
      expect((await oauthFailure(refresh(first.refresh_token as string))).error).toBe(
        'invalid_grant',
      );
      expect((await oauthFailure(refresh(second))).error).toBe('invalid_grant');
    });

    it('the parent in another client’s hands is refused and leaves the family alive', async () => {
      const first = await exchange(await authorize(w, clientId));
      const second = (await refresh(first.refresh_token as string)).refresh_token as string;
      expect((await refreshAsAnotherClient(first.refresh_token as string)).error).toBe(
        'invalid_grant',
      );
      expect((await refresh(second)).refresh_token).toEqual(expect.any(String));
    });

    it('with no window (0), a second use of one token ends the family as before', async () => {
      w.settings.refreshTokenReuseGraceSeconds = 0;
      const first = await exchange(await authorize(w, clientId));
      const answers = await Promise.allSettled(
        Array.from({ length: 3 }, () => refresh(first.refresh_token as string)),
      );
      expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      const won = answers.find((a) => a.status === 'fulfilled');
      const successor = (won as PromiseFulfilledResult<{ refresh_token?: string }>).value
        .refresh_token as string;
      expect((await oauthFailure(refresh(successor))).error).toBe('invalid_grant');
      expect(JSON.stringify(await w.grants.getGrant(familyOf(successor)))).not.toContain(
        'sealedSuccessor',
      );
    });
  });
});
