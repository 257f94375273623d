import { InvalidScheduleError } from '../errors.js';
import {
  createWallClockMatcher,
  matchesSomeDay,
  monthMask,
  weekdayMasks,
  type DayRule,
  type TimeOfDayRule,
  type WallClockMatcher,
} from './wall-clock.js';

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

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** The range `*` stands for (day of week: 0-6, although 7 is accepted as Sunday). */
  starMax?: number;
  /** The range `H` picks from, when not the whole field (day of month: 1-28, so every month has it). */
  hashMax?: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, hashMax: 28 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 7, names: WEEKDAYS, starMax: 6 },
  { name: 'year', min: 1, max: 9999 },
];
const DOM = 3;
const DOW = 5;
const YEAR = 6;

const ALIASES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

// Parsed expressions are immutable, so schedules sharing an expression (thousands of
// runtime schedules on "0 9 * * 1-5") share one matcher. Bounded: cleared when full.
const parsedCache = new Map<string, ParsedCron>();
const PARSED_CACHE_SIZE = 2_000;

/** A field item that is Jenkins' `H`: `H`, `H/n`, `H(a-b)`, `H(a-b)/n`. */
const HASHED = /^H(?:\((\d+)-(\d+)\))?(?:\/(\d+))?$/i;

/**
 * Parses a cron expression; `what` prefixes error messages (e.g. `job "report": schedule`).
 * `hashSeed` is the text `H` values are hashed from (the same seed always gives the same values).
 */
export function parseCron(expression: string, what: string, hashSeed = ''): ParsedCron {
  if (typeof expression !== 'string') {
    throw new InvalidScheduleError(`${what}: a cron expression must be a string, got ${typeof expression}`);
  }
  const id = hasHash(expression) ? `${expression}\u0000${hashSeed}` : expression;
  const cached = parsedCache.get(id);
  if (cached) return cached;
  const parsed = parse(expression, what, hashSeed);
  if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.clear();
  parsedCache.set(id, parsed);
  return parsed;
}

/** Whether some field item of `expression` is `H`, so its values depend on the hash seed. */
export function hasHash(expression: string): boolean {
  return typeof expression === 'string' && expression.split(/[\s,]+/).some((item) => HASHED.test(item));
}

/** The parsed day-of-month or day-of-week field: plain values plus the special forms. */
interface DayField {
  set: Uint8Array;
  fromLast: number[];
  nearest: number[];
  lastWeekday: boolean;
  nth: [number, number | 'L'][];
}

function parse(expression: string, what: string, hashSeed: string): ParsedCron {
  const where = `${what}: cron "${expression}"`;
  let text = expression.trim();
  if (text.startsWith('@')) {
    const alias = ALIASES[text.toLowerCase()];
    if (alias === undefined) {
      throw new InvalidScheduleError(
        `${where}: "${text}" is not a supported alias (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly${text.toLowerCase() === '@reboot' ? '; @reboot has no slot instant' : ''})`,
      );
    }
    text = alias;
  }
  const parts = text === '' ? [] : text.split(/\s+/);
  if (parts.length < 5 || parts.length > 7) {
    throw new InvalidScheduleError(
      `${where} has ${parts.length} field${parts.length === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (seconds first, year last)`,
    );
  }
  // As croner and Quartz: 6 fields always start with seconds, 7 add the year at the end.
  const texts = parts.length === 5 ? ['0', ...parts, '*'] : parts.length === 6 ? [...parts, '*'] : parts;
  let dowText = texts[DOW] as string;
  const and = dowText.startsWith('+');
  if (and) {
    dowText = dowText.slice(1);
    if (dowText === '') throw new InvalidScheduleError(`${where}: day-of-week field: "+" needs days after it (e.g. +MON)`);
  }
  const fields = texts.map((field, i) => parseField(i === DOW ? dowText : field, i, `${where}`, hashSeed));
  const [second, minute, hour, dom, month, dow, year] = fields as [DayField, DayField, DayField, DayField, DayField, DayField, DayField];
  const domStar = texts[DOM] === '*' || texts[DOM] === '?';
  const dowStar = dowText === '*' || dowText === '?';
  const years = texts[YEAR] === '*' ? null : [...year.set.keys()].filter((y) => year.set[y] === 1);
  const days = dayRule(dom, month.set, dow, domStar || dowStar || and, years);
  if (!matchesSomeDay(days)) {
    throw new InvalidScheduleError(
      `${where} never matches: no calendar day${years ? ' in the years 1000-9999 it allows' : ''} has the day of month, month and day of week it asks for`,
    );
  }
  const hourText = texts[2] as string;
  return Object.freeze({
    texts,
    followsRealTime: hourText.startsWith('*') || /^H\/\d+$/i.test(hourText),
    matcher: createWallClockMatcher(days, timeOfDay(hour.set, minute.set, second.set)),
    fields: fields.slice(0, 6).map(({ set }, i) => [...set.keys()].filter((v) => set[v] === 1 && !(i === DOW && v === 7))),
    days: Object.freeze({
      fromLast: dom.fromLast,
      nearest: dom.nearest,
      lastWeekday: dom.lastWeekday,
      nth: dow.nth,
      domStar,
      dowStar,
      both: domStar || dowStar || and,
      years,
    }),
  });
}

