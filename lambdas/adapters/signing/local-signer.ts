import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { availableParallelism } from 'node:os';
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
 * Where a signature is computed. On libuv's thread pool (`offload`) it runs on another core
 * while the event loop serves other requests: worth it where there are both. With one core (a
 * pinned process, a Lambda function of up to 1,769 MB) or one request at a time (a Lambda
 * container), nothing runs meanwhile, and the hand-off costs CPU (about 40 µs a signature for
 * ES256, 60 µs for RS256, measured) and latency; computed inline, a signature also never queues
 * behind the pool's file, DNS or zlib work.
 */
export interface SigningPlace {
  readonly offload: boolean;
}

/** The local server: on the thread pool when the process may use more than one core. */
export const localSigningPlace = (): SigningPlace => ({ offload: availableParallelism() > 1 });

/** A JOSE-form signature (RS256, or ES256 as r||s) with a private key held in memory. */
export async function signWith(
  privateKey: KeyObject,
  signingInput: Buffer,
  { offload }: SigningPlace,
): Promise<Buffer> {
  const options = { key: privateKey, dsaEncoding: 'ieee-p1363' } as const;
  if (!offload) return sign('sha256', signingInput, options);
  return new Promise((resolve, reject) => {
    sign('sha256', signingInput, options, (error, signature) =>
      error ? reject(error) : resolve(signature),
    );
  });
}

/**
 * The local mode's signer: a key generated on first start and kept (PKCS#8, mode 0600) in the
 * data folder; without a data folder the key lives only as long as the process. Signing runs
 * where `place` says (by default on the thread pool when the process has more than one core).
 */
export class LocalSigner implements Signer {
  private readonly published: Promise<PublishedKey>;
  private readonly publishedList: Promise<readonly PublishedKey[]>;

  private constructor(
    private readonly privateKey: KeyObject,
    readonly alg: LocalAlg,
    private readonly place: SigningPlace,
  ) {
    this.published = publishedKey(createPublicKey(privateKey), alg);
    this.publishedList = this.published.then((key) => [key]);
  }

  static create(
    alg: LocalAlg,
    dataDir?: string,
    place: SigningPlace = localSigningPlace(),
  ): LocalSigner {
    if (dataDir === undefined) return new LocalSigner(generate(alg), alg, place);
    const pem = keptInDataFolder(dataDir, `signing-key-${alg.toLowerCase()}.pem`, () =>
      generate(alg).export({ format: 'pem', type: 'pkcs8' }),
    );
    return new LocalSigner(createPrivateKey(pem), alg, place);
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
    return signWith(this.privateKey, signingInput, this.place);
  }
}
