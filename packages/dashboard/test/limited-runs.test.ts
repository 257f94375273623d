import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, createMemoryStore, defineJob, every, runDue } from '@tickwork/core';
import { startHarness, type Harness } from './support.js';

describe('a job with maxRuns on the job page', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('shows its runs left, then that it ended, and the limit among its options', async () => {
    const clock = createFakeClock('2026-06-01T10:00:05Z');
    const store = createMemoryStore();
    const jobs = [defineJob({ code: 'twice', schedule: every('1m'), maxRuns: 2, run: async () => undefined })];
    h = await startHarness({ store, clock, jobs });
    const viewer = await h.client('viewer');
    const read = async () => ((await viewer.json('GET', 'api/jobs/twice')) as { body: any }).body;
    expect((await read()).job).toMatchObject({ maxRuns: 2, remainingRuns: 2, scheduledRuns: 0 });
    expect((await read()).options).toMatchObject({ maxRuns: 2 });
    await runDue({ jobs, store, clock });
    expect((await read()).job).toMatchObject({ remainingRuns: 1, scheduledRuns: 1 });
    clock.advance(60_000);
    await runDue({ jobs, store, clock });
    clock.advance(60_000);
    expect((await runDue({ jobs, store, clock })).results.map((r) => r.outcome)).toEqual(['ended']);
    const ended = await read();
    expect(ended.job).toMatchObject({ remainingRuns: 0, scheduledRuns: 2, totalRuns: 2, nextRun: null });
  });
});
