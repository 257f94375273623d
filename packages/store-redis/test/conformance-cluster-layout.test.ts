/**
 * The conformance suite on the Cluster key layout (16 shards, one slot per script) against the
 * single test Redis: every script must name each key it touches in KEYS (an undeclared one fails
 * the call), and the shard merges (run log, schedules, requests, states) must answer as one index
 * would. The real Cluster runs the same suite in test/cluster.
 */
import { describeStoreConformance, type StoreFixture } from '@tickwork/store-conformance';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { adminClient, deletePrefix, randomPrefix, REDIS_URL } from './redis-fixture.js';

describeStoreConformance('redis (cluster layout)', async (): Promise<StoreFixture> => {
  const admin = await adminClient();
  const prefix = randomPrefix('clayout');
  return {
    async open(): Promise<RedisStore> {
      return createRedisStore({ url: REDIS_URL, prefix, cluster: true });
    },
    async cleanup(): Promise<void> {
      try {
        await deletePrefix(admin, prefix);
      } finally {
        admin.disconnect();
      }
    },
  };
});
