import type { DailySpec } from './spec.js';
import { type WallClockMatcher } from './wall-clock.js';
/** A validated daily schedule: its normalised spec fields and wall-clock matcher. */
export interface ParsedDaily {
    /** Seconds of the day, sorted and de-duplicated. */
    readonly seconds: readonly number[];
    /** The times as "HH:MM" or "HH:MM:SS", in the order of `seconds`. */
    readonly times: readonly string[];
    /** Allowed weekdays (0 = Sunday), sorted; null = every day. */
    readonly weekdays: readonly number[] | null;
    /** Allowed days of the month, sorted; null = every day. */
    readonly monthDays: readonly number[] | null;
    /** Matches local wall times. */
    readonly matcher: WallClockMatcher;
}
/** Validates a daily spec; `what` prefixes error messages. */
export declare function parseDaily(spec: DailySpec, what: string): ParsedDaily;
/** A second of the day as "HH:MM", or "HH:MM:SS" when the seconds are not zero. */
export declare function formatTime(second: number): string;
//# sourceMappingURL=daily.d.ts.map