import fc from 'fast-check';

/**
 * Random cron expressions in the full language (L, L-n, W, LW, #, nL, ?, +, a year field), each
 * with its own reading of what it matches: an oracle written from the forms' definitions, sharing
 * no code with the engine. Times of day stay plain (Vixie) values; the day fields carry the forms.
 */
export interface OracleCron {
  expression: string;
  /** Whether the expression matches a UTC wall time (seconds included). */
  matches(wall: Date): boolean;
  /** Whether it matches the day of `wall` (any time). */
  matchesDay(wall: Date): boolean;
  /** The seconds of a matching day it fires at (0 … 86,399), ascending. */
  secondsOfDay: number[];
}

export interface FormOptions {
  /** Forms croner 11 is known to get wrong; left out of the differential test. */
  withoutCronerMisses?: boolean;
}

type DayTest = (year: number, month: number, day: number, weekday: number, length: number) => boolean;

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

function lengthOf(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The weekday nearest day n of the month, never leaving it (Quartz's and croner's W). */
function nearestWeekday(year: number, month: number, n: number): number {
  const length = lengthOf(year, month);
  if (n > length) return -1;
  const weekday = new Date(Date.UTC(year, month - 1, n)).getUTCDay();
  if (weekday === 6) return n === 1 ? 3 : n - 1;
  if (weekday === 0) return n === length ? n - 2 : n + 1;
  return n;
}

interface Item {
  text: string;
  test: DayTest;
}

const plainValues = (
  min: number,
  max: number,
  names: readonly string[] | null,
  offset: number,
  read: (v: number, d: Parameters<DayTest>) => boolean,
  maxStep = 9,
) =>
  fc.oneof(
    fc.tuple(fc.integer({ min, max }), fc.boolean()).map(
      ([v, named]): Item => ({
        text: named && names?.[v - offset] !== undefined ? (names[v - offset] as string) : String(v),
        test: (...d) => read(v, d),
      }),
    ),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.option(fc.integer({ min: 2, max: maxStep }), { nil: undefined }))
      .map(([a, b, step]): Item => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return {
          text: `${lo}-${hi}${step ? `/${step}` : ''}`,
          test: (...d) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).some((v) => (v - lo) % (step ?? 1) === 0 && read(v, d)),
        };
      }),
  );

function domItem(options: FormOptions): fc.Arbitrary<Item> {
  const plain = plainValues(1, 31, null, 0, (v, [, , day]) => day === v);
  const last = fc.integer({ min: 0, max: options.withoutCronerMisses ? 0 : 30 }).map(
    (n): Item => ({
      text: n === 0 ? 'L' : `L-${n}`,
      test: (_y, _m, day, _w, length) => day === length - n,
    }),
  );
  const nearest = fc
    .integer({ min: 1, max: 31 })
    .map((n): Item => ({ text: `${n}W`, test: (year, month, day) => day === nearestWeekday(year, month, n) }));
  return fc.oneof({ arbitrary: plain, weight: 2 }, last, nearest);
}

function dowItem(): fc.Arbitrary<Item> {
  const weekday = (v: number, w: number) => v % 7 === w;
  const plain = plainValues(0, 7, DAY_NAMES, 0, (v, [, , , w]) => weekday(v, w), 7);
  const nth = fc
    .tuple(fc.integer({ min: 0, max: 6 }), fc.boolean(), fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant('L' as const)))
    .map(
      ([v, named, n]): Item => ({
        text: `${named ? DAY_NAMES[v] : v}#${n}`,
        test: (_y, _m, day, w, length) => w === v && (n === 'L' ? day + 7 > length : Math.ceil(day / 7) === n),
      }),
    );
  const lastOf = fc
    .integer({ min: 0, max: 6 })
    .map((v): Item => ({ text: `${v}L`, test: (_y, _m, day, w, length) => w === v && day + 7 > length }));
  return fc.oneof({ arbitrary: plain, weight: 2 }, nth, lastOf);
}

const items = (item: fc.Arbitrary<Item>) =>
  fc
    .array(item, { minLength: 1, maxLength: 3 })
    .map((list) => ({ text: list.map((i) => i.text).join(','), test: ((...d) => list.some((i) => i.test(...d))) as DayTest }));

