import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBlockedSoftwareIds } from '../../lambdas/adapters/memory/memory-blocked-software.js';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import { loadConfig } from '../../lambdas/config.js';
import { ClientLifecycle } from '../../lambdas/core/clients/client-lifecycle.js';
import { RegistrationService } from '../../lambdas/core/registration/registration.js';
import {
  MAX_STATEMENT_LENGTH,
  SOFTWARE_STATEMENT_TYPE,
  TrustedSoftwareStatements,
} from '../../lambdas/core/registration/software-statements.js';
import { FakeClock, NO_EXPIRY, oauthFailure } from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const TRUSTED = 'https://statements.example.org';
const NOW = 1_800_000_000;

let privateKey: CryptoKey;
let publicJwk: JWK;
let otherKey: CryptoKey;
let hsKey: Uint8Array;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1' };
  otherKey = (await generateKeyPair('ES256')).privateKey;
  hsKey = new Uint8Array(32).fill(7);
});

const issuersJson = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ [TRUSTED]: { jwks: { keys: [publicJwk] }, ...extra } });

const verifier = (extra: Record<string, unknown> = {}) =>
  new TrustedSoftwareStatements(
    loadConfig({ DCR_SOFTWARE_STATEMENT_ISSUERS: issuersJson(extra) }).softwareStatementIssuers,
    {
      resolver: () => {
        throw new Error('no remote keys in this test');
      },
    },
  );

interface Sign {
  claims?: Record<string, unknown>;
  key?: CryptoKey | Uint8Array;
  alg?: string;
  iat?: number;
  /** null: no exp claim. */
  exp?: number | null;
  iss?: string;
  /** null: no typ header. */
  typ?: string | null;
}

const statement = ({
  claims = {},
  key,
  alg = 'ES256',
  iat = NOW,
  exp = NOW + 300,
  iss = TRUSTED,
  typ = SOFTWARE_STATEMENT_TYPE,
}: Sign = {}) => {
  const jwt = new SignJWT({ software_id: 'fleet-agent', ...claims })
    .setProtectedHeader({ alg, kid: 'k1', ...(typ !== null && { typ }) })
    .setIssuer(iss)
    .setIssuedAt(iat);
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(key ?? privateKey);
};

describe('software statement verification (RFC 7591 §2.3)', () => {
  it('verifies signature and issuer, and returns the software_id and claims', async () => {
    const verified = await verifier().verify(
      await statement({ claims: { client_name: 'Agent' }, exp: NOW + 60 }),
      NOW,
    );
    expect(verified).toMatchObject({
      issuer: TRUSTED,
      softwareId: 'fleet-agent',
      claims: { client_name: 'Agent', software_id: 'fleet-agent' },
    });
  });

  const cases: [string, () => Promise<string>, string][] = [
    ['malformed', async () => 'not.a.jwt', 'invalid_software_statement'],
    ['three dots of nothing', async () => 'a.b.c', 'invalid_software_statement'],
    ['too long', async () => 'a'.repeat(MAX_STATEMENT_LENGTH + 1), 'invalid_software_statement'],
    ['bad signature', () => statement({ key: otherKey }), 'invalid_software_statement'],
    ['expired', () => statement({ exp: NOW - 31 }), 'invalid_software_statement'],
    [
      'without exp (no bounded lifetime)',
      () => statement({ exp: null }),
      'invalid_software_statement',
    ],
    [
      'valid for more than a year',
      () => statement({ exp: NOW + 367 * 24 * 3600 }),
      'invalid_software_statement',
    ],
    ['without typ', () => statement({ typ: null }), 'invalid_software_statement'],
    ['typed as another kind of JWT', () => statement({ typ: 'JWT' }), 'invalid_software_statement'],
    ['issued in the future', () => statement({ iat: NOW + 120 }), 'invalid_software_statement'],
    [
      'missing software_id',
      () => statement({ claims: { software_id: undefined } }),
      'invalid_software_statement',
    ],
    [
      'software_id not a bounded string',
      () => statement({ claims: { software_id: 'x'.repeat(256) } }),
      'invalid_software_statement',
    ],
    [
      'unknown issuer',
      () => statement({ iss: 'https://evil.example' }),
      'unapproved_software_statement',
    ],
    [
      'HS256 (symmetric)',
      () => statement({ key: hsKey, alg: 'HS256' }),
      'invalid_software_statement',
    ],
  ];
  it.each(cases)('refuses a statement: %s', async (_, make, error) => {
    const failure = await oauthFailure(verifier().verify(await make(), NOW));
    expect(failure.status).toBe(400);
    expect(failure.error).toBe(error);
  });

  it('accepts 30 s of clock skew on exp and iat', async () => {
    await expect(verifier().verify(await statement({ exp: NOW - 20 }), NOW)).resolves.toBeDefined();
    await expect(verifier().verify(await statement({ iat: NOW + 20 }), NOW)).resolves.toBeDefined();
  });

  it('refuses an algorithm the issuer is not configured for', async () => {
    const failure = await oauthFailure(
      verifier({ algorithms: ['RS256'] }).verify(await statement(), NOW),
    );
    expect(failure.error).toBe('invalid_software_statement');
  });
});

