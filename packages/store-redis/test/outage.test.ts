/**
 * How calls behave while the store's Redis is down (stopped with its own command, then started
 * again): a call is sent at once or not at all — never held and sent seconds later with a stale
 * `now` — and waiting callers do not pile listeners onto the client.
 */
import { StoreUnavailableError } from '@tickwork/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';

const base = Date.parse('2030-03-04T10:00:00.000Z');
const at = (ms: number) => new Date(base + ms);

describe('while Redis is down', () => {
  let redis: PrivateRedis;
  const stores: RedisStore[] = [];
  const open = (prefix: string) => {
    const store = createRedisStore({ url: redis.url, prefix });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await redis.start().catch(() => undefined);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a claim made after the connection was lost fails as unavailable and is not sent once Redis is back', async () => {
    const store = open('down1');
    await store.ping();
    await redis.shutdown();
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);

    const claim = store.claimSlots(
      [{ code: 'late', key: '', slotAt: at(0), attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 30_000 }],
      { runnerId: 'r', now: at(0) },
    );
    const settled = claim.then(
      () => 'claimed',
      (error: unknown) => error,
    );
    await redis.start();
    const refused = await settled;
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).message).toContain('the command was not sent');

    // Redis answers again: the claim above never reached it.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await store.ping();
        break;
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect((await store.queryRuns({ code: 'late' })).runs).toEqual([]);
  });

  it('many calls waiting for the connection share one wait: no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      await redis.shutdown();
      const store = open('down2');
      // 30 calls before the first connection exists (as a daemon's first tick of 50 jobs makes).
      const calls = Array.from({ length: 30 }, (_, i) =>
        store.ensureStates([{ code: `job${i}`, key: '' }], at(0)).then(
          () => 'ok',
          (error: unknown) => error,
        ),
      );
      const results = await Promise.all(calls);
      for (const result of results) expect(result).toBeInstanceOf(StoreUnavailableError);
      await redis.start();
      const again = await Promise.all(Array.from({ length: 30 }, (_, i) => store.ensureStates([{ code: `job${i}`, key: '' }], at(0))));
      expect(again).toHaveLength(30);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
