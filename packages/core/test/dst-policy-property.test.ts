import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DstPolicy } from '../src/index.js';
import { compileSchedule, slotsBetween } from '../src/entry/schedule.js';

// Every DST policy against a brute-force oracle: it walks real minutes with Intl's wall times,
// records each matching wall time's occurrences and each forward jump's skipped wall times, and
// applies the policy's definition — no knowledge of the engine's period walk.

const MINUTE = 60_000;
const HOUR = 3_600_000;

interface Generated {
  expression: string;
  realTime: boolean;
  /** Whether a wall time, as fake-UTC milliseconds, matches. */
  matches(wall: number): boolean;
}

const minuteField = fc.constantFrom(
  ['*', null],
  ['*/15', [0, 15, 30, 45]],
  ['0,30', [0, 30]],
  ['5', [5]],
  ['45', [45]],
  ['0', [0]],
  ['20,50', [20, 50]],
) as fc.Arbitrary<[string, number[] | null]>;
const hourField = fc.oneof(
  fc.constantFrom(['*', null], ['*/2', [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]]) as fc.Arbitrary<[string, number[] | null]>,
  fc
    .uniqueArray(fc.constantFrom(0, 1, 2, 3, 23), { minLength: 1, maxLength: 3 })
    .map((hs): [string, number[] | null] => [hs.join(','), hs]),
);

const cronArb: fc.Arbitrary<Generated> = fc.tuple(minuteField, hourField).map(([[m, minutes], [h, hours]]) => ({
  expression: `${m} ${h} * * *`,
  realTime: h.startsWith('*'),
  matches: (wall: number) => {
    const d = new Date(wall);
    return (minutes === null || minutes.includes(d.getUTCMinutes())) && (hours === null || hours.includes(d.getUTCHours()));
  },
}));

const policyArb: fc.Arbitrary<DstPolicy> = fc.record(
  { gap: fc.constantFrom('next-instant', 'shift', 'skip'), overlap: fc.constantFrom('first', 'last', 'both') },
  { requiredKeys: [] },
) as fc.Arbitrary<DstPolicy>;

const TRANSITIONS: [string, string][] = [
  ['America/New_York', '2026-03-08T07:00:00Z'],
  ['America/New_York', '2026-11-01T06:00:00Z'],
  ['Europe/London', '2026-03-29T01:00:00Z'],
  ['Europe/London', '2026-10-25T01:00:00Z'],
  ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
  ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
  ['America/Santiago', '2026-04-05T03:00:00Z'],
  ['America/Santiago', '2026-09-06T04:00:00Z'],
  ['Pacific/Apia', '2011-12-30T10:00:00Z'],
  ['Asia/Kolkata', '2026-03-08T07:00:00Z'],
];

const formats = new Map<string, Intl.DateTimeFormat>();
const walls = new Map<string, number>();
/** The wall time at `instant` in `zone`, as fake-UTC milliseconds (remembered: the windows overlap from run to run). */
function wallAt(instant: number, zone: string): number {
  const id = `${zone} ${instant}`;
  const known = walls.get(id);
  if (known !== undefined) return known;
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(zone, format);
  }
  const p = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, Number(part.value)]));
  const wall = Date.UTC(p.year as number, (p.month as number) - 1, p.day as number, p.hour as number, p.minute as number);
  walls.set(id, wall);
  return wall;
}

/** The policy's slots in (from, to], from its definition over a minute-by-minute walk of real time. */
function oracleSlots(c: Generated, zone: string, dst: DstPolicy, from: number, to: number): number[] {
  const gap = dst.gap ?? (c.realTime ? 'skip' : 'next-instant');
  const overlap = dst.overlap ?? (c.realTime ? 'both' : 'first');
  const occurrences = new Map<number, number[]>();
  const slots = new Set<number>();
  let previous: number | null = null;
  // Six hours either side: every gap and overlap of these zones is shorter, Apia's 24-hour gap
  // aside, whose skipped times all run after the jump.
  for (let t = Math.floor((from - 6 * HOUR) / MINUTE) * MINUTE; t <= to + 6 * HOUR; t += MINUTE) {
    const wall = wallAt(t, zone);
    if (previous !== null && wall - previous > MINUTE) {
      // Wall times previous+1min … wall-1min do not exist: the gap.
      for (let skipped = previous + MINUTE; skipped < wall; skipped += MINUTE) {
        if (!c.matches(skipped)) continue;
        if (gap === 'next-instant') slots.add(t);
        // At the offset before the change, `skipped` would have come this long after `t - 1 min`.
        if (gap === 'shift') slots.add(t - MINUTE + (skipped - previous));
      }
    }
    if (c.matches(wall)) occurrences.set(wall, [...(occurrences.get(wall) ?? []), t]);
    previous = wall;
  }
  for (const times of occurrences.values()) {
    if (overlap === 'first' || times.length === 1) slots.add(times[0] as number);
    else if (overlap === 'last') slots.add(times[times.length - 1] as number);
    else for (const t of times) slots.add(t);
  }
  return [...slots].filter((t) => t > from && t <= to).sort((a, b) => a - b);
}

describe('DST policies against a brute-force oracle', () => {
  it('slots over a window around a transition are exactly the oracle’s, for every policy and zone', () => {
    fc.assert(
      fc.property(
        cronArb,
        policyArb,
        fc.constantFrom(...TRANSITIONS),
        fc.integer({ min: -28 * HOUR, max: 0 }),
        (c, dst, [zone, at], shift) => {
          const from = Date.parse(at) + shift;
          const to = from + 30 * HOUR;
          const schedule = compileSchedule({ kind: 'cron', expression: c.expression, dst }, { timezone: zone });
          const got = slotsBetween(schedule, new Date(from), new Date(to)).map((d) => d.toISOString());
          expect(got).toEqual(oracleSlots(c, zone, dst, from, to).map((t) => new Date(t).toISOString()));
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
