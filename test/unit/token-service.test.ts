import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalSigner } from '../../lambdas/adapters/local-signer.js';
import { MemoryClientRepository } from '../../lambdas/adapters/memory-client-repository.js';
import { MemoryTokenStore } from '../../lambdas/adapters/memory-token-store.js';
import { AccessTokenIssuer, AccessTokenVerifier } from '../../lambdas/core/access-tokens.js';
import {
  ClientAuthenticator,
  JWT_BEARER_ASSERTION,
} from '../../lambdas/core/client-authentication.js';
import { ClientLifecycle } from '../../lambdas/core/client-lifecycle.js';
import type { RemoteKeySets } from '../../lambdas/core/ports.js';
import { RegistrationService } from '../../lambdas/core/registration.js';
import { TokenService, type TokenSettings } from '../../lambdas/core/token-service.js';
import { FakeClock, NO_EXPIRY, oauthFailure, registrationService } from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const signer = LocalSigner.create('ES256');

interface World {
  clock: FakeClock;
  repository: MemoryClientRepository;
  registration: RegistrationService;
  tokens: TokenService;
  /** Another token service over the same clients and tokens, configured differently. */
  tokensWith(settings: Partial<TokenSettings>): TokenService;
  remoteKeys: Map<string, Parameters<typeof createLocalJWKSet>[0]>;
}

const BASE_SETTINGS: TokenSettings = {
  accessTokenLifetimeSeconds: 600,
  resources: new Set(['https://a.example/', 'https://b.example/']),
  introspectorClientIds: new Set(),
};

function world(settings: Partial<TokenSettings> = {}): World {
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
  });
  const tokensWith = (overrides: Partial<TokenSettings>) =>
    new TokenService(
      new ClientAuthenticator(lifecycle, store, remoteKeySets),
      new AccessTokenIssuer(signer),
      new AccessTokenVerifier(signer),
      lifecycle,
      store,
      { ...BASE_SETTINGS, ...settings, ...overrides },
    );
  return {
    clock,
    repository,
    remoteKeys,
    registration: new RegistrationService(lifecycle, {
      clientSecretLifetimeSeconds: 0,
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

  const assertion = (aud: string) =>
    new SignJWT({ jti: crypto.randomUUID() })
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

  it('accepts the issuer or the token endpoint as audience', async () => {
    expect((await token(await assertion(ISSUER))).access_token).toEqual(expect.any(String));
    expect((await token(await assertion(`${ISSUER}/token`))).access_token).toEqual(
      expect.any(String),
    );
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
