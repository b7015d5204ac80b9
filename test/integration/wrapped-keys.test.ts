import { createPrivateKey } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbSigningKeys } from '../../lambdas/adapters/dynamodb/dynamodb-signing-keys.js';
import { KmsKeyWrapping } from '../../lambdas/adapters/kms/kms-key-wrapping.js';
import { WrappedKeySigner } from '../../lambdas/adapters/signing/wrapped-key-signer.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import { PATHS } from '../../lambdas/core/paths.js';
import { KeyRotation } from '../../lambdas/core/signing/key-rotation.js';
import { activationDelaySeconds } from '../../lambdas/core/signing/keyring.js';
import type { Keyring, PublishedKey } from '../../lambdas/core/signing/ports.js';
import { AccessTokenIssuer, AccessTokenVerifier } from '../../lambdas/core/tokens/access-tokens.js';
import { jwksRoutes } from '../../lambdas/http/routes/jwks.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';
import { FakeClock } from '../support/fakes.js';
import { type KmsTestServer, startKmsServer } from '../support/kms-server.js';
import { hygieneSeen } from '../support/secret-hygiene.js';
import { settlesBeforeThreadPoolWork } from '../support/thread-pool.js';

/**
 * The wrapped signing mode against the embedded store and the KMS-compatible test server, which
 * really encrypts (AES-GCM bound to the encryption context): key rotation, the signer's cache
 * and rotation pickup, activation delay, the JWKS, and no private material anywhere it may not be.
 */
const TABLE = 'wrapped-keys-test';
const WRAPPING_KEY = 'arn:aws:kms:local:000000000000:key/wrapping';
const ISSUER = 'https://issuer.example';
const SCHEDULE = { accessTokenLifetimeSeconds: 600, keyringRefreshSeconds: 300 };
// max(600, JWKS max-age 300) + one refresh.
const DELAY = 900;

let store: EmbeddedStore;
let kms: KmsTestServer;
let dynamo: ReturnType<typeof documentClient>;
const table = TABLE;

beforeAll(async () => {
  kms = await startKmsServer({ [WRAPPING_KEY]: 'SYMMETRIC_DEFAULT' });
});
afterAll(async () => {
  await kms.close();
});
// A store per test (in memory): each test has its own keyring.
beforeEach(async () => {
  store = await startEmbeddedStore(TABLE);
  dynamo = documentClient(store.client);
  kms.calls.length = 0;
  return () => store.close();
});

/** Counts the store's reads, as the signer makes them. */
class CountingKeys extends DynamoDbSigningKeys {
  keyringReads = 0;
  privateReads = 0;
  override readKeyring() {
    this.keyringReads++;
    return super.readKeyring();
  }
  override readWrappedKey(kid: string) {
    this.privateReads++;
    return super.readWrappedKey(kid);
  }
}

