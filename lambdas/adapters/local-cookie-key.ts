import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CookieKeySource } from '../core/ports.js';

/**
 * The local server's cookie key: 32 random bytes generated on first start and kept (mode 0600)
 * in the data folder, so sign-ins survive a restart; without a data folder it lives as long as
 * the process.
 */
export class LocalCookieKey implements CookieKeySource {
  private constructor(private readonly secret: Uint8Array) {}

  static create(dataDir?: string): LocalCookieKey {
    if (dataDir === undefined) return new LocalCookieKey(randomBytes(32));
    const file = join(dataDir, 'cookie-key');
    if (existsSync(file)) return new LocalCookieKey(readFileSync(file));
    const secret = randomBytes(32);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return new LocalCookieKey(secret);
  }

  async key(): Promise<Uint8Array> {
    return this.secret;
  }
}
