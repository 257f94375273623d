import type { StoreChange } from '@tickwork/core/store';
import { scheduleInput } from '@tickwork/store-conformance';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import type { RedisStore } from '../src/store.js';
import { adminClient, deletePrefix, keysUnder, randomPrefix, REDIS_URL } from './redis-fixture.js';

const now = new Date('2030-01-07T00:00:00.000Z');
const ref = { code: 'shared-code', key: 'tenant' };
const claim = { ...ref, slotAt: now, attempt: 1, trigger: 'schedule' as const, overlap: 'skip' as const, leaseMs: 60_000 };

describe('prefix isolation', () => {
  let admin: Redis;
  let prefixes: [string, string];
  let stores: [RedisStore, RedisStore];
  beforeEach(async () => {
    admin = await adminClient();
    prefixes = [randomPrefix('iso-a'), randomPrefix('iso-b')];
    stores = [createRedisStore({ url: REDIS_URL, prefix: prefixes[0] }), createRedisStore({ url: REDIS_URL, prefix: prefixes[1] })];
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const prefix of prefixes) await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('two stores with different prefixes never see each other’s schedules, states, runs, requests or changes', async () => {
    const [a, b] = stores;
    const heardByB: StoreChange[] = [];
    await b.subscribe((change) => heardByB.push(change));
    const heardByA: StoreChange[] = [];
    await a.subscribe((change) => heardByA.push(change));

    await a.upsertSchedules(
      [scheduleInput(ref), scheduleInput({ code: 'other', key: ref.key }), scheduleInput({ code: 'a-only', key: 'k' })],
      now,
    );
    await b.upsertSchedules([scheduleInput(ref)], now);

    await a.setPaused(ref, true, { note: 'only in a', now });
    await a.requestRun(ref, { now });
    const [claimedA] = await a.claimSlots([{ ...claim, code: 'other' }], { runnerId: 'a', now });
    expect(claimedA?.status).toBe('claimed');

    // The same slot is free in b, and b's schedule is not paused.
    const [claimedB] = await b.claimSlots([claim], { runnerId: 'b', now });
    expect(claimedB?.status).toBe('claimed');
    expect((await b.getStates()).map((s) => [s.code, s.paused])).toEqual([['shared-code', false]]);
    expect((await b.listSchedules()).schedules.map((s) => s.code)).toEqual(['shared-code']);
    expect(await b.getSchedules([{ code: 'a-only', key: 'k' }])).toEqual([]);
    expect(await b.removeSchedules([{ code: 'a-only', key: 'k' }])).toEqual([false]);
    expect(await b.pendingRunRequests()).toEqual([]);
    expect((await b.queryRuns()).runs.map((run) => run.runnerId)).toEqual(['b']);
    expect((await a.queryRuns()).runs.map((run) => run.runnerId)).toEqual(['a']);
    if (claimedA?.status === 'claimed') expect(await b.getRun(claimedA.run.id)).toBeNull();

    // b's own change proves its subscription works; a's changes never reached it.
    await b.setPaused({ code: 'b-only', key: '' }, true, { now });
    const deadline = Date.now() + 5_000;
    while (!heardByB.some((c) => c.code === 'b-only') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(heardByB.map((c) => c.code)).toEqual(['shared-code', 'b-only']);
    expect(heardByA.some((c) => c.code === 'b-only')).toBe(false);

    // Every key lives under its own prefix, and a job's keys share its hash tag.
    const keysA = await keysUnder(admin, prefixes[0]);
    expect(keysA.length).toBeGreaterThan(0);
    for (const key of keysA) expect(key).toMatch(new RegExp(`^${prefixes[0]}:(\\{(shared-code|other|a-only)\\}|#):`));
    await a.pruneRuns({ olderThan: new Date(now.getTime() + 3_600_000) });
    expect((await b.queryRuns()).runs).toHaveLength(1);
  });
});
