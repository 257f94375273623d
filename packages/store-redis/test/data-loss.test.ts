/**
 * A Redis that restarts without persistence loses every key. Runners keep what they held
 * before (leases, schedule versions, request ids): nothing issued after the loss may be
 * mistaken for it. Each test restarts its own private redis-server with its own command.
 */
import type { Lease, SlotClaim } from '@tickwork/core/store';
import { scheduleInput } from '@tickwork/store-conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';

const base = Date.parse('2030-03-04T10:00:00.000Z');
const at = (ms: number) => new Date(base + ms);
const claim = (slot: number, key = ''): SlotClaim => ({
  code: 'lossy',
  key,
  slotAt: at(slot * 1_000),
  attempt: 1,
  trigger: 'schedule',
  overlap: 'allowAll',
  leaseMs: 60_000,
});

async function claimAll(store: RedisStore, slots: number[]): Promise<Lease[]> {
  const outcomes = await store.claimSlots(
    slots.map((slot) => claim(slot)),
    { runnerId: 'r', now: at((slots[0] as number) * 1_000) },
  );
  return outcomes.map((outcome) => {
    if (outcome.status !== 'claimed') throw new Error(`expected claimed, got ${outcome.status}`);
    return outcome.lease;
  });
}

/** Calls `work` until the store answers again after a restart (its client reconnects with backoff). */
async function whenBack<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('after Redis lost its data (restart without persistence)', () => {
  let redis: PrivateRedis;
  let store: RedisStore;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it('fencing tokens and run ids keep increasing, so a lease held from before the loss fences nothing issued after it', async () => {
    store = createRedisStore({ url: redis.url, prefix: 'loss1' });
    const before = await claimAll(store, [1, 2, 3]);
    await redis.shutdown();
    await redis.start();
    const after = await whenBack(() => claimAll(store, [11, 12, 13, 14]));

    const oldTokens = before.map((lease) => lease.token);
    for (const lease of after) expect(lease.token).toBeGreaterThan(Math.max(...oldTokens));
    expect(after.map((lease) => lease.runId).filter((id) => before.some((old) => old.runId === id))).toEqual([]);

    // The pre-loss runner still holds run 3's lease: it renews and completes nothing of the new runs.
    const held = before[2] as Lease;
    expect(await store.renewLeases([held], { now: at(20_000), leaseMs: 60_000 })).toEqual([null]);
    const [completion] = await store.completeRuns([{ lease: held, status: 'succeeded', finishedAt: at(20_000) }]);
    expect(completion?.status).toBe('stale');
    for (const lease of after) expect((await store.getRun(lease.runId))?.status).toBe('running');
    const [mine] = await store.completeRuns([{ lease: after[2] as Lease, status: 'succeeded', finishedAt: at(21_000) }]);
    expect(mine?.status).toBe('completed');
  });

  it('schedule versions and run-now request ids are never reused, and the schedules revision moves', async () => {
    store = createRedisStore({ url: redis.url, prefix: 'loss2' });
    const [old] = await store.upsertSchedules(
      [scheduleInput({ code: 'lossy', key: 'tenant' }, { schedule: { kind: 'cron', expression: '*/5 * * * *' } })],
      at(0),
    );
    const oldRequest = await store.requestRun({ code: 'lossy', key: '' }, { now: at(0) });
    const oldRevision = await store.schedulesRevision();
    await redis.shutdown();
    await redis.start();

    // A daemon still holds the old definition with its version: the revision tells it to re-list,
    // and the re-created schedule (another definition) must not carry the version it holds.
    expect(await whenBack(() => store.schedulesRevision())).not.toBe(oldRevision);
    const [recreated] = await store.upsertSchedules(
      [scheduleInput({ code: 'lossy', key: 'tenant' }, { schedule: { kind: 'cron', expression: '*/7 * * * *' } })],
      at(1_000),
    );
    expect(recreated?.version).toBeGreaterThan(old?.version as number);
    expect(await store.schedulesRevision()).not.toBe(oldRevision);
    const request = await store.requestRun({ code: 'lossy', key: '' }, { now: at(1_000) });
    expect(Number(request.id)).toBeGreaterThan(Number(oldRequest.id));
  });

  it('a runner rebuilds its states by claiming: the state is re-created and counts from the loss', async () => {
    store = createRedisStore({ url: redis.url, prefix: 'loss3' });
    await store.ensureStates([{ code: 'lossy', key: '' }], at(0));
    await store.setPaused({ code: 'lossy', key: '' }, true, { now: at(0), note: 'before the loss' });
    await redis.shutdown();
    await redis.start();
    expect(await whenBack(() => store.getStates())).toEqual([]);
    const [state] = await store.ensureStates([{ code: 'lossy', key: '' }], at(5_000));
    expect(state).toMatchObject({ paused: false, createdAt: at(5_000), totalRuns: 0 });
    const [lease] = await claimAll(store, [6]);
    expect(lease).toBeDefined();
    expect((await store.getStates([{ code: 'lossy', key: '' }]))[0]?.totalRuns).toBe(1);
  });
});