describe('an issuer whose keys are at a jwks_uri', () => {
  const remote = (resolve: () => Promise<CryptoKey>) =>
    new TrustedSoftwareStatements(
      loadConfig({
        DCR_SOFTWARE_STATEMENT_ISSUERS: JSON.stringify({
          [TRUSTED]: { jwks_uri: 'https://keys.example/jwks.json' },
        }),
      }).softwareStatementIssuers,
      { resolver: () => resolve },
    );

  it('verifies with the keys the resolver gives', async () => {
    const publicKey = await importJWK(publicJwk, 'ES256');
    await expect(
      remote(async () => publicKey as CryptoKey).verify(await statement(), NOW),
    ).resolves.toMatchObject({ softwareId: 'fleet-agent' });
  });

  it('answers 503 temporarily_unavailable when the keys cannot be fetched (not the client’s fault)', async () => {
    const failure = await oauthFailure(
      remote(async () => {
        throw new Error('connect ECONNREFUSED');
      }).verify(await statement(), NOW),
    );
    expect(failure.status).toBe(503);
    expect(failure.error).toBe('temporarily_unavailable');
    expect(failure.headers['retry-after']).toBeDefined();
  });
});

describe('DCR_SOFTWARE_STATEMENT_ISSUERS', () => {
  const load = (value: string) => () => loadConfig({ DCR_SOFTWARE_STATEMENT_ISSUERS: value });
  it('refuses bad configuration at start-up', () => {
    expect(load('{')).toThrow(/must be JSON/);
    expect(load(JSON.stringify({ a: {} }))).toThrow(/jwks or jwks_uri/);
    expect(load(JSON.stringify({ a: { jwks_uri: 'http://keys.example/jwks' } }))).toThrow();
    expect(load(JSON.stringify({ a: { jwks: { keys: [{ kty: 'oct', k: 'x' }] } } }))).toThrow();
    expect(
      load(JSON.stringify({ a: { jwks_uri: 'https://k.example/j', algorithms: ['HS256'] } })),
    ).toThrow();
    expect(
      load(JSON.stringify({ a: { jwks_uri: 'https://k.example/j', algorithms: ['none'] } })),
    ).toThrow();
  });
  it('takes any string as issuer (a JWT iss is a StringOrURI), asymmetric algorithms by default', () => {
    const issuers = load(JSON.stringify({ 'acme-ca': { jwks_uri: 'https://k.example/j' } }))()
      .softwareStatementIssuers;
    expect(issuers.get('acme-ca')?.algorithms).toContain('ES256');
    expect(issuers.get('acme-ca')?.algorithms).not.toContain('HS256');
  });
  it('is empty when unset', () => {
    expect(loadConfig({}).softwareStatementIssuers.size).toBe(0);
  });
});

