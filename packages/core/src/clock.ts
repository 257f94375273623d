/** Where every "what time is it" in Tickwork comes from; tests pass a fake one. */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: for tests and simulations. */
export interface FakeClock extends Clock {
  /** Sets the current instant. */
  set(instant: Date | string | number): void;
  /** Moves the current instant forward by `ms`. */
  advance(ms: number): void;
}

/** Creates a {@link FakeClock} starting at `start`. */
export function createFakeClock(start: Date | string | number): FakeClock {
  let current = new Date(start).getTime();
  if (Number.isNaN(current)) throw new TypeError(`[tickwork] createFakeClock: invalid start instant ${String(start)}`);
  return {
    now: () => new Date(current),
    set(instant) {
      const next = new Date(instant).getTime();
      if (Number.isNaN(next)) throw new TypeError(`[tickwork] FakeClock.set: invalid instant ${String(instant)}`);
      current = next;
    },
    advance(ms) {
      current += ms;
    },
  };
}
