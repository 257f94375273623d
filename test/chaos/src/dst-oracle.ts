import type { DstPolicy, ScheduleSpec } from '@tickwork/core';
import { compileSchedule, slotsBetween } from '@tickwork/core/schedule';
import { IANAZone } from 'luxon';
import { cronFollowsRealTime, oracleCron, oracleDaily, type OracleMatcher, type WallDay } from './oracle-cron.js';

/**
 * A brute-force DST oracle: it walks real minutes, asks Luxon for the zone's offset, and
 * applies docs/design.md's rule from first principles — no knowledge of core's algorithm.
 * Fixed-time: a matching wall time skipped by a gap runs once at the first real minute
 * after the gap; a wall time seen again after a fall-back does not run. Real-time: every
 * real minute whose wall time matches. Absolute: anchor + n × interval. A case naming a DST
 * policy: a skipped wall time runs at the first minute after the jump (next-instant), where
 * the old offset would have put it (shift) or not at all (skip); a repeated one at its first
 * occurrence, its last (the earlier emission is taken back) or both.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
const HOUR = 3_600_000;

/** One schedule of the oracle's table: core's spec plus the oracle's own reading of it. */
export interface OracleCase {
  /** Short label for tables. */
  label: string;
  /** What core compiles. */
  spec: ScheduleSpec;
  /** How the oracle reads it. */
  rule: 'fixed-time' | 'real-time' | 'absolute';
  /** Wall-clock matcher (fixed-time / real-time). */
  matcher?: OracleMatcher;
  /** Absolute grid (every). */
  every?: { everyMs: number; anchor: number };
  /** The DST policy the spec names (the oracle applies it from its definition); absent: the rule's default. */
  dst?: DstPolicy;
}

function cronCase(expression: string, dst?: DstPolicy): OracleCase {
  return {
    label: `cron ${expression}${dst ? ` dst=${dst.gap ?? ''}/${dst.overlap ?? ''}` : ''}`,
    spec: dst ? { kind: 'cron', expression, dst } : { kind: 'cron', expression },
    rule: cronFollowsRealTime(expression) ? 'real-time' : 'fixed-time',
    matcher: oracleCron(expression),
    ...(dst ? { dst } : {}),
  };
}

function dailyCase(times: string[], weekdays?: number[], monthDays?: number[], dst?: DstPolicy): OracleCase {
  const spec: ScheduleSpec = { kind: 'daily', times };
  if (weekdays) spec.weekdays = weekdays;
  if (monthDays) spec.monthDays = monthDays;
  if (dst) spec.dst = dst;
  const filters = `${weekdays ? ` wd=${weekdays.join(',')}` : ''}${monthDays ? ` md=${monthDays.join(',')}` : ''}${dst ? ` dst=${dst.gap ?? ''}/${dst.overlap ?? ''}` : ''}`;
  return {
    label: `daily ${times.join(',')}${filters}`,
    spec,
    rule: 'fixed-time',
    matcher: oracleDaily(times, weekdays, monthDays),
    ...(dst ? { dst } : {}),
  };
}

function everyCase(everyMs: number, anchor?: string): OracleCase {
  const spec: ScheduleSpec = anchor === undefined ? { kind: 'every', everyMs } : { kind: 'every', everyMs, anchor };
  return {
    label: `every ${everyMs / MINUTE}m${anchor ? ` @${anchor}` : ''}`,
    spec,
    rule: 'absolute',
    every: { everyMs, anchor: anchor ? Date.parse(anchor) : 0 },
  };
}

/** The schedules every zone is checked with: gap/overlap-sensitive fixed times, real-time cadences, intervals. */
export const ORACLE_CASES: readonly OracleCase[] = [
  cronCase('15 1,2,3 * * *'),
  cronCase('30 2 * * *'),
  cronCase('0 0 * * *'),
  cronCase('45 23 * * *'),
  cronCase('0,30 0-4 * * 0'),
  cronCase('5 0-2 1,15 * 6'),
  cronCase('*/15 * * * *'),
  cronCase('30 * * * *'),
  cronCase('0 */2 * * *'),
  cronCase('10 * * * 0'),
  dailyCase(['00:00', '02:00', '02:30', '03:00']),
  dailyCase(['01:45', '23:59'], [0, 6]),
  dailyCase(['00:30', '12:00'], undefined, [1, 15, 31]),
  cronCase('15 1,2,3 * * *', { gap: 'shift', overlap: 'last' }),
  cronCase('30 * * * *', { gap: 'next-instant', overlap: 'first' }),
  dailyCase(['00:00', '00:30', '01:30', '02:30'], undefined, undefined, { gap: 'skip', overlap: 'both' }),
  dailyCase(['00:15', '01:45', '02:15', '23:45'], undefined, undefined, { gap: 'shift', overlap: 'last' }),
  everyCase(HOUR),
  everyCase(45 * MINUTE, '2020-01-01T00:10:00Z'),
];