function dayRule(dom: DayField, monthSet: Uint8Array, dow: DayField, both: boolean, years: number[] | null): DayRule {
  let plainDays = 0;
  for (let d = 1; d <= 31; d++) if (dom.set[d] === 1) plainDays |= 1 << (d - 1);
  let plainWeekdays = 0;
  for (let w = 0; w < 7; w++) if (dow.set[w] === 1) plainWeekdays |= 1 << w;
  const byFirstWeekday = weekdayMasks(plainWeekdays);
  let months = 0;
  for (let m = 1; m <= 12; m++) if (monthSet[m] === 1) months |= 1 << m;
  const nearest = dom.lastWeekday ? [...dom.nearest, 0] : dom.nearest;
  const { fromLast } = dom;
  const { nth } = dow;
  const compute = (month: number, first: number, length: number): number => {
    if (((months >>> month) & 1) === 0) return 0;
    let domDays = plainDays;
    let dowDays = byFirstWeekday[first] as number;
    for (const n of fromLast) if (length - n >= 1) domDays |= 1 << (length - n - 1);
    for (const n of nearest) {
      const d = nearestWeekday(n === 0 ? length : n, first, length);
      if (d > 0) domDays |= 1 << (d - 1);
    }
    for (const [weekday, n] of nth) {
      const firstOne = 1 + ((weekday - first + 7) % 7);
      const d = n === 'L' ? firstOne + 7 * Math.floor((length - firstOne) / 7) : firstOne + 7 * (n - 1);
      if (d <= length) dowDays |= 1 << (d - 1);
    }
    return (both ? domDays & dowDays : domDays | dowDays) & monthMask(length);
  };
  let daysOf = compute;
  if (fromLast.length > 0 || nearest.length > 0 || nth.length > 0) {
    // A month's days depend only on (month, weekday of the 1st, length): 12 × 7 × 4 masks, each computed once.
    const table = new Int32Array(12 * 7 * 4);
    const known = new Uint8Array(12 * 7 * 4);
    daysOf = (month, first, length) => {
      const at = ((month - 1) * 7 + first) * 4 + length - 28;
      if (known[at] === 0) {
        table[at] = compute(month, first, length);
        known[at] = 1;
      }
      return table[at] as number;
    };
  }
  return years === null ? { daysOf } : { nextYear: yearSearch(years), daysOf };
}

/**
 * The day of the month that `NW` picks: the Nth if a weekday, else the nearest weekday without leaving the
 * month; -1 when the month is shorter.
 */
function nearestWeekday(n: number, firstWeekday: number, length: number): number {
  if (n > length) return -1;
  const weekdayOfN = (firstWeekday + n - 1) % 7;
  if (weekdayOfN === 6) return n === 1 ? 3 : n - 1;
  if (weekdayOfN === 0) return n === length ? n - 2 : n + 1;
  return n;
}

/** The first allowed year ≥ y, by binary search over the sorted list. */
function yearSearch(years: readonly number[]): (year: number) => number | null {
  const sorted = Int16Array.from(years);
  return (year) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) < year) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length ? (sorted[lo] as number) : null;
  };
}

