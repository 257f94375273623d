import { systemClock, type Clock } from './clock.js';
import type { Store } from './store.js';

/**
 * A runner's clock, corrected to the store's. Every runner sharing a store then agrees on
 * "now" to within its round trip, whatever its own machine's clock says: slots start at the
 * same instant everywhere, and one runner's leases look the same to the others (a runner
 * whose clock ran 2 s ahead would otherwise claim slots 2 s early and make its neighbours'
 * claims of a non-parallel job overlap its still-live lease).
 */
export interface StoreClock extends Clock {
  /** Store time minus local time, in ms, as last measured; 0 before the first sync or for a store without a clock. */
  readonly offsetMs: number;
  /**
   * Measures the offset (NTP-style: of a few pings, the one with the shortest round trip;
   * store time taken at the round trip's midpoint). Keeps the previous offset when the store
   * has no clock (memory, SQLite: one machine) or cannot be reached (rethrows).
   */
  sync(): Promise<number>;
}

/** Options of {@link createStoreClock}. */
export interface StoreClockOptions {
  /** The local clock to correct. Default: the system clock. */
  base?: Clock;
  /** Pings per sync. Default 5. */
  samples?: number;
}

/**
 * Wraps `base` with the offset to `store`'s clock; call `sync()` before relying on it, and now
 * and then. `store` may be a function returning it, read at each sync: a runner can hand its
 * clock out before it has opened its store (the offset is 0 until the first sync).
 */
export function createStoreClock(store: Store | (() => Store), options: StoreClockOptions = {}): StoreClock {
  const base = options.base ?? systemClock;
  const samples = options.samples ?? 5;
  if (!Number.isInteger(samples) || samples < 1)
    throw new TypeError(`[tickwork] createStoreClock: samples must be an integer ≥ 1, got ${String(samples)}`);
  let offsetMs = 0;
  return {
    now: () => new Date(base.now().getTime() + offsetMs),
    get offsetMs() {
      return offsetMs;
    },
    async sync() {
      let best: { roundTrip: number; offset: number } | null = null;
      for (let i = 0; i < samples; i += 1) {
        const sent = base.now().getTime();
        const { serverTime } = await (typeof store === 'function' ? store() : store).ping();
        const received = base.now().getTime();
        if (serverTime === null) return offsetMs;
        const roundTrip = received - sent;
        const offset = serverTime.getTime() - (sent + roundTrip / 2);
        if (!best || roundTrip < best.roundTrip) best = { roundTrip, offset };
      }
      offsetMs = Math.round((best as { offset: number }).offset);
      return offsetMs;
    },
  };
}
