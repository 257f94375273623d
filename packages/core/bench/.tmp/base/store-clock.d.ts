import { type Clock } from './clock.js';
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
export declare function createStoreClock(store: Store | (() => Store), options?: StoreClockOptions): StoreClock;
//# sourceMappingURL=store-clock.d.ts.map