import { createMemoryStore, defineJob, silentLogger, type Clock, type Store } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { createDaemon } from '../src/index.js';

/** A memory store whose server clock runs `aheadMs` ahead of this machine's. */
function storeAhead(aheadMs: number): { store: Store; started: () => Promise<Date[]> } {
  const memory = createMemoryStore();
  return {
    store: { ...memory, ping: async () => ({ latencyMs: 0, serverTime: new Date(Date.now() + aheadMs) }) },
    started: async () => (await memory.queryRuns()).runs.map((r) => r.startedAt),
  };
}

describe('daemon on the store clock', () => {
  it('corrects the system clock to the store’s, so its runs start at store time', async () => {
    const { store, started } = storeAhead(3_600_000);
    const job = defineJob({ code: 'now', schedule: '0 3 1 1 *', run: () => undefined });
    await store.requestRun({ code: 'now', key: '' }, { now: new Date() });
    const daemon = createDaemon({ jobs: [job], store }, { logger: silentLogger, pollIntervalMs: 50 });
    try {
      await daemon.ready;
      const health = await daemon.health();
      expect(Math.abs(health.clockOffsetMs - 3_600_000)).toBeLessThan(1_000);
      for (let i = 0; i < 100 && (await started()).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      const [startedAt] = await started();
      // Claimed on the store's time: an hour ahead of this machine (margin for a slow machine).
      expect(Math.abs((startedAt?.getTime() ?? 0) - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    } finally {
      await daemon.stop();
    }
  });

  it('corrects an injected clock only when asked (storeClock: true), e.g. a machine whose clock runs 2 s ahead', async () => {
    const { store } = storeAhead(0);
    const skewed: Clock = { now: () => new Date(Date.now() + 2_000) };
    const job = defineJob({ code: 'j', schedule: '0 3 1 1 *', run: () => undefined });
    const plain = createDaemon({ jobs: [job], store }, { logger: silentLogger, clock: skewed });
    const corrected = createDaemon({ jobs: [job], store }, { logger: silentLogger, clock: skewed, storeClock: true });
    try {
      await Promise.all([plain.ready, corrected.ready]);
      expect((await plain.health()).clockOffsetMs).toBe(0);
      expect(Math.abs((await corrected.health()).clockOffsetMs + 2_000)).toBeLessThan(500);
    } finally {
      await Promise.all([plain.stop(), corrected.stop()]);
    }
    expect(() => createDaemon({ jobs: [job], store }, { storeClock: 'yes' as never })).toThrow(/storeClock: expected true or false/);
  });
});
