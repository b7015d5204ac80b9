import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import { MemoryGrantStore } from '../../lambdas/adapters/memory/memory-grant-store.js';
import { MemoryTokenStore } from '../../lambdas/adapters/memory/memory-token-store.js';
import { LocalSigner } from '../../lambdas/adapters/signing/local-signer.js';
import {
  ClientAuthenticator,
  JWT_BEARER_ASSERTION,
} from '../../lambdas/core/clients/client-authentication.js';
import {
  ClientLifecycle,
  type LifecycleSettings,
} from '../../lambdas/core/clients/client-lifecycle.js';
import type { RemoteKeySets } from '../../lambdas/core/clients/ports.js';
import { AssertionGrants } from '../../lambdas/core/federation/assertion-grants.js';
import {
  type TrustedIssuerSettings,
  TrustedIssuers,
} from '../../lambdas/core/federation/trusted-issuers.js';
import { JWT_BEARER } from '../../lambdas/core/grant-types.js';
import { RegistrationService } from '../../lambdas/core/registration/registration.js';
import { AccessTokenIssuer, AccessTokenVerifier } from '../../lambdas/core/tokens/access-tokens.js';
import { TokenEndpointProofs } from '../../lambdas/core/tokens/token-endpoint-proofs.js';
import {
  type Federation,
  TokenService,
  type TokenSettings,
} from '../../lambdas/core/tokens/token-service.js';
import { UserGrants } from '../../lambdas/core/tokens/user-grants.js';
import { FakeClock, NO_EXPIRY, oauthFailure, registrationService } from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const signer = LocalSigner.create('ES256');

interface World {
  clock: FakeClock;
  repository: MemoryClientRepository;
  registration: RegistrationService;
  tokens: TokenService;
  /** Another token service over the same clients and tokens, configured differently. */
  tokensWith(settings: Partial<TokenSettings>, federation?: Federation): TokenService;
  store: MemoryTokenStore;
  remoteKeys: Map<string, Parameters<typeof createLocalJWKSet>[0]>;
}

const BASE_SETTINGS: TokenSettings = {
  accessTokenLifetimeSeconds: 600,
  resources: new Set(['https://a.example/', 'https://b.example/']),
  introspectorClientIds: new Set(),
};