function parseField(text: string, index: number, where: string, hashSeed: string): DayField {
  const spec = FIELDS[index] as FieldSpec;
  const field: DayField = { set: new Uint8Array(spec.max + 1), fromLast: [], nearest: [], lastWeekday: false, nth: [] };
  const fail = (token: string, why: string): never => {
    throw new InvalidScheduleError(`${where}: ${spec.name} field: "${token}" ${why}`);
  };
  const isDay = index === DOM || index === DOW;
  if ((text === '?' && isDay) || text === '*') {
    for (let v = spec.min; v <= (spec.starMax ?? spec.max); v++) field.set[v] = 1;
    return field;
  }
  for (const [position, item] of text.split(',').entries()) {
    if (item === '') fail(text, 'has an empty list item');
    if (index === DOM && special(item, field, fail)) continue;
    if (index === DOW && item.includes('#')) {
      const [base, nth] = item.split('#') as [string, string];
      const n = /^[1-5]$/.test(nth)
        ? Number(nth)
        : /^L$/i.test(nth)
          ? 'L'
          : fail(item, 'asks for an nth weekday that is not 1-5 or L (TUE#2, FRI#L)');
      const [from, to] = bounds(base, spec, item, fail);
      for (let v = from; v <= to; v++) field.nth.push([v % 7, n]);
      continue;
    }
    if (index === DOW && /^(\d|[a-z]{3})L$/i.test(item)) {
      const weekday = value(item.slice(0, -1), spec, item, fail);
      field.nth.push([weekday % 7, 'L']);
      continue;
    }
    misplaced(item, index, fail);
    const hashed = HASHED.exec(item);
    if (hashed) {
      if (index === YEAR) fail(item, 'is not allowed: H (hashed) is for the other fields, a year is not spread');
      const from = hashed[1] === undefined ? spec.min : value(hashed[1], spec, item, fail);
      const to = hashed[2] === undefined ? (spec.hashMax ?? spec.starMax ?? spec.max) : value(hashed[2], spec, item, fail);
      if (to < from) fail(item, `is a reversed range (${from} > ${to})`);
      const step = hashed[3] === undefined ? 0 : Number(hashed[3]);
      if (hashed[3] !== undefined && step === 0) fail(item, 'has a step of 0');
      const width = step === 0 ? to - from + 1 : Math.min(step, to - from + 1);
      const first = from + hashValue(hashSeed, index, position, width);
      if (step === 0) field.set[first] = 1;
      else for (let v = first; v <= to; v += step) field.set[v] = 1;
      continue;
    }
    const slash = item.indexOf('/');
    const base = slash < 0 ? item : item.slice(0, slash);
    let step = 1;
    if (slash >= 0) {
      const stepText = item.slice(slash + 1);
      if (!/^\d+$/.test(stepText)) fail(item, `has an invalid step "${stepText}"`);
      step = Number(stepText);
      if (step === 0) fail(item, 'has a step of 0');
    }
    let from: number;
    let to: number;
    if (base === '*') {
      // croner's year steps: `*/4` is the years divisible by 4 (from the min for every other field, as Vixie cron).
      from = index === YEAR ? step : spec.min;
      to = spec.starMax ?? spec.max;
    } else if (slash >= 0 && !base.includes('-')) {
      from = value(base, spec, item, fail);
      to = spec.starMax ?? spec.max;
    } else {
      [from, to] = bounds(base, spec, item, fail);
    }
    for (let v = from; v <= to; v += step) field.set[v] = 1;
  }
  if (index === DOW && field.set[7] === 1) {
    field.set[0] = 1;
    field.set[7] = 0;
  }
  return field;
}

/** Reads the day-of-month forms `L`, `L-n`, `LW` and `NW` into `field`; false for any other item. */
function special(item: string, field: DayField, fail: (token: string, why: string) => never): boolean {
  const upper = item.toUpperCase();
  if (upper === 'LW') field.lastWeekday = true;
  else if (/^L(-\d+)?$/.test(upper)) {
    const n = upper === 'L' ? 0 : Number(upper.slice(2));
    if (n > 30) fail(item, 'counts back more than 30 days from the last day of the month (L-0 … L-30)');
    field.fromLast.push(n);
  } else if (/^\d+W$/.test(upper)) {
    const n = Number(upper.slice(0, -1));
    if (n < 1 || n > 31) fail(item, 'names a day out of range 1-31 before W');
    field.nearest.push(n);
  } else if (upper.includes('W')) {
    fail(item, 'is not valid: W takes a single day (15W) or L (LW), not a range, a list range or a step');
  } else if (upper.includes('L')) {
    fail(item, 'is not valid: L stands alone (L), counts back (L-3) or takes W (LW)');
  } else return false;
  return true;
}

