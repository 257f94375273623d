/**
 * Matching on local wall-clock time. A wall time is represented as "fake-UTC"
 * milliseconds: the instant whose UTC fields equal the local fields. That keeps the
 * calendar arithmetic integer-only and free of Intl; timezones are applied afterwards
 * (see zoned.ts).
 */
/** Milliseconds in a (wall-clock) day. */
export declare const DAY_MS = 86400000;
/** Wall times past this year are not searched: a schedule with no slot before it has none. */
export declare const LAST_YEAR = 9999;
/** Which calendar days a schedule fires on. */
export interface DayRule {
    /** The first year ≥ `year` that may match, or null; absent: every year. Lets the search skip whole years. */
    nextYear?(year: number): number | null;
    /**
     * The matching days of `month` (1 … 12) as a bit mask, bit d-1 for day d: the month is `length`
     * days long and its 1st is weekday `firstWeekday` (0 = Sunday). One call answers a whole month.
     */
    daysOf(month: number, firstWeekday: number, length: number): number;
}
/** Bit d-1 set for every day d of a month `length` days long. */
export declare function monthMask(length: number): number;
/** For each weekday of the 1st (0 … 6): the days 1 … 31 whose weekday is in `weekdays` (bit w set for weekday w), as a day mask. */
export declare function weekdayMasks(weekdays: number): Int32Array;
/** Which seconds of a matching day a schedule fires at. */
export interface TimeOfDayRule {
    /** The smallest matching second of the day ≥ `second` (0 … 86,399), or -1 when none is left. */
    firstFrom(second: number): number;
}
/** A predicate on wall times with a fast "next match" search. */
export interface WallClockMatcher {
    /** The first matching wall time strictly after `wall` (whole seconds), or null before {@link LAST_YEAR} ends. */
    nextAfter(wall: number): number | null;
    /** Whether `wall` (whole seconds) matches. */
    matches(wall: number): boolean;
}
/** A wall-clock calendar date, month 1 … 12. */
export interface CivilDate {
    year: number;
    month: number;
    day: number;
}
/** The calendar date of a day number (days since 1970-01-01); proleptic Gregorian. */
export declare function civilFromDays(days: number): CivilDate;
/** The day number (days since 1970-01-01) of a calendar date; proleptic Gregorian. */
export declare function daysFromCivil(year: number, month: number, day: number): number;
/** Whether some day of some year from 1000 to {@link LAST_YEAR} matches `days` (the calendar repeats every 400 years). */
export declare function matchesSomeDay(days: DayRule): boolean;
/** The weekday (0 = Sunday) of a day number; 1970-01-01 was a Thursday. */
export declare function weekdayOf(dayNo: number): number;
/** Days in `month` (1 … 12) of `year`. */
export declare function daysInMonth(year: number, month: number): number;
/** Combines a day rule and a time-of-day rule into a matcher. */
export declare function createWallClockMatcher(days: DayRule, times: TimeOfDayRule): WallClockMatcher;
//# sourceMappingURL=wall-clock.d.ts.map