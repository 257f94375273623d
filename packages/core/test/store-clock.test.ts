import { describe, expect, it } from 'vitest';
import { createFakeClock, createMemoryStore, type Store } from '../src/index.js';
import { createStoreClock } from '../src/entry/runner.js';

/** A store whose clock is `aheadMs` ahead of `local`, answering each ping after `delays[i]` ms of (fake) round trip. */
function storeWithClock(local: ReturnType<typeof createFakeClock>, aheadMs: number, delays: number[]): Store {
  const memory = createMemoryStore();
  let call = 0;
  return {
    ...memory,
    async ping() {
      const delay = delays[call++ % delays.length] as number;
      // The request travels half the round trip, the store reads its clock, the answer travels back.
      local.advance(delay / 2);
      const serverTime = new Date(local.now().getTime() + aheadMs);
      local.advance(delay / 2);
      return { latencyMs: delay, serverTime };
    },
  };
}

describe('createStoreClock', () => {
  it('corrects a local clock that runs ahead or behind the store, from the shortest round trip', async () => {
    for (const aheadMs of [-2_000, 0, 1_500]) {
      const local = createFakeClock('2026-03-02T12:00:00.000Z');
      const clock = createStoreClock(storeWithClock(local, aheadMs, [40, 8, 120, 10, 60]), { base: local });
      expect(clock.offsetMs).toBe(0);
      expect(await clock.sync()).toBe(aheadMs);
      expect(clock.now().getTime()).toBe(local.now().getTime() + aheadMs);
    }
  });

  it('keeps offset 0 for a store without a clock (memory, SQLite)', async () => {
    const local = createFakeClock('2026-03-02T12:00:00.000Z');
    const clock = createStoreClock(createMemoryStore(), { base: local });
    expect(await clock.sync()).toBe(0);
    expect(clock.now()).toEqual(local.now());
  });

  it('keeps the last offset when a sync fails, and rethrows', async () => {
    const local = createFakeClock('2026-03-02T12:00:00.000Z');
    let down = false;
    const good = storeWithClock(local, 700, [10]);
    const flaky: Store = { ...good, ping: () => (down ? Promise.reject(new Error('store down')) : good.ping()) };
    const clock = createStoreClock(flaky, { base: local });
    await clock.sync();
    down = true;
    await expect(clock.sync()).rejects.toThrow('store down');
    expect(clock.offsetMs).toBe(700);
  });
});
