import { type WallClockMatcher } from './wall-clock.js';
/** A parsed cron expression: its wall-clock matcher and how DST applies to it. */
export interface ParsedCron {
    /** The fields as written, always 7 (seconds first, year last): "0" for the seconds and "*" for the year when absent. */
    readonly texts: readonly string[];
    /** Whether the hour field is `*`, `*\/n` or `H/n`: such schedules follow real time through DST changes. */
    readonly followsRealTime: boolean;
    /** Matches local wall times. */
    readonly matcher: WallClockMatcher;
    /** The plain values of the first six fields (seconds first, `H` resolved, day of week 0 … 6), for descriptions. */
    readonly fields: readonly (readonly number[])[];
    /** The day fields' other forms and how they combine, for descriptions. */
    readonly days: CronDays;
}
/** What the day-of-month, day-of-week and year fields ask for beyond plain values. */
export interface CronDays {
    /** `L` (0) and `L-n` (n): days counted back from the month's last day. */
    readonly fromLast: readonly number[];
    /** The days N of `NW`: the weekday nearest the Nth, within the month. */
    readonly nearest: readonly number[];
    /** `LW`: the month's last weekday. */
    readonly lastWeekday: boolean;
    /** `TUE#2` as [2, 2], `FRI#L` / `5L` as [5, 'L']: the nth (or last) such weekday of the month. */
    readonly nth: readonly (readonly [number, number | 'L'])[];
    /** The day-of-month field is `*` or `?`. */
    readonly domStar: boolean;
    /** The day-of-week field is `*` or `?` (after a `+`). */
    readonly dowStar: boolean;
    /** Both day fields must match (`+` on the day of week, or one of them is `*`); false: either (Vixie cron). */
    readonly both: boolean;
    /** The years allowed, ascending; null when the year field is absent or `*`. */
    readonly years: readonly number[] | null;
}
/**
 * Parses a cron expression; `what` prefixes error messages (e.g. `job "report": schedule`).
 * `hashSeed` is the text `H` values are hashed from (the same seed always gives the same values).
 */
export declare function parseCron(expression: string, what: string, hashSeed?: string): ParsedCron;
/** Whether some field item of `expression` is `H`, so its values depend on the hash seed. */
export declare function hasHash(expression: string): boolean;
//# sourceMappingURL=cron.d.ts.map