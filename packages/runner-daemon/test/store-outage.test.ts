import { createMemoryStore, defineJob, silentLogger, type RunContext } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon } from '../src/index.js';
import { advance, fakeTime, flaky, START, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('store outage', () => {
  it('keeps running, reports degraded health, and catches up per each job’s missed-run policy when the store returns', async () => {
    const clock = fakeTime(new Date(START.getTime() + 30_000));
    const seen = { latest: [] as number[], all: [] as number[] };
    const latest = defineJob({
      code: 'latest',
      schedule: '* * * * *',
      run: (ctx: RunContext) => void seen.latest.push(ctx.slot.getTime()),
    });
    const all = defineJob({
      code: 'all',
      schedule: '* * * * *',
      missedRunPolicy: { all: { within: '1h' } },
      run: (ctx: RunContext) => void seen.all.push(ctx.slot.getTime()),
    });
    const store = flaky(createMemoryStore());
    const daemon = createDaemon({ jobs: [latest, all], store }, { clock, logger: silentLogger, pollIntervalMs: 500 });
    await advance(0);
    await daemon.ready;
    await advance(31_000); // 10:01 runs
    expect(seen.latest).toEqual([START.getTime(), START.getTime() + 60_000]);

    store.down = true;
    await advance(5 * 60_000); // 10:02 … 10:06 fall due while the store is down
    const health = await daemon.health();
    expect(health).toMatchObject({ ok: false, store: 'unreachable' });
    expect(seen.latest).toHaveLength(2);

    store.down = false;
    await advance(11_000); // back at 10:06:12; backoff is at most 10 s
    expect((await daemon.health()).ok).toBe(true);
    await stopAll([daemon]);
    const minute = (n: number) => START.getTime() + n * 60_000;
    // `latest`: the most recent missed slot, once; `all`: every missed slot, in order, once.
    expect(seen.latest).toEqual([minute(0), minute(1), minute(6)]);
    expect(seen.all).toEqual([0, 1, 2, 3, 4, 5, 6].map(minute));
  });
});