/** A time-of-day field: `*`, a value, or a short list; `values` the allowed set. */
function timeField(max: number, dense: boolean): fc.Arbitrary<{ text: string; values: Set<number> }> {
  const all = { text: '*', values: new Set(Array.from({ length: max + 1 }, (_, i) => i)) };
  const some = fc
    .uniqueArray(fc.integer({ min: 0, max }), { minLength: 1, maxLength: 3 })
    .map((vs) => ({ text: vs.join(','), values: new Set(vs) }));
  return dense ? fc.oneof(fc.constant(all), some) : some;
}

/**
 * Expressions in the full language. `dense`: minutes and hours may be `*` (for windows of hours);
 * otherwise a few times a day. Five fields, six (seconds) or seven (seconds and a year).
 */
export function oracleCronArb(options: FormOptions & { dense?: boolean; years?: [number, number] } = {}): fc.Arbitrary<OracleCron> {
  const [firstYear, lastYear] = options.years ?? [1995, 2045];
  const star = fc.constantFrom('*', '?').map((text) => ({ text, test: (() => true) as DayTest, star: true }));
  const dom = fc.oneof(
    star,
    items(domItem(options)).map((i) => ({ ...i, star: false })),
  );
  const dow = fc.oneof(
    star,
    items(dowItem()).map((i) => ({ ...i, star: false })),
  );
  const month = fc.oneof(
    fc.constant({ text: '*', test: (() => true) as (m: number) => boolean }),
    fc
      .uniqueArray(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.boolean()), { minLength: 1, maxLength: 4, selector: ([m]) => m })
      .map((ms) => ({
        text: ms.map(([m, named]) => (named ? (MONTH_NAMES[m - 1] as string) : String(m))).join(','),
        test: (m: number) => ms.some(([v]) => v === m),
      })),
  );
  const year = fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    fc
      .tuple(fc.integer({ min: firstYear, max: lastYear }), fc.integer({ min: 0, max: 6 }))
      .map(([y, span]) => ({ text: span === 0 ? String(y) : `${y}-${y + span}`, test: (v: number) => v >= y && v <= y + span })),
    fc.integer({ min: 2, max: 5 }).map((n) => ({ text: `*/${n}`, test: (v: number) => v % n === 0 })),
  );
  return fc
    .tuple(
      fc.boolean(),
      timeField(59, false),
      timeField(59, options.dense ?? false),
      timeField(23, options.dense ?? false),
      dom,
      month,
      dow,
      fc.boolean(),
      year,
    )
    .map(([withSeconds, s, mi, h, d, mo, w, plus, y]) => {
      const both = d.star || w.star || plus;
      const dayTest: DayTest = (...args) => (both ? d.test(...args) && w.test(...args) : d.test(...args) || w.test(...args));
      const second = withSeconds || y !== null ? s : { text: '0', values: new Set([0]) };
      const fields = [mi.text, h.text, d.text, mo.text, `${plus && !w.star ? '+' : ''}${w.text}`];
      const text = y !== null ? [second.text, ...fields, y.text] : withSeconds ? [second.text, ...fields] : fields;
      const matchesDay = (wall: Date) => {
        const year = wall.getUTCFullYear();
        const m = wall.getUTCMonth() + 1;
        return (y === null || y.test(year)) && mo.test(m) && dayTest(year, m, wall.getUTCDate(), wall.getUTCDay(), lengthOf(year, m));
      };
      const secondsOfDay = [...h.values]
        .flatMap((hh) => [...mi.values].flatMap((mm) => [...second.values].map((ss) => hh * 3600 + mm * 60 + ss)))
        .sort((a, b) => a - b);
      return {
        expression: text.join(' '),
        matchesDay,
        secondsOfDay,
        matches: (wall: Date) =>
          wall.getUTCMilliseconds() === 0 &&
          second.values.has(wall.getUTCSeconds()) &&
          mi.values.has(wall.getUTCMinutes()) &&
          h.values.has(wall.getUTCHours()) &&
          matchesDay(wall),
      };
    });
}