function world(
  settings: Partial<TokenSettings> = {},
  rules: Partial<LifecycleSettings> = {},
): World {
  const clock = new FakeClock(Math.floor(Date.now() / 1000));
  const repository = new MemoryClientRepository();
  const store = new MemoryTokenStore(clock);
  const remoteKeys = new Map<string, Parameters<typeof createLocalJWKSet>[0]>();
  // A jwks_uri double: serves the key sets the test put there, as the guarded fetcher would.
  const remoteKeySets: RemoteKeySets = {
    resolver: (uri) => createLocalJWKSet(remoteKeys.get(uri) ?? { keys: [] }),
  };
  const lifecycle = new ClientLifecycle(repository, clock, {
    ...NO_EXPIRY,
    clientMaxLifetimeSeconds: 3600,
    ...rules,
  });
  const tokensWith = (overrides: Partial<TokenSettings>, federation?: Federation) =>
    new TokenService(
      new ClientAuthenticator(lifecycle, store, remoteKeySets),
      new AccessTokenIssuer(signer),
      new AccessTokenVerifier(signer),
      lifecycle,
      store,
      { ...BASE_SETTINGS, ...settings, ...overrides },
      new UserGrants(new MemoryGrantStore(), new AccessTokenIssuer(signer), lifecycle, {
        ...BASE_SETTINGS,
        refreshTokenLifetimeSeconds: 86_400,
        refreshTokenIdleLifetimeSeconds: 3600,
        refreshTokenReuseGraceSeconds: 60,
      }),
      new TokenEndpointProofs(store, clock),
      federation,
    );
  return {
    clock,
    store,
    repository,
    remoteKeys,
    registration: new RegistrationService(lifecycle, {
      ...(settings.allowedScopes && { allowedScopes: settings.allowedScopes }),
    }),
    tokens: tokensWith({}),
    tokensWith,
  };
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('TokenService.token', () => {
  let w: World;
  let client: Awaited<ReturnType<RegistrationService['register']>>;
  const request = (params: Record<string, string | string[]>, authorization?: string) => {
    const search = new URLSearchParams({ grant_type: 'client_credentials' });
    for (const [name, value] of Object.entries(params)) {
      search.delete(name);
      for (const v of [value].flat()) search.append(name, v);
    }
    return w.tokens
      .token(
        {
          authorization: authorization ?? basic(client.client_id, client.client_secret as string),
          params: search,
        },
        ISSUER,
      )
      .then((served) => served.response);
  };

  beforeEach(async () => {
    w = world();
    client = await w.registration.register(
      { grant_types: ['client_credentials'], scope: 'read write' },
      ISSUER,
    );
  });

  it('joins several resources into an audience array', async () => {
    const { access_token } = await request({
      resource: ['https://a.example/', 'https://b.example/'],
    });
    const claims = await new AccessTokenVerifier(signer).verify(
      access_token,
      ISSUER,
      w.clock.now(),
    );
    expect(claims?.aud).toEqual(['https://a.example/', 'https://b.example/']);
  });

  it('uses the configured default audience without a resource', async () => {
    w = world({ defaultAudience: 'https://api.example/' });
    client = await w.registration.register({ grant_types: ['client_credentials'] }, ISSUER);
    const { access_token, scope } = await request({});
    expect(scope).toBeUndefined();
    const claims = await new AccessTokenVerifier(signer).verify(
      access_token,
      ISSUER,
      w.clock.now(),
    );
    expect(claims?.aud).toBe('https://api.example/');
    expect(claims).not.toHaveProperty('scope');
  });

  it('refuses a scope when the client registered none', async () => {
    client = await w.registration.register({ grant_types: ['client_credentials'] }, ISSUER);
    expect((await oauthFailure(request({ scope: 'read' }))).error).toBe('invalid_scope');
  });

  it('narrows the default scope to what the server still offers', async () => {
    // The operator stops offering `write`: configuration changes, registrations do not.
    const tokens = w.tokensWith({ allowedScopes: new Set(['read']) });
    const credentials = {
      authorization: basic(client.client_id, client.client_secret as string),
      params: new URLSearchParams({ grant_type: 'client_credentials' }),
    };
    expect((await tokens.token(credentials, ISSUER)).response.scope).toBe('read');
    credentials.params.set('scope', 'write');
    expect((await oauthFailure(tokens.token(credentials, ISSUER))).error).toBe('invalid_scope');
  });

  it('refuses a client authenticating with a method it did not register', async () => {
    const error = await oauthFailure(
      request({ client_id: client.client_id, client_secret: client.client_secret as string }, ''),
    );
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses an expired secret', async () => {
    const registration = registrationService(w.repository, w.clock, {
      clientSecretLifetimeSeconds: 60,
    });
    client = await registration.register({ grant_types: ['client_credentials'] }, ISSUER);
    expect((await request({})).access_token).toEqual(expect.any(String));
    w.clock.advance(60);
    expect((await oauthFailure(request({}))).status).toBe(401);
  });

  it('refuses an expired client at once', async () => {
    w.clock.advance(3600);
    expect((await oauthFailure(request({}))).error).toBe('invalid_client');
  });

  it('form-decodes Basic credentials (RFC 6749 §2.3.1)', async () => {
    const encoded = `Basic ${Buffer.from(
      `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret as string)}`,
    ).toString('base64')}`;
    expect((await request({}, encoded)).token_type).toBe('Bearer');
    // Every character escaped, as a client may send it: decoded before the lookup and the match.
    const escapeAll = (text: string) =>
      [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
    const escaped = `Basic ${Buffer.from(
      `${escapeAll(client.client_id)}:${escapeAll(client.client_secret as string)}`,
    ).toString('base64')}`;
    expect((await request({}, escaped)).token_type).toBe('Bearer');
    // `+` is a space once decoded: a secret with one added no longer matches.
    const plus = `Basic ${Buffer.from(`${client.client_id}:+${client.client_secret}`).toString('base64')}`;
    expect((await oauthFailure(request({}, plus))).error).toBe('invalid_client');
    const error = await oauthFailure(request({}, 'Basic !!!'));
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(error.headers['www-authenticate']).toMatch(/^Basic /);
  });
});

