/**
 * The store conformance suite against a real Redis Cluster (3 masters, 3 replicas): the store gets
 * an ioredis `Cluster` and picks the Cluster key layout by itself. Every test has its own prefix,
 * deleted on every master afterwards; the cluster goes at the end, also when a test failed.
 */
import { randomBytes } from 'node:crypto';
import { describeStoreConformance, type StoreFixture } from '@tickwork/store-conformance';
import { createRedisStore } from '@tickwork/store-redis';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';

let cluster: RedisCluster;
let admin: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
  admin = cluster.client();
});

afterAll(async () => {
  await cluster?.stop();
});

/** Deletes every key under `prefix` on every master. */
async function deletePrefix(prefix: string): Promise<void> {
  await Promise.all(
    admin.nodes('master').map(async (node) => {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) await node.unlink(key);
      } while (cursor !== '0');
    }),
  );
}

describe('on a Redis Cluster', () => {
  describeStoreConformance(
    'redis cluster',
    async (): Promise<StoreFixture> => {
      const prefix = `twcluster-${randomBytes(6).toString('hex')}`;
      const clients: Cluster[] = [];
      return {
        async open() {
          // Each instance its own Cluster client, as separate processes would have.
          // Timeouts as safety nets: at load 25-30 eight racing clients' connections took over the 5 s default to be ready.
          const client = cluster.client({ slotsRefreshTimeout: 20_000 });
          clients.push(client);
          const store = createRedisStore({ redis: client, prefix, commandTimeoutMs: 60_000 });
          const close = store.close.bind(store);
          store.close = async () => {
            await close();
            client.disconnect();
          };
          return store;
        },
        async cleanup() {
          for (const client of clients) client.disconnect();
          await deletePrefix(prefix);
        },
      };
    },
    { raceInstances: 8 },
  );
});