const kmsClient = () =>
  new KMSClient({
    endpoint: kms.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

function setup(alg: PublishedKey['alg'] = 'ES256') {
  const clock = new FakeClock();
  const keys = new CountingKeys(dynamo, table);
  const wrapping = new KmsKeyWrapping(kmsClient(), WRAPPING_KEY);
  const rotation = new KeyRotation(keys, wrapping, clock, { alg, ...SCHEDULE });
  const signer = () =>
    new WrappedKeySigner(
      keys,
      clock,
      { refreshSeconds: SCHEDULE.keyringRefreshSeconds },
      {
        store: keys,
        unwrapper: wrapping,
      },
    );
  const publisher = () =>
    new WrappedKeySigner(keys, clock, { refreshSeconds: SCHEDULE.keyringRefreshSeconds });
  return { clock, keys, wrapping, rotation, signer, publisher };
}

const claims = (now: number) => ({
  iss: ISSUER,
  sub: 'agent',
  aud: ISSUER,
  client_id: 'agent',
  iat: now,
  exp: now + 600,
});

async function jwks(signer: WrappedKeySigner) {
  const [route] = jwksRoutes(signer, 300);
  const response = await route?.handle({
    request: { method: 'GET', path: PATHS.jwks, query: '', headers: {} },
    issuer: ISSUER,
    params: {},
  });
  return JSON.parse(String(response?.body)) as { keys: JWK[] };
}

const verifyAgainst = async (token: string, keys: { keys: JWK[] }, now: number) =>
  jwtVerify(token, createLocalJWKSet(keys), {
    issuer: ISSUER,
    typ: 'at+jwt',
    currentDate: new Date(now * 1000),
  });

const kmsCalls = (operation: string) => kms.calls.filter((c) => c.operation === operation).length;

describe('key rotation', () => {
  it('at deploy makes one key that signs at once; a second run adds none', async () => {
    const { rotation, keys, clock } = setup();
    const first = await rotation.ensureKey();
    expect(first).toEqual({
      outcome: 'created',
      kid: expect.any(String),
      activatesAt: clock.now(),
    });
    expect(await rotation.ensureKey()).toEqual({
      outcome: 'unchanged',
      kid: (first as { kid: string }).kid,
    });
    const keyring = (await keys.readKeyring()) as Keyring;
    expect(keyring.version).toBe(1);
    expect(keyring.keys).toHaveLength(1);
    // KMS made the pair; the rotation never held the private half (no Decrypt, no Encrypt).
    expect(kms.calls.map((c) => c.operation)).toEqual(['GenerateDataKeyPairWithoutPlaintext']);
  });

  it('at deploy over a keyring whose keys have all expired, makes a key that signs at once', async () => {
    const { rotation, keys, clock } = setup();
    const old = (await rotation.ensureKey()) as { kid: string };
    const keyring = (await keys.readKeyring()) as Keyring;
    // A table kept from a stack deleted long ago: its last key expired meanwhile.
    await keys.replaceKeyring({
      version: keyring.version + 1,
      keys: keyring.keys.map((k) => ({ ...k, expiresAt: clock.now() + 10 })),
    });
    clock.advance(3600);
    const made = await rotation.ensureKey();
    expect(made).toEqual({ outcome: 'created', kid: expect.any(String), activatesAt: clock.now() });
    expect((made as { kid: string }).kid).not.toBe(old.kid);
  });

  it('stores public keys in clear in the keyring and the private half only wrapped', async () => {
    const { rotation, keys, wrapping } = setup('RS256');
    await rotation.ensureKey();
    const keyring = (await keys.readKeyring()) as Keyring;
    const [entry] = keyring.keys;
    expect(entry?.jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: entry?.kid });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
      expect(entry?.jwk).not.toHaveProperty(member);
    const { Item } = await dynamo.send(
      new GetCommand({
        TableName: table,
        Key: { pk: `signingkey#${entry?.kid}`, sk: 'signingkey' },
      }),
    );
    const wrapped = Buffer.from(Item?.wrappedPrivateKey as Uint8Array);
    // The private half, unwrapped here only to prove it is not in the table in clear.
    const pkcs8 = Buffer.from(await wrapping.unwrap(wrapped));
    const d = (
      createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({
        format: 'jwk',
      }) as JWK
    ).d as string;
    const everything = JSON.stringify(Item) + JSON.stringify(keyring);
    expect(wrapped.includes(pkcs8.subarray(40, 72))).toBe(false);
    expect(everything).not.toContain(d);
    expect(everything).not.toContain(pkcs8.toString('base64').slice(60, 120));
  });

  it('publishes the next key an activation delay before it signs, and retires the old one after its tokens', async () => {
    const { rotation, keys, clock } = setup();
    const first = await rotation.ensureKey();
    clock.advance(24 * 3600);
    const next = await rotation.rotate();
    expect(next).toEqual({
      outcome: 'created',
      kid: expect.any(String),
      activatesAt: clock.now() + DELAY,
    });
    expect(DELAY).toBe(activationDelaySeconds(SCHEDULE));
    // A retried run while the key waits adds nothing.
    expect(await rotation.rotate()).toEqual({
      outcome: 'unchanged',
      kid: (next as { kid: string }).kid,
    });
    const keyring = (await keys.readKeyring()) as Keyring;
    const old = keyring.keys.find((k) => k.kid === (first as { kid: string }).kid);
    // Its last token is signed when the next key activates and lives one lifetime (+ one refresh).
    expect(old?.expiresAt).toBe(clock.now() + DELAY + 600 + 300);
    // Its private half expires with it (TTL, and the expiry index cleanup reads).
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: table, Key: { pk: `signingkey#${old?.kid}`, sk: 'signingkey' } }),
    );
    expect(Item?.ttl).toBe(old?.expiresAt);
    expect(Item?.expiryDay).toMatch(/^expiry#\d{4}-\d\d-\d\d$/);
    // Once it has expired, the next rotation drops it from the keyring.
    clock.advance(DELAY + 600 + 300 + 24 * 3600);
    await rotation.rotate();
    const later = (await keys.readKeyring()) as Keyring;
    expect(later.keys.map((k) => k.kid)).not.toContain(old?.kid);
    expect(later.keys).toHaveLength(2);
  });

  it("lets one of two concurrent rotations win and expires the loser's private half at once", async () => {
    const { keys, wrapping, clock } = setup();
    // Both runs have read the keyring (no key waiting) before either writes.
    let arrived = 0;
    let release = () => {};
    const together = new Promise<void>((resolve) => {
      release = resolve;
    });
    const generator = {
      generate: async (alg: PublishedKey['alg']) => {
        if (++arrived === 2) release();
        await together;
        return wrapping.generate(alg);
      },
    };
    const rotation = new KeyRotation(keys, generator, clock, { alg: 'ES256', ...SCHEDULE });
    const first = (await new KeyRotation(keys, wrapping, clock, {
      alg: 'ES256',
      ...SCHEDULE,
    }).ensureKey()) as { kid: string };
    clock.advance(3600);
    const outcomes = await Promise.allSettled([rotation.rotate(), rotation.rotate()]);
    const keyring = (await keys.readKeyring()) as Keyring;
    expect(keyring.keys).toHaveLength(2);
    const won = outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<{
      kid: string;
    }>;
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(String(lost.reason)).toMatch(/keyring changed/);
    expect(keyring.keys.map((k) => k.kid)).toEqual([first.kid, won.value.kid]);
    // The loser's private half (the item that is neither key's) expires at once.
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: table }));
    const orphans = Items.filter(
      (i) => String(i.pk).startsWith('signingkey#') && ![first.kid, won.value.kid].includes(i.kid),
    );
    expect(orphans).toHaveLength(1);
    expect(orphans[0]?.ttl).toBe(clock.now());
  });
});

