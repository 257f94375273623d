import { defineJob, type RunContext } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { advance, fakeTime, START, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('maxRuns', () => {
  it('two daemons run a job limited to 3 runs exactly 3 times, then plan nothing for it', async () => {
    fakeTime();
    const slots: number[] = [];
    const job = defineJob({
      code: 'thrice',
      schedule: '*/10 * * * * *',
      maxRuns: 3,
      run: (ctx: RunContext) => void slots.push(ctx.slot.getTime()),
    });
    const other = defineJob({ code: 'other', schedule: '*/10 * * * * *', run: () => undefined });
    const { daemons, store } = await startDaemons(2, [job, other]);
    await advance(90_000);
    const inspected = daemons.map((d) => d?.loadedSchedule({ code: 'thrice', key: '' }));
    await stopAll(daemons);
    expect(slots).toEqual([0, 10_000, 20_000].map((ms) => START.getTime() + ms));
    expect((await store.queryRuns({ code: 'thrice' })).runs).toHaveLength(3);
    expect((await store.getStates([{ code: 'thrice', key: '' }]))[0]).toMatchObject({ scheduledRuns: 3, totalRuns: 3 });
    // The other job kept its cadence; the ended one is due nowhere.
    expect((await store.queryRuns({ code: 'other', limit: 100 })).runs.length).toBeGreaterThanOrEqual(9);
    for (const entry of inspected) expect(entry?.nextDueAt ?? null).toBeNull();
  });
});
