/**
 * Matching on local wall-clock time. A wall time is represented as "fake-UTC"
 * milliseconds: the instant whose UTC fields equal the local fields. That keeps the
 * calendar arithmetic integer-only and free of Intl; timezones are applied afterwards
 * (see zoned.ts).
 */

/** Milliseconds in a (wall-clock) day. */
export const DAY_MS = 86_400_000;

/** Wall times past this year are not searched: a schedule with no slot before it has none. */
export const LAST_YEAR = 9999;

/** Which calendar days a schedule fires on. */
export interface DayRule {
  /** Whether any day of `month` (1 … 12) can match; lets the search skip whole months. */
  monthMatches(month: number): boolean;
  /** Whether the day with this day of month (1 … 31) and weekday (0 = Sunday) in `month` matches. */
  dayMatches(month: number, dayOfMonth: number, weekday: number): boolean;
}

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
export function civilFromDays(days: number): CivilDate {
  // Howard Hinnant's days-to-civil algorithm: exact and branch-light.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Days in `month` (1 … 12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Combines a day rule and a time-of-day rule into a matcher. */
export function createWallClockMatcher(days: DayRule, times: TimeOfDayRule): WallClockMatcher {
  return {
    nextAfter(wall) {
      const second = Math.floor(wall / 1000) + 1;
      let dayNo = Math.floor(second / 86_400);
      let sod = second - dayNo * 86_400;
      let { year, month, day } = civilFromDays(dayNo);
      let weekday = (((dayNo + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
      let monthLength = daysInMonth(year, month);
      while (year <= LAST_YEAR) {
        if (!days.monthMatches(month)) {
          const skip = monthLength - day + 1;
          dayNo += skip;
          weekday = (weekday + skip) % 7;
          day = monthLength + 1;
        } else {
          if (days.dayMatches(month, day, weekday)) {
            const t = times.firstFrom(sod);
            if (t >= 0) return (dayNo * 86_400 + t) * 1000;
          }
          dayNo += 1;
          weekday = (weekday + 1) % 7;
          day += 1;
        }
        sod = 0;
        if (day > monthLength) {
          day = 1;
          month += 1;
          if (month > 12) {
            month = 1;
            year += 1;
          }
          monthLength = daysInMonth(year, month);
        }
      }
      return null;
    },
    matches(wall) {
      if (wall % 1000 !== 0) return false;
      const dayNo = Math.floor(wall / DAY_MS);
      const { month, day } = civilFromDays(dayNo);
      const weekday = (((dayNo + 4) % 7) + 7) % 7;
      const sod = (wall - dayNo * DAY_MS) / 1000;
      return days.monthMatches(month) && days.dayMatches(month, day, weekday) && times.firstFrom(sod) === sod;
    },
  };
}
