import { defineJob, type RunContext } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { advance, fakeTime, START, startDaemons } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('stop()', () => {
  it('stops claiming, lets a handler finish within the grace period, then resolves done', async () => {
    fakeTime(new Date(START.getTime() + 1_000));
    const finished: string[] = [];
    const job = defineJob({
      code: 'steady',
      schedule: '* * * * *',
      run: async (ctx: RunContext) => {
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        finished.push(ctx.slot.toISOString());
      },
    });
    const { daemons, store } = await startDaemons(1, [job], { shutdownGraceMs: 10_000 });
    const daemon = daemons[0] as NonNullable<(typeof daemons)[0]>;
    await advance(59_500);
    let done = false;
    void daemon.done.then(() => (done = true));
    const stopped = daemon.stop();
    await advance(2_000);
    expect(done).toBe(false);
    await advance(1_000);
    await stopped;
    expect(done).toBe(true);
    expect(finished).toEqual([START.toISOString(), new Date(START.getTime() + 60_000).toISOString()]);
    await advance(120_000);
    const { runs } = await store.queryRuns({ code: 'steady' });
    // The start-up catch-up slot (START) and the 10:01 slot; nothing claimed after stop.
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('aborts a handler still running after the grace period; one ignoring its signal is abandoned 5 s later, recorded interrupted', async () => {
    fakeTime(new Date(START.getTime() + 1_000));
    let sawAbort = false;
    const job = defineJob({
      code: 'endless',
      schedule: '0 0 1 1 *',
      run: (ctx: RunContext) =>
        new Promise<void>(() => {
          ctx.signal.addEventListener('abort', () => (sawAbort = true));
        }),
    });
    const { daemons, store } = await startDaemons(1, [job], { shutdownGraceMs: 2_000 });
    const daemon = daemons[0] as NonNullable<(typeof daemons)[0]>;
    await store.requestRun({ code: 'endless', key: '' }, { now: new Date() });
    await advance(500);
    const [running] = (await store.queryRuns({ code: 'endless' })).runs;
    expect(running?.status).toBe('running');
    const stopped = daemon.stop();
    await advance(1_900);
    expect(sawAbort).toBe(false);
    await advance(200);
    expect(sawAbort).toBe(true);
    // It ignores the abort: it keeps its lease until the daemon gives it up as it exits.
    expect((await store.queryRuns({ code: 'endless' })).runs[0]?.status).toBe('running');
    await advance(5_000);
    await stopped;
    const [run] = (await store.queryRuns({ code: 'endless' })).runs;
    expect(run?.status).toBe('interrupted');
    expect(run?.error).toMatch(/shutdown/);
  });
});
