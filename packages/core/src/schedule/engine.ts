import { InvalidArgumentError, InvalidScheduleError } from '../errors.js';
import { closest } from '../suggest.js';
import { parseCron } from './cron.js';
import { parseDaily } from './daily.js';
import { describeCron, describeDaily, describeEvery } from './describe.js';
import { MAX_INSTANT, nextEvery, previousEvery } from './interval.js';
import type { ScheduleInput, ScheduleSpec } from './spec.js';
import { zoneRules } from './timezone.js';
import type { WallClockMatcher } from './wall-clock.js';
import { nextFixedTime, nextRealTime } from './zoned.js';

/** How a schedule's slots relate to DST changes. */
export type DstRule =
  /** Wall-clock times; gap times run once at the gap's end, repeated times once at their first occurrence. */
  | 'fixed-time'
  /** Wall-clock times at real cadence: gap times are skipped, repeated times run twice. */
  | 'real-time'
  /** Absolute instants (`every`, `once`): DST does not apply. */
  | 'absolute';

/** A validated schedule bound to its timezone, ready for slot computation. */
export interface CompiledSchedule {
  /** The JSON spec it was compiled from (daily times sorted and de-duplicated). */
  readonly spec: ScheduleSpec;
  /** The IANA timezone slots are computed in ('UTC' for `every` and `once`). */
  readonly timezone: string;
  /** How DST changes affect the slots. */
  readonly dstRule: DstRule;
  /** The first slot strictly after `after`, or null when the schedule has no more slots. */
  next(after: Date): Date | null;
  /** The schedule in words (see {@link describeSchedule}). */
  describe(): string;
}

/** Options of {@link compileSchedule}. */
export interface CompileOptions {
  /** Timezone used when the spec names none (default 'UTC'). */
  timezone?: string;
  /** What to call the schedule in error messages, e.g. `job "report": schedule`. */
  what?: string;
}

/** Wall-clock searches start no earlier than 1000-01-01T00:00:00Z: older calendars (and Intl's era handling) are out of scope. */
const FIRST_INSTANT = Date.UTC(1000, 0, 1);

interface SlotSource {
  next(after: number): number | null;
  previous(atOrBefore: number, notBefore: number): number | null;
}

const SOURCE = Symbol('tickwork.slotSource');

/** The fields each spec kind has; any other is refused. */
const SPEC_FIELDS: Record<ScheduleSpec['kind'], readonly string[]> = {
  every: ['kind', 'everyMs', 'anchor'],
  daily: ['kind', 'times', 'weekdays', 'monthDays', 'timezone'],
  cron: ['kind', 'expression', 'timezone'],
  once: ['kind', 'at'],
};

interface Compiled extends CompiledSchedule {
  readonly [SOURCE]: SlotSource;
}

/** Validates `input` and binds it to a timezone. Throws InvalidScheduleError naming `what` and the field. */
export function compileSchedule(input: ScheduleInput, options: CompileOptions = {}): CompiledSchedule {
  const what = options.what ?? 'schedule';
  const spec: unknown = typeof input === 'string' ? { kind: 'cron', expression: input } : input;
  if (spec === null || typeof spec !== 'object') {
    throw new InvalidScheduleError(`${what}: expected a cron expression or a schedule spec, got ${spec === null ? 'null' : typeof spec}`);
  }
  const kind = (spec as { kind?: unknown }).kind;
  const fields = SPEC_FIELDS[kind as ScheduleSpec['kind']];
  if (fields) {
    // A misspelt field would otherwise be ignored silently ("timezon": the schedule runs in UTC).
    for (const field of Object.keys(spec)) {
      if (!fields.includes(field)) {
        const hint = closest(field, fields);
        throw new InvalidScheduleError(
          `${what}: "${field}" is not a field of a "${String(kind)}" schedule (fields: ${fields.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`,
        );
      }
    }
  }
  switch (kind) {
    case 'every':
      return compileEvery(spec as ScheduleSpec & { kind: 'every' }, what);
    case 'once':
      return compileOnce(spec as ScheduleSpec & { kind: 'once' }, what);
    case 'daily':
    case 'cron':
      return compileWallClock(spec as ScheduleSpec & { kind: 'daily' | 'cron' }, options, what);
    default:
      throw new InvalidScheduleError(`${what}: kind ${JSON.stringify(kind)} is not one of "every", "daily", "cron", "once"`);
  }
}

