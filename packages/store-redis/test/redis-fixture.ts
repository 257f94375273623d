import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { StoreFixture, StoreFixtureFactory } from '@tickwork/store-conformance';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';

/** The Redis every test uses. */
export const REDIS_URL = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';

const START_HINT =
  'start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log';

/** A fresh random prefix, so suites and tests never share keys. */
export function randomPrefix(label = 't'): string {
  return `twtest-${label}-${randomBytes(6).toString('hex')}`;
}

/** An admin connection for assertions and cleanup; fails with a how-to-start message when Redis is down. */
export async function adminClient(): Promise<Redis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${(error as Error).message}); ${START_HINT}`);
  }
  return client;
}

/** Deletes every key under `prefix` with SCAN + UNLINK. */
export async function deletePrefix(admin: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await admin.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Every key under `prefix`. */
export async function keysUnder(admin: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

/** One isolated prefix; every `open()` is a separate store with its own connections. */
export const makeRedisFixture: StoreFixtureFactory = async (): Promise<StoreFixture> => {
  const admin = await adminClient();
  const prefix = randomPrefix('conf');
  return {
    async open(): Promise<RedisStore> {
      return createRedisStore({ url: REDIS_URL, prefix });
    },
    async cleanup(): Promise<void> {
      try {
        await deletePrefix(admin, prefix);
      } finally {
        admin.disconnect();
      }
    },
  };
};