/** Names the field a special form belongs to when it is used elsewhere. */
function misplaced(item: string, index: number, fail: (token: string, why: string) => never): void {
  if (item.includes('+'))
    fail(item, 'is not valid: the + prefix (both day fields must match) belongs to the day-of-week field, before its first item');
  if (item.includes('#')) fail(item, 'is not valid: # (nth weekday of the month) belongs to the day-of-week field');
  if (/^(L(-\d+)?|LW|\d+W)$/i.test(item))
    fail(item, 'is not valid: L (last) and W (nearest weekday) belong to the day-of-month field (L also to the day of week: 5L, FRI#L)');
  if (/^\d+L$/i.test(item)) fail(item, 'is not valid: NL (the last such weekday) belongs to the day-of-week field');
}

function bounds(base: string, spec: FieldSpec, item: string, fail: (token: string, why: string) => never): [number, number] {
  const dash = base.indexOf('-', 1);
  if (dash < 0) {
    const v = value(base, spec, item, fail);
    return [v, v];
  }
  const from = value(base.slice(0, dash), spec, item, fail);
  const to = value(base.slice(dash + 1), spec, item, fail);
  if (to < from) fail(item, `is a reversed range (${from} > ${to})`);
  return [from, to];
}

function value(token: string, spec: FieldSpec, item: string, fail: (token: string, why: string) => never): number {
  let n: number;
  if (/^\d+$/.test(token)) n = Number(token);
  else {
    const index = spec.names?.indexOf(token.toLowerCase()) ?? -1;
    if (index < 0)
      return fail(
        item,
        `is not a valid ${spec.name} value${spec.names ? ` (numbers ${spec.min}-${spec.max} or names like ${spec.names[1]?.toUpperCase()})` : ` (${spec.min}-${spec.max})`}`,
      );
    n = index + (spec.name === 'month' ? 1 : 0);
  }
  if (n < spec.min || n > spec.max) fail(token, `is out of range ${spec.min}-${spec.max}`);
  return n;
}

/** A stable value in 0 … size-1 for one `H` item: FNV-1a over seed, field and position, then a murmur3 finaliser to spread the low bits. */
function hashValue(seed: string, field: number, position: number, size: number): number {
  const text = `${seed}\u0000${field}\u0000${position}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % size;
}

/** Writes next[v] = the smallest allowed value ≥ v (or `size` when none) into `into` at `at`. */
function writeNextTable(set: Uint8Array, size: number, into: Int8Array, at: number): void {
  let upcoming = size;
  into[at + size] = size;
  for (let v = size - 1; v >= 0; v--) {
    if (set[v] === 1) upcoming = v;
    into[at + v] = upcoming;
  }
}

const H = 0;
const M = 25;
const S = 86;

function timeOfDay(hour: Uint8Array, minute: Uint8Array, second: Uint8Array): TimeOfDayRule {
  // Hours at 0-24, minutes at 25-85, seconds at 86-146: one typed array instead of three.
  const next = new Int8Array(147);
  writeNextTable(hour, 24, next, H);
  writeNextTable(minute, 60, next, M);
  writeNextTable(second, 60, next, S);
  const firstMinute = next[M] as number;
  const firstSecond = next[S] as number;
  return {
    firstFrom(sod) {
      let h = Math.floor(sod / 3600);
      const rest = sod - h * 3600;
      let m = Math.floor(rest / 60);
      let s = rest - m * 60;
      for (;;) {
        const h0 = next[H + h] as number;
        if (h0 >= 24) return -1;
        if (h0 !== h) return h0 * 3600 + firstMinute * 60 + firstSecond;
        const m0 = next[M + m] as number;
        if (m0 >= 60) {
          h += 1;
          m = 0;
          s = 0;
          continue;
        }
        if (m0 !== m) return h * 3600 + m0 * 60 + firstSecond;
        const s0 = next[S + s] as number;
        if (s0 >= 60) {
          m += 1;
          s = 0;
          continue;
        }
        return h * 3600 + m * 60 + s0;
      }
    },
  };
}