function compileEvery(spec: ScheduleSpec & { kind: 'every' }, what: string): CompiledSchedule {
  const { everyMs } = spec;
  if (typeof everyMs !== 'number' || !Number.isInteger(everyMs) || everyMs <= 0 || everyMs > MAX_INSTANT) {
    throw new InvalidScheduleError(`${what}: everyMs must be a positive whole number of milliseconds, got ${typeof everyMs === 'number' ? String(everyMs) : JSON.stringify(everyMs) ?? String(everyMs)}`);
  }
  const anchor = spec.anchor === undefined ? 0 : instant(spec.anchor, `${what}: anchor`);
  const frozen = Object.freeze({ kind: 'every' as const, everyMs, ...(spec.anchor !== undefined ? { anchor: spec.anchor } : {}) });
  return build(frozen, 'UTC', 'absolute', describeEvery(everyMs, anchor), {
    next: (after) => nextEvery(everyMs, anchor, after),
    previous: (atOrBefore, notBefore) => previousEvery(everyMs, anchor, atOrBefore, notBefore),
  });
}

function compileOnce(spec: ScheduleSpec & { kind: 'once' }, what: string): CompiledSchedule {
  const at = instant(spec.at, `${what}: at`);
  const frozen = Object.freeze({ kind: 'once' as const, at: spec.at });
  return build(frozen, 'UTC', 'absolute', `once at ${new Date(at).toISOString()}`, {
    next: (after) => (at > after ? at : null),
    previous: (atOrBefore, notBefore) => (at <= atOrBefore && at > notBefore ? at : null),
  });
}

function compileWallClock(spec: ScheduleSpec & { kind: 'daily' | 'cron' }, options: CompileOptions, what: string): CompiledSchedule {
  const timezone = spec.timezone ?? options.timezone ?? 'UTC';
  const zone = zoneRules(timezone, what);
  let matcher: WallClockMatcher;
  let realTime: boolean;
  let frozen: ScheduleSpec;
  let description: string;
  if (spec.kind === 'cron') {
    const parsed = parseCron(spec.expression, what);
    matcher = parsed.matcher;
    realTime = parsed.followsRealTime;
    frozen = Object.freeze({ ...spec });
    description = describeCron(parsed, spec.expression, timezone);
  } else {
    const parsed = parseDaily(spec, what);
    matcher = parsed.matcher;
    realTime = false;
    frozen = Object.freeze({
      ...spec,
      times: Object.freeze([...parsed.times]) as string[],
      ...(parsed.weekdays ? { weekdays: Object.freeze([...parsed.weekdays]) as number[] } : {}),
      ...(parsed.monthDays ? { monthDays: Object.freeze([...parsed.monthDays]) as number[] } : {}),
    });
    description = describeDaily(parsed, timezone);
  }
  const find = zone.isUtc
    ? (after: number) => matcher.nextAfter(after)
    : realTime
      ? (after: number) => nextRealTime(matcher, zone, after)
      : (after: number) => nextFixedTime(matcher, zone, after);
  // Wall-clock slots are searched from year 1000 to LAST_YEAR; earlier inputs search from 1000.
  const next = (after: number) => find(Math.max(after, FIRST_INSTANT));
  return build(frozen, timezone, realTime ? 'real-time' : 'fixed-time', description, {
    next,
    previous: (atOrBefore, notBefore) => searchBackwards(next, atOrBefore, notBefore),
  });
}

