import { parseDuration, type Duration } from '../duration.js';
import { InvalidScheduleError } from '../errors.js';

/**
 * A schedule as plain JSON, so a store can persist it (runtime schedules, overrides).
 * Instants are ISO-8601 strings; intervals are milliseconds.
 */
export type ScheduleSpec = EverySpec | DailySpec | CronSpec | OnceSpec;

/** Every fixed length of absolute time, aligned to `anchor` (default the Unix epoch); ignores DST. */
export interface EverySpec {
  kind: 'every';
  /** Interval length in milliseconds (> 0). */
  everyMs: number;
  /** ISO instant the slots are aligned to; slots are anchor + n × everyMs. Default 1970-01-01T00:00:00Z. */
  anchor?: string;
}

/**
 * What a wall-clock schedule does with local times a DST change skips (`gap`) or repeats
 * (`overlap`). A field left out takes the schedule's default: `next-instant` and `first`
 * (Vixie cron) for fixed times, `skip` and `both` (real time) for a cron whose hour is `*`,
 * `*\/n` or `H/n`.
 */
export interface DstPolicy {
  /**
   * A time in a spring-forward gap runs once at the first instant after the gap, moved by the gap's length
   * (02:30 → 03:30), or not at all.
   */
  gap?: 'next-instant' | 'shift' | 'skip';
  /** A time that occurs twice at a fall-back runs at its first occurrence, its last, or both. */
  overlap?: 'first' | 'last' | 'both';
}

/** At fixed local wall-clock times every day, optionally only on some weekdays or month days. */
export interface DailySpec {
  kind: 'daily';
  /** Local times "HH:MM" or "HH:MM:SS", 24-hour. */
  times: string[];
  /** Days of the week, 0 = Sunday … 6 = Saturday. Absent: every day. */
  weekdays?: number[];
  /** Days of the month, 1 … 31. Absent: every day. With `weekdays` too, a day must match both. */
  monthDays?: number[];
  /** IANA timezone; absent: the job's, else the configured default, else UTC. */
  timezone?: string;
  /** DST policy; absent: the job's, else next-instant + first. */
  dst?: DstPolicy;
}

/** A cron expression: 5 fields, 6 with seconds first, 7 with seconds first and a year last; `@hourly`-style aliases. */
export interface CronSpec {
  kind: 'cron';
  expression: string;
  /** IANA timezone; absent: the job's, else the configured default, else UTC. */
  timezone?: string;
  /** DST policy; absent: the job's, else the default of the expression's kind. */
  dst?: DstPolicy;
  /**
   * The text `H` values are hashed from. Filled in by `defineJob` (the job code) and by runtime
   * schedules (`<code> <key>`) when the expression has an `H`; absent: the empty text.
   */
  hashSeed?: string;
}

/** Once, at one instant. */
export interface OnceSpec {
  kind: 'once';
  /** ISO-8601 instant. */
  at: string;
}

/** What a job's `schedule` option accepts: a spec from a builder, or a cron expression string. */
export type ScheduleInput = ScheduleSpec | string;

const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A weekday as a number (0 = Sunday … 6 = Saturday, 7 = Sunday) or a name ("mon", "Monday"). */
export type Weekday = number | string;

/** Options of {@link dailyAt}. */
export interface DailyOptions {
  /** Only on these weekdays; `'weekdays'` means Monday to Friday. */
  weekdays?: readonly Weekday[] | 'weekdays' | 'weekends';
  /** Only on these days of the month (1 … 31). */
  monthDays?: readonly number[];
  /** IANA timezone. */
  timezone?: string;
  /** DST policy. */
  dst?: DstPolicy;
}

/** Options of {@link cron}. */
export interface CronOptions {
  /** IANA timezone. */
  timezone?: string;
  /** DST policy. */
  dst?: DstPolicy;
}

/** Every `interval` of absolute time ("5m", "90s", `{ minutes: 5 }`), aligned to the epoch or `anchor`. */
export function every(interval: Duration, options: { anchor?: Date | string } = {}): EverySpec {
  const everyMs = parseDuration(interval, 'every(): interval', InvalidScheduleError);
  const spec: EverySpec = { kind: 'every', everyMs };
  if (options.anchor !== undefined) spec.anchor = toIso(options.anchor, 'every(): anchor');
  return spec;
}

/** At the given local times ("06:00", "18:30:15") every day, or on the given weekdays / month days. */
export function dailyAt(times: string | readonly string[], options: DailyOptions = {}): DailySpec {
  const list = typeof times === 'string' ? [times] : [...times];
  const spec: DailySpec = { kind: 'daily', times: list };
  if (options.weekdays !== undefined) spec.weekdays = normaliseWeekdays(options.weekdays);
  if (options.monthDays !== undefined) spec.monthDays = [...options.monthDays];
  if (options.timezone !== undefined) spec.timezone = options.timezone;
  if (options.dst !== undefined) spec.dst = { ...options.dst };
  return spec;
}

/** A cron expression (5 fields, 6 with seconds, 7 with seconds and year), e.g. `cron('0 12 15W * *', { timezone: 'Europe/Paris' })`. */
export function cron(expression: string, options: CronOptions = {}): CronSpec {
  const spec: CronSpec = { kind: 'cron', expression };
  if (options.timezone !== undefined) spec.timezone = options.timezone;
  if (options.dst !== undefined) spec.dst = { ...options.dst };
  return spec;
}

/** Once, at `instant`. */
export function once(instant: Date | string | number): OnceSpec {
  return { kind: 'once', at: toIso(instant, 'once(): instant') };
}

function toIso(value: Date | string | number, what: string): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidScheduleError(`${what}: "${String(value)}" is not a valid instant`);
  return d.toISOString();
}

function normaliseWeekdays(input: readonly Weekday[] | 'weekdays' | 'weekends'): number[] {
  if (input === 'weekdays') return [1, 2, 3, 4, 5];
  if (input === 'weekends') return [0, 6];
  return input.map((day) => {
    if (typeof day === 'number') {
      if (!Number.isInteger(day) || day < 0 || day > 7) {
        throw new InvalidScheduleError(`dailyAt(): weekday ${day} is out of range (0 = Sunday … 6 = Saturday, 7 = Sunday)`);
      }
      return day % 7;
    }
    const index = WEEKDAY_NAMES.indexOf(day.trim().slice(0, 3).toLowerCase());
    if (index < 0) throw new InvalidScheduleError(`dailyAt(): "${day}" is not a weekday name`);
    return index;
  });
}
