import { Cron } from 'croner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSchedule, nextSlot } from '../src/entry/schedule.js';
import { oracleCronArb } from './cron-oracle.js';

// croner is an independent implementation; where no DST applies (UTC, Asia/Kolkata) its
// answers must equal ours. Forms croner lacks (`a/n`, `?`) are not generated.

function fieldArb(min: number, max: number, names: readonly string[] = []): fc.Arbitrary<string> {
  const value = fc.integer({ min, max }).chain((v) => {
    const name = names[v - (names.length === 12 ? 1 : 0)];
    return name !== undefined ? fc.constantFrom(String(v), name) : fc.constant(String(v));
  });
  const range = fc
    .tuple(
      fc.integer({ min, max }),
      fc.integer({ min, max }),
      fc.option(fc.integer({ min: 1, max: Math.min(15, max - min) }), { nil: undefined }),
    )
    .map(([a, b, step]) => `${Math.min(a, b)}-${Math.max(a, b)}${step ? `/${step}` : ''}`);
  const starStep = fc.integer({ min: 1, max: Math.min(30, max - min) }).map((step) => `*/${step}`);
  const list = fc.array(fc.oneof(value, range, starStep), { minLength: 1, maxLength: 3 }).map((items) => items.join(','));
  return fc.oneof(fc.constant('*'), list);
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const expressionArb = fc
  .tuple(fc.boolean(), fieldArb(0, 59), fieldArb(0, 59), fieldArb(0, 23), fieldArb(1, 31), fieldArb(1, 12, MONTHS), fieldArb(0, 7, DAYS))
  .map(([withSeconds, s, m, h, dom, mon, dow]) => (withSeconds ? [s, m, h, dom, mon, dow] : [m, h, dom, mon, dow]).join(' '));

const kolkataDay = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Kolkata', day: 'numeric' });

/**
 * croner 11's other known miss: a stepped day of month (`*\/5`, `*\/6,1`, …) skips 1 March after
 * February (it answers March 6 for `0 0 *\/5 * *` asked on February 27; day 1 is in 1, 6, 11, …).
 * Found by this property test; checked by hand over steps 2 … 20 and every month.
 */
function isCronerMarchFirstStepBug(slot: Date, expression: string, zone: string): boolean {
  const fields = expression.split(' ');
  const dayOfMonth = fields[fields.length - 3] as string;
  const local = new Intl.DateTimeFormat('en-US', { timeZone: zone, month: 'numeric', day: 'numeric' }).format(slot);
  return dayOfMonth.includes('/') && local === '3/1';
}

/** croner 11's third known miss: 1 March skipped for a day of week with an `L` item, asked in late February (pinned below). */
function isCronerMarchFirstLastWeekdayBug(slot: Date, expression: string): boolean {
  const fields = expression.split(' ');
  const dayOfWeek = fields[fields.length === 7 ? 5 : fields.length - 1] as string;
  return /L/i.test(dayOfWeek) && slot.getUTCMonth() === 2 && slot.getUTCDate() === 1;
}

/** croner's known miss: a slot on the 1st local day of a month while UTC is still in the previous month. */
function isCronerMonthStartBug(slot: Date, zone: string): boolean {
  return zone === 'Asia/Kolkata' && kolkataDay.format(slot) === '1' && slot.getUTCDate() !== 1;
}

describe('croner 11 disagrees only where it is wrong', () => {
  it('croner skips 1 March for a stepped day of month ("0 0 */5 * *" asked on 27 February); the engine does not', () => {
    const from = new Date('2006-02-27T01:00:00Z');
    expect(nextSlot(compileSchedule('0 0 */5 * *'), from)?.toISOString()).toBe('2006-03-01T00:00:00.000Z');
    expect(new Cron('0 0 */5 * *', { timezone: 'UTC' }).nextRun(from)?.toISOString()).toBe('2006-03-06T00:00:00.000Z');
  });

  it('croner skips 1 March 00:00 in Asia/Kolkata for "0 * 1,30 * *" asked on February 1; the engine does not', () => {
    const from = new Date('1998-02-01T18:00:00Z'); // 1998-02-01 23:30 +05:30
    const firstOfMarch = '1998-02-28T18:30:00.000Z'; // 1998-03-01 00:00 +05:30
    expect(nextSlot(compileSchedule('0 * 1,30 * *', { timezone: 'Asia/Kolkata' }), from)?.toISOString()).toBe(firstOfMarch);
    expect(new Cron('0 * 1,30 * *', { timezone: 'Asia/Kolkata' }).nextRun(from)?.toISOString()).toBe('1998-03-29T18:30:00.000Z');
  });
});

describe('cross-check against croner where DST does not apply', () => {
  for (const zone of ['UTC', 'Asia/Kolkata']) {
    it(`computes the same next slots as croner in ${zone}`, () => {
      fc.assert(
        fc.property(expressionArb, fc.integer({ min: Date.UTC(1995, 0, 1), max: Date.UTC(2045, 0, 1) }), (expression, start) => {
          let ours: ReturnType<typeof compileSchedule>;
          try {
            ours = compileSchedule(expression, { timezone: zone });
          } catch (error) {
            // Only "30 February"-style expressions may be refused; croner then finds no run either.
            expect(String(error)).toContain('never matches');
            expect(new Cron(expression, { timezone: zone }).nextRun(new Date(start))).toBeNull();
            return;
          }
          const theirs = new Cron(expression, { timezone: zone });
          let after = new Date(start);
          let reference = new Date(start);
          for (let i = 0; i < 5; i++) {
            const mine = nextSlot(ours, after);
            const croner = theirs.nextRun(reference);
            if (
              mine &&
              croner &&
              mine < croner &&
              (isCronerMonthStartBug(mine, zone) || isCronerMarchFirstStepBug(mine, expression, zone))
            ) {
              // croner 11 skips the 1st of a month whose local midnight hours still fall in
              // the previous UTC month (zones east of UTC); ours is then the earlier slot, whose
              // correctness engine-property.test.ts checks against Intl wall times.
              break;
            }
            expect(mine?.toISOString()).toBe(croner?.toISOString());
            if (!mine || !croner) break;
            after = mine;
            reference = croner;
          }
        }),
        { numRuns: 400 },
      );
    });
  }
});

describe('cross-check against croner on the full language in UTC (L, W, LW, #, nL, ?, +, the year field)', () => {
  it('croner 11 refuses forms the engine accepts: L-n in the day of month, and a day-of-week step above 7', () => {
    // Not mistakes in what croner computes, so the differential below does not generate them;
    // cron-language-property.test.ts checks them against the oracle instead.
    expect(() => new Cron('0 0 L-2 * *', { timezone: 'UTC' })).toThrow(/illegal lower range/);
    expect(() => new Cron('0 0 * * 1-5/9', { timezone: 'UTC' })).toThrow(/steps cannot be greater/);
    expect(nextSlot(compileSchedule('0 0 L-2 * *'), new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-01-29T00:00:00.000Z');
    expect(nextSlot(compileSchedule('0 0 * * 1-5/9'), new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-01-05T00:00:00.000Z');
  });

  it('croner skips 1 March when asked in late February for a day of week with an L item ("0 0 * * 3L,TUE#1" on 24 February 2022); the engine does not', () => {
    // 1 March 2022 is the first Tuesday; croner answers the last Wednesday of March. Found by the property below.
    const from = new Date('2022-02-24T00:00:00Z');
    expect(nextSlot(compileSchedule('0 0 * * 3L,TUE#1'), from)?.toISOString()).toBe('2022-03-01T00:00:00.000Z');
    expect(new Cron('0 0 * * 3L,TUE#1', { timezone: 'UTC' }).nextRun(from)?.toISOString()).toBe('2022-03-30T00:00:00.000Z');
    // The same with a plain day of month beside the L item: 1 March is day 1.
    expect(nextSlot(compileSchedule('0 0 1 * 3L'), from)?.toISOString()).toBe('2022-03-01T00:00:00.000Z');
    expect(new Cron('0 0 1 * 3L', { timezone: 'UTC' }).nextRun(from)?.toISOString()).toBe('2022-03-30T00:00:00.000Z');
  });

  it('computes the same five next slots as croner from random instants', () => {
    // 50,000 runs of this property met croner's one miss above and no other on these forms.
    fc.assert(
      fc.property(
        oracleCronArb({ withoutCronerMisses: true }),
        fc.integer({ min: Date.UTC(1995, 0, 1), max: Date.UTC(2045, 0, 1) }),
        (c, start) => {
          let ours: ReturnType<typeof compileSchedule>;
          try {
            ours = compileSchedule(c.expression);
          } catch (error) {
            expect(String(error)).toContain('never matches');
            expect(new Cron(c.expression, { timezone: 'UTC' }).nextRun(new Date(start))).toBeNull();
            return;
          }
          const theirs = new Cron(c.expression, { timezone: 'UTC' });
          let after = new Date(start);
          for (let i = 0; i < 5; i++) {
            const mine = nextSlot(ours, after);
            const croner = theirs.nextRun(after);
            if (mine && croner && mine < croner && isCronerMarchFirstLastWeekdayBug(mine, c.expression)) break;
            expect(mine?.toISOString()).toBe(croner?.toISOString());
            if (!mine) break;
            after = mine;
          }
        },
      ),
      { numRuns: 400 },
    );
  }, 60_000);
});
