import { StoreUnavailableError } from '@tickwork/core';
import type { Lease, StoreChange } from '@tickwork/core/store';
import { scheduleInput } from '@tickwork/store-conformance';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { adminClient, deletePrefix, randomPrefix, REDIS_URL } from './redis-fixture.js';

const base = Date.parse('2030-01-07T00:00:00.000Z');
const at = (ms: number) => new Date(base + ms);

/** Kills this store's connections (named after its prefix) and only those; returns how many. */
async function killConnections(admin: Redis, prefix: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=tickwork:${prefix}:`))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids.length;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('connection loss and recovery', () => {
  let admin: Redis;
  let prefix: string;
  let store: RedisStore;
  let other: RedisStore;
  beforeEach(async () => {
    admin = await adminClient();
    prefix = randomPrefix('kill');
    store = createRedisStore({ url: REDIS_URL, prefix });
    other = createRedisStore({ url: REDIS_URL, prefix });
  });
  afterEach(async () => {
    await store.close();
    await other.close();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('CLIENT KILL of the store connections mid-use loses no run log, and the subscription resumes', async () => {
    const received: StoreChange[] = [];
    await store.subscribe((change) => received.push(change));
    const claimed = new Map<string, Lease>();
    const completed = new Set<string>();
    const failures: unknown[] = [];
    let killed = 0;
    const kills: Promise<void>[] = [];
    await other.upsertSchedules(
      Array.from({ length: 6 }, (_, i) => scheduleInput({ code: 'flaky', key: `k${i}` })),
      at(0),
    );

    for (let i = 0; i < 60; i += 1) {
      // Not awaited: the kill lands while the next claim is being sent or answered.
      if (i === 20 || i === 40)
        kills.push(
          killConnections(admin, prefix).then((n) => {
            killed += n;
          }),
        );
      const ref = { code: 'flaky', key: `k${i % 6}` };
      // A runner retries a store call that failed as unavailable: the claim is idempotent per slot.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        try {
          const [outcome] = await store.claimSlots(
            [{ ...ref, slotAt: at(i * 1_000), attempt: 1, trigger: 'schedule', overlap: 'allowAll', leaseMs: 60_000 }],
            { runnerId: 'r', now: at(i * 1_000) },
          );
          if (outcome?.status === 'claimed') claimed.set(outcome.run.id, outcome.lease);
          break;
        } catch (error) {
          failures.push(error);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }
    await Promise.all(kills);
    expect(killed).toBeGreaterThanOrEqual(4);
    for (const error of failures) expect(error).toBeInstanceOf(StoreUnavailableError);

    for (const [id, lease] of claimed) {
      for (let attempt = 0; attempt < 20 && !completed.has(id); attempt += 1) {
        try {
          const [answer] = await store.completeRuns([{ lease, status: 'succeeded', finishedAt: at(100_000) }]);
          if (answer) completed.add(id);
        } catch (error) {
          expect(error).toBeInstanceOf(StoreUnavailableError);
        }
      }
    }

    // Every slot was claimed by someone, exactly once, and every claimed run is in the log.
    const runs = (await other.queryRuns({ code: 'flaky', limit: 1000 })).runs;
    expect(runs).toHaveLength(60);
    for (const id of claimed.keys()) expect((await other.getRun(id))?.status).toBe('succeeded');

    // The subscription came back after the kill: a change made now still arrives.
    await killConnections(admin, prefix);
    let delivered = false;
    for (let attempt = 0; attempt < 5 && !delivered; attempt += 1) {
      await other.setPaused({ code: 'after-kill', key: '' }, attempt % 2 === 0, { now: at(200_000 + attempt) }).catch((error: unknown) => {
        expect(error).toBeInstanceOf(StoreUnavailableError);
      });
      delivered = await until(() => received.some((change) => change.code === 'after-kill'), 1_000);
    }
    expect(delivered).toBe(true);
  });

  it('a store whose Redis is unreachable fails each call with StoreUnavailableError within the command timeout and writes nothing', async () => {
    const down = createRedisStore({ url: 'redis://127.0.0.1:1', prefix, commandTimeoutMs: 1_000 });
    try {
      await expect(down.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(down.getStates()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await down.close();
    }
    // The same prefix through a reachable endpoint: nothing was written by the failed calls.
    expect(await store.getStates()).toEqual([]);
  });
});
