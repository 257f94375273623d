import { createMemoryStore, createScheduler, defineJob, every, silentLogger } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon } from '../src/index.js';
import { advance, fakeTime, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('start-up load', () => {
  it('a state read failing while the next page is listed fails the load (retried), never an unhandled rejection', async () => {
    fakeTime();
    const job = defineJob({ code: 'report', schedule: null, run: () => {} });
    const inner = createMemoryStore();
    // Two pages of runtime schedules (the load lists 1,000 at a time).
    const scheduler = createScheduler({ jobs: [job], store: inner }).schedules('report');
    for (let k = 0; k < 1_500; k += 500) {
      await scheduler.upsert(Array.from({ length: 500 }, (_, i) => ({ key: `t-${k + i}`, schedule: every('1h') })));
    }
    let statesCalls = 0;
    let listCalls = 0;
    const store: typeof inner = {
      ...inner,
      // The first page's state read fails while the second page is still being listed.
      getStates: async (refs) => {
        statesCalls += 1;
        if (statesCalls === 1) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          throw new Error('connection lost');
        }
        return inner.getStates(refs);
      },
      listSchedules: async (query) => {
        listCalls += 1;
        if (listCalls === 2) await new Promise((resolve) => setTimeout(resolve, 1_000));
        return inner.listSchedules(query);
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const daemon = createDaemon({ jobs: [job], store }, { clock: { now: () => new Date() }, logger: silentLogger });
      for (let i = 0; i < 100 && (await daemon.health()).schedules.runtime < 1_500; i++) await advance(100);
      await advance(0);
      expect(unhandled).toEqual([]);
      expect((await daemon.health()).schedules.runtime).toBe(1_500);
      await stopAll([daemon]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
