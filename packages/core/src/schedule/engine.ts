import { InvalidArgumentError, InvalidScheduleError } from '../errors.js';
import { closest } from '../suggest.js';
import { parseCron } from './cron.js';
import { parseDaily } from './daily.js';
import { describeCron, describeDaily, describeEvery } from './describe.js';
import { MAX_INSTANT, nextEvery, previousEvery } from './interval.js';
import type { DstPolicy, ScheduleInput, ScheduleSpec } from './spec.js';
import { zoneRules } from './timezone.js';
import type { WallClockMatcher } from './wall-clock.js';
import { nextZoned } from './zoned.js';

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
  /** The DST policy in force, defaults filled in (see {@link DstPolicy}); null for `every` and `once`. */
  readonly dst: Required<DstPolicy> | null;
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
  daily: ['kind', 'times', 'weekdays', 'monthDays', 'timezone', 'dst'],
  cron: ['kind', 'expression', 'timezone', 'dst', 'hashSeed'],
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
    throw new InvalidScheduleError(
      `${what}: everyMs must be a positive whole number of milliseconds, got ${typeof everyMs === 'number' ? String(everyMs) : (JSON.stringify(everyMs) ?? String(everyMs))}`,
    );
  }
  const anchor = spec.anchor === undefined ? 0 : instant(spec.anchor, `${what}: anchor`);
  const frozen = Object.freeze({ kind: 'every' as const, everyMs, ...(spec.anchor !== undefined ? { anchor: spec.anchor } : {}) });
  return build(frozen, 'UTC', 'absolute', null, describeEvery(everyMs, anchor), {
    next: (after) => nextEvery(everyMs, anchor, after),
    previous: (atOrBefore, notBefore) => previousEvery(everyMs, anchor, atOrBefore, notBefore),
  });
}

function compileOnce(spec: ScheduleSpec & { kind: 'once' }, what: string): CompiledSchedule {
  const at = instant(spec.at, `${what}: at`);
  const frozen = Object.freeze({ kind: 'once' as const, at: spec.at });
  return build(frozen, 'UTC', 'absolute', null, `once at ${new Date(at).toISOString()}`, {
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
    if (spec.hashSeed !== undefined && typeof spec.hashSeed !== 'string') {
      throw new InvalidScheduleError(`${what}: hashSeed must be a string, got ${JSON.stringify(spec.hashSeed) ?? String(spec.hashSeed)}`);
    }
    const parsed = parseCron(spec.expression, what, spec.hashSeed);
    matcher = parsed.matcher;
    realTime = parsed.followsRealTime;
    frozen = Object.freeze({ ...spec, ...(spec.dst ? { dst: Object.freeze({ ...spec.dst }) } : {}) });
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
      ...(spec.dst ? { dst: Object.freeze({ ...spec.dst }) } : {}),
    });
    description = describeDaily(parsed, timezone);
  }
  const dst = resolveDstPolicy(spec.dst, realTime, `${what}: dst`);
  const find = zone.isUtc ? (after: number) => matcher.nextAfter(after) : (after: number) => nextZoned(matcher, zone, dst, after);
  // Wall-clock slots are searched from year 1000 to LAST_YEAR; earlier inputs search from 1000.
  const next = (after: number) => find(Math.max(after, FIRST_INSTANT));
  return build(frozen, timezone, realTime ? 'real-time' : 'fixed-time', dst, description, {
    next,
    previous: (atOrBefore, notBefore) => searchBackwards(next, atOrBefore, notBefore),
  });
}

const GAP_POLICIES: readonly Required<DstPolicy>['gap'][] = ['next-instant', 'shift', 'skip'];
const OVERLAP_POLICIES: readonly Required<DstPolicy>['overlap'][] = ['first', 'last', 'both'];

/**
 * A DST policy with defaults filled in: Vixie cron's rule (`next-instant` + `first`) for a
 * fixed-time schedule, real time (`skip` + `both`) for a cron with a `*` / `*\/n` hour.
 * Throws InvalidScheduleError naming `what` and the field.
 */
export function resolveDstPolicy(input: unknown, realTime: boolean, what: string): Required<DstPolicy> {
  const defaults: Required<DstPolicy> = realTime ? { gap: 'skip', overlap: 'both' } : { gap: 'next-instant', overlap: 'first' };
  if (input === undefined) return defaults;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidScheduleError(`${what} must be an object { gap?, overlap? }, got ${JSON.stringify(input) ?? String(input)}`);
  }
  for (const field of Object.keys(input)) {
    if (field !== 'gap' && field !== 'overlap') {
      const hint = closest(field, ['gap', 'overlap']);
      throw new InvalidScheduleError(
        `${what}: "${field}" is not a field of a DST policy (fields: gap, overlap)${hint ? `; did you mean "${hint}"?` : ''}`,
      );
    }
  }
  const { gap, overlap } = input as Partial<Record<'gap' | 'overlap', unknown>>;
  if (gap !== undefined && !GAP_POLICIES.includes(gap as Required<DstPolicy>['gap'])) {
    throw new InvalidScheduleError(
      `${what}.gap must be one of ${GAP_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(gap) ?? String(gap)}`,
    );
  }
  if (overlap !== undefined && !OVERLAP_POLICIES.includes(overlap as Required<DstPolicy>['overlap'])) {
    throw new InvalidScheduleError(
      `${what}.overlap must be one of ${OVERLAP_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(overlap) ?? String(overlap)}`,
    );
  }
  return { gap: (gap as DstPolicy['gap']) ?? defaults.gap, overlap: (overlap as DstPolicy['overlap']) ?? defaults.overlap };
}

function build(
  spec: ScheduleSpec,
  timezone: string,
  dstRule: DstRule,
  dst: Required<DstPolicy> | null,
  description: string,
  source: SlotSource,
): CompiledSchedule {
  const compiled: Compiled = {
    spec,
    timezone,
    dstRule,
    dst: dst && Object.freeze(dst),
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
  if (!Number.isInteger(limit) || limit < 0)
    throw new InvalidArgumentError(`slotsBetween(): limit must be a whole number ≥ 0, got ${String(limit)}`);
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
