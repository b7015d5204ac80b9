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
 * Where a signature is computed. On libuv's thread pool (`offload`) the event loop is free
 * meanwhile: the local server, which serves many connections, signs there. Inline, a signature
 * saves the hand-off (in process, pinned to one core: about 45 µs of CPU a signature for ES256,
 * 60 µs for RS256) and never queues behind the pool's file, DNS or zlib work: the token Lambda
 * function, whose container serves one request at a time, signs inline.
 *
 * The local server keeps the pool even on one core: over HTTP, on a core other processes also
 * use, a server that signs inline never sleeps while it has work, and the kernel's scheduler
 * then gives it only its fair share of the core, while the pool's threads wake and preempt:
 * inline served up to 4× fewer requests/s there (ES256), at no less CPU per request. On a quiet
 * pinned core, inline measured no better than the pool over HTTP either (bench/README.md
 * "Signing on the pool or inline").
 */
export interface SigningPlace {
  readonly offload: boolean;
}

/** A JOSE-form signature (RS256, or ES256 as r||s) with a private key held in memory. */
export function signWith(
  privateKey: KeyObject,
  signingInput: Buffer,
  { offload }: SigningPlace,
): Promise<Buffer> {
  const options = { key: privateKey, dsaEncoding: 'ieee-p1363' } as const;
  // Not an async function: one returning this promise would cost the caller two more ticks.
  return new Promise((resolve, reject) => {
    if (!offload) {
      resolve(sign('sha256', signingInput, options));
      return;
    }
    sign('sha256', signingInput, options, (error, signature) =>
      error ? reject(error) : resolve(signature),
    );
  });
}

/** The local server serves many connections at once: it signs on the thread pool. */
const OFFLOADED: SigningPlace = { offload: true };

/**
 * The local mode's signer: a key generated on first start and kept (PKCS#8, mode 0600) in the
 * data folder; without a data folder the key lives only as long as the process. Signing runs
 * on libuv's thread pool, so it does not block the event loop.
 */
export class LocalSigner implements Signer {
  private readonly published: Promise<PublishedKey>;
  private readonly publishedList: Promise<readonly PublishedKey[]>;
  /** The key's id once published: a signature then checks it without waiting. */
  private kid?: string;

  private constructor(
    private readonly privateKey: KeyObject,
    readonly alg: LocalAlg,
  ) {
    this.published = publishedKey(createPublicKey(privateKey), alg);
    this.publishedList = this.published.then((key) => {
      this.kid = key.kid;
      return [key];
    });
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

  sign(signingInput: Buffer, kid?: string): Promise<Buffer> {
    if (kid === undefined || kid === this.kid) {
      return signWith(this.privateKey, signingInput, OFFLOADED);
    }
    return this.published.then((key) => {
      if (kid !== key.kid) throw new Error(`not the active key: ${kid}`);
      return signWith(this.privateKey, signingInput, OFFLOADED);
    });
  }
}
