import { defineJob, type RunContext } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { advance, fakeTime, START, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('failures', () => {
  it('a failed run is retried after retryAfterFailure as attempt 2 of the same slot', async () => {
    fakeTime();
    const attempts: Array<{ slot: number; attempt: number; at: number }> = [];
    const job = defineJob({
      code: 'flaky',
      schedule: '* * * * *',
      retryAfterFailure: '5s',
      run: (ctx: RunContext) => {
        attempts.push({ slot: ctx.slot.getTime(), attempt: ctx.attempt, at: Date.now() });
        if (ctx.attempt === 1) throw new Error('first attempt fails');
      },
    });
    const { daemons, store } = await startDaemons(2, [job]);
    await advance(60_000 + 10_000);
    await stopAll(daemons);
    expect(attempts).toEqual(
      [START.getTime(), START.getTime() + 60_000].flatMap((slot) => [
        { slot, attempt: 1, at: slot },
        { slot, attempt: 2, at: slot + 5_000 },
      ]),
    );
    const { runs } = await store.queryRuns({ code: 'flaky' });
    expect(runs.map((r) => `${r.attempt}:${r.status}`).sort()).toEqual(['1:failed', '1:failed', '2:succeeded', '2:succeeded']);
  });

  it('a handler that ignores its signal keeps its lease and capacity until it settles, then is recorded timed_out; the daemon stays healthy', async () => {
    fakeTime();
    const slots: number[] = [];
    let settle: () => void = () => undefined;
    const stuck = defineJob({
      code: 'stuck',
      schedule: '* * * * *',
      timeout: '2s',
      run: () => new Promise<void>((resolve) => (settle = resolve)), // ignores its signal
    });
    const alive = defineJob({ code: 'alive', schedule: '*/10 * * * * *', run: (ctx: RunContext) => void slots.push(ctx.slot.getTime()) });
    const { daemons, store } = await startDaemons(1, [stuck, alive]);
    await advance(60_000 + 3_000);
    // Past its timeout, still going: it holds its lease, so the next minute's slot was skipped, not run beside it.
    const { runs } = await store.queryRuns({ code: 'stuck' });
    expect(runs.map((r) => r.status)).toEqual(['skipped', 'running']);
    const health = await (daemons[0] as NonNullable<(typeof daemons)[0]>).health();
    expect(health.ok).toBe(true);
    expect(health.running).toBe(1);
    settle();
    await advance(20_000);
    await stopAll(daemons);
    expect((await store.queryRuns({ code: 'stuck' })).runs.map((r) => r.status)).toEqual(['skipped', 'timed_out']);
    expect(slots.filter((s) => s > START.getTime() + 63_000)).toHaveLength(2);
  });
});
