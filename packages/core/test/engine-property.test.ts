import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ScheduleSpec } from '../src/index.js';
import { compileSchedule, nextSlot, previousSlot, slotsBetween, type CompiledSchedule } from '../src/entry/schedule.js';

// An independent oracle: schedules are generated as value sets, rendered to text, and
// checked against those sets with Intl-derived wall times — never with the engine's own code.

interface Field {
  text: string;
  values: Set<number>;
}

interface GeneratedCron {
  expression: string;
  seconds: boolean;
  fields: Field[]; // second, minute, hour, dom, month, dow (dow values 0-6)
}

const RANGES: [number, number][] = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function fieldArb(index: number, allowStar: boolean): fc.Arbitrary<Field> {
  const [min, max] = RANGES[index] as [number, number];
  const starMax = index === 5 ? 6 : max;
  const name = (v: number) =>
    index === 4 && v >= 1 ? (MONTH_NAMES[v - 1] as string) : index === 5 && v <= 6 ? (DAY_NAMES[v] as string) : String(v);
  const single = fc.tuple(fc.integer({ min, max }), fc.boolean()).map(([v, named]) => ({ text: named ? name(v) : String(v), values: [v] }));
  const range = fc
    .tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.integer({ min: 1, max: 20 }), fc.boolean())
    .map(([a, b, step, stepped]) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const values: number[] = [];
      for (let v = lo; v <= hi; v += stepped ? step : 1) values.push(v);
      return { text: `${lo}-${hi}${stepped ? `/${step}` : ''}`, values };
    });
  const starStep = fc.integer({ min: 1, max: Math.max(1, starMax - min) + 1 }).map((step) => {
    const values: number[] = [];
    for (let v = min; v <= starMax; v += step) values.push(v);
    return { text: `*/${step}`, values };
  });
  const item = fc.oneof(single, range, starStep);
  const list = fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => ({
    text: items.map((i) => i.text).join(','),
    values: new Set(items.flatMap((i) => i.values).map((v) => (index === 5 ? v % 7 : v))),
  }));
  if (!allowStar) return list;
  return fc.oneof(
    { arbitrary: fc.constant({ text: '*', values: new Set(range0(min, starMax)) }), weight: 2 },
    { arbitrary: list, weight: 3 },
  );
}

/** Hours where the zones below change their clocks, so fixed-time schedules meet gaps and overlaps. */
const nightHours: fc.Arbitrary<Field> = fc
  .uniqueArray(fc.constantFrom(0, 1, 2, 3, 23), { minLength: 1, maxLength: 3 })
  .map((hours) => ({ text: hours.join(','), values: new Set(hours) }));

function range0(min: number, max: number): number[] {
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

/** Random cron expressions; `dense` keeps them firing often enough for brute-force windows. */
function cronArb(options: { seconds: boolean; dense: boolean }): fc.Arbitrary<GeneratedCron> {
  const star = (i: number) => fieldArb(i, true);
  return fc
    .tuple(
      options.seconds ? star(0) : fc.constant({ text: '0', values: new Set([0]) }),
      star(1),
      fc.oneof(star(2), nightHours),
      options.dense ? fc.constant({ text: '*', values: new Set(range0(1, 31)) }) : star(3),
      options.dense ? fc.constant({ text: '*', values: new Set(range0(1, 12)) }) : star(4),
      star(5),
    )
    .filter(([, , , dom, month, dow]) => dow.text !== '*' || possible(dom.values, month.values))
    .map((fields) => ({
      expression: fields
        .slice(options.seconds ? 0 : 1)
        .map((f) => f.text)
        .join(' '),
      seconds: options.seconds,
      fields,
    }));
}

function possible(dom: Set<number>, months: Set<number>): boolean {
  const lengths = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return [...months].some((m) => [...dom].some((d) => d <= (lengths[m - 1] as number)));
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function wallOf(instant: number, zone: string): Wall {
  if (zone === 'UTC') return wallFromKey(Math.floor(instant / 1000) * 1000);
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
      second: 'numeric',
    });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, Number(p.value)]));
  const weekday = new Date(Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day as number)).getUTCDay();
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
    weekday,
  };
}

function wallKey(w: Wall): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

function cronMatches(c: GeneratedCron, w: Wall): boolean {
  const [s, mi, h, dom, mo, dow] = c.fields as [Field, Field, Field, Field, Field, Field];
  const domStar = dom.text === '*';
  const dowStar = dow.text === '*';
  const dayOk =
    domStar || dowStar ? dom.values.has(w.day) && dow.values.has(w.weekday) : dom.values.has(w.day) || dow.values.has(w.weekday);
  return s.values.has(w.second) && mi.values.has(w.minute) && h.values.has(w.hour) && mo.values.has(w.month) && dayOk;
}

