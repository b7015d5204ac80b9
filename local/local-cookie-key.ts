import { randomBytes } from 'node:crypto';
import { keptInDataFolder } from '../lambdas/adapters/data-folder.js';
import type { CookieKeySource } from '../lambdas/core/authorization/ports.js';

/**
 * The local server's cookie key: 32 random bytes generated on first start and kept (mode 0600)
 * in the data folder, so sign-ins survive a restart; without a data folder it lives as long as
 * the process.
 */
export class LocalCookieKey implements CookieKeySource {
  private constructor(private readonly secret: Uint8Array) {}

  static create(dataDir?: string): LocalCookieKey {
    if (dataDir === undefined) return new LocalCookieKey(randomBytes(32));
    return new LocalCookieKey(keptInDataFolder(dataDir, 'cookie-key', () => randomBytes(32)));
  }

  async key(): Promise<Uint8Array> {
    return this.secret;
  }
}