describe('private_key_jwt with a jwks_uri', () => {
  let w: World;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let clientId: string;

  beforeAll(async () => {
    keys = await generateKeyPair('RS256', { extractable: true });
  });

  beforeEach(async () => {
    w = world();
    w.remoteKeys.set('https://agent.example/jwks', {
      keys: [{ ...(await exportJWK(keys.publicKey)), alg: 'RS256' }],
    });
    clientId = (
      await w.registration.register(
        {
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: 'https://agent.example/jwks',
        },
        ISSUER,
      )
    ).client_id;
  });

  const assertion = (aud: string | string[], claims: Record<string, unknown> = {}) =>
    new SignJWT({ jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(aud)
      .setExpirationTime('60s')
      .sign(keys.privateKey);

  const token = async (jwt: string, extra: Record<string, string> = {}) =>
    (
      await w.tokens.token(
        {
          authorization: undefined,
          params: new URLSearchParams({
            grant_type: 'client_credentials',
            client_assertion_type: JWT_BEARER_ASSERTION,
            client_assertion: jwt,
            ...extra,
          }),
        },
        ISSUER,
      )
    ).response;

  it('accepts the issuer as audience, alone or as an array of just it', async () => {
    expect((await token(await assertion(ISSUER))).access_token).toEqual(expect.any(String));
    expect((await token(await assertion([ISSUER]))).access_token).toEqual(expect.any(String));
  });

  // The RFC 7523 audience-injection attack: an assertion made for another server replayed here.
  it.each([
    ['the token endpoint', `${ISSUER}/token`],
    ['the introspection endpoint', `${ISSUER}/introspect`],
    ['the issuer among other audiences', [ISSUER, 'https://other-as.example']],
    [
      'the token endpoint among other audiences',
      [`${ISSUER}/token`, 'https://other.example/token'],
    ],
    ['the issuer twice', [ISSUER, ISSUER]],
  ])('refuses %s as audience', async (_, aud) => {
    const error = await oauthFailure(token(await assertion(aud)));
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it.each([
    ['a number', 42],
    ['an object', { id: 'x' }],
    ['an empty string', ''],
    ['a string over 256 characters', 'j'.repeat(257)],
  ])('refuses a jti that is %s', async (_, jti) => {
    const error = await oauthFailure(token(await assertion(ISSUER, { jti })));
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('answers invalid_client, without a lookup, for a subject over the identifier bound', async () => {
    let lookups = 0;
    const get = w.repository.get.bind(w.repository);
    w.repository.get = (id) => {
      lookups += 1;
      return get(id);
    };
    const long = 'c'.repeat(3000);
    const jwt = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(long)
      .setSubject(long)
      .setAudience(ISSUER)
      .setExpirationTime('60s')
      .sign(keys.privateKey);
    expect(await oauthFailure(token(jwt))).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(lookups).toBe(0);
  });

  it('refuses a wrong assertion type and a client_id that differs from the assertion', async () => {
    const jwt = await assertion(ISSUER);
    expect(
      (await oauthFailure(token(jwt, { client_assertion_type: 'urn:example:other' }))).error,
    ).toBe('invalid_request');
    expect((await oauthFailure(token(jwt, { client_id: 'someone-else' }))).error).toBe(
      'invalid_client',
    );
  });
});

describe('introspection and revocation count as use', () => {
  const DAY = 86_400;

  it('keeps a resource server that only introspects alive past the never-used limit', async () => {
    const w = world(
      { introspectorClientIds: new Set() },
      {
        clientMaxLifetimeSeconds: 0,
        clientUnusedLifetimeSeconds: DAY,
        clientIdleLifetimeSeconds: 2 * DAY,
      },
    );
    const server = await w.registration.register({ grant_types: ['client_credentials'] }, ISSUER);
    const tokens = w.tokensWith({ introspectorClientIds: new Set([server.client_id]) });
    const introspect = () =>
      tokens.introspect(
        {
          authorization: basic(server.client_id, server.client_secret as string),
          params: new URLSearchParams({ token: 'not-a-token' }),
        },
        ISSUER,
      );
    const revoke = () =>
      tokens.revoke(
        {
          authorization: basic(server.client_id, server.client_secret as string),
          params: new URLSearchParams({ token: 'not-a-token' }),
        },
        ISSUER,
      );
    // Every half day, for ten days: introspection and revocation alone keep it alive.
    for (let i = 0; i < 20; i++) {
      w.clock.advance(DAY / 2);
      await (i % 2 === 0 ? introspect() : revoke());
    }
    expect((await introspect()).response).toEqual({ active: false });
    expect((await w.repository.get(server.client_id))?.lastUsedAt).toBeGreaterThan(
      w.clock.now() - DAY,
    );
    // Unused for the idle lifetime, it is gone.
    w.clock.advance(2 * DAY);
    expect(await oauthFailure(introspect())).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });
});

describe('a workload’s tokens at introspection', () => {
  const PLATFORM = 'https://platform.example';
  const RESOURCE = 'https://a.example/';

  it('are active to a resource server while their issuer is trusted, inactive once it is not', async () => {
    const w = world();
    const keys = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k' };
    const federation = (issuers: Map<string, TrustedIssuerSettings>): Federation => {
      const trusted = new TrustedIssuers(issuers, {
        resolver: () => createLocalJWKSet({ keys: [] }),
      });
      const grants = new AssertionGrants(trusted, w.store, new AccessTokenIssuer(signer), w.clock, {
        accessTokenLifetimeSeconds: 600,
        assertionMaxLifetimeSeconds: 3600,
      });
      return { trusted, grants };
    };
    const platform: TrustedIssuerSettings = {
      kind: 'workload',
      jwks: { keys: [jwk] },
      algorithms: ['ES256'],
      rules: [{ claims: { sub: 'agent' }, resources: [RESOURCE] }],
    };
    const server = await w.registration.register({ grant_types: ['client_credentials'] }, ISSUER);
    const settings = { introspectorClientIds: new Set([server.client_id]) };
    const trusting = w.tokensWith(settings, federation(new Map([[PLATFORM, platform]])));
    const assertion = await new SignJWT({ sub: 'agent', aud: ISSUER, jti: 'j1' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k' })
      .setIssuer(PLATFORM)
      .setIssuedAt(w.clock.now())
      .setExpirationTime(w.clock.now() + 300)
      .sign(keys.privateKey);
    const { response } = await trusting.token(
      {
        authorization: undefined,
        params: new URLSearchParams({ grant_type: JWT_BEARER, assertion, resource: RESOURCE }),
      },
      ISSUER,
    );
    const introspect = (tokens: TokenService) =>
      tokens
        .introspect(
          {
            authorization: basic(server.client_id, server.client_secret as string),
            params: new URLSearchParams({ token: response.access_token }),
          },
          ISSUER,
        )
        .then((served) => served.response as Record<string, unknown>);
    expect(await introspect(trusting)).toMatchObject({
      active: true,
      sub: `${PLATFORM}#agent`,
      client_id: `${PLATFORM}#agent`,
      aud: RESOURCE,
    });
    // The operator stops trusting the platform: its workloads' tokens end with it.
    expect(await introspect(w.tokensWith(settings, federation(new Map())))).toEqual({
      active: false,
    });
    expect(await introspect(w.tokensWith(settings))).toEqual({ active: false });
  });
});
