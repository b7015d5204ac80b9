import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { callAws } from '../adapters/aws-errors.js';
import type { CookieKeySource } from '../core/authorization/ports.js';
import { temporarilyUnavailable } from '../core/errors.js';
import { logger } from '../log.js';

/** The secret itself is unusable (gone, scheduled for deletion, not ours to read): an operator must act. */
const SECRET_UNUSABLE = new Set([
  'ResourceNotFoundException',
  'InvalidRequestException',
  'InvalidParameterException',
  'DecryptionFailure',
  'AccessDeniedException',
]);

/** Cookie key material shorter than this is refused (the sealer derives AES-256 keys from it). */
const MIN_COOKIE_KEY_BYTES = 32;

/**
 * One Secrets Manager secret, read once per container: the first caller's read is shared by
 * every later one; a failed read is forgotten, so the next request tries again. Throttling and
 * service failures are a 503 with Retry-After; an unusable secret (deleted, no access, not
 * decryptable, empty) is logged — by ARN and error name, never its value — and also a 503.
 */
export class SecretsManagerSecret {
  private value?: Promise<Uint8Array>;

  constructor(
    private readonly client: SecretsManagerClient,
    readonly arn: string,
    /** What the secret is for, in logs and error descriptions. */
    private readonly purpose: string,
  ) {}

  /** The secret's value: its SecretString as UTF-8 bytes, or its SecretBinary. */
  read(): Promise<Uint8Array> {
    this.value ??= this.fetch().catch((error: unknown) => {
      this.value = undefined;
      throw error;
    });
    return this.value;
  }

  /** The secret's value as text (a SecretString, or UTF-8 SecretBinary). */
  async text(): Promise<string> {
    return Buffer.from(await this.read()).toString('utf8');
  }

  private async fetch(): Promise<Uint8Array> {
    let output: { SecretString?: string; SecretBinary?: Uint8Array };
    try {
      output = await callAws(
        this.client.send(new GetSecretValueCommand({ SecretId: this.arn })),
        this.purpose,
      );
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (!SECRET_UNUSABLE.has(name)) throw error;
      throw this.unusable(name);
    }
    const value =
      output.SecretString !== undefined
        ? new Uint8Array(Buffer.from(output.SecretString, 'utf8'))
        : output.SecretBinary;
    if (value === undefined || value.length === 0) throw this.unusable('EmptySecret');
    return value;
  }

  private unusable(errorName: string) {
    // Loud: nothing that needs this secret works until an operator fixes it.
    logger.error('secret unusable', { purpose: this.purpose, secretArn: this.arn, errorName });
    return temporarilyUnavailable(`${this.purpose} is unavailable`);
  }
}

/** The AWS cookie key: the stack-generated secret (64 random letters and digits), ≥ 32 bytes. */
class SecretsManagerCookieKey implements CookieKeySource {
  constructor(private readonly secret: SecretsManagerSecret) {}

  async key(): Promise<Uint8Array> {
    const material = await this.secret.read();
    if (material.length < MIN_COOKIE_KEY_BYTES) {
      logger.error('secret unusable', {
        purpose: 'cookie key',
        secretArn: this.secret.arn,
        errorName: 'SecretTooShort',
      });
      throw temporarilyUnavailable('sign-in is unavailable');
    }
    return material;
  }
}

/** One Secrets Manager client per container, created only when a function reads a secret. */
let client: SecretsManagerClient | undefined;
const secretsManager = () => {
  client ??= new SecretsManagerClient({});
  return client;
};

/** The cookie key of the authorize function (`DCR_COOKIE_KEY_SECRET_ARN`, set by the stack). */
export function cookieKeyFromSecretsManager(
  arn: string | undefined,
  sm: SecretsManagerClient = secretsManager(),
): CookieKeySource {
  if (arn === undefined) {
    throw new Error(
      'invalid configuration: DCR_COOKIE_KEY_SECRET_ARN is required by this function',
    );
  }
  return new SecretsManagerCookieKey(new SecretsManagerSecret(sm, arn, 'sign-in'));
}

/**
 * The upstream client secret from `DCR_UPSTREAM_CLIENT_SECRET_ARN` (an operator-created secret,
 * plain SecretString), as a lazily read value; undefined when the upstream client is public.
 */
export function upstreamClientSecretFromSecretsManager(
  arn: string | undefined,
  sm: SecretsManagerClient = secretsManager(),
): (() => Promise<string>) | undefined {
  if (arn === undefined) return undefined;
  const secret = new SecretsManagerSecret(sm, arn, 'sign-in');
  return () => secret.text();
}
