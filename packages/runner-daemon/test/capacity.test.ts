import { createMemoryBackend, createMemoryStore, defineJob, every, silentLogger, type RunContext, type Store } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon } from '../src/index.js';
import { advance, fakeTime, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('capacity', () => {
  it('a run-now request filed while a scheduled claim is in flight does not push past maxConcurrentRuns', async () => {
    fakeTime();
    let active = 0;
    let peak = 0;
    const ran: string[] = [];
    const busy = (ctx: RunContext) =>
      new Promise<void>((resolve) => {
        active++;
        ran.push(ctx.code);
        peak = Math.max(peak, active);
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          active--;
          resolve();
        };
        const timer = setTimeout(finish, 3_000);
        ctx.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            finish();
          },
          { once: true },
        );
      });
    const jobs = [
      defineJob({ code: 'tick', schedule: every('10s'), run: busy }),
      defineJob({ code: 'manual', schedule: '0 3 * * *', run: busy }),
    ];
    const backend = createMemoryBackend();
    const memory = createMemoryStore({ backend });
    // Claims take a while to answer: the window in which the run-now path used to ignore the scheduled claim.
    const slow = new Proxy(memory, {
      get(target, property) {
        if (property === 'claimSlots') {
          return (...args: Parameters<Store['claimSlots']>) =>
            new Promise((resolve) => setTimeout(resolve, 300)).then(() => target.claimSlots(...args));
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const daemon = createDaemon(
      { jobs, store: slow },
      { clock: { now: () => new Date() }, logger: silentLogger, maxConcurrentRuns: 1, pollIntervalMs: 100, preClaimMs: 500 },
    );
    await advance(0);
    await daemon.ready;
    await advance(9_600); // the 10 s slot's claim is now in flight
    await createMemoryStore({ backend }).requestRun({ code: 'manual', key: '' }, { now: new Date() });
    await advance(2_000);
    expect(peak).toBe(1);
    await advance(3_000); // the scheduled run ends; the request waited for capacity and runs now
    await stopAll([daemon]);
    expect(peak).toBe(1);
    expect(ran).toContain('manual');
  });

  it('frees a place when a handler settles, while its completion is still being stored', async () => {
    fakeTime();
    const events: string[] = [];
    const jobs = ['a', 'b'].map((code) =>
      defineJob({ code, schedule: '* * * * *', run: (ctx: RunContext) => void events.push(`start ${ctx.code}`) }),
    );
    const memory = createMemoryStore();
    // Completions take 3 s to land: before, the second handler waited for the first one's.
    const slow = new Proxy(memory, {
      get(target, property) {
        if (property === 'completeRuns') {
          return (...args: Parameters<Store['completeRuns']>) =>
            new Promise((resolve) => setTimeout(resolve, 3_000))
              .then(() => target.completeRuns(...args))
              .then((outcomes) => {
                for (const outcome of outcomes) if (outcome.status === 'completed') events.push(`recorded ${outcome.run.code}`);
                return outcomes;
              });
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const daemon = createDaemon(
      { jobs, store: slow },
      { clock: { now: () => new Date() }, logger: silentLogger, maxConcurrentRuns: 1, pollIntervalMs: 100 },
    );
    await advance(0);
    await daemon.ready;
    await advance(60_000 + 10_000);
    await stopAll([daemon]);
    // Start-up catch-up and the next minute: both jobs twice, one handler at a time.
    const starts = events.filter((e) => e.startsWith('start'));
    expect(starts).toHaveLength(4);
    const firstRecorded = events.findIndex((e) => e.startsWith('recorded'));
    expect(events.slice(0, firstRecorded).filter((e) => e.startsWith('start'))).toHaveLength(2);
    expect(events.filter((e) => e.startsWith('recorded'))).toHaveLength(4);
  });

  it('claims the next wave of a burst while the current one runs, holding at most twice its capacity', async () => {
    fakeTime();
    let running = 0;
    let peakRunning = 0;
    // Slots claimed whose handler has not settled yet: what holds this daemon's capacity.
    let held = 0;
    const ran: string[] = [];
    const jobs = Array.from({ length: 10 }, (_, i) =>
      defineJob({
        code: `quick-${i}`,
        schedule: '* * * * *',
        run: async (ctx: RunContext) => {
          running++;
          peakRunning = Math.max(peakRunning, running);
          ran.push(ctx.code);
          await new Promise((resolve) => setTimeout(resolve, 20));
          running--;
          held--;
        },
      }),
    );
    const memory = createMemoryStore();
    let peakHeld = 0;
    let claimsDuringRuns = 0;
    const counted = new Proxy(memory, {
      get(target, property) {
        if (property === 'claimSlots') {
          return async (...args: Parameters<Store['claimSlots']>) => {
            if (running > 0) claimsDuringRuns++;
            const outcomes = await target.claimSlots(...args);
            held += outcomes.filter((o) => o.status === 'claimed').length;
            peakHeld = Math.max(peakHeld, held);
            return outcomes;
          };
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const daemon = createDaemon(
      { jobs, store: counted },
      { clock: { now: () => new Date() }, logger: silentLogger, maxConcurrentRuns: 2, pollIntervalMs: 100 },
    );
    await advance(0);
    await daemon.ready;
    const caughtUp = claimsDuringRuns;
    await advance(60_000 + 5_000);
    await stopAll([daemon]);
    expect(ran).toHaveLength(20);
    expect(peakRunning).toBe(2);
    // Handlers known to be quick (from the catch-up runs): the next claims went out while a wave ran.
    expect(claimsDuringRuns).toBeGreaterThan(caughtUp);
    expect(peakHeld).toBeLessThanOrEqual(4);
  });
});