const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe',
  'America/Santiago',
  'Asia/Beirut',
  'Asia/Kolkata',
  'Pacific/Apia',
  'Europe/Paris',
];
// Around DST transitions of the zones above, so the generated windows cross them often.
const NEAR_TRANSITIONS: [string, number][] = (
  [
    ['America/New_York', '2026-03-08T07:00:00Z'],
    ['America/New_York', '2026-11-01T06:00:00Z'],
    ['Europe/London', '2026-03-29T01:00:00Z'],
    ['Europe/London', '2026-10-25T01:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
    ['America/Santiago', '2026-04-05T03:00:00Z'],
    ['America/Santiago', '2026-09-06T04:00:00Z'],
    ['Asia/Beirut', '2026-03-28T22:00:00Z'],
    ['Asia/Beirut', '2026-10-24T21:00:00Z'],
    ['Pacific/Apia', '2011-12-30T10:00:00Z'],
    ['Europe/Paris', '2026-03-29T01:00:00Z'],
  ] as const
).map(([zone, at]) => [zone, Date.parse(at)]);

const instantArb = fc.oneof(
  fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) }),
  fc
    .tuple(fc.constantFrom(...NEAR_TRANSITIONS.map(([, t]) => t)), fc.integer({ min: -36 * 3_600_000, max: 36 * 3_600_000 }))
    .map(([t, d]) => t + d),
);

/** A zone and an instant; most pairs lie up to 28 hours before one of that zone's transitions. */
const zonedInstantArb: fc.Arbitrary<[string, number]> = fc.oneof(
  fc.tuple(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) })),
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...NEAR_TRANSITIONS), fc.integer({ min: -28 * 3_600_000, max: 0 }))
      .map(([[zone, t], d]) => [zone, t + d] as [string, number]),
  },
);

/**
 * Brute force over real instants, minute by minute (5-field schedules): a wall time that
 * matches is a slot at its first occurrence (fixed-time) or at every occurrence
 * (real-time); a spring-forward jump over a matching wall time makes the instant after
 * the jump a slot (fixed-time).
 */
function bruteForce(matches: (w: Wall) => boolean, zone: string, realTime: boolean, from: number, to: number): number[] {
  const slots: number[] = [];
  const seen = new Set<number>();
  const start = Math.ceil((from - 3 * 3_600_000) / 60_000) * 60_000;
  let previous: Wall | null = null;
  for (let t = start; t <= to; t += 60_000) {
    const wall = wallOf(t, zone);
    const key = wallKey(wall);
    let slot = matches(wall) && (realTime || !seen.has(key));
    if (!realTime && !slot && previous !== null && key - wallKey(previous) > 60_000) {
      for (let w = wallKey(previous) + 60_000; w < key && !slot; w += 60_000) slot = matches(wallFromKey(w));
    }
    seen.add(key);
    previous = wall;
    if (slot && t > from) slots.push(t);
  }
  return slots;
}

function wallFromKey(key: number): Wall {
  const d = new Date(key);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

function iso(list: readonly (Date | number)[]): string[] {
  return list.map((d) => new Date(d).toISOString());
}

function dailyArb(): fc.Arbitrary<{ spec: ScheduleSpec; matches: (w: Wall) => boolean }> {
  const time = fc.tuple(fc.oneof(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 1, 2, 3, 23)), fc.constantFrom(0, 15, 30, 45, 59, 1));
  return fc
    .tuple(
      fc.array(time, { minLength: 1, maxLength: 4 }),
      fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }), { nil: undefined }),
      fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 31 }), { minLength: 10, maxLength: 31 }), { nil: undefined }),
    )
    .map(([times, weekdays, monthDays]) => {
      const spec: ScheduleSpec = {
        kind: 'daily',
        times: times.map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
      };
      if (weekdays) spec.weekdays = weekdays;
      if (monthDays) spec.monthDays = monthDays;
      const matches = (w: Wall) =>
        w.second === 0 &&
        times.some(([h, m]) => h === w.hour && m === w.minute) &&
        (!weekdays || weekdays.includes(w.weekday)) &&
        (!monthDays || monthDays.includes(w.day));
      return { spec, matches };
    });
}

function checkAgainstOracle(
  schedule: CompiledSchedule,
  matches: (w: Wall) => boolean,
  realTime: boolean,
  zone: string,
  from: number,
  hours: number,
) {
  const to = from + hours * 3_600_000;
  const expected = bruteForce(matches, zone, realTime, from, to);
  expect(iso(slotsBetween(schedule, new Date(from), new Date(to)))).toEqual(iso(expected));
}

