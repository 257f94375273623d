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

  /**
   * Ten minute jobs whose handlers take `handlerMs` (fake time), `maxConcurrentRuns` 2, the default
   * 500 ms lead: the start-up catch-up runs each once (so its handler time is known), then the next
   * minute's ten slots. Counts what the claims took while handlers ran and at most at once.
   */
  async function burst(handlerMs: number) {
    fakeTime();
    let running = 0;
    let peakRunning = 0;
    // Slots claimed whose handler has not settled yet: what holds this daemon's capacity.
    let held = 0;
    const ran: string[] = [];
    const jobs = Array.from({ length: 10 }, (_, i) =>
      defineJob({
        code: `job-${i}`,
        schedule: '* * * * *',
        run: async (ctx: RunContext) => {
          running++;
          peakRunning = Math.max(peakRunning, running);
          ran.push(ctx.code);
          await new Promise((resolve) => setTimeout(resolve, handlerMs));
          running--;
          held--;
        },
      }),
    );
    const memory = createMemoryStore();
    let peakHeld = 0;
    let claimsDuringRuns = 0;
    /** Slots claimed per call after the catch-up. */
    const later: number[] = [];
    let caughtUp = false;
    const counted = new Proxy(memory, {
      get(target, property) {
        if (property === 'claimSlots') {
          return async (...args: Parameters<Store['claimSlots']>) => {
            if (running > 0) claimsDuringRuns++;
            const outcomes = await target.claimSlots(...args);
            const claimed = outcomes.filter((o) => o.status === 'claimed').length;
            held += claimed;
            peakHeld = Math.max(peakHeld, held);
            if (caughtUp) later.push(claimed);
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
    // The catch-up: ten runs through two places.
    await advance(10 * handlerMs + 1_000);
    expect(ran).toHaveLength(10);
    caughtUp = true;
    peakHeld = 0;
    const duringCatchUp = claimsDuringRuns;
    await advance(60_000 + 10 * handlerMs);
    await stopAll([daemon]);
    expect(ran).toHaveLength(20);
    expect(peakRunning).toBe(2);
    return { peakHeld, claimsDuringRuns: claimsDuringRuns - duringCatchUp, later };
  }

  it('claims a whole burst of quick handlers ahead of its instant, still running at most maxConcurrentRuns at once', async () => {
    // 20 ms handlers, two places, a 500 ms lead: the budget (2 × 500 ms) holds all ten, claimed in
    // waves of two (one per wake) before the first handler starts.
    const { peakHeld, claimsDuringRuns, later } = await burst(20);
    expect(later).toEqual([2, 2, 2, 2, 2]);
    expect(claimsDuringRuns).toBe(0);
    expect(peakHeld).toBe(10);
  });

  it('claims the next slots while a wave runs when the burst exceeds the budget', async () => {
    // 300 ms handlers: three fit the 1,000 ms budget (a wave of two, then one); each settled handler
    // frees room for the next claim.
    const { peakHeld, claimsDuringRuns, later } = await burst(300);
    expect(later.slice(0, 2)).toEqual([2, 1]);
    expect(later.reduce((a, b) => a + b, 0)).toBe(10);
    expect(claimsDuringRuns).toBeGreaterThan(0);
    expect(peakHeld).toBe(3);
  });

  it('never claims past its capacity for handlers longer than the lead', async () => {
    // 600 ms handlers (longer than the 500 ms lead) cost a whole place each: two held at most.
    const { peakHeld, later } = await burst(600);
    expect(later.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...later)).toBeLessThanOrEqual(2);
    expect(peakHeld).toBe(2);
  });

  it('a daemon just started claims quick handlers ahead from what their states say of their last runs', async () => {
    fakeTime(new Date('2026-03-02T10:00:30.000Z'));
    const instant = Date.parse('2026-03-02T10:01:00.000Z');
    const memory = createMemoryStore();
    const started: number[] = [];
    const jobs = Array.from({ length: 10 }, (_, i) =>
      defineJob({ code: `job-${i}`, schedule: '* * * * *', run: () => void started.push(Date.now()) }),
    );
    // The daemon before this one ran each job's 10:00 slot, and finished 5 ms after the slot.
    const slotAt = new Date('2026-03-02T10:00:00.000Z');
    const outcomes = await memory.claimSlots(
      jobs.map((job) => ({ code: job.code, key: '', slotAt, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 60_000 })),
      { runnerId: 'before', now: slotAt },
    );
    const finishedAt = new Date(slotAt.getTime() + 5);
    await memory.completeRuns(
      outcomes.map((outcome) => {
        if (outcome.status !== 'claimed') throw new Error(`expected claimed, got ${outcome.status}`);
        return { lease: outcome.lease, status: 'succeeded' as const, finishedAt };
      }),
    );
    // Slots claimed before 10:01, per claim call.
    const ahead: number[] = [];
    const counted = new Proxy(memory, {
      get(target, property) {
        if (property === 'claimSlots') {
          return async (...args: Parameters<Store['claimSlots']>) => {
            const result = await target.claimSlots(...args);
            if (Date.now() < instant) ahead.push(result.filter((o) => o.status === 'claimed').length);
            return result;
          };
        }
        return Reflect.get(target, property) as unknown;
      },
    }) as Store;
    const daemon = createDaemon(
      { jobs, store: counted },
      { clock: { now: () => new Date() }, logger: silentLogger, maxConcurrentRuns: 2, pollIntervalMs: 100, preClaimMs: 500 },
    );
    await advance(0);
    await daemon.ready;
    await advance(31_000);
    await stopAll([daemon]);
    // All ten of 10:01 claimed in waves of two before it (without the states' figure: two, a whole place each).
    expect(ahead).toEqual([2, 2, 2, 2, 2]);
    expect(started).toEqual(Array.from({ length: 10 }, () => instant));
  });
});
