import { describe, expect, it } from 'vitest';
import { cron, type CronSpec, dailyAt, every, InvalidArgumentError, once } from '../src/index.js';
import { compileSchedule, describeSchedule, nextSlot, previousSlot, slotsBetween } from '../src/entry/schedule.js';

const at = (iso: string) => new Date(iso);

describe('slot computation', () => {
  it('aligns every() to the epoch by default and to the anchor when given', () => {
    expect(nextSlot(compileSchedule(every('5m')), at('2026-03-02T12:03:10Z'))?.toISOString()).toBe('2026-03-02T12:05:00.000Z');
    const anchored = compileSchedule(every('5m', { anchor: '2026-01-01T00:01:30Z' }));
    expect(nextSlot(anchored, at('2026-03-02T12:03:10Z'))?.toISOString()).toBe('2026-03-02T12:06:30.000Z');
    expect(nextSlot(anchored, at('2025-12-31T23:59:00Z'))?.toISOString()).toBe('2026-01-01T00:01:30.000Z');
  });

  it('is strictly after the input, also for inputs with milliseconds', () => {
    const minute = compileSchedule('* * * * *');
    expect(nextSlot(minute, at('2026-03-02T12:00:00.000Z'))?.toISOString()).toBe('2026-03-02T12:01:00.000Z');
    expect(nextSlot(minute, at('2026-03-02T11:59:59.999Z'))?.toISOString()).toBe('2026-03-02T12:00:00.000Z');
    expect(compileSchedule('*/20 * * * * *').next(at('2026-03-02T12:00:20.001Z'))?.toISOString()).toBe('2026-03-02T12:00:40.000Z');
  });

  it('has exactly one slot for once()', () => {
    const single = compileSchedule(once('2026-12-01T09:00:00Z'));
    expect(nextSlot(single, at('2026-11-30T00:00:00Z'))?.toISOString()).toBe('2026-12-01T09:00:00.000Z');
    expect(nextSlot(single, at('2026-12-01T09:00:00Z'))).toBeNull();
    expect(previousSlot(single, at('2026-12-01T09:00:00Z'), at('2026-12-01T08:59:59Z'))?.toISOString()).toBe('2026-12-01T09:00:00.000Z');
    expect(previousSlot(single, at('2026-12-01T08:59:59Z'), at('2026-01-01T00:00:00Z'))).toBeNull();
  });

  it('returns slots in (from, to] and honours the limit', () => {
    const fifteen = compileSchedule('*/15 * * * *');
    expect(slotsBetween(fifteen, at('2026-03-02T12:00Z'), at('2026-03-02T12:45Z')).map((d) => d.toISOString())).toEqual([
      '2026-03-02T12:15:00.000Z',
      '2026-03-02T12:30:00.000Z',
      '2026-03-02T12:45:00.000Z',
    ]);
    expect(slotsBetween(fifteen, at('2026-03-02T12:00Z'), at('2026-03-09T12:00Z'), 2)).toHaveLength(2);
    expect(slotsBetween(compileSchedule(every('1s')), at('2020-01-01T00:00Z'), at('2026-01-01T00:00Z'))).toHaveLength(10_000);
  });

  it('finds the previous slot of an every-second cron with notBefore years back', () => {
    const perSecond = compileSchedule('* * * * * *', { timezone: 'Europe/Paris' });
    expect(previousSlot(perSecond, at('2026-03-29T01:00:00.500Z'), at('2000-01-01T00:00Z'))?.toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    const leapDay = compileSchedule('0 12 29 2 *', { timezone: 'America/New_York' });
    expect(previousSlot(leapDay, at('2026-03-07T12:00Z'), at('2000-01-01T00:00Z'))?.toISOString()).toBe('2024-02-29T17:00:00.000Z');
    expect(previousSlot(leapDay, at('2026-03-07T12:00Z'), at('2024-02-29T17:00:00Z'))).toBeNull();
    expect(nextSlot(leapDay, at('2024-02-29T17:00:00Z'))?.toISOString()).toBe('2028-02-29T17:00:00.000Z');
  });

  it('computes the previous slot of every() arithmetically', () => {
    const perMs = compileSchedule(every(7));
    expect(previousSlot(perMs, at('2026-03-02T12:00:00.000Z'), at('1970-01-01T00:00:00Z'))?.getTime()).toBe(
      Math.floor(Date.parse('2026-03-02T12:00:00Z') / 7) * 7,
    );
    expect(previousSlot(perMs, at('1970-01-01T00:00:00.006Z'), at('1970-01-01T00:00:00.000Z'))).toBeNull();
  });

  it('combines day-of-month and day-of-week with OR when both are restricted, AND for daily filters', () => {
    const either = compileSchedule('0 0 13 * 5');
    expect(slotsBetween(either, at('2026-02-01T00:00Z'), at('2026-02-28T00:00Z')).map((d) => d.toISOString().slice(0, 10))).toEqual([
      '2026-02-06',
      '2026-02-13',
      '2026-02-20',
      '2026-02-27',
    ]);
    const both = compileSchedule(dailyAt('00:00', { weekdays: ['fri'], monthDays: [13] }));
    expect(nextSlot(both, at('2026-01-01T00:00Z'))?.toISOString()).toBe('2026-02-13T00:00:00.000Z');
    expect(nextSlot(both, at('2026-02-13T00:00Z'))?.toISOString()).toBe('2026-03-13T00:00:00.000Z');
  });

  it('handles the ends of the Date range: wall-clock slots lie between year 1000 and 9999', () => {
    const midnight = compileSchedule('0 0 * * *', { timezone: 'America/New_York' });
    expect(midnight.next(new Date(-8.64e15))?.toISOString()).toBe('1000-01-01T04:56:02.000Z'); // local mean time -04:56:02
    expect(midnight.next(new Date('9999-12-31T12:00:00Z'))).toBeNull();
    expect(previousSlot(midnight, new Date('2026-01-01T00:00:00Z'), new Date(-8.64e15))?.toISOString()).toBe('2025-12-31T05:00:00.000Z');
    expect(compileSchedule(every('1h')).next(new Date(8.64e15))).toBeNull();
  });

  it('refuses invalid dates and foreign schedule objects', () => {
    const schedule = compileSchedule('* * * * *');
    expect(() => nextSlot(schedule, new Date('nope'))).toThrow(InvalidArgumentError);
    expect(() => slotsBetween(schedule, at('2026-01-01Z'), at('2026-01-02Z'), -1)).toThrow(InvalidArgumentError);
    expect(() => nextSlot({ spec: cron('* * * * *'), timezone: 'UTC' } as never, at('2026-01-01Z'))).toThrow(InvalidArgumentError);
  });
});

// The time "H H * * 1-5" hashes to for the seed "reports", read off its first slot.
const hashedTime = nextSlot(
  compileSchedule({ kind: 'cron', expression: 'H H * * 1-5', hashSeed: 'reports' }),
  new Date('2026-01-05T00:00:00Z'),
)
  ?.toISOString()
  .slice(11, 16);

describe('describeSchedule', () => {
  it.each([
    [every('5m'), 'every 5 minutes'],
    [every('90s'), 'every 90 seconds'],
    [every('1h'), 'every hour'],
    [every('1h30m'), 'every 90 minutes'],
    [every('2d'), 'every 2 days'],
    [dailyAt(['18:30', '06:00'], { weekdays: 'weekdays', timezone: 'Europe/Paris' }), 'at 06:00 and 18:30 on weekdays (Europe/Paris)'],
    [dailyAt('03:00'), 'at 03:00 every day (UTC)'],
    [
      dailyAt('07:15:30', { weekdays: ['mon', 'wed'], monthDays: [1, 15] }),
      'at 07:15:30 on Monday and Wednesday when also on days 1 and 15 of the month (UTC)',
    ],
    [cron('* * * * *'), 'every minute'],
    [cron('*/15 * * * *'), 'every 15 minutes'],
    [cron('30 * * * *'), 'at minute 30 of every hour'],
    [cron('15 2 * * *'), 'at 02:15 every day (UTC)'],
    [cron('0 9 * * 1-5', { timezone: 'Asia/Tokyo' }), 'at 09:00 on weekdays (Asia/Tokyo)'],
    [cron('*/7 * * * *'), 'cron "*/7 * * * *" (UTC)'],
    [
      cron('0 0 1 */3 *', { timezone: 'Europe/London' }),
      'at 00:00 on day 1 of the month in January, April, July and October (Europe/London)',
    ],
    [cron('0 12 15W * *'), 'at 12:00 on the weekday nearest the 15th (UTC)'],
    [cron('0 0 * * FRI#L'), 'at 00:00 on the last Friday of the month (UTC)'],
    [cron('0 0 * * 5L'), 'at 00:00 on the last Friday of the month (UTC)'],
    [cron('0 9 ? * TUE#2'), 'at 09:00 on the second Tuesday of the month (UTC)'],
    [cron('0 0 L * *'), 'at 00:00 on the last day of the month (UTC)'],
    [cron('0 0 L-2 * *'), 'at 00:00 on the 3rd-last day of the month (UTC)'],
    [cron('0 18 LW * *', { timezone: 'Europe/Paris' }), 'at 18:00 on the last weekday of the month (Europe/Paris)'],
    [cron('0 0 1,15,L * *'), 'at 00:00 on days 1 and 15 of the month and on the last day of the month (UTC)'],
    [cron('0 0 13 * FRI'), 'at 00:00 on day 13 of the month or on Friday (UTC)'],
    [cron('0 0 13 * +FRI'), 'at 00:00 on day 13 of the month when also on Friday (UTC)'],
    [cron('0 30 9 * * 1-5 2026-2030'), 'at 09:30 on weekdays from 2026 to 2030 (UTC)'],
    [cron('0 0 0 1 1 * 2026,2028'), 'at 00:00 on day 1 of the month in January of 2026 and 2028 (UTC)'],
    [cron('0 0 0 29 2 * */4'), 'at 00:00 on day 29 of the month in February in the years divisible by 4 (UTC)'],
    [cron('30 0 6,18 * * *'), 'at 06:00:30 and 18:00:30 every day (UTC)'],
    [cron('*/15 * * * MON'), 'every 15 minutes on Monday (UTC)'],
    [{ kind: 'cron', expression: 'H H * * 1-5', hashSeed: 'reports' } satisfies CronSpec, `at ${hashedTime} on weekdays (UTC)`],
    [once('2026-12-01T09:00:00Z'), 'once at 2026-12-01T09:00:00.000Z'],
  ])('describes %j as "%s"', (spec, words) => {
    expect(describeSchedule(spec)).toBe(words);
    expect(describeSchedule(compileSchedule(spec))).toBe(words);
  });

  it('names the zone a compiled schedule got from the options', () => {
    expect(describeSchedule(compileSchedule(dailyAt('03:00'), { timezone: 'America/New_York' }))).toBe(
      'at 03:00 every day (America/New_York)',
    );
    expect(describeSchedule(compileSchedule('*/15 * * * *', { timezone: 'Asia/Kathmandu' }))).toBe('every 15 minutes (Asia/Kathmandu)');
  });
});
