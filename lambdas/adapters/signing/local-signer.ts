import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import type { PublishedKey, Signer } from '../../core/signing/ports.js';
import { keptInDataFolder } from '../data-folder.js';
import { publishedKey } from './published-key.js';

export type LocalAlg = 'RS256' | 'ES256';

function generate(alg: LocalAlg): KeyObject {
  return alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/**
 * A JOSE-form signature (RS256, or ES256 as r||s) with a private key held in memory, computed
 * on libuv's thread pool so that it does not block the event loop.
 */
export function signWith(privateKey: KeyObject, signingInput: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign(
      'sha256',
      signingInput,
      { key: privateKey, dsaEncoding: 'ieee-p1363' },
      (error, signature) => (error ? reject(error) : resolve(signature)),
    );
  });
}

/**
 * The local mode's signer: a key generated on first start and kept (PKCS#8, mode 0600) in the
 * data folder; without a data folder the key lives only as long as the process. Signing runs
 * on libuv's thread pool, so it does not block the event loop.
 */
export class LocalSigner implements Signer {
  private readonly published: Promise<PublishedKey>;
  private readonly publishedList: Promise<readonly PublishedKey[]>;

  private constructor(
    private readonly privateKey: KeyObject,
    readonly alg: LocalAlg,
  ) {
    this.published = publishedKey(createPublicKey(privateKey), alg);
    this.publishedList = this.published.then((key) => [key]);
  }

  static create(alg: LocalAlg, dataDir?: string): LocalSigner {
    if (dataDir === undefined) return new LocalSigner(generate(alg), alg);
    const pem = keptInDataFolder(dataDir, `signing-key-${alg.toLowerCase()}.pem`, () =>
      generate(alg).export({ format: 'pem', type: 'pkcs8' }),
    );
    return new LocalSigner(createPrivateKey(pem), alg);
  }

  activeKey(): Promise<PublishedKey> {
    return this.published;
  }

  publishedKeys(): Promise<readonly PublishedKey[]> {
    return this.publishedList;
  }

  async sign(signingInput: Buffer, kid?: string): Promise<Buffer> {
    if (kid !== undefined && kid !== (await this.published).kid) {
      throw new Error(`not the active key: ${kid}`);
    }
    return signWith(this.privateKey, signingInput);
  }
}