/** The zones the oracle covers: DST zones with 30-minute, 2-hour, midnight and historical transitions. */
export const ORACLE_ZONES: readonly string[] = [
  'Australia/Lord_Howe',
  'America/Santiago',
  'Europe/Chisinau',
  'Asia/Tehran',
  'Pacific/Apia',
  'America/St_Johns',
  'America/New_York',
  'Europe/London',
  'Europe/Paris',
  'Asia/Beirut',
  'America/Havana',
  'Africa/Cairo',
  'Australia/Sydney',
  'Pacific/Auckland',
  'America/Sao_Paulo',
  'Asia/Jerusalem',
  'Europe/Lisbon',
  'America/Mexico_City',
  'America/Chicago',
  'Antarctica/Troll',
];

/** The zone's UTC offset in milliseconds at `t`, from Luxon (IANA data via Intl). */
export function luxonOffset(zone: IANAZone, t: number): number {
  return zone.offset(t) * MINUTE;
}

function wallDay(dayIndex: number): WallDay {
  const d = new Date(dayIndex * DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}

/** Wall-time matching with a per-day cache of each case's day filter. */
class WallMatcher {
  private cachedDay = Number.NaN;
  private dayOk: boolean[] = [];
  constructor(private readonly cases: readonly OracleCase[]) {}

  matches(index: number, wall: number): boolean {
    const c = this.cases[index] as OracleCase;
    const day = Math.floor(wall / DAY);
    if (day !== this.cachedDay) {
      const fields = wallDay(day);
      this.dayOk = this.cases.map((k) => (k.matcher ? k.matcher.dayMatches(fields) : false));
      this.cachedDay = day;
    }
    return (this.dayOk[index] as boolean) && (c.matcher as OracleMatcher).minutes[(wall - day * DAY) / MINUTE] === 1;
  }

  matchesAnywhere(index: number, wall: number): boolean {
    // Gap walls are checked out of order; do not disturb the sequential cache.
    const c = this.cases[index] as OracleCase;
    const day = Math.floor(wall / DAY);
    return (c.matcher as OracleMatcher).dayMatches(wallDay(day)) && (c.matcher as OracleMatcher).minutes[(wall - day * DAY) / MINUTE] === 1;
  }
}

/**
 * Oracle slots of every case in (from, to], walking real minutes from `from - warmup`.
 * Offsets are asked once per real hour; an hour whose two ends differ is walked minute by minute.
 */
export function oracleSlots(zoneName: string, cases: readonly OracleCase[], from: number, to: number, warmup = 3 * DAY): number[][] {
  const zone = IANAZone.create(zoneName);
  if (!zone.isValid) throw new Error(`oracle: unknown zone ${zoneName}`);
  const out: number[][] = cases.map(() => []);
  // Per case, the instant each wall time was last emitted at (overlap 'last' takes it back when the wall time comes again).
  const emitted = cases.map(() => new Map<number, number>());
  const policies = cases.map((c) => ({
    gap: c.dst?.gap ?? (c.rule === 'real-time' ? 'skip' : 'next-instant'),
    overlap: c.dst?.overlap ?? (c.rule === 'real-time' ? 'both' : 'first'),
  }));
  const matcher = new WallMatcher(cases);
  const start = Math.floor((from - warmup) / HOUR) * HOUR;
  let prevWall = start - MINUTE + luxonOffset(zone, start - MINUTE);
  let maxWall = prevWall;
  let hourOffset = luxonOffset(zone, start);
  // Past `to` by a few hours, so that a wall time's second occurrence is seen before its first is kept ('last').
  const end = to + 3 * HOUR;
  for (let hour = start; hour <= end; hour += HOUR) {
    const nextHourOffset = luxonOffset(zone, hour + HOUR);
    const steady = nextHourOffset === hourOffset;
    for (let t = hour; t < hour + HOUR && t <= end; t += MINUTE) {
      const wall = t + (steady ? hourOffset : luxonOffset(zone, t));
      const gap = wall > prevWall + MINUTE;
      const repeat = wall <= maxWall;
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i] as OracleCase;
        const list = out[i] as number[];
        const emit = (instant: number) => {
          if (instant > from && instant <= to) list.push(instant);
        };
        if (c.rule === 'absolute') {
          const grid = c.every as { everyMs: number; anchor: number };
          if ((((t - grid.anchor) % grid.everyMs) + grid.everyMs) % grid.everyMs === 0) emit(t);
          continue;
        }
        const { gap: gapPolicy, overlap } = policies[i] as { gap: string; overlap: string };
        if (matcher.matches(i, wall)) {
          const earlier = (emitted[i] as Map<number, number>).get(wall);
          if (!repeat || overlap === 'both') emit(t);
          else if (overlap === 'last') {
            if (earlier !== undefined && list.includes(earlier)) list.splice(list.indexOf(earlier), 1);
            emit(t);
          }
          (emitted[i] as Map<number, number>).set(wall, t);
        }
        if (gap && gapPolicy !== 'skip') {
          // Wall times prevWall+1min … wall-1min do not exist: each matching one runs at the first
          // instant after the jump (next-instant) or where the old offset would have put it (shift).
          for (let skipped = prevWall + MINUTE; skipped < wall; skipped += MINUTE) {
            if (skipped <= maxWall || !matcher.matchesAnywhere(i, skipped)) continue;
            emit(gapPolicy === 'shift' ? t - MINUTE + (skipped - prevWall) : t);
          }
        }
      }
      prevWall = wall;
      if (wall > maxWall) maxWall = wall;
    }
    hourOffset = nextHourOffset;
  }
  // Several wall times may land on one instant (a gap, a shift onto an existing time): one slot.
  return out.map((list) => [...new Set(list)].sort((a, b) => a - b));
}

