import { InvalidScheduleError } from '../errors.js';
import { createWallClockMatcher, daysInMonth, type DayRule, type TimeOfDayRule, type WallClockMatcher } from './wall-clock.js';

/** A parsed cron expression: its wall-clock matcher and how DST applies to it. */
export interface ParsedCron {
  /** The expression with aliases expanded, always 6 fields (seconds first). */
  readonly normalised: string;
  /** Whether the hour field starts with `*`: such schedules follow real time through DST changes. */
  readonly followsRealTime: boolean;
  /** Matches local wall times. */
  readonly matcher: WallClockMatcher;
  /** The values each field allows, seconds first (day of week 0 … 6), for descriptions. */
  readonly fields: readonly (readonly number[])[];
  /** The fields as written (6 of them, seconds first; "0" when the expression had 5). */
  readonly texts: readonly string[];
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** The range `*` stands for (day of week: 0-6, although 7 is accepted as Sunday). */
  starMax?: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 7, names: WEEKDAYS, starMax: 6 },
];

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

/** Parses a cron expression; `what` prefixes error messages (e.g. `job "report": schedule`). */
export function parseCron(expression: string, what: string): ParsedCron {
  if (typeof expression !== 'string') {
    throw new InvalidScheduleError(`${what}: a cron expression must be a string, got ${typeof expression}`);
  }
  const cached = parsedCache.get(expression);
  if (cached) return cached;
  const parsed = parse(expression, what);
  if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.clear();
  parsedCache.set(expression, parsed);
  return parsed;
}

function parse(expression: string, what: string): ParsedCron {
  const quoted = `cron "${expression}"`;
  let text = expression.trim();
  if (text.startsWith('@')) {
    const alias = ALIASES[text.toLowerCase()];
    if (alias === undefined) {
      throw new InvalidScheduleError(
        `${what}: ${quoted}: "${text}" is not a supported alias (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly${text.toLowerCase() === '@reboot' ? '; @reboot has no slot instant' : ''})`,
      );
    }
    text = alias;
  }
  const parts = text === '' ? [] : text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new InvalidScheduleError(
      `${what}: ${quoted} has ${parts.length} field${parts.length === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`,
    );
  }
  const texts = parts.length === 5 ? ['0', ...parts] : parts;
  const sets = texts.map((field, i) => parseField(field, FIELDS[i] as FieldSpec, `${what}: ${quoted}`));
  const [second, minute, hour, dom, month, dow] = sets as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  // POSIX: when both day fields are restricted, a day matches if either does.
  const domStar = texts[3] === '*' || texts[3] === '?';
  const dowStar = texts[5] === '*' || texts[5] === '?';
  if (dowStar && !neverFails(dom, month)) {
    throw new InvalidScheduleError(`${what}: ${quoted} never matches: no month it allows has the day of month it asks for`);
  }
  // One small array for the day fields (dom 0-31, month 32-44, dow 45-51) keeps a compiled schedule light.
  const dayBits = new Uint8Array(52);
  dayBits.set(dom, 0);
  dayBits.set(month, 32);
  dayBits.set(dow.subarray(0, 7), 45);
  const days: DayRule = {
    monthMatches: (m) => dayBits[32 + m] === 1,
    dayMatches: domStar
      ? dowStar
        ? () => true
        : (_m, _d, wd) => dayBits[45 + wd] === 1
      : dowStar
        ? (_m, d) => dayBits[d] === 1
        : (_m, d, wd) => dayBits[d] === 1 || dayBits[45 + wd] === 1,
  };
  return Object.freeze({
    normalised: texts.join(' '),
    followsRealTime: (texts[2] as string).startsWith('*'),
    matcher: createWallClockMatcher(days, timeOfDay(hour, minute, second)),
    fields: sets.map((set) => [...set.keys()].filter((v) => set[v] === 1)),
    texts,
  });
}

function neverFails(dom: Uint8Array, month: Uint8Array): boolean {
  for (let m = 1; m <= 12; m++) {
    if (month[m] !== 1) continue;
    for (let d = 1; d <= daysInMonth(2000, m); d++) if (dom[d] === 1) return true;
  }
  return false;
}

function parseField(text: string, spec: FieldSpec, where: string): Uint8Array {
  const set = new Uint8Array(spec.max + 1);
  const fail = (token: string, why: string): never => {
    throw new InvalidScheduleError(`${where}: ${spec.name} field: "${token}" ${why}`);
  };
  for (const item of text.split(',')) {
    if (item === '') fail(text, 'has an empty list item');
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
    if (base === '*' || (base === '?' && slash < 0 && (spec.name === 'day-of-month' || spec.name === 'day-of-week'))) {
      from = spec.min;
      to = spec.starMax ?? spec.max;
    } else {
      const dash = base.indexOf('-');
      if (dash > 0) {
        from = value(base.slice(0, dash), spec, item, fail);
        to = value(base.slice(dash + 1), spec, item, fail);
        if (to < from) fail(item, `is a reversed range (${from} > ${to})`);
      } else {
        from = value(base, spec, item, fail);
        to = slash >= 0 ? (spec.starMax ?? spec.max) : from;
      }
    }
    for (let v = from; v <= to; v += step) set[v] = 1;
  }
  if (spec.name === 'day-of-week' && set[7] === 1) {
    set[0] = 1;
    set[7] = 0;
  }
  return set;
}

function value(token: string, spec: FieldSpec, item: string, fail: (token: string, why: string) => never): number {
  let n: number;
  if (/^\d+$/.test(token)) n = Number(token);
  else {
    const index = spec.names?.indexOf(token.toLowerCase()) ?? -1;
    if (index < 0) return fail(item, `is not a valid ${spec.name} value${spec.names ? ` (numbers ${spec.min}-${spec.max} or names like ${spec.names[1]?.toUpperCase()})` : ` (${spec.min}-${spec.max})`}`);
    n = index + (spec.name === 'month' ? 1 : 0);
  }
  if (n < spec.min || n > spec.max) fail(token, `is out of range ${spec.min}-${spec.max}`);
  return n;
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