function build(spec: ScheduleSpec, timezone: string, dstRule: DstRule, description: string, source: SlotSource): CompiledSchedule {
  const compiled: Compiled = {
    spec,
    timezone,
    dstRule,
    [SOURCE]: source,
    next(after) {
      const slot = source.next(time(after, 'after'));
      return slot === null ? null : new Date(slot);
    },
    describe: () => description,
  };
  return Object.freeze(compiled);
}

/**
 * The latest slot in (notBefore, atOrBefore] using only forward search: windows ending
 * at `atOrBefore` that double until one holds a slot, then bisection inside it. Costs
 * O(log(distance)) forward searches however dense the schedule and however far back
 * `notBefore` lies.
 */
function searchBackwards(next: (after: number) => number | null, atOrBefore: number, notBefore: number): number | null {
  let high = atOrBefore;
  let width = 1000;
  let low: number;
  for (;;) {
    if (high <= notBefore) return null;
    low = Math.max(notBefore, high - width);
    const slot = next(low);
    if (slot === null) return null;
    if (slot <= high) break;
    high = low;
    width *= 2;
  }
  // Invariant: a slot lies in (low, high]; shrink until the first slot after `low` is the last one.
  for (;;) {
    const first = next(low) as number;
    const following = next(first);
    if (following === null || following > high) return first;
    const mid = low + Math.floor((high - low) / 2);
    const probe = next(mid);
    if (probe !== null && probe <= high) low = mid;
    else high = mid;
  }
}

function sourceOf(input: CompiledSchedule): SlotSource {
  const source = (input as Partial<Compiled>)[SOURCE];
  if (source === undefined) throw new InvalidArgumentError('schedule: expected a schedule returned by compileSchedule()');
  return source;
}

function time(value: Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`${name}: expected a valid Date, got ${String(value)}`);
  return ms;
}

function instant(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new InvalidScheduleError(`${what}: ${JSON.stringify(value) ?? String(value)} is not an ISO-8601 instant`);
  return ms;
}

/** The first slot strictly after `after`, or null when the schedule has no more slots. */
export function nextSlot(schedule: CompiledSchedule, after: Date): Date | null {
  const slot = sourceOf(schedule).next(time(after, 'nextSlot(): after'));
  return slot === null ? null : new Date(slot);
}

/** Every slot `s` with `from < s ≤ to`, ascending, at most `limit` (default 10,000) of them. */
export function slotsBetween(schedule: CompiledSchedule, from: Date, to: Date, limit = 10_000): Date[] {
  const source = sourceOf(schedule);
  if (!Number.isInteger(limit) || limit < 0) throw new InvalidArgumentError(`slotsBetween(): limit must be a whole number ≥ 0, got ${String(limit)}`);
  const end = time(to, 'slotsBetween(): to');
  const slots: Date[] = [];
  let cursor = time(from, 'slotsBetween(): from');
  while (slots.length < limit) {
    const slot = source.next(cursor);
    if (slot === null || slot > end) break;
    slots.push(new Date(slot));
    cursor = slot;
  }
  return slots;
}

/** The latest slot `s` with `notBefore < s ≤ atOrBefore`, or null. */
export function previousSlot(schedule: CompiledSchedule, atOrBefore: Date, notBefore: Date): Date | null {
  const slot = sourceOf(schedule).previous(time(atOrBefore, 'previousSlot(): atOrBefore'), time(notBefore, 'previousSlot(): notBefore'));
  return slot === null ? null : new Date(slot);
}

/** The schedule in words: "every 5 minutes", "at 06:00 and 18:30 on weekdays (Europe/Paris)". */
export function describeSchedule(schedule: CompiledSchedule | ScheduleSpec): string {
  const compiled = SOURCE in schedule ? (schedule as CompiledSchedule) : compileSchedule(schedule as ScheduleSpec);
  return compiled.describe();
}