describe('WrappedKeySigner', () => {
  it('unwraps once per container: 100 tokens cost one Decrypt, no Sign, one keyring read', async () => {
    const { rotation, signer: make, keys, clock } = setup();
    await rotation.ensureKey();
    kms.calls.length = 0;
    const signer = make();
    const issuer = new AccessTokenIssuer(signer);
    const published = await jwks(signer);
    keys.keyringReads = 0;
    const tokens: string[] = [];
    for (let i = 0; i < 100; i++) tokens.push((await issuer.issue(claims(clock.now()))).token);
    expect(kmsCalls('Decrypt')).toBe(1);
    expect(kms.calls).toHaveLength(1);
    expect(keys.privateReads).toBe(1);
    expect(keys.keyringReads).toBe(0); // read for the JWKS above, within the refresh interval
    for (const token of tokens.slice(0, 5)) {
      const { protectedHeader } = await verifyAgainst(token, published, clock.now());
      expect(protectedHeader).toMatchObject({
        alg: 'ES256',
        typ: 'at+jwt',
        kid: published.keys[0]?.kid,
      });
    }
    // A second container unwraps once more.
    await new AccessTokenIssuer(make()).issue(claims(clock.now()));
    expect(kmsCalls('Decrypt')).toBe(2);
  });

  it('signs inline, as a Lambda container serves one request at a time: never queued behind the thread pool', async () => {
    const { rotation, signer: make, clock } = setup('RS256');
    await rotation.ensureKey();
    const issuer = new AccessTokenIssuer(make());
    await issuer.issue(claims(clock.now())); // unwraps the key
    expect(await settlesBeforeThreadPoolWork(() => issuer.issue(claims(clock.now())))).toBe(true);
  });

  it('signs RS256 with an RSA key the same way', async () => {
    const { rotation, signer: make, clock } = setup('RS256');
    await rotation.ensureKey();
    const signer = make();
    const { token } = await new AccessTokenIssuer(signer).issue(claims(clock.now()));
    const { protectedHeader } = await verifyAgainst(token, await jwks(signer), clock.now());
    expect(protectedHeader.alg).toBe('RS256');
  });

  it('picks up a rotation at the next keyring read, switches when the key activates, and old tokens still verify', async () => {
    const { rotation, signer: make, publisher, keys, clock } = setup();
    const first = (await rotation.ensureKey()) as { kid: string };
    const signer = make();
    const issuer = new AccessTokenIssuer(signer);
    const verifier = new AccessTokenVerifier(publisher());
    const before = (await issuer.issue(claims(clock.now()))).token;

    clock.advance(60);
    const next = (await rotation.rotate()) as { kid: string; activatesAt: number };
    // Within the refresh interval the signer has not read the keyring again: it knows one key.
    expect((await signer.publishedKeys()).map((k) => k.kid)).toEqual([first.kid]);
    clock.advance(SCHEDULE.keyringRefreshSeconds);
    keys.keyringReads = 0;
    // Now it has: both published, the active one first; tokens still signed by the old key.
    expect((await signer.publishedKeys()).map((k) => k.kid)).toEqual([first.kid, next.kid]);
    expect((await jwks(signer)).keys.map((k) => k.kid)).toEqual([first.kid, next.kid]);
    expect(keys.keyringReads).toBe(1);
    const pending = (await issuer.issue(claims(clock.now()))).token;
    expect(decodeProtectedHeader(pending).kid).toBe(first.kid);

    // The activation instant, with no keyring read in between: the signer knew it.
    clock.current = next.activatesAt;
    keys.keyringReads = 0;
    const after = (await issuer.issue(claims(clock.now()))).token;
    expect(decodeProtectedHeader(after).kid).toBe(next.kid);
    expect(kmsCalls('Decrypt')).toBe(2); // one per key
    // Tokens of both keys verify, at the server and against the JWKS.
    const both = await jwks(signer);
    for (const token of [before, pending, after]) {
      // Each one while it lives (`before` expired meanwhile), by the keys published now.
      expect(await verifier.verify(token, ISSUER, decodeJwt(token).iat as number)).toBeDefined();
    }
    expect(
      (await verifyAgainst(pending, both, decodeJwt(pending).iat as number)).protectedHeader.kid,
    ).toBe(first.kid);
    expect((await verifyAgainst(after, both, clock.now())).protectedHeader.kid).toBe(next.kid);

    // When the old key's tokens have all expired, it leaves the JWKS and verifies nothing.
    const oldExpiry = next.activatesAt + 600 + 300;
    clock.current = oldExpiry;
    expect((await jwks(signer)).keys.map((k) => k.kid)).toEqual([next.kid]);
    const fresh = (await issuer.issue(claims(clock.now()))).token;
    expect(decodeProtectedHeader(fresh).kid).toBe(next.kid);
    expect(await verifier.verify(fresh, ISSUER, clock.now())).toBeDefined();
    // The old key's token, judged at an instant it was valid, no longer verifies: key gone.
    expect(
      await verifier.verify(pending, ISSUER, decodeJwt(pending).iat as number),
    ).toBeUndefined();
  });

  it('publishes without unwrapping: the JWKS side makes no KMS call and cannot sign', async () => {
    const { rotation, publisher } = setup();
    await rotation.ensureKey();
    kms.calls.length = 0;
    const signer = publisher();
    expect((await jwks(signer)).keys).toHaveLength(1);
    await expect(signer.sign(Buffer.from('x.y'))).rejects.toThrow(/does not sign/);
    expect(kms.calls).toEqual([]);
  });

  it('answers 503 (temporarily unavailable) before any key exists, and publishes nothing', async () => {
    const { signer: make } = setup();
    const signer = make();
    await expect(signer.activeKey()).rejects.toMatchObject({
      error: 'temporarily_unavailable',
      status: 503,
    });
    expect(await signer.publishedKeys()).toEqual([]);
  });

  it('refuses a private half that is not the published key, and says nothing of its bytes', async () => {
    const { rotation, signer: make, keys, wrapping, clock } = setup();
    const first = (await rotation.ensureKey()) as { kid: string };
    // Another wrapped key pair's private half put under the first key's item.
    const other = await wrapping.generate('ES256');
    await dynamo.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: `signingkey#${first.kid}`,
          sk: 'signingkey',
          wrappedPrivateKey: other.wrappedPrivateKey,
          createdAt: clock.now(),
        },
      }),
    );
    const plaintext = Buffer.from(await wrapping.unwrap(other.wrappedPrivateKey));
    const error = (await make()
      .sign(Buffer.from('a.b'))
      .catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/does not match/);
    expect(error.message).not.toContain(plaintext.toString('base64').slice(40, 80));
    expect(error.stack ?? '').not.toContain(plaintext.toString('hex').slice(80, 160));
    expect(keys.privateReads).toBe(1);
  });

  it('cannot unwrap under another encryption context (the stand-in binds it, as KMS does)', async () => {
    const { rotation, keys } = setup();
    const first = (await rotation.ensureKey()) as { kid: string };
    const wrapped = (await keys.readWrappedKey(first.kid)) as Uint8Array;
    const { DecryptCommand } = await import('@aws-sdk/client-kms');
    await expect(
      kmsClient().send(
        new DecryptCommand({
          KeyId: WRAPPING_KEY,
          CiphertextBlob: wrapped,
          EncryptionContext: { purpose: 'other' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('writes no private material to any log line', async () => {
    const { rotation, signer: make, keys, wrapping, clock } = setup('RS256');
    const first = (await rotation.ensureKey()) as { kid: string };
    await new AccessTokenIssuer(make()).issue(claims(clock.now()));
    const pkcs8 = Buffer.from(
      await wrapping.unwrap((await keys.readWrappedKey(first.kid)) as Uint8Array),
    );
    const jwk = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({
      format: 'jwk',
    }) as JWK;
    const { captured } = await hygieneSeen();
    const text = captured.join('\n');
    for (const secret of [jwk.d, jwk.p, jwk.q, pkcs8.toString('base64').slice(100, 160)]) {
      expect(text).not.toContain(secret);
    }
  });
});
