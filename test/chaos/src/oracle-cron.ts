/**
 * A deliberately naive cron/daily matcher for the DST oracle. It shares no code with
 * core's parser so that a bug in one is not silently mirrored in the other; it covers
 * the 5-field subset the oracle's schedule table uses (numbers, `*`, lists, ranges, steps).
 */

/** Local calendar fields of one wall-clock day. */
export interface WallDay {
  year: number;
  /** 1 … 12 */
  month: number;
  /** 1 … 31 */
  day: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

/** A schedule as the oracle understands it: which days and which minutes of the day match. */
export interface OracleMatcher {
  /** True when the local day can hold slots. */
  dayMatches(day: WallDay): boolean;
  /** 1440 flags, one per local minute of the day. */
  minutes: Uint8Array;
}

function expandField(text: string, min: number, max: number, what: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let low: number;
    let high: number;
    if (range === '*') {
      low = min;
      high = max;
    } else if (range !== undefined && range.includes('-')) {
      const [a, b] = range.split('-');
      low = Number(a);
      high = Number(b);
    } else {
      low = Number(range);
      high = stepText === undefined ? low : max;
    }
    if (![low, high, step].every(Number.isInteger) || step < 1 || low < min || high > max || low > high) {
      throw new Error(`oracle cron: bad ${what} field "${text}"`);
    }
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return values;
}

/** True when cron's hour field makes the expression follow real time (docs/design.md: `*` or `*` + step). */
export function cronFollowsRealTime(expression: string): boolean {
  const hour = expression.trim().split(/\s+/)[1] ?? '';
  return hour === '*' || /^\*\/\d+$/.test(hour);
}

/** A 5-field cron expression; day of month and day of week combine with OR when both are restricted. */
export function oracleCron(expression: string): OracleMatcher {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`oracle cron: expected 5 fields in "${expression}"`);
  const [minuteText, hourText, domText, monthText, dowText] = fields as [string, string, string, string, string];
  const minutes = expandField(minuteText, 0, 59, 'minute');
  const hours = expandField(hourText, 0, 23, 'hour');
  const doms = expandField(domText, 1, 31, 'day-of-month');
  const months = expandField(monthText, 1, 12, 'month');
  const dows = new Set([...expandField(dowText, 0, 7, 'day-of-week')].map((d) => d % 7));
  const domStar = domText === '*';
  const dowStar = dowText === '*';
  const table = new Uint8Array(1440);
  for (const h of hours) for (const m of minutes) table[h * 60 + m] = 1;
  return {
    minutes: table,
    dayMatches(day) {
      if (!months.has(day.month)) return false;
      if (domStar && dowStar) return true;
      if (domStar) return dows.has(day.weekday);
      if (dowStar) return doms.has(day.day);
      return doms.has(day.day) || dows.has(day.weekday);
    },
  };
}

/** Daily local times "HH:MM"; weekday and month-day filters must both match when both are given. */
export function oracleDaily(times: readonly string[], weekdays?: readonly number[], monthDays?: readonly number[]): OracleMatcher {
  const table = new Uint8Array(1440);
  for (const time of times) {
    const [h, m] = time.split(':').map(Number) as [number, number];
    table[h * 60 + m] = 1;
  }
  return {
    minutes: table,
    dayMatches(day) {
      if (weekdays !== undefined && !weekdays.includes(day.weekday)) return false;
      if (monthDays !== undefined && !monthDays.includes(day.day)) return false;
      return true;
    },
  };
}
