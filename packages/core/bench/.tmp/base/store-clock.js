import { systemClock } from './clock.js';
/**
 * Wraps `base` with the offset to `store`'s clock; call `sync()` before relying on it, and now
 * and then. `store` may be a function returning it, read at each sync: a runner can hand its
 * clock out before it has opened its store (the offset is 0 until the first sync).
 */
export function createStoreClock(store, options = {}) {
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
            let best = null;
            for (let i = 0; i < samples; i += 1) {
                const sent = base.now().getTime();
                const { serverTime } = await (typeof store === 'function' ? store() : store).ping();
                const received = base.now().getTime();
                if (serverTime === null)
                    return offsetMs;
                const roundTrip = received - sent;
                const offset = serverTime.getTime() - (sent + roundTrip / 2);
                if (!best || roundTrip < best.roundTrip)
                    best = { roundTrip, offset };
            }
            offsetMs = Math.round(best.offset);
            return offsetMs;
        },
    };
}
//# sourceMappingURL=store-clock.js.map