/** Where every "what time is it" in Tickwork comes from; tests pass a fake one. */
export interface Clock {
    /** The current instant. */
    now(): Date;
}
/** The real clock. */
export declare const systemClock: Clock;
/** A clock that only moves when told to: for tests and simulations. */
export interface FakeClock extends Clock {
    /** Sets the current instant. */
    set(instant: Date | string | number): void;
    /** Moves the current instant forward by `ms`. */
    advance(ms: number): void;
}
/** Creates a {@link FakeClock} starting at `start`. */
export declare function createFakeClock(start: Date | string | number): FakeClock;
//# sourceMappingURL=clock.d.ts.map