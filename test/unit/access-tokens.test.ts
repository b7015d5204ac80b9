import { createHmac, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalSigner } from '../../lambdas/adapters/signing/local-signer.js';
import { AccessTokenIssuer, AccessTokenVerifier } from '../../lambdas/core/tokens/access-tokens.js';

/**
 * Forged access tokens at introspection (THREATS.md X3): only this server's own tokens, signed
 * by a published key with that key's algorithm, typed `at+jwt`, from this issuer, unexpired and
 * complete, verify; everything else is no token at all.
 */
const ISSUER = 'https://auth.example.com';
const NOW = 1_800_000_000;
const claims = {
  iss: ISSUER,
  sub: 'agent-1',
  aud: ISSUER,
  client_id: 'agent-1',
  iat: NOW,
  exp: NOW + 600,
};
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

let signer: LocalSigner;
let verifier: AccessTokenVerifier;
let kid: string;

/** A token signed by the server's own key, with the header and claims given. */
async function signedByUs(header: object, payload: object): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = await signer.sign(Buffer.from(input, 'ascii'));
  return `${input}.${signature.toString('base64url')}`;
}

beforeAll(async () => {
  signer = LocalSigner.create('RS256');
  verifier = new AccessTokenVerifier(signer);
  kid = (await signer.activeKey()).kid;
});

describe('access token verification refuses forgeries', () => {
  it("verifies the server's own token", async () => {
    const { token } = await new AccessTokenIssuer(signer).issue(claims);
    expect(await verifier.verify(token, ISSUER, NOW + 1)).toMatchObject({ client_id: 'agent-1' });
  });

  it('alg none, with the real kid', async () => {
    const token = `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64({ ...claims, jti: 'j' })}.`;
    expect(await verifier.verify(token, ISSUER, NOW + 1)).toBeUndefined();
  });

  it('HS256 keyed with the public key (algorithm confusion)', async () => {
    const publicPem = createPublicKey({
      key: (await signer.activeKey()).jwk as JsonWebKey,
      format: 'jwk',
    }).export({ type: 'spki', format: 'pem' });
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64({ ...claims, jti: 'j' })}`;
    const mac = createHmac('sha256', publicPem).update(input).digest('base64url');
    expect(await verifier.verify(`${input}.${mac}`, ISSUER, NOW + 1)).toBeUndefined();
  });

  it('another key: with an unknown kid, and with the real kid', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const header of [{ kid: 'not-ours' }, { kid }]) {
      const token = await new SignJWT({ ...claims, jti: 'j' })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', ...header })
        .sign(privateKey);
      expect(await verifier.verify(token, ISSUER, NOW + 1)).toBeUndefined();
    }
  });

  it.each([
    ['no typ', { alg: 'RS256', kid: 'KID' }, {}],
    ['typ JWT', { alg: 'RS256', typ: 'JWT', kid: 'KID' }, {}],
    ['an algorithm that is not the key’s', { alg: 'ES256', typ: 'at+jwt', kid: 'KID' }, {}],
    ['no kid', { alg: 'RS256', typ: 'at+jwt' }, {}],
    [
      'another issuer',
      { alg: 'RS256', typ: 'at+jwt', kid: 'KID' },
      { iss: 'https://evil.example' },
    ],
    ['expired', { alg: 'RS256', typ: 'at+jwt', kid: 'KID' }, { exp: NOW }],
    ['no client_id', { alg: 'RS256', typ: 'at+jwt', kid: 'KID' }, { client_id: undefined }],
    ['no jti', { alg: 'RS256', typ: 'at+jwt', kid: 'KID' }, { jti: undefined }],
    ['a numeric client_id', { alg: 'RS256', typ: 'at+jwt', kid: 'KID' }, { client_id: 7 }],
  ])('signed by our key, but %s', async (_, header, changes) => {
    const token = await signedByUs(JSON.parse(JSON.stringify(header).replace('KID', kid)), {
      ...claims,
      jti: 'j',
      ...changes,
    });
    expect(await verifier.verify(token, ISSUER, NOW + 1)).toBeUndefined();
  });
});

describe('the token endpoint’s answer (every grant type’s tokens are made the same way)', () => {
  const grant = { iss: ISSUER, sub: 'agent-1', aud: ISSUER, client_id: 'agent-1' };

  it('iat is now, exp one lifetime later, expires_in says so; absent scope and cnf are left out', async () => {
    const { response, jti } = await new AccessTokenIssuer(signer).respond(
      { ...grant, scope: undefined, cnf: undefined },
      { now: NOW, lifetimeSeconds: 600 },
    );
    expect(response).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 600,
    });
    const verified = await verifier.verify(response.access_token, ISSUER, NOW + 1);
    expect(verified).toEqual({ ...grant, iat: NOW, exp: NOW + 600, jti });
  });

  it('a token bound to a DPoP key and capped by notAfter, in a user grant', async () => {
    const { response, jti } = await new AccessTokenIssuer(signer).respond(
      { ...grant, scope: 'read', cnf: { jkt: 'thumbprint' }, auth_time: NOW - 5 },
      { now: NOW, lifetimeSeconds: 600, notAfter: NOW + 90, grantId: 'grant-1' },
    );
    expect(response).toMatchObject({ token_type: 'DPoP', expires_in: 90, scope: 'read' });
    expect(jti).toMatch(/^grant-1\./);
    expect(await verifier.verify(response.access_token, ISSUER, NOW + 1)).toMatchObject({
      scope: 'read',
      cnf: { jkt: 'thumbprint' },
      auth_time: NOW - 5,
      exp: NOW + 90,
    });
  });
});
