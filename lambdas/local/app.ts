import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDbClientRepository } from '../adapters/dynamodb-client-repository.js';
import { MemoryClientRepository } from '../adapters/memory-client-repository.js';
import { documentClient } from '../aws.js';
import type { Config } from '../config.js';
import { type Clock, systemClock } from '../core/ports.js';
import { createRouter } from '../http/router.js';
import { ENDPOINTS, routesFor } from '../wiring.js';
import { type EmbeddedStore, startEmbeddedStore } from './embedded-store.js';
import { startLocalServer } from './server.js';

export interface LocalAppOptions {
  /** `embedded`: dynalite, on disk under dataDir (in memory without one); `memory`: a Map. */
  readonly store: 'embedded' | 'memory';
  readonly clock?: Clock;
}

export interface LocalApp {
  readonly issuer: string;
  readonly port: number;
  /** The embedded store's DynamoDB endpoint, when there is one. */
  readonly storeEndpoint?: string;
  close(): Promise<void>;
}

/** The whole API on one machine: every Lambda's routes behind one node:http server. */
export async function startLocalApp(config: Config, options: LocalAppOptions): Promise<LocalApp> {
  let store: EmbeddedStore | undefined;
  let repository: MemoryClientRepository | DynamoDbClientRepository;
  if (options.store === 'embedded') {
    const path = config.dataDir && join(config.dataDir, 'dynamodb');
    if (path) mkdirSync(path, { recursive: true });
    store = await startEmbeddedStore(config.tableName, path);
    repository = new DynamoDbClientRepository(documentClient(store.client), config.tableName);
  } else {
    repository = new MemoryClientRepository();
  }
  const clock = options.clock ?? systemClock;
  const router = createRouter(routesFor(ENDPOINTS, { config, repository, clock }));
  const server = await startLocalServer(router, {
    port: config.port,
    ...(config.issuer && { issuer: config.issuer }),
  });
  return {
    issuer: server.issuer,
    port: server.port,
    ...(store && { storeEndpoint: store.endpoint }),
    close: async () => {
      await server.close();
      await store?.close();
    },
  };
}
