import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { CookieKeySource } from '../core/authorization/ports.js';

interface Keys {
  readonly seal: Uint8Array;
  readonly csrf: Uint8Array;
}

/** Independent keys from the one secret, so a CSRF token never helps against a sealed cookie. */
const derive = (secret: Uint8Array, info: string) =>
  new Uint8Array(hkdfSync('sha256', secret, 'serverless-dcr', info, 32));

/**
 * Browser state kept by the browser: cookie values sealed with authenticated encryption (a
 * compact JWE, `dir` + `A256GCM`), so they can be neither read nor altered nor moved to another
 * cookie name (the name is in the protected header, which is the AEAD's additional data), and
 * expire by their own `exp` whatever the browser does. Plus CSRF tokens: HMACs of what a form
 * belongs to, under a key of their own.
 */
export class CookieSealer {
  private keys?: Promise<Keys>;

  constructor(private readonly source: CookieKeySource) {}

  private derived(): Promise<Keys> {
    this.keys ??= this.source.key().then(
      (secret) => {
        if (secret.byteLength < 32) throw new Error('the cookie key must have at least 32 bytes');
        return { seal: derive(secret, 'cookie-seal-v1'), csrf: derive(secret, 'csrf-v1') };
      },
      (error: unknown) => {
        // A failed read (Secrets Manager throttled) is retried by the next request.
        this.keys = undefined;
        throw error;
      },
    );
    return this.keys;
  }

  /** The sealed value of cookie `name`, valid until `exp` (epoch seconds). */
  async seal(name: string, payload: Record<string, unknown>, exp: number): Promise<string> {
    const { seal } = await this.derived();
    return new EncryptJWT(payload)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cookie: name })
      .setExpirationTime(exp)
      .encrypt(seal);
  }

  /** The payload, or undefined if the value is not one this server sealed for `name`, or expired. */
  async open(
    name: string,
    value: string,
    now: number,
  ): Promise<Record<string, unknown> | undefined> {
    const { seal } = await this.derived();
    try {
      const { payload, protectedHeader } = await jwtDecrypt(value, seal, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
        currentDate: new Date(now * 1000),
        requiredClaims: ['exp'],
      });
      return protectedHeader.cookie === name ? payload : undefined;
    } catch {
      return undefined;
    }
  }

  /** A form's CSRF token: bound to what the form acts on (`purpose`, e.g. a transaction). */
  async csrfToken(purpose: string): Promise<string> {
    const { csrf } = await this.derived();
    return createHmac('sha256', csrf).update(purpose, 'utf8').digest('base64url');
  }

  /** Constant-time check of a presented CSRF token. */
  async csrfMatches(purpose: string, presented: string | null | undefined): Promise<boolean> {
    if (typeof presented !== 'string') return false;
    const expected = Buffer.from(await this.csrfToken(purpose), 'utf8');
    const given = Buffer.from(presented, 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
