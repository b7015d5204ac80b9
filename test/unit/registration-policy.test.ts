import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import { MemoryInitialAccessTokens } from '../../lambdas/adapters/memory/memory-initial-access-tokens.js';
import { MemorySoftwareClientCounts } from '../../lambdas/adapters/memory/memory-software-client-counts.js';
import { loadConfig } from '../../lambdas/config.js';
import { ClientLifecycle } from '../../lambdas/core/clients/client-lifecycle.js';
import type { ClientRecord, ClientRepository } from '../../lambdas/core/clients/ports.js';
import { ClientConfigurationService } from '../../lambdas/core/registration/client-configuration.js';
import {
  InitialAccessTokens,
  tokenSummary,
} from '../../lambdas/core/registration/initial-access-tokens.js';
import type { InitialAccessTokenRecord } from '../../lambdas/core/registration/ports.js';
import { RegistrationService } from '../../lambdas/core/registration/registration.js';
import {
  applyTier,
  classify,
  DEFAULT_REGISTRATION_ACCESS,
  DEFAULT_TIERS,
  type RegistrationWay,
  type TrustTier,
} from '../../lambdas/core/registration/registration-policy.js';
import { FakeClock, NO_EXPIRY, oauthFailure } from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const mcpClient = {
  client_name: 'mcp',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'none',
};
const agent = { grant_types: ['client_credentials'], client_name: 'agent', scope: 'read' };

describe('classification', () => {
  it('classifies by what the request presents; a bearer token wins', () => {
    expect(classify({})).toBe('open');
    expect(classify({ bearer: 'x' })).toBe('initial_access_token');
    expect(classify({ softwareStatement: true })).toBe('software_statement');
    expect(classify({ clientCertificate: true })).toBe('mtls');
    expect(classify({ bearer: 'x', softwareStatement: true })).toBe('initial_access_token');
  });
});

describe('tiers', () => {
  const metadata = {
    grant_types: ['authorization_code', 'refresh_token'] as const,
    response_types: ['code'] as const,
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/cb'],
    scope: 'read write',
  };
  const apply = (tier: TrustTier, extra = {}) =>
    applyTier(
      metadata as unknown as ClientRecord['metadata'],
      tier,
      'open' as RegistrationWay,
      extra,
    );

  it('admits an MCP client with the default tiers, with no extra lifetime cap', () => {
    expect(apply(DEFAULT_TIERS.open)).toEqual({});
    expect([...DEFAULT_REGISTRATION_ACCESS]).toEqual([
      'open',
      'initial_access_token',
      'software_statement',
    ]);
  });

  it('refuses grant types, scopes and public clients outside the tier', () => {
    expect(() =>
      apply({ publicClients: true, grantTypes: new Set(['authorization_code']) }),
    ).toThrow(/grant_types: refresh_token is not allowed for open registration/);
    expect(() => apply({ publicClients: false })).toThrow(/public clients are not allowed/);
    expect(() => apply({ publicClients: true, scopes: new Set(['read']) })).toThrow(
      /scope: write is not allowed/,
    );
    expect(() =>
      apply({ publicClients: true }, { scopes: new Set(['read']), scopeSource: 'the token' }),
    ).toThrow(/scope: write is not allowed for the token/);
  });

  it('caps the lifetime at the smaller of the tier and the token', () => {
    expect(
      apply(
        { publicClients: true, maxClientLifetimeSeconds: 600 },
        { maxClientLifetimeSeconds: 60 },
      ),
    ).toEqual({ maxLifetimeSeconds: 60 });
  });
});

describe('configuration', () => {
  it('parses the accepted ways and tiers; unnamed ways keep the default tier', () => {
    const config = loadConfig({
      DCR_REGISTRATION_ACCESS: 'initial_access_token, software_statement',
      DCR_REGISTRATION_TIERS: JSON.stringify({
        initial_access_token: {
          max_client_lifetime_seconds: 3600,
          grant_types: ['client_credentials'],
          scopes: ['read'],
          public_clients: false,
        },
      }),
    });
    expect([...config.registrationAccess]).toEqual(['initial_access_token', 'software_statement']);
    const tier = config.registrationTiers.initial_access_token;
    expect(tier.maxClientLifetimeSeconds).toBe(3600);
    expect([...(tier.grantTypes ?? [])]).toEqual(['client_credentials']);
    expect([...(tier.scopes ?? [])]).toEqual(['read']);
    expect(tier.publicClients).toBe(false);
    expect(config.registrationTiers.open).toEqual(DEFAULT_TIERS.open);
  });

  it('defaults to open, initial access token and software statement', () => {
    expect(loadConfig({}).registrationAccess).toBe(DEFAULT_REGISTRATION_ACCESS);
  });

  it.each([
    ['DCR_REGISTRATION_ACCESS', 'open,anything'],
    ['DCR_REGISTRATION_ACCESS', ','],
    ['DCR_REGISTRATION_TIERS', '{not json'],
    ['DCR_REGISTRATION_TIERS', '{"open":{"grant_types":["implicit"]}}'],
    ['DCR_REGISTRATION_TIERS', '{"nobody":{}}'],
    ['DCR_REGISTRATION_TIERS', '{"open":{"max_lifetime":5}}'],
  ])('refuses %s=%s at start-up', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });
});

