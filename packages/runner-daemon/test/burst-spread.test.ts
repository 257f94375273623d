import { defineJob, type RunContext } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runnerSeed, scheduleId, scheduleRank } from '../src/schedule-entry.js';
import { advance, fakeTime, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('a burst shared by daemons', () => {
  /** 200 minute jobs with handlers that return at once, on two daemons of `maxConcurrentRuns` 50: who ran the judged instant's slots. */
  async function judgedInstant() {
    fakeTime();
    const ran: { runner: string; code: string; slot: number }[] = [];
    const jobs = Array.from({ length: 200 }, (_, i) =>
      defineJob({
        code: `job-${i}`,
        schedule: '* * * * *',
        run: (ctx: RunContext) => void ran.push({ runner: ctx.runnerId, code: ctx.code, slot: ctx.slot.getTime() }),
      }),
    );
    // A lead at the adaptive lead's cap: both daemons wake at the same fake instant, whatever real
    // time their loads and claims took (the adaptive part measures real time).
    const { daemons } = await startDaemons(2, jobs, { maxConcurrentRuns: 50, preClaimMs: 5_000 });
    // The start-up catch-up teaches each daemon its handlers' times; the next instant is judged.
    await advance(61_000);
    const judged = Math.max(...ran.map((r) => r.slot));
    await stopAll(daemons);
    return { jobs, judged: ran.filter((r) => r.slot === judged) };
  }

  it('each of two live daemons claims its half of the circle: the split is the arcs, not the race', async () => {
    const { jobs, judged } = await judgedInstant();
    expect(judged).toHaveLength(200);
    expect(new Set(judged.map((r) => r.code)).size).toBe(200);
    // d1 and d2 are the live runners, so they start at 0 and at half the circle.
    const firstArc = jobs.filter((job) => scheduleRank(scheduleId(job.code, '')) < 2 ** 31).map((job) => job.code);
    const byD1 = judged.filter((r) => r.runner === 'd1').map((r) => r.code);
    expect(byD1.sort()).toEqual(firstArc.sort());
    // Without the listing, each would start at its id's hash: a different split.
    expect(Math.abs(runnerSeed('d1') - runnerSeed('d2'))).not.toBe(2 ** 31);
  });
});
