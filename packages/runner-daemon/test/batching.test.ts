import { createMemoryStore, defineJob, every, silentLogger, type RunContext, type Store } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon } from '../src/index.js';
import { advance, fakeTime, START, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Counts the calls (not the items) that reach the store. */
function counting(store: Store): { store: Store; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

describe('store round trips', () => {
  it('claims all slots of one instant in one call and records their results in one batch', async () => {
    fakeTime(new Date(START.getTime() + 30_000));
    const jobs = Array.from({ length: 200 }, (_, i) => defineJob({ code: `at-once-${i}`, schedule: '* * * * *', run: () => undefined }));
    const { store, calls } = counting(createMemoryStore());
    const daemon = createDaemon({ jobs, store }, { clock: { now: () => new Date() }, logger: silentLogger, maxConcurrentRuns: 500 });
    await advance(0);
    await daemon.ready;
    await advance(31_000); // the start-up catch-up of 10:00 and the 10:01 instant
    await stopAll([daemon]);
    const { runs } = await store.queryRuns({ status: 'succeeded', limit: 1000 });
    expect(runs).toHaveLength(400);
    expect(calls.get('claimSlots')).toBe(2);
    expect(calls.get('completeRuns')).toBe(2);
  });
});

describe('pre-claiming next to a long run', () => {
  it('waits for its own still-running run instead of turning the next slot into an overlap skip', async () => {
    fakeTime(new Date(START.getTime() + 5_000));
    const slots: number[] = [];
    const job = defineJob({
      code: 'long',
      schedule: every('10s'),
      run: async (ctx: RunContext) => {
        slots.push(ctx.slot.getTime());
        // Ends 200 ms before the next slot: after the 500 ms pre-claim point, before the instant.
        await new Promise((resolve) => setTimeout(resolve, 9_800 - (Date.now() - ctx.slot.getTime())));
      },
    });
    const { daemons, store } = await startDaemons(1, [job]);
    await advance(34_000);
    await stopAll(daemons);
    expect(slots).toEqual([0, 1, 2, 3].map((i) => START.getTime() + i * 10_000));
    const { runs } = await store.queryRuns({ code: 'long', status: 'skipped' });
    expect(runs).toEqual([]);
  });
});
