import { describe, expect, it } from 'vitest';
import { dailyAt, every, InvalidScheduleError, type ScheduleInput } from '../src/index.js';
import { compileSchedule } from '../src/entry/schedule.js';

function rejection(input: ScheduleInput, timezone?: string): InvalidScheduleError {
  try {
    compileSchedule(input, { what: 'job "report": schedule', ...(timezone !== undefined ? { timezone } : {}) });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidScheduleError);
    return error as InvalidScheduleError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('invalid schedules are rejected with an error naming the job, the field and the bad token', () => {
  it.each([
    ['61 * * * *', 'minute field', '"61"'],
    ['* 24 * * *', 'hour field', '"24"'],
    ['* * 0 * *', 'day-of-month field', '"0"'],
    ['* * * 13 *', 'month field', '"13"'],
    ['* * * * 8', 'day-of-week field', '"8"'],
    ['60 * * * * *', 'second field', '"60"'],
    ['*/0 * * * *', 'minute field', '"*/0"'],
    ['5-1 * * * *', 'minute field', '"5-1"'],
    ['1,,2 * * * *', 'minute field', '"1,,2"'],
    ['* * * FOO *', 'month field', '"FOO"'],
    ['* * * * MON-FUNDAY', 'day-of-week field', 'MON-FUNDAY'],
    ['*/x * * * *', 'minute field', '"x"'],
    ['1.5 * * * *', 'minute field', '"1.5"'],
    ['? * * * *', 'minute field', '"?"'],
    ['0 L * * *', 'hour field', '"L"'],
    ['0 0 * * TUE#6', 'day-of-week field', '"TUE#6"'],
    ['0 0 * * 2#0', 'day-of-week field', '"2#0"'],
    ['0 0 1-15W * *', 'day-of-month field', '"1-15W"'],
    ['0 0 15W/2 * *', 'day-of-month field', '"15W/2"'],
    ['0 0 32W * *', 'day-of-month field', '"32W"'],
    ['0 0 L-31 * *', 'day-of-month field', '"L-31"'],
    ['0 0 0 1 1 * 0', 'year field', '"0"'],
    ['0 0 0 1 1 * 10000', 'year field', '"10000"'],
    ['0 0 0 1 1 * 2030-2026', 'year field', '"2030-2026"'],
    ['0 0 0 1 1 * H', 'year field', '"H"'],
    ['+5 * * * *', 'minute field', '"+5"'],
    ['0 0 +1 * *', 'day-of-month field', '"+1"'],
    ['0 0 * * MON,+FRI', 'day-of-week field', '"+FRI"'],
    ['0 0 * * +', 'day-of-week field', '"+"'],
    ['0 0 * 5W *', 'month field', '"5W"'],
    ['0 0 * * 5W', 'day-of-week field', '"5W"'],
    ['0 0 1#2 * *', 'day-of-month field', '"1#2"'],
    ['0 0 * * L', 'day-of-week field', '"L"'],
    ['H(50-10) * * * *', 'minute field', '"H(50-10)"'],
    ['H/0 * * * *', 'minute field', '"H/0"'],
  ])('%s is rejected in the %s', (expression, field, token) => {
    const error = rejection(expression);
    expect(error.message).toMatch(/^\[tickwork\] job "report": schedule: /);
    expect(error.message).toContain(field);
    expect(error.message).toContain(token);
  });

  it('rejects 8 fields, 4 fields, an empty expression and garbage, naming the field count', () => {
    expect(rejection('0 0 0 * * * 2026 1').message).toContain('has 8 fields');
    expect(rejection('0 * * *').message).toContain('has 4 fields');
    expect(rejection('').message).toContain('has 0 fields');
    expect(rejection('every day please').message).toContain('has 3 fields');
  });

  it('rejects @reboot and unknown aliases, accepts the known ones in any case', () => {
    expect(rejection('@reboot').message).toContain('@reboot has no slot instant');
    expect(rejection('@often').message).toContain('"@often" is not a supported alias');
    for (const alias of ['@yearly', '@ANNUALLY', '@monthly', '@Weekly', '@daily', '@midnight', '@hourly']) {
      expect(compileSchedule(alias).timezone).toBe('UTC');
    }
  });

  it('rejects an expression that can never match, whatever form its days take', () => {
    for (const expression of [
      '0 0 30 2 *',
      '0 0 31 4,6,9,11 *',
      '0 0 0 29 2 * 2025-2027', // no leap year in the range
      '0 0 0 1 1 * 900', // before year 1000, where slots are computed from
    ]) {
      expect(rejection(expression).message).toContain('never matches');
    }
    expect(rejection('0 0 0 13 1 +THU 2023').message).toContain('never matches'); // 13 January 2023 was a Friday
    expect(rejection('0 0 0 30W 2 *').message).toContain('never matches'); // February has no 30th
    expect(rejection('0 0 0 L-30 2 *').message).toContain('never matches');
    expect(rejection('0 0 0 * 2 SUN#5 2026').message).toContain('never matches'); // February 2026 has 4 Sundays
    expect(() => compileSchedule('0 0 0 13 1 +FRI 2023')).not.toThrow();
    expect(() => compileSchedule('0 0 0 * 2 SUN#5 2032')).not.toThrow(); // 29 February 2032 is a Sunday
  });

  it('rejects an unknown timezone naming the timezone field and the value', () => {
    const error = rejection('* * * * *', 'Mars/Olympus_Mons');
    expect(error.message).toContain('job "report": schedule: timezone "Mars/Olympus_Mons"');
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(rejection(dailyAt('06:00', { timezone: 'Europe/Pariss' })).message).toContain('timezone "Europe/Pariss"');
  });

  it('rejects zero, negative, NaN and fractional intervals', () => {
    for (const everyMs of [0, -5, Number.NaN, 1.5, Number.POSITIVE_INFINITY]) {
      expect(rejection({ kind: 'every', everyMs }).message).toContain('everyMs must be a positive whole number');
    }
    expect(() => every(0)).toThrow(InvalidScheduleError);
    expect(() => every('-5m')).toThrow(InvalidScheduleError);
    expect(rejection({ kind: 'every', everyMs: 1000, anchor: 'yesterday' }).message).toContain(
      'anchor: "yesterday" is not an ISO-8601 instant',
    );
  });

  it('rejects bad daily times, an empty list, and out-of-range weekdays and month days', () => {
    for (const time of ['25:00', '12:60', '7am', '12:00:60', '', '1200']) {
      expect(rejection(dailyAt(time)).message).toContain(`times: "${time}" is not a 24-hour local time`);
    }
    expect(rejection(dailyAt([])).message).toContain('times must be a non-empty list');
    expect(rejection({ kind: 'daily', times: ['06:00'], weekdays: [7] }).message).toContain('weekdays: 7 is not an integer 0-6');
    expect(rejection({ kind: 'daily', times: ['06:00'], monthDays: [0] }).message).toContain('monthDays: 0 is not an integer 1-31');
    expect(rejection({ kind: 'daily', times: ['06:00'], weekdays: [] }).message).toContain('weekdays must be a non-empty list');
  });

  it('rejects a once instant that is not a date, and unknown kinds', () => {
    expect(rejection({ kind: 'once', at: 'soon' }).message).toContain('at: "soon" is not an ISO-8601 instant');
    expect(rejection({ kind: 'weekly' } as unknown as ScheduleInput).message).toContain('kind "weekly" is not one of');
  });

  it('uses "schedule" when no `what` is given', () => {
    expect(() => compileSchedule('61 * * * *')).toThrow(
      /^\[tickwork\] schedule: cron "61 \* \* \* \*": minute field: "61" is out of range 0-59$/,
    );
  });
});

describe('valid schedules compile', () => {
  it('accepts names, 7 as Sunday, ? in day fields, steps on ranges and starts, and lists', () => {
    for (const expression of [
      '0 0 * JAN-mar SUN',
      '0 0 * * 7',
      '0 0 ? * MON',
      '0 0 1 * ?',
      '0-30/10 9-17 * * 1-5',
      '5/15 * * * *',
      '0 0,12 1,15 * *',
      '*/5 * * * * *',
    ]) {
      expect(() => compileSchedule(expression)).not.toThrow();
    }
  });

  it('accepts L, L-n, W, LW, #, nL, ?, +, H and a year, alone and in lists', () => {
    for (const expression of [
      '0 0 L * *',
      '0 0 L-3 * *',
      '0 12 15W * *',
      '0 0 LW * *',
      '0 0 1,15W,L * ?',
      '0 0 ? * TUE#2',
      '0 0 * * 5#L',
      '0 0 * * FRI#L',
      '0 0 * * 5L',
      '0 0 * * 1-5#1',
      '0 0 1 * +MON',
      '0 0 ? * +MON-FRI',
      'H H * * *',
      'H/15 * * * *',
      'H(0-29)/10 H(9-17) * * 1-5',
      '0 0 0 1 1 * 2026-2030',
      '0 0 0 L * * */4',
      '0 0 0 1 1 ? 2026,2028',
      '0 0 0 29 2 * 2028/4',
    ]) {
      expect(() => compileSchedule(expression)).not.toThrow();
    }
  });

  it('resolves the zone from the spec, then the options, then UTC; every and once are UTC', () => {
    expect(compileSchedule(dailyAt('06:00', { timezone: 'Asia/Tokyo' }), { timezone: 'Europe/Paris' }).timezone).toBe('Asia/Tokyo');
    expect(compileSchedule(dailyAt('06:00'), { timezone: 'Europe/Paris' }).timezone).toBe('Europe/Paris');
    expect(compileSchedule(dailyAt('06:00')).timezone).toBe('UTC');
    expect(compileSchedule(every('5m'), { timezone: 'Europe/Paris' }).timezone).toBe('UTC');
  });

  it('sorts and de-duplicates daily times in the compiled spec', () => {
    expect(compileSchedule(dailyAt(['18:30', '06:00', '6:00', '18:30:00'])).spec).toEqual({ kind: 'daily', times: ['06:00', '18:30'] });
  });
});
