import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSchedule, nextSlot, slotsBetween } from '../src/entry/schedule.js';
import { oracleCronArb, type OracleCron } from './cron-oracle.js';

// The full cron language against an oracle that reads each generated form from its definition
// (cron-oracle.ts) and walks the calendar by brute force, day by day, taking the times of day of
// each matching day from its own reading of the time fields (whose walk engine-property.test.ts
// checks second by second).

const DAY = 86_400_000;

/** Every matching second in (from, to], walking day by day. */
function bruteForce(c: OracleCron, from: number, to: number): number[] {
  const found: number[] = [];
  for (let day = Math.floor(from / DAY) * DAY; day <= to; day += DAY) {
    if (!c.matchesDay(new Date(day))) continue;
    for (const s of c.secondsOfDay) if (day + s * 1000 > from && day + s * 1000 <= to) found.push(day + s * 1000);
  }
  return found;
}

function compiles(c: OracleCron): ReturnType<typeof compileSchedule> | null {
  try {
    return compileSchedule(c.expression);
  } catch (error) {
    // Only a pattern no day can match is refused; the oracle then finds no day from 1995 to 2105
    // either (the generated years lie there; 2100 is the century year without 29 February).
    expect(String(error)).toContain('never matches');
    for (let day = Date.UTC(1995, 0, 1); day < Date.UTC(2106, 0, 1); day += DAY) expect(c.matchesDay(new Date(day))).toBe(false);
    return null;
  }
}

describe('the full cron language in UTC, against a brute-force oracle', () => {
  it('slotsBetween over a window of days equals the brute-force walk (nothing skipped, nothing extra)', () => {
    fc.assert(
      fc.property(
        oracleCronArb({ years: [2000, 2010] }),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2010, 0, 1) }),
        fc.integer({ min: 1, max: 62 }),
        (c, from, days) => {
          const schedule = compiles(c);
          if (!schedule) return;
          const to = from + days * DAY;
          expect(slotsBetween(schedule, new Date(from), new Date(to), 1_000_000).map((d) => d.getTime())).toEqual(bruteForce(c, from, to));
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);

  it('the next slot is strictly after the input, matches, and no matching day lies between', () => {
    fc.assert(
      fc.property(oracleCronArb(), fc.integer({ min: Date.UTC(1995, 0, 1), max: Date.UTC(2045, 0, 1) }), (c, after) => {
        const schedule = compiles(c);
        if (!schedule) return;
        const slot = nextSlot(schedule, new Date(after));
        if (slot === null) {
          // Only a year field ends a schedule (its years all passed): no day matches in the next 20 years.
          expect(c.expression.split(' ')).toHaveLength(7);
          expect(bruteForce(c, after, after + 20 * 366 * DAY)).toEqual([]);
          return;
        }
        const t = slot.getTime();
        expect(t).toBeGreaterThan(after);
        expect(c.matches(slot)).toBe(true);
        // Nothing matches between: the walk from the input to the slot finds the slot alone.
        expect(bruteForce(c, after, t)).toEqual([t]);
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
