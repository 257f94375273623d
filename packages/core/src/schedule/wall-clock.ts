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
  /** The first year ≥ `year` that may match, or null; absent: every year. Lets the search skip whole years. */
  nextYear?(year: number): number | null;
  /**
   * The matching days of `month` (1 … 12) as a bit mask, bit d-1 for day d: the month is `length`
   * days long and its 1st is weekday `firstWeekday` (0 = Sunday). One call answers a whole month.
   */
  daysOf(month: number, firstWeekday: number, length: number): number;
}

/** Bit d-1 set for every day d of a month `length` days long. */
export function monthMask(length: number): number {
  return length >= 31 ? 0x7fff_ffff : (1 << length) - 1;
}

/** For each weekday of the 1st (0 … 6): the days 1 … 31 whose weekday is in `weekdays` (bit w set for weekday w), as a day mask. */
export function weekdayMasks(weekdays: number): Int32Array {
  const masks = new Int32Array(7);
  for (let first = 0; first < 7; first++) {
    let mask = 0;
    for (let d = 1; d <= 31; d++) if ((weekdays >>> ((first + d - 1) % 7)) & 1) mask |= 1 << (d - 1);
    masks[first] = mask;
  }
  return masks;
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

/** The day number (days since 1970-01-01) of a calendar date; proleptic Gregorian. */
export function daysFromCivil(year: number, month: number, day: number): number {
  // Howard Hinnant's civil-to-days algorithm, the inverse of civilFromDays.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Whether some day of some year from 1000 to {@link LAST_YEAR} matches `days` (the calendar repeats every 400 years). */
export function matchesSomeDay(days: DayRule): boolean {
  const seen = new Set<number>();
  const allowed = (year: number) => (days.nextYear ? days.nextYear(year) : year);
  for (let year = allowed(1000); year !== null && year <= LAST_YEAR && seen.size < 400; year = allowed(year + 1)) {
    if (seen.has(year % 400)) continue;
    seen.add(year % 400);
    let start = daysFromCivil(year, 1, 1);
    for (let month = 1; month <= 12; month++) {
      const length = daysInMonth(year, month);
      if (days.daysOf(month, weekdayOf(start), length) !== 0) return true;
      start += length;
    }
  }
  return false;
}

/** The weekday (0 = Sunday) of a day number; 1970-01-01 was a Thursday. */
export function weekdayOf(dayNo: number): number {
  return (((dayNo + 4) % 7) + 7) % 7;
}

/** Days in `month` (1 … 12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Combines a day rule and a time-of-day rule into a matcher. */
export function createWallClockMatcher(days: DayRule, times: TimeOfDayRule): WallClockMatcher {
  const nextYear = days.nextYear;
  return {
    nextAfter(wall) {
      const second = Math.floor(wall / 1000) + 1;
      const dayNo = Math.floor(second / 86_400);
      let sod = second - dayNo * 86_400;
      // civilFromDays inlined: this runs on every slot search, and its result object would be garbage at once.
      const z = dayNo + 719_468;
      const era = Math.floor(z / 146_097);
      const doe = z - era * 146_097;
      const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
      const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
      const mp = Math.floor((5 * doy + 2) / 153);
      let day = doy - Math.floor((153 * mp + 2) / 5) + 1;
      let month = mp < 10 ? mp + 3 : mp - 9;
      let year = yoe + era * 400 + (month <= 2 ? 1 : 0);
      let monthStart = dayNo - day + 1;
      if (nextYear) {
        const allowed = nextYear(year);
        if (allowed === null || allowed > LAST_YEAR) return null;
        if (allowed !== year) {
          year = allowed;
          month = 1;
          day = 1;
          sod = 0;
          monthStart = daysFromCivil(year, 1, 1);
        }
      }
      while (year <= LAST_YEAR) {
        const length = daysInMonth(year, month);
        // The month's matching days from `day` on, lowest first.
        let mask = days.daysOf(month, weekdayOf(monthStart), length) & (-1 << (day - 1));
        while (mask !== 0) {
          const d = 32 - Math.clz32(mask & -mask);
          const t = times.firstFrom(d === day ? sod : 0);
          if (t >= 0) return ((monthStart + d - 1) * 86_400 + t) * 1000;
          mask &= mask - 1;
        }
        monthStart += length;
        day = 1;
        sod = 0;
        month += 1;
        if (month > 12) {
          month = 1;
          year += 1;
          if (nextYear) {
            const allowed = nextYear(year);
            if (allowed === null) return null;
            if (allowed !== year) {
              year = allowed;
              monthStart = daysFromCivil(year, 1, 1);
            }
          }
        }
      }
      return null;
    },
    matches(wall) {
      if (wall % 1000 !== 0) return false;
      const dayNo = Math.floor(wall / DAY_MS);
      const { year, month, day } = civilFromDays(dayNo);
      const sod = (wall - dayNo * DAY_MS) / 1000;
      return (
        (!nextYear || nextYear(year) === year) &&
        ((days.daysOf(month, weekdayOf(dayNo - day + 1), daysInMonth(year, month)) >>> (day - 1)) & 1) === 1 &&
        times.firstFrom(sod) === sod
      );
    },
  };
}
