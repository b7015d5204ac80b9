import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  cookieKeyFromSecretsManager,
  SecretsManagerSecret,
  upstreamClientSecretFromSecretsManager,
} from '../../lambdas/aws/secrets.js';
import { OAuthError } from '../../lambdas/core/errors.js';
import { logger } from '../../lambdas/log.js';

const sm = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:dcr-cookie-key-AbCdEf';
const KEY = 'Ab0'.repeat(21).concat('z'); // 64 letters and digits, like the stack's secret

const awsError = (name: string, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(name), { name, $fault: fault });

beforeEach(() => sm.reset());
afterEach(() => vi.restoreAllMocks());

describe('a Secrets Manager secret', () => {
  it('is read once per container, however many requests ask at once', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: KEY });
    const key = cookieKeyFromSecretsManager(ARN, new SecretsManagerClient({}));
    const keys = await Promise.all([key.key(), key.key(), key.key()]);
    await key.key();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    for (const k of keys) expect(Buffer.from(k).toString('utf8')).toBe(KEY);
  });

  it('throttled: 503 temporarily_unavailable with Retry-After, and the next request reads again', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(awsError('ThrottlingException'))
      .resolves({ SecretString: KEY });
    const key = cookieKeyFromSecretsManager(ARN, new SecretsManagerClient({}));
    const error = await key.key().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({
      status: 503,
      error: 'temporarily_unavailable',
      headers: { 'retry-after': expect.any(String) },
    });
    expect(Buffer.from(await key.key()).toString('utf8')).toBe(KEY);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('a service failure (5xx) is a 503 too', async () => {
    sm.on(GetSecretValueCommand).rejects(awsError('InternalServiceError', 'server'));
    const secret = new SecretsManagerSecret(new SecretsManagerClient({}), ARN, 'sign-in');
    await expect(secret.read()).rejects.toMatchObject({ status: 503 });
  });

  it.each([
    'ResourceNotFoundException',
    'AccessDeniedException',
    'DecryptionFailure',
    'InvalidRequestException',
  ])('unusable (%s): logged by ARN and error name, never a value, and a 503', async (name) => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => {});
    sm.on(GetSecretValueCommand).rejects(awsError(name));
    const secret = new SecretsManagerSecret(new SecretsManagerClient({}), ARN, 'sign-in');
    await expect(secret.read()).rejects.toMatchObject({
      status: 503,
      error: 'temporarily_unavailable',
    });
    expect(logged).toHaveBeenCalledWith('secret unusable', {
      purpose: 'sign-in',
      secretArn: ARN,
      errorName: name,
    });
  });

  it('an unexpected error stays an error (the router logs a 500)', async () => {
    sm.on(GetSecretValueCommand).rejects(new TypeError('a bug'));
    const secret = new SecretsManagerSecret(new SecretsManagerClient({}), ARN, 'sign-in');
    await expect(secret.read()).rejects.toBeInstanceOf(TypeError);
  });

  it('reads SecretBinary as well as SecretString; an empty secret is unusable', async () => {
    const bytes = new Uint8Array(48).fill(7);
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretBinary: bytes }).resolves({});
    const secret = new SecretsManagerSecret(new SecretsManagerClient({}), ARN, 'sign-in');
    expect(await secret.read()).toEqual(bytes);
    const empty = new SecretsManagerSecret(new SecretsManagerClient({}), ARN, 'sign-in');
    vi.spyOn(logger, 'error').mockImplementation(() => {});
    await expect(empty.read()).rejects.toMatchObject({ status: 503 });
  });
});

describe('the cookie key', () => {
  it('refuses key material shorter than 32 bytes, without logging it', async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => {});
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'short-secret-31-bytes-long-0000' });
    const key = cookieKeyFromSecretsManager(ARN, new SecretsManagerClient({}));
    await expect(key.key()).rejects.toMatchObject({ status: 503 });
    expect(JSON.stringify(logged.mock.calls)).not.toContain('short-secret');
  });

  it('needs DCR_COOKIE_KEY_SECRET_ARN', () => {
    expect(() => cookieKeyFromSecretsManager(undefined, new SecretsManagerClient({}))).toThrow(
      /DCR_COOKIE_KEY_SECRET_ARN/,
    );
  });
});

describe('the upstream client secret', () => {
  it('is read lazily, once, as text; absent without an ARN (a public client)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'upstream-client-secret' });
    expect(upstreamClientSecretFromSecretsManager(undefined, new SecretsManagerClient({}))).toBe(
      undefined,
    );
    const read = upstreamClientSecretFromSecretsManager(ARN, new SecretsManagerClient({}));
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(await read?.()).toBe('upstream-client-secret');
    expect(await read?.()).toBe('upstream-client-secret');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });
});