/** One disagreement between core and the oracle. */
export interface OracleMismatch {
  zone: string;
  schedule: string;
  /** The first instant where the lists differ (ISO), and what each side had there. */
  at: string;
  core: string | null;
  oracle: string | null;
}

/** Result of comparing one zone over one window. */
export interface ZoneVerdict {
  zone: string;
  slots: number;
  mismatches: OracleMismatch[];
}

/** Compares core's `slotsBetween` with the oracle for every case in (from, to] in `zone`. */
export function compareZone(zone: string, from: number, to: number, cases: readonly OracleCase[] = ORACLE_CASES): ZoneVerdict {
  const expected = oracleSlots(zone, cases, from, to);
  const verdict: ZoneVerdict = { zone, slots: 0, mismatches: [] };
  cases.forEach((c, i) => {
    const compiled = compileSchedule(c.spec, { timezone: zone });
    const actual = slotsBetween(compiled, new Date(from), new Date(to), 10_000_000).map((d) => d.getTime());
    const want = expected[i] as number[];
    verdict.slots += want.length;
    const length = Math.max(actual.length, want.length);
    for (let k = 0; k < length; k++) {
      if (actual[k] !== want[k]) {
        const iso = (v: number | undefined) => (v === undefined ? null : new Date(v).toISOString());
        verdict.mismatches.push({
          zone,
          schedule: c.label,
          at: iso(Math.min(actual[k] ?? Infinity, want[k] ?? Infinity)) ?? '',
          core: iso(actual[k]),
          oracle: iso(want[k]),
        });
        break;
      }
    }
  });
  return verdict;
}

/** The instants in [from, to) where the zone's offset changes, found by daily samples then bisection (Luxon). */
export function transitionsBetween(zoneName: string, from: number, to: number): number[] {
  const zone = IANAZone.create(zoneName);
  const found: number[] = [];
  let previous = luxonOffset(zone, from);
  for (let t = from; t < to; t += DAY) {
    const offset = luxonOffset(zone, t + DAY);
    if (offset !== previous) {
      let low = t;
      let high = t + DAY;
      while (high - low > MINUTE) {
        const mid = low + Math.floor((high - low) / 2 / MINUTE) * MINUTE;
        if (luxonOffset(zone, mid) === previous) low = mid;
        else high = mid;
      }
      found.push(high);
      previous = offset;
    }
  }
  return found;
}
