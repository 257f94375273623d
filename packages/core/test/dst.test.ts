import { describe, expect, it } from 'vitest';
import { cron, dailyAt, every, type ScheduleInput } from '../src/index.js';
import { compileSchedule, slotsBetween } from '../src/entry/schedule.js';

/** The slots in (from, to] as ISO strings. */
function slots(input: ScheduleInput, timezone: string, from: string, to: string): string[] {
  const schedule = compileSchedule(input, { timezone });
  return slotsBetween(schedule, new Date(from), new Date(to)).map((d) => d.toISOString());
}

describe('DST: America/New_York (02:00 EST → 03:00 EDT on 2026-03-08 07:00Z; 02:00 EDT → 01:00 EST on 2026-11-01 06:00Z)', () => {
  const zone = 'America/New_York';
  it('runs a daily time inside the spring gap once, at the end of the gap', () => {
    expect(slots(dailyAt('02:30'), zone, '2026-03-07T00:00Z', '2026-03-09T12:00Z')).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });
  it('runs a daily time inside the fall overlap once, at its first occurrence', () => {
    expect(slots(dailyAt('01:30'), zone, '2026-10-31T00:00Z', '2026-11-02T12:00Z')).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });
  it('runs several daily times falling in one gap (and the time right after it) once', () => {
    expect(slots(dailyAt(['02:00', '02:30', '03:00']), zone, '2026-03-08T00:00Z', '2026-03-08T12:00Z')).toEqual([
      '2026-03-08T07:00:00.000Z',
    ]);
  });
  it('runs `15 1,2,3 * * *` at 01:15 EST, at the gap end and at 03:15 EDT in spring (croner drops the gap run)', () => {
    expect(slots('15 1,2,3 * * *', zone, '2026-03-08T00:00Z', '2026-03-08T12:00Z')).toEqual([
      '2026-03-08T06:15:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:15:00.000Z',
    ]);
  });
  it('runs `15 1,2,3 * * *` once each in fall, 01:15 at its first (EDT) occurrence (croner runs it twice)', () => {
    expect(slots('15 1,2,3 * * *', zone, '2026-11-01T00:00Z', '2026-11-01T12:00Z')).toEqual([
      '2026-11-01T05:15:00.000Z',
      '2026-11-01T07:15:00.000Z',
      '2026-11-01T08:15:00.000Z',
    ]);
  });
  it('runs `30 2 * * *` at the gap end in spring and once in fall', () => {
    expect(slots('30 2 * * *', zone, '2026-03-07T00:00Z', '2026-03-09T12:00Z')).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
    expect(slots('30 2 * * *', zone, '2026-10-31T00:00Z', '2026-11-02T12:00Z')).toEqual([
      '2026-10-31T06:30:00.000Z',
      '2026-11-01T07:30:00.000Z',
      '2026-11-02T07:30:00.000Z',
    ]);
  });
  it('asked during the repeated hour, continues after it rather than re-running first occurrences', () => {
    const from = new Date('2026-11-01T06:30:00Z'); // 01:30 EST, the second 01:30
    expect(compileSchedule('0 2 * * *', { timezone: zone }).next(from)?.toISOString()).toBe('2026-11-01T07:00:00.000Z');
    expect(compileSchedule('* 1 * * *', { timezone: zone }).next(from)?.toISOString()).toBe('2026-11-02T06:00:00.000Z');
    expect(compileSchedule('* 1 * * *', { timezone: zone }).next(new Date('2026-11-01T05:58:00Z'))?.toISOString()).toBe(
      '2026-11-01T05:59:00.000Z',
    );
  });
  it('keeps `*/15 * * * *` at a real 15-minute cadence through both transitions', () => {
    expect(slots('*/15 * * * *', zone, '2026-03-08T06:30Z', '2026-03-08T07:30Z')).toEqual([
      '2026-03-08T06:45:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:15:00.000Z',
      '2026-03-08T07:30:00.000Z',
    ]);
    expect(slots('*/15 * * * *', zone, '2026-11-01T05:30Z', '2026-11-01T06:30Z')).toEqual([
      '2026-11-01T05:45:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:15:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
  });
  it('runs `30 * * * *` hourly in real time: skips the non-existent 02:30, runs both 01:30s', () => {
    expect(slots('30 * * * *', zone, '2026-03-08T05:00Z', '2026-03-08T08:00Z')).toEqual([
      '2026-03-08T05:30:00.000Z',
      '2026-03-08T06:30:00.000Z',
      '2026-03-08T07:30:00.000Z',
    ]);
    expect(slots('30 * * * *', zone, '2026-11-01T04:00Z', '2026-11-01T08:00Z')).toEqual([
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-01T07:30:00.000Z',
    ]);
  });
  it('leaves every("1h") on whole UTC hours through both transitions', () => {
    const hours = (day: string) => ['05', '06', '07', '08'].map((h) => `${day}T${h}:00:00.000Z`);
    expect(slots(every('1h'), zone, '2026-03-08T04:30Z', '2026-03-08T08:30Z')).toEqual(hours('2026-03-08'));
    expect(slots(every('1h'), zone, '2026-11-01T04:30Z', '2026-11-01T08:30Z')).toEqual(hours('2026-11-01'));
  });
});

describe('DST: Europe/London (01:00 GMT → 02:00 BST on 2026-03-29; 02:00 BST → 01:00 GMT on 2026-10-25, both at 01:00Z)', () => {
  const zone = 'Europe/London';
  it('runs a daily time in the gap at the gap end and one in the overlap at its first occurrence', () => {
    expect(slots(dailyAt('01:30'), zone, '2026-03-28T00:00Z', '2026-03-30T12:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(slots(dailyAt('01:30'), zone, '2026-10-24T12:00Z', '2026-10-26T12:00Z')).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });
  it('runs `15 1,2,3 * * *` three times on both transition days', () => {
    expect(slots('15 1,2,3 * * *', zone, '2026-03-29T00:00Z', '2026-03-29T12:00Z')).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:15:00.000Z',
      '2026-03-29T02:15:00.000Z',
    ]);
    expect(slots('15 1,2,3 * * *', zone, '2026-10-24T23:00Z', '2026-10-25T12:00Z')).toEqual([
      '2026-10-25T00:15:00.000Z',
      '2026-10-25T02:15:00.000Z',
      '2026-10-25T03:15:00.000Z',
    ]);
  });
  it('runs `30 2 * * *` (outside the London gap and overlap) once a day', () => {
    expect(slots('30 2 * * *', zone, '2026-03-29T00:00Z', '2026-03-29T12:00Z')).toEqual(['2026-03-29T01:30:00.000Z']);
    expect(slots('30 2 * * *', zone, '2026-10-25T00:00Z', '2026-10-25T12:00Z')).toEqual(['2026-10-25T02:30:00.000Z']);
  });
  it('keeps `*/15 * * * *` and `30 * * * *` at real cadence', () => {
    expect(slots('*/15 * * * *', zone, '2026-03-29T00:30Z', '2026-03-29T01:30Z')).toEqual([
      '2026-03-29T00:45:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:15:00.000Z',
      '2026-03-29T01:30:00.000Z',
    ]);
    expect(slots('*/15 * * * *', zone, '2026-10-25T00:30Z', '2026-10-25T01:30Z')).toEqual([
      '2026-10-25T00:45:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:15:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
    expect(slots('30 * * * *', zone, '2026-03-29T00:00Z', '2026-03-29T02:30Z')).toEqual([
      '2026-03-29T00:30:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-29T02:30:00.000Z',
    ]);
    expect(slots('30 * * * *', zone, '2026-10-24T23:00Z', '2026-10-25T02:00Z')).toEqual([
      '2026-10-24T23:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
  });
  it('leaves every("1h") unaffected', () => {
    expect(slots(every('1h'), zone, '2026-03-29T00:30Z', '2026-03-29T02:30Z')).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
    ]);
  });
});

describe('DST: Australia/Lord_Howe, a 30-minute shift (02:00 → 01:30 on 2026-04-05 local, 15:00Z; 02:00 → 02:30 on 2026-10-04 local, 15:30Z)', () => {
  const zone = 'Australia/Lord_Howe';
  it('runs a daily time in the 30-minute gap at its end', () => {
    expect(slots(dailyAt('02:15'), zone, '2026-10-02T00:00Z', '2026-10-05T00:00Z')).toEqual([
      '2026-10-02T15:45:00.000Z',
      '2026-10-03T15:30:00.000Z',
      '2026-10-04T15:15:00.000Z',
    ]);
  });
  it('runs a daily time in the 30-minute overlap once, at its first occurrence', () => {
    expect(slots(dailyAt('01:45'), zone, '2026-04-04T00:00Z', '2026-04-06T00:00Z')).toEqual([
      '2026-04-04T14:45:00.000Z',
      '2026-04-05T15:15:00.000Z',
    ]);
  });
  it('runs `15 1,2,3 * * *` once per listed hour on both transition days', () => {
    expect(slots('15 1,2,3 * * *', zone, '2026-10-03T12:00Z', '2026-10-03T18:00Z')).toEqual([
      '2026-10-03T14:45:00.000Z',
      '2026-10-03T15:30:00.000Z',
      '2026-10-03T16:15:00.000Z',
    ]);
    expect(slots('15 1,2,3 * * *', zone, '2026-04-04T12:00Z', '2026-04-04T18:00Z')).toEqual([
      '2026-04-04T14:15:00.000Z',
      '2026-04-04T15:45:00.000Z',
      '2026-04-04T16:45:00.000Z',
    ]);
  });
  it('runs `30 2 * * *` at 02:30, the first valid time after the gap, once', () => {
    expect(slots('30 2 * * *', zone, '2026-10-03T12:00Z', '2026-10-03T18:00Z')).toEqual(['2026-10-03T15:30:00.000Z']);
  });
  it('keeps `*/15 * * * *` at real cadence and runs `30 * * * *` at every existing :30', () => {
    expect(slots('*/15 * * * *', zone, '2026-10-03T15:00Z', '2026-10-03T16:00Z')).toEqual([
      '2026-10-03T15:15:00.000Z',
      '2026-10-03T15:30:00.000Z',
      '2026-10-03T15:45:00.000Z',
      '2026-10-03T16:00:00.000Z',
    ]);
    expect(slots('*/15 * * * *', zone, '2026-04-04T14:30Z', '2026-04-04T15:30Z')).toEqual([
      '2026-04-04T14:45:00.000Z',
      '2026-04-04T15:00:00.000Z',
      '2026-04-04T15:15:00.000Z',
      '2026-04-04T15:30:00.000Z',
    ]);
    expect(slots('30 * * * *', zone, '2026-10-03T14:30Z', '2026-10-03T16:30Z')).toEqual([
      '2026-10-03T15:00:00.000Z',
      '2026-10-03T15:30:00.000Z',
      '2026-10-03T16:30:00.000Z',
    ]);
    expect(slots('30 * * * *', zone, '2026-04-04T14:00Z', '2026-04-04T16:00Z')).toEqual([
      '2026-04-04T14:30:00.000Z',
      '2026-04-04T15:00:00.000Z',
      '2026-04-04T16:00:00.000Z',
    ]);
  });
  it('leaves every("1h") unaffected', () => {
    expect(slots(every('1h'), zone, '2026-10-03T14:30Z', '2026-10-03T16:30Z')).toEqual([
      '2026-10-03T15:00:00.000Z',
      '2026-10-03T16:00:00.000Z',
    ]);
  });
});

describe('DST at midnight: America/Santiago (00:00 → 01:00 on 2026-09-06, 04:00Z; 00:00 → 23:00 on 2026-04-05, 03:00Z) and Asia/Beirut', () => {
  const zone = 'America/Santiago';
  it('runs a daily midnight that does not exist at the gap end, 01:00 local', () => {
    expect(slots(dailyAt('00:00'), zone, '2026-09-04T12:00Z', '2026-09-07T12:00Z')).toEqual([
      '2026-09-05T04:00:00.000Z',
      '2026-09-06T04:00:00.000Z',
      '2026-09-07T03:00:00.000Z',
    ]);
  });
  it('runs a daily time repeated before midnight once, at its first occurrence', () => {
    expect(slots(dailyAt('23:30'), zone, '2026-04-04T12:00Z', '2026-04-06T12:00Z')).toEqual([
      '2026-04-05T02:30:00.000Z',
      '2026-04-06T03:30:00.000Z',
    ]);
  });
  it('runs `15 0,1 * * *` once at the gap end and then at 01:15', () => {
    expect(slots('15 0,1 * * *', zone, '2026-09-06T00:00Z', '2026-09-06T12:00Z')).toEqual([
      '2026-09-06T04:00:00.000Z',
      '2026-09-06T04:15:00.000Z',
    ]);
  });
  it('keeps `*/15 * * * *` at real cadence across the midnight gap', () => {
    expect(slots('*/15 * * * *', zone, '2026-09-06T03:30Z', '2026-09-06T04:30Z')).toEqual([
      '2026-09-06T03:45:00.000Z',
      '2026-09-06T04:00:00.000Z',
      '2026-09-06T04:15:00.000Z',
      '2026-09-06T04:30:00.000Z',
    ]);
  });
  it('runs Beirut midnight at the gap end in spring and 23:30 once in the fall overlap', () => {
    expect(slots(dailyAt('00:00'), 'Asia/Beirut', '2026-03-27T12:00Z', '2026-03-30T12:00Z')).toEqual([
      '2026-03-27T22:00:00.000Z',
      '2026-03-28T22:00:00.000Z',
      '2026-03-29T21:00:00.000Z',
    ]);
    expect(slots(dailyAt('23:30'), 'Asia/Beirut', '2026-10-24T12:00Z', '2026-10-25T12:00Z')).toEqual(['2026-10-24T20:30:00.000Z']);
  });
});

describe('No DST: Asia/Kolkata (+05:30 all year)', () => {
  const zone = 'Asia/Kolkata';
  it('maps wall times with the constant offset', () => {
    expect(slots(dailyAt('02:30'), zone, '2026-03-07T00:00Z', '2026-03-08T00:00Z')).toEqual(['2026-03-07T21:00:00.000Z']);
    expect(slots('15 1,2,3 * * *', zone, '2026-03-07T12:00Z', '2026-03-08T00:00Z')).toEqual([
      '2026-03-07T19:45:00.000Z',
      '2026-03-07T20:45:00.000Z',
      '2026-03-07T21:45:00.000Z',
    ]);
    expect(slots('30 * * * *', zone, '2026-03-07T00:00Z', '2026-03-07T02:00Z')).toEqual([
      '2026-03-07T01:00:00.000Z',
      '2026-03-07T02:00:00.000Z',
    ]);
  });
});

describe('A skipped day: Pacific/Apia jumped from 2011-12-29 24:00 (-10) to 2011-12-31 00:00 (+14) at 10:00Z', () => {
  const zone = 'Pacific/Apia';
  it('runs the daily times of the missing day once, at the start of 2011-12-31', () => {
    expect(slots(dailyAt(['09:00', '18:00']), zone, '2011-12-29T12:00Z', '2011-12-31T12:00Z')).toEqual([
      '2011-12-29T19:00:00.000Z',
      '2011-12-30T04:00:00.000Z',
      '2011-12-30T10:00:00.000Z',
      '2011-12-30T19:00:00.000Z',
      '2011-12-31T04:00:00.000Z',
    ]);
  });
  it('keeps `30 * * * *` hourly in real time across the jump', () => {
    expect(slots('30 * * * *', zone, '2011-12-30T08:00Z', '2011-12-30T11:00Z')).toEqual([
      '2011-12-30T08:30:00.000Z',
      '2011-12-30T09:30:00.000Z',
      '2011-12-30T10:30:00.000Z',
    ]);
  });
  it('classifies schedules by their DST rule', () => {
    expect(compileSchedule(cron('0 9 * * *'), { timezone: zone }).dstRule).toBe('fixed-time');
    expect(compileSchedule('*/5 * * * *', { timezone: zone }).dstRule).toBe('real-time');
    expect(compileSchedule('@hourly', { timezone: zone }).dstRule).toBe('real-time');
    expect(compileSchedule(every('1h')).dstRule).toBe('absolute');
  });
});
