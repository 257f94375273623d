import { describe, expect, it } from 'vitest';
import { checkOverdue } from '../src/entry/runner.js';
import { createMemoryStore, defineJob, every, silentLogger } from '../src/index.js';

// A daemon holding ~125,000+ runtime schedules logged "Maximum call stack size exceeded" at every dead-man
// check: their windows were appended with push(...windows), one call argument each.
describe('the dead-man check with the windows of many runtime schedules', () => {
  it('tells the store 300,000 windows and hands out what is overdue', async () => {
    const job = defineJob({ code: 'report', schedule: every('1m'), run: () => undefined, expectSuccessWithin: '1h' });
    const store = createMemoryStore();
    const windows = Array.from({ length: 300_000 }, (_, i) => ({ code: 'report', key: `tenant-${i}`, expectSuccessWithinMs: 3_600_000 }));
    const claimed = await checkOverdue({ store, now: new Date('2026-03-02T12:00:00.000Z'), jobs: [job], windows, logger: silentLogger });
    // Nothing has run yet, and no state says when a window opened: nothing is overdue.
    expect(claimed).toEqual([]);
  }, 120_000);
});
