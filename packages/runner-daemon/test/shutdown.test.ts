import { createMemoryStore, defineJob, type Logger, type RunContext } from '@tickwork/core';
import { decorateStore } from '@tickwork/core/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROUNDS_SETTLE_MS } from '../src/daemon.js';
import { createDaemon } from '../src/index.js';
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

  it('waits for a periodic round stuck on a store that never answers at most ROUNDS_SETTLE_MS, then closes the store and resolves', async () => {
    fakeTime(new Date(START.getTime() + 1_000));
    const warnings: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (_fields, msg) => void warnings.push(msg ?? ''),
      error: (_fields, msg) => void warnings.push(msg ?? ''),
      child: () => logger,
    };
    let closed = false;
    let stuck = false;
    const open = async () => {
      const store = decorateStore(createMemoryStore(), {
        // The dead-man round's call never answers (a connection that went silent).
        replace: {
          claimOverdue: () => {
            stuck = true;
            return new Promise<never>(() => undefined);
          },
        },
      });
      store.close = async () => {
        closed = true;
      };
      return store;
    };
    const job = defineJob({ code: 'quiet', schedule: '0 0 1 1 *', run: () => undefined });
    const daemon = createDaemon(
      { jobs: [job], store: open },
      { clock: { now: () => new Date() }, logger, runnerId: 'd1', overdueIntervalMs: 100 },
    );
    await advance(0);
    await daemon.ready;
    await advance(100);
    expect(stuck).toBe(true);
    let stopped = false;
    void daemon.stop().then(() => (stopped = true));
    await advance(ROUNDS_SETTLE_MS - 1);
    expect([stopped, closed]).toEqual([false, false]);
    await advance(1);
    expect([stopped, closed]).toEqual([true, true]);
    expect(warnings).toEqual(['periodic store work still in flight at shutdown: closing the store under it']);
  });
});