describe('registration with the policy', () => {
  let repository: MemoryClientRepository;
  let clock: FakeClock;
  let store: MemoryInitialAccessTokens;
  let tokens: InitialAccessTokens;
  const service = (
    access: RegistrationWay[] = [...DEFAULT_REGISTRATION_ACCESS],
    tiers = DEFAULT_TIERS,
    repo: ClientRepository = repository,
  ) =>
    new RegistrationService(
      new ClientLifecycle(repo, clock, NO_EXPIRY),
      { registrationAccess: new Set(access), registrationTiers: tiers },
      { initialAccessTokens: tokens },
    );
  const issue = (request = {}) =>
    tokens.issue({ expiresIn: 3600, ...request }, clock.now(), { actor: 'admin-token' });

  beforeEach(() => {
    repository = new MemoryClientRepository();
    clock = new FakeClock();
    store = new MemoryInitialAccessTokens();
    tokens = new InitialAccessTokens(store);
  });

  it('issues token ids that never start with a dash (command-line arguments)', async () => {
    for (let i = 0; i < 300; i++) expect((await issue()).id).not.toMatch(/^-/);
  });

  it('records the way, and the token that registered the client', async () => {
    const open = await service().register(mcpClient, ISSUER);
    expect((await repository.get(open.client_id))?.registrationMethod).toBe('open');
    const { id, initial_access_token } = await issue();
    const info = await service().register(agent, ISSUER, {}, { bearer: initial_access_token });
    const stored = await repository.get(info.client_id);
    expect(stored).toMatchObject({
      registrationMethod: 'initial_access_token',
      initialAccessTokenId: id,
    });
    // The token is shown once and stored only hashed.
    expect(JSON.stringify(await store.get(id))).not.toContain(initial_access_token.split('.')[1]);
  });

  it('without open: an anonymous registration is a 401 Bearer challenge with no error code', async () => {
    const error = await oauthFailure(service(['initial_access_token']).register(agent, ISSUER));
    expect(error.status).toBe(401);
    expect(error.headers['www-authenticate']).toBe('Bearer');
  });

  it.each([
    ['unknown', async () => 'AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['malformed', async () => 'not-a-token'],
    ['wrong secret', async () => `${(await issue()).id}.${'B'.repeat(43)}`],
    [
      'used up',
      async () => {
        const t = await issue({ maxUses: 1 });
        await service().register(agent, ISSUER, {}, { bearer: t.initial_access_token });
        return t.initial_access_token;
      },
    ],
    [
      'expired',
      async () => {
        const t = await issue({ expiresIn: 60 });
        clock.advance(60);
        return t.initial_access_token;
      },
    ],
    [
      'revoked',
      async () => {
        const t = await issue();
        await tokens.revoke(t.id);
        return t.initial_access_token;
      },
    ],
  ])('a %s token is a 401 invalid_token, never an open registration', async (_, make) => {
    const bearer = await make();
    const before = (await repository.page({}, undefined, 1000)).records.length;
    const error = await oauthFailure(service().register(agent, ISSUER, {}, { bearer: bearer }));
    expect(error.status).toBe(401);
    expect(error.error).toBe('invalid_token');
    expect(error.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    expect((await repository.page({}, undefined, 1000)).records).toHaveLength(before);
  });

  it("applies the token's constraints: scope, software_id, lifetime", async () => {
    const t = await issue({ scope: 'read', softwareId: 'fleet', clientLifetimeSeconds: 600 });
    const error = await oauthFailure(
      service().register(
        { ...agent, scope: 'read admin' },
        ISSUER,
        {},
        { bearer: t.initial_access_token },
      ),
    );
    expect(error.error).toBe('invalid_client_metadata');
    const other = await oauthFailure(
      service().register(
        { ...agent, software_id: 'other' },
        ISSUER,
        {},
        { bearer: t.initial_access_token },
      ),
    );
    expect(other.error).toBe('invalid_client_metadata');
    // Refused metadata burns no use.
    expect((await store.get(t.id))?.uses).toBe(0);
    const info = await service().register(agent, ISSUER, {}, { bearer: t.initial_access_token });
    expect(info.software_id).toBe('fleet');
    expect(info.expires_at).toBe(clock.now() + 600);
    expect((await store.get(t.id))?.uses).toBe(1);
  });

  it("applies the way's tier", async () => {
    const tiers = {
      ...DEFAULT_TIERS,
      open: {
        publicClients: true,
        grantTypes: new Set(['authorization_code', 'refresh_token']),
        maxClientLifetimeSeconds: 3600,
      },
    };
    const error = await oauthFailure(service(undefined, tiers).register(agent, ISSUER));
    expect(error.error).toBe('invalid_client_metadata');
    const info = await service(undefined, tiers).register(mcpClient, ISSUER);
    expect(info.expires_at).toBe(clock.now() + 3600);
  });

  it('counts a use whose client write then fails (a burned use, never one client too many), and gives its place back', async () => {
    const t = await issue({ maxUses: 1, maxActiveClients: 1 });
    const failing: ClientRepository = {
      get: (id) => repository.get(id),
      create: async () => {
        throw new Error('write failed');
      },
      replace: (r) => repository.replace(r),
      delete: (id, d) => repository.delete(id, d),
      touch: (...a) => repository.touch(...a),
    };
    await expect(
      service(undefined, undefined, failing).register(
        agent,
        ISSUER,
        {},
        { bearer: t.initial_access_token },
      ),
    ).rejects.toThrow('write failed');
    expect(await store.get(t.id)).toMatchObject({ uses: 1, activeClients: 0 });
  });

  it('refuses a token whose clients are at its max_active_clients: 403 access_denied, nothing counted', async () => {
    const t = await issue({ maxActiveClients: 1 });
    await service().register(agent, ISSUER, {}, { bearer: t.initial_access_token });
    const error = await oauthFailure(
      service().register(agent, ISSUER, {}, { bearer: t.initial_access_token }),
    );
    expect([error.status, error.error]).toEqual([403, 'access_denied']);
    expect(await store.get(t.id)).toMatchObject({ uses: 1, activeClients: 1 });
    expect(
      tokenSummary((await store.get(t.id)) as InitialAccessTokenRecord, clock.now()),
    ).toMatchObject({
      max_active_clients: 1,
      active_clients: 1,
      status: 'active',
    });
  });

  it('a registration refused by the software_id cap leaves its initial access token as it was (found by fuzzing)', async () => {
    const t = await issue({ maxUses: 5, maxActiveClients: 3 });
    const softwareCounts = new MemorySoftwareClientCounts();
    const capped = new RegistrationService(
      new ClientLifecycle(repository, clock, NO_EXPIRY),
      {
        registrationAccess: new Set(DEFAULT_REGISTRATION_ACCESS),
        registrationTiers: DEFAULT_TIERS,
        softwareIdMaxActiveClients: 1,
      },
      { initialAccessTokens: tokens, softwareCounts },
    );
    await capped.register({ ...agent, software_id: 'fleet' }, ISSUER);
    const before = await store.get(t.id);
    const error = await oauthFailure(
      capped.register(
        { ...agent, software_id: 'fleet' },
        ISSUER,
        {},
        { bearer: t.initial_access_token },
      ),
    );
    expect([error.status, error.error]).toEqual([403, 'access_denied']);
    expect(await store.get(t.id)).toEqual(before);
  });

  it('an RFC 7592 update cannot leave the tier or the token constraints', async () => {
    const tiers = {
      ...DEFAULT_TIERS,
      initial_access_token: { publicClients: false, grantTypes: new Set(['client_credentials']) },
    };
    const t = await issue({ scope: 'read', softwareId: 'fleet', clientLifetimeSeconds: 600 });
    const registration = service(undefined, tiers);
    const configuration = new ClientConfigurationService(
      new ClientLifecycle(repository, clock, NO_EXPIRY),
      { registrationAccess: new Set(DEFAULT_REGISTRATION_ACCESS), registrationTiers: tiers },
    );
    const info = await registration.register(agent, ISSUER, {}, { bearer: t.initial_access_token });
    const update = async (body: Record<string, unknown>) =>
      (
        await configuration.update(
          info.client_id,
          info.registration_access_token,
          () => ({ client_id: info.client_id, ...body }),
          ISSUER,
        )
      ).registration;
    for (const body of [
      { ...agent, scope: 'read write' },
      { ...agent, software_id: 'other' },
      { ...mcpClient, token_endpoint_auth_method: 'client_secret_basic' },
    ]) {
      expect((await oauthFailure(update(body))).error).toBe('invalid_client_metadata');
    }
    const updated = await update({
      ...agent,
      client_name: 'renamed',
      expires_at: clock.now() + 9999,
    });
    expect(updated).toMatchObject({ client_name: 'renamed', software_id: 'fleet' });
    expect(updated.expires_at).toBe(info.client_id_issued_at + 600);
  });

  it('keeps refusing software statements while no verifier is wired', async () => {
    const error = await oauthFailure(
      service().register({ ...agent, software_statement: 'a.b.c' }, ISSUER),
    );
    expect(error.error).toBe('unapproved_software_statement');
  });
});
