/** The real clock. */
export const systemClock = { now: () => new Date() };
/** Creates a {@link FakeClock} starting at `start`. */
export function createFakeClock(start) {
    let current = new Date(start).getTime();
    if (Number.isNaN(current))
        throw new TypeError(`[tickwork] createFakeClock: invalid start instant ${String(start)}`);
    return {
        now: () => new Date(current),
        set(instant) {
            const next = new Date(instant).getTime();
            if (Number.isNaN(next))
                throw new TypeError(`[tickwork] FakeClock.set: invalid instant ${String(instant)}`);
            current = next;
        },
        advance(ms) {
            current += ms;
        },
    };
}
//# sourceMappingURL=clock.js.map