describe('registration with a software statement', () => {
  let repository: MemoryClientRepository;
  let blocked: MemoryBlockedSoftwareIds;
  let service: RegistrationService;

  beforeEach(() => {
    repository = new MemoryClientRepository();
    blocked = new MemoryBlockedSoftwareIds();
    service = new RegistrationService(
      new ClientLifecycle(repository, new FakeClock(NOW), NO_EXPIRY),
      {},
      { statements: verifier(), blocked },
    );
  });

  it('lets the statement’s claims take precedence over the body’s, and returns them (RFC 7591 §3.1.1)', async () => {
    const signed = await statement({
      claims: { client_name: 'Signed Agent', grant_types: ['client_credentials'] },
    });
    const info = await service.register(
      {
        software_statement: signed,
        software_id: 'spoofed',
        client_name: 'Body Agent',
        grant_types: ['authorization_code'],
        contacts: ['ops@example.com'],
      },
      ISSUER,
    );
    expect(info).toMatchObject({
      client_name: 'Signed Agent',
      software_id: 'fleet-agent',
      grant_types: ['client_credentials'],
      contacts: ['ops@example.com'],
      software_statement: signed,
    });
    expect(info).not.toHaveProperty('iss');
    const stored = await repository.get(info.client_id);
    expect(stored?.registrationMethod).toBe('software_statement');
    // Who vouched for it: the consent page names this issuer.
    expect(stored?.statementIssuer).toBe(TRUSTED);
    expect(JSON.stringify(stored)).not.toContain(signed);
  });

  it('validates the statement’s claims like the body’s', async () => {
    const failure = await oauthFailure(
      service.register(
        {
          software_statement: await statement({
            claims: { redirect_uris: ['javascript:alert(1)'] },
          }),
        },
        ISSUER,
      ),
    );
    expect(failure.error).toBe('invalid_redirect_uri');
  });

  it('accepts a statement with no aud or one naming this server, refuses one for another', async () => {
    const body = (aud?: string | string[]) =>
      statement({ claims: { grant_types: ['client_credentials'], ...(aud && { aud }) } }).then(
        (software_statement) => ({ software_statement }),
      );
    await expect(service.register(await body(), ISSUER)).resolves.toBeDefined();
    await expect(
      service.register(await body([ISSUER, 'https://x']), ISSUER),
    ).resolves.toBeDefined();
    const failure = await oauthFailure(
      service.register(await body('https://other.example'), ISSUER),
    );
    expect(failure.error).toBe('invalid_software_statement');
  });

  it('refuses a statement that is not a string', async () => {
    const failure = await oauthFailure(service.register({ software_statement: 42 }, ISSUER));
    expect(failure.error).toBe('invalid_software_statement');
  });

  it('refuses blocked software: by statement (unapproved) and by body (invalid metadata)', async () => {
    await blocked.block('fleet-agent', { at: NOW });
    const byStatement = await oauthFailure(
      service.register(
        { software_statement: await statement(), grant_types: ['client_credentials'] },
        ISSUER,
      ),
    );
    expect(byStatement.error).toBe('unapproved_software_statement');
    const byBody = await oauthFailure(
      service.register({ software_id: 'fleet-agent', grant_types: ['client_credentials'] }, ISSUER),
    );
    expect(byBody.error).toBe('invalid_client_metadata');
    expect(await blocked.unblock('fleet-agent')).toBe(true);
    await expect(
      service.register({ software_id: 'fleet-agent', grant_types: ['client_credentials'] }, ISSUER),
    ).resolves.toMatchObject({ software_id: 'fleet-agent' });
  });

  it('still refuses every statement when no issuer is trusted', async () => {
    const open = new RegistrationService(
      new ClientLifecycle(repository, new FakeClock(NOW), NO_EXPIRY),
      {},
    );
    const failure = await oauthFailure(
      open.register(
        { software_statement: await statement(), grant_types: ['client_credentials'] },
        ISSUER,
      ),
    );
    expect(failure.error).toBe('unapproved_software_statement');
  });
});
