/** The longest delay a JavaScript timer can wait (Node clamps anything longer to 1 ms). */
export declare const MAX_TIMER_MS = 2147483647;
/** A length of time: milliseconds, a string like "90s", "5m", "1h30m", "2d", or an object. */
export type Duration = number | string | {
    days?: number;
    hours?: number;
    minutes?: number;
    seconds?: number;
    milliseconds?: number;
};
/**
 * Parses a {@link Duration} to milliseconds. `what` names the field in the error
 * ("job \"report\": timeout"). Zero, negative, NaN and unparsable values are rejected.
 */
export declare function parseDuration(value: Duration, what: string, ErrorClass?: new (message: string) => Error, max?: number): number;
//# sourceMappingURL=duration.d.ts.map