describe('schedule engine properties', () => {
  it('the next slot of a cron schedule is strictly after the input and its wall time matches (or it ends a DST gap)', () => {
    fc.assert(
      fc.property(
        fc.oneof(cronArb({ seconds: false, dense: false }), cronArb({ seconds: true, dense: false })),
        zonedInstantArb,
        (c, [zone, after]) => {
          const schedule = compileSchedule(c.expression, { timezone: zone });
          const slot = nextSlot(schedule, new Date(after));
          expect(slot).not.toBeNull();
          const t = (slot as Date).getTime();
          expect(t).toBeGreaterThan(after);
          const matchesHere = cronMatches(c, wallOf(t, zone));
          const endsGap = wallKey(wallOf(t, zone)) - wallKey(wallOf(t - 1000, zone)) > 1000;
          const fixedTime = !(c.fields[2] as Field).text.startsWith('*');
          expect(schedule.dstRule).toBe(fixedTime ? 'fixed-time' : 'real-time');
          expect(matchesHere || (fixedTime && endsGap)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('in UTC, slotsBetween equals a second-by-second brute-force walk for 6-field expressions', () => {
    fc.assert(
      fc.property(
        cronArb({ seconds: true, dense: true }),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2050, 0, 1) }),
        (c, from) => {
          const schedule = compileSchedule(c.expression);
          const to = from + 2 * 3_600_000;
          const expected: number[] = [];
          for (let t = Math.floor(from / 1000) * 1000 + 1000; t <= to; t += 1000) if (cronMatches(c, wallOf(t, 'UTC'))) expected.push(t);
          expect(iso(slotsBetween(schedule, new Date(from), new Date(to)))).toEqual(iso(expected));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('in every zone, cron slots over a window are exactly those of a minute-by-minute walk of real instants', () => {
    fc.assert(
      fc.property(cronArb({ seconds: false, dense: true }), zonedInstantArb, (c, [zone, from]) => {
        checkAgainstOracle(
          compileSchedule(c.expression, { timezone: zone }),
          (w) => cronMatches(c, w),
          (c.fields[2] as Field).text.startsWith('*'),
          zone,
          from,
          30,
        );
      }),
      { numRuns: 120 },
    );
  });

  it('in every zone, daily-at slots over a window are exactly those of a minute-by-minute walk of real instants', () => {
    fc.assert(
      fc.property(dailyArb(), zonedInstantArb, (daily, [zone, from]) => {
        const schedule = compileSchedule(daily.spec, { timezone: zone });
        expect(schedule.dstRule).toBe('fixed-time');
        checkAgainstOracle(schedule, daily.matches, false, zone, from, 50);
      }),
      { numRuns: 120 },
    );
  });

  it('slotsBetween repeats and misses nothing compared with iterating nextSlot, for every kind', () => {
    const specArb = fc.oneof(
      cronArb({ seconds: true, dense: false }).map((c) => c.expression as string | ScheduleSpec),
      dailyArb().map((d) => d.spec as string | ScheduleSpec),
      fc
        .tuple(fc.integer({ min: 1, max: 10 * 86_400_000 }), fc.integer({ min: -1e12, max: 1e12 }))
        .map(([everyMs, anchor]) => ({ kind: 'every', everyMs, anchor: new Date(anchor).toISOString() }) as ScheduleSpec),
    );
    fc.assert(
      fc.property(specArb, fc.constantFrom(...ZONES), instantArb, fc.integer({ min: 1, max: 200 }), (spec, zone, from, count) => {
        const schedule = compileSchedule(spec, { timezone: zone });
        const iterated: number[] = [];
        let cursor = from;
        for (let i = 0; i < count; i++) {
          const next = nextSlot(schedule, new Date(cursor));
          if (next === null) break;
          iterated.push(next.getTime());
          cursor = next.getTime();
        }
        if (iterated.length === 0) return;
        const to = iterated[iterated.length - 1] as number;
        const between = slotsBetween(schedule, new Date(from), new Date(to)).map((d) => d.getTime());
        expect(between).toEqual(iterated);
        expect(new Set(between).size).toBe(between.length);
      }),
      { numRuns: 200 },
    );
  });

  it('previousSlot is the last slot slotsBetween returns for the same window', () => {
    const specArb = fc.oneof(
      cronArb({ seconds: false, dense: false }).map((c) => c.expression as string | ScheduleSpec),
      dailyArb().map((d) => d.spec as string | ScheduleSpec),
      fc.integer({ min: 60_000, max: 3 * 86_400_000 }).map((everyMs) => ({ kind: 'every', everyMs }) as ScheduleSpec),
    );
    fc.assert(
      fc.property(specArb, fc.constantFrom(...ZONES), instantArb, fc.integer({ min: 1, max: 10 * 86_400_000 }), (spec, zone, at, span) => {
        const schedule = compileSchedule(spec, { timezone: zone });
        const notBefore = new Date(at - span);
        const all = slotsBetween(schedule, notBefore, new Date(at), 1_000_000);
        const expected = all.length > 0 ? (all[all.length - 1] as Date).toISOString() : null;
        expect(previousSlot(schedule, new Date(at), notBefore)?.toISOString() ?? null).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });
});
