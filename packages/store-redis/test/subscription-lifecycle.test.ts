import { InvalidArgumentError } from '@tickwork/core';
import type { StoreChange } from '@tickwork/core/store';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import { adminClient, deletePrefix, randomPrefix, REDIS_URL } from './redis-fixture.js';

const now = new Date('2030-01-07T00:00:00.000Z');

async function subscriberCount(admin: Redis, prefix: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=tickwork:${prefix}:changes`)).length;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('subscriptions and text the store cannot hold as is', () => {
  let admin: Redis;
  let prefix: string;
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('sub');
  });
  afterEach(async () => {
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('the last unsubscribe closes the subscriber connection, and subscribe after close() delivers again', async () => {
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      const unsubscribe = await store.subscribe(() => undefined);
      expect(await subscriberCount(admin, prefix)).toBe(1);
      await unsubscribe();
      expect(await until(async () => (await subscriberCount(admin, prefix)) === 0)).toBe(true);

      await store.subscribe(() => undefined);
      await store.close();
      const seen: StoreChange[] = [];
      await store.subscribe((change) => seen.push(change));
      await store.setPaused({ code: 'job', key: '' }, true, { now });
      expect(await until(() => seen.length > 0)).toBe(true);
      expect(seen[0]).toEqual({ type: 'state', code: 'job', key: '' });
    } finally {
      await store.close();
    }
  });

  it('a lone surrogate in a code is refused up front; in free text it is stored as U+FFFD instead of failing the batch', async () => {
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      await expect(store.getStates([{ code: 'bad\uD800', key: '' }])).rejects.toBeInstanceOf(InvalidArgumentError);
      const paused = await store.setPaused({ code: 'job', key: '' }, true, { note: 'cut \uD83D', now });
      expect(paused.pausedNote).toBe('cut \uFFFD');
      const claims = ['a', 'b'].map((code) => ({
        code,
        key: '',
        slotAt: now,
        attempt: 1,
        trigger: 'schedule' as const,
        overlap: 'skip' as const,
        leaseMs: 60_000,
      }));
      const outcomes = await store.claimSlots(claims, { runnerId: 'r', now });
      const leases = outcomes.map((o) => (o.status === 'claimed' ? o.lease : null));
      const done = await store.completeRuns([
        { lease: leases[0]!, status: 'succeeded', finishedAt: now },
        { lease: leases[1]!, status: 'failed', finishedAt: now, error: 'boom \uD83D' },
      ]);
      expect(done.map((d) => d.status)).toEqual(['completed', 'completed']);
      expect(done[1]?.status === 'completed' ? done[1].run.error : null).toBe('boom \uFFFD');
    } finally {
      await store.close();
    }
  });
});
