import { describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createScheduler,
  cron,
  dailyAt,
  defineJob,
  InvalidScheduleError,
  type DstPolicy,
  type ScheduleInput,
} from '../src/index.js';
import { compileSchedule, jobSchedule, slotsBetween } from '../src/entry/schedule.js';
import { runtimeJob } from '../src/entry/runner.js';

// DST policies (`dst: { gap, overlap }`), zone by zone. Each zone's transitions are written in
// the describe title; every expected instant below is worked out from them by hand.

/** The slots in (from, to] as "HH:MM" UTC when on the day of `from`, else full ISO minutes. */
function slots(input: ScheduleInput, timezone: string, from: string, to: string): string[] {
  const schedule = compileSchedule(input, { timezone });
  return slotsBetween(schedule, new Date(from), new Date(to)).map((d) => d.toISOString().slice(0, 16));
}

const daily = (time: string, dst: DstPolicy) => dailyAt(time, { dst });

describe('America/New_York: 02:00 EST → 03:00 EDT on 2026-03-08 at 07:00Z; 02:00 EDT → 01:00 EST on 2026-11-01 at 06:00Z', () => {
  const zone = 'America/New_York';
  const spring = (input: ScheduleInput) => slots(input, zone, '2026-03-08T00:00Z', '2026-03-08T23:59Z');
  const fall = (input: ScheduleInput) => slots(input, zone, '2026-11-01T00:00Z', '2026-11-01T23:59Z');

  it('gap: 02:30 runs at 03:00 EDT (next-instant), at 03:30 EDT (shift) or not at all (skip)', () => {
    expect(spring(daily('02:30', { gap: 'next-instant' }))).toEqual(['2026-03-08T07:00']);
    expect(spring(daily('02:30', { gap: 'shift' }))).toEqual(['2026-03-08T07:30']);
    expect(spring(daily('02:30', { gap: 'skip' }))).toEqual([]);
  });

  it('gap: several times in one gap run once (next-instant), each moved by an hour (shift), or none (skip)', () => {
    const times = ['02:00', '02:30', '03:00', '03:30'];
    expect(spring(dailyAt(times, { dst: { gap: 'next-instant' } }))).toEqual(['2026-03-08T07:00', '2026-03-08T07:30']);
    // 02:00 → 03:00 EDT and 02:30 → 03:30 EDT coincide with the real 03:00 and 03:30: one slot each.
    expect(spring(dailyAt(times, { dst: { gap: 'shift' } }))).toEqual(['2026-03-08T07:00', '2026-03-08T07:30']);
    expect(spring(dailyAt(['02:15', '02:45', '03:30'], { dst: { gap: 'shift' } }))).toEqual([
      '2026-03-08T07:15',
      '2026-03-08T07:30',
      '2026-03-08T07:45',
    ]);
    expect(spring(dailyAt(times, { dst: { gap: 'skip' } }))).toEqual(['2026-03-08T07:00', '2026-03-08T07:30']);
  });

  it('overlap: 01:30 runs at its EDT occurrence (first), its EST one (last) or both', () => {
    expect(fall(daily('01:30', { overlap: 'first' }))).toEqual(['2026-11-01T05:30']);
    expect(fall(daily('01:30', { overlap: 'last' }))).toEqual(['2026-11-01T06:30']);
    expect(fall(daily('01:30', { overlap: 'both' }))).toEqual(['2026-11-01T05:30', '2026-11-01T06:30']);
  });

  it('cron with listed hours follows the policy; times outside the gap and overlap are untouched', () => {
    expect(spring(cron('15 1,2,3 * * *', { dst: { gap: 'shift' } }))).toEqual(['2026-03-08T06:15', '2026-03-08T07:15']);
    expect(spring(cron('15 1,2,3 * * *', { dst: { gap: 'skip' } }))).toEqual(['2026-03-08T06:15', '2026-03-08T07:15']);
    expect(spring(cron('20 1,2,3 * * *', { dst: { gap: 'shift' } }))).toEqual(['2026-03-08T06:20', '2026-03-08T07:20']);
    expect(fall(cron('15 1,2,3 * * *', { dst: { overlap: 'last' } }))).toEqual([
      '2026-11-01T06:15',
      '2026-11-01T07:15',
      '2026-11-01T08:15',
    ]);
    expect(fall(cron('15 1,2,3 * * *', { dst: { overlap: 'both' } }))).toEqual([
      '2026-11-01T05:15',
      '2026-11-01T06:15',
      '2026-11-01T07:15',
      '2026-11-01T08:15',
    ]);
  });

  it('real-time cron keeps real time by default; an explicit policy applies to it too', () => {
    expect(fall('30 * * * *').slice(0, 4)).toEqual(['2026-11-01T00:30', '2026-11-01T01:30', '2026-11-01T02:30', '2026-11-01T03:30']);
    expect(slots('30 * * * *', zone, '2026-11-01T04:00Z', '2026-11-01T08:00Z')).toEqual([
      '2026-11-01T04:30',
      '2026-11-01T05:30',
      '2026-11-01T06:30',
      '2026-11-01T07:30',
    ]);
    // overlap first: 01:30 only at its EDT occurrence; gap next-instant: the missing 02:30 runs at 03:00 EDT.
    expect(slots(cron('30 * * * *', { dst: { overlap: 'first' } }), zone, '2026-11-01T04:00Z', '2026-11-01T08:00Z')).toEqual([
      '2026-11-01T04:30',
      '2026-11-01T05:30',
      '2026-11-01T07:30',
    ]);
    expect(slots(cron('30 * * * *', { dst: { gap: 'next-instant' } }), zone, '2026-03-08T05:00Z', '2026-03-08T08:00Z')).toEqual([
      '2026-03-08T05:30',
      '2026-03-08T06:30',
      '2026-03-08T07:00',
      '2026-03-08T07:30',
    ]);
    expect(compileSchedule('30 * * * *', { timezone: zone }).dst).toEqual({ gap: 'skip', overlap: 'both' });
    expect(compileSchedule('30 2 * * *', { timezone: zone }).dst).toEqual({ gap: 'next-instant', overlap: 'first' });
    expect(compileSchedule(cron('30 2 * * *', { dst: { gap: 'shift' } }), { timezone: zone }).dst).toEqual({
      gap: 'shift',
      overlap: 'first',
    });
  });
});

describe('Europe/London: 01:00 GMT → 02:00 BST on 2026-03-29 at 01:00Z; 02:00 BST → 01:00 GMT on 2026-10-25 at 01:00Z', () => {
  const zone = 'Europe/London';
  it('gap and overlap of 01:30 under each policy', () => {
    const spring = (dst: DstPolicy) => slots(daily('01:30', dst), zone, '2026-03-29T00:00Z', '2026-03-29T23:59Z');
    expect(spring({ gap: 'next-instant' })).toEqual(['2026-03-29T01:00']);
    expect(spring({ gap: 'shift' })).toEqual(['2026-03-29T01:30']);
    expect(spring({ gap: 'skip' })).toEqual([]);
    const fall = (dst: DstPolicy) => slots(daily('01:30', dst), zone, '2026-10-24T23:00Z', '2026-10-25T23:59Z');
    expect(fall({ overlap: 'first' })).toEqual(['2026-10-25T00:30']);
    expect(fall({ overlap: 'last' })).toEqual(['2026-10-25T01:30']);
    expect(fall({ overlap: 'both' })).toEqual(['2026-10-25T00:30', '2026-10-25T01:30']);
  });
});

describe('Australia/Lord_Howe, 30-minute changes: 02:00 → 02:30 (+10:30 → +11) on 2026-10-04 at 15:30Z (3 Oct); 02:00 → 01:30 (+11 → +10:30) on 2026-04-05 at 15:00Z (4 Apr)', () => {
  const zone = 'Australia/Lord_Howe';
  it('02:15 in the gap runs at 02:30 (next-instant), at 02:45 (shift, 30 minutes on) or not at all', () => {
    const spring = (dst: DstPolicy) => slots(daily('02:15', dst), zone, '2026-10-03T12:00Z', '2026-10-03T23:59Z');
    expect(spring({ gap: 'next-instant' })).toEqual(['2026-10-03T15:30']);
    expect(spring({ gap: 'shift' })).toEqual(['2026-10-03T15:45']);
    expect(spring({ gap: 'skip' })).toEqual([]);
  });
  it('01:45 in the overlap runs at +11 (first), at +10:30 (last) or both', () => {
    const fall = (dst: DstPolicy) => slots(daily('01:45', dst), zone, '2026-04-04T12:00Z', '2026-04-04T23:59Z');
    expect(fall({ overlap: 'first' })).toEqual(['2026-04-04T14:45']);
    expect(fall({ overlap: 'last' })).toEqual(['2026-04-04T15:15']);
    expect(fall({ overlap: 'both' })).toEqual(['2026-04-04T14:45', '2026-04-04T15:15']);
  });
});

describe('America/Santiago, changes at midnight: 00:00 → 01:00 (−4 → −3) on 2026-09-06 at 04:00Z; 00:00 → 23:00 (−3 → −4) on 2026-04-05 at 03:00Z', () => {
  const zone = 'America/Santiago';
  it('00:30, which 6 September does not have, runs at 01:00 (next-instant), at 01:30 (shift) or not that day', () => {
    const spring = (dst: DstPolicy) => slots(daily('00:30', dst), zone, '2026-09-06T00:00Z', '2026-09-06T23:59Z');
    expect(spring({ gap: 'next-instant' })).toEqual(['2026-09-06T04:00']);
    expect(spring({ gap: 'shift' })).toEqual(['2026-09-06T04:30']);
    expect(spring({ gap: 'skip' })).toEqual([]);
  });
  it('23:30 on 4 April, which occurs twice, runs at −3 (first), at −4 (last) or both', () => {
    const fall = (dst: DstPolicy) => slots(daily('23:30', dst), zone, '2026-04-05T00:00Z', '2026-04-05T12:00Z');
    expect(fall({ overlap: 'first' })).toEqual(['2026-04-05T02:30']);
    expect(fall({ overlap: 'last' })).toEqual(['2026-04-05T03:30']);
    expect(fall({ overlap: 'both' })).toEqual(['2026-04-05T02:30', '2026-04-05T03:30']);
  });
});

describe('Pacific/Apia skipped 2011-12-30: 2011-12-29 24:00 (−10) became 2011-12-31 00:00 (+14) at 10:00Z', () => {
  const zone = 'Pacific/Apia';
  const around = (dst: DstPolicy) => slots(daily('09:00', dst), zone, '2011-12-29T12:00Z', '2011-12-31T23:59Z');
  it('09:00 of the missing day runs once at the start of 31 December (next-instant)', () => {
    expect(around({ gap: 'next-instant' })).toEqual(['2011-12-29T19:00', '2011-12-30T10:00', '2011-12-30T19:00', '2011-12-31T19:00']);
  });
  it('shifted by the 24-hour gap it lands on 31 December 09:00, which runs once', () => {
    expect(around({ gap: 'shift' })).toEqual(['2011-12-29T19:00', '2011-12-30T19:00', '2011-12-31T19:00']);
  });
  it('skipped, the missing day has no run', () => {
    expect(around({ gap: 'skip' })).toEqual(['2011-12-29T19:00', '2011-12-30T19:00', '2011-12-31T19:00']);
  });
});

describe('Asia/Kolkata (+05:30, no DST): every policy gives the same slots', () => {
  it('02:30 and `*/30 * * * *` are the same under all nine policies', () => {
    const reference = slots(daily('02:30', {}), 'Asia/Kolkata', '2026-03-07T00:00Z', '2026-03-10T00:00Z');
    expect(reference).toEqual(['2026-03-07T21:00', '2026-03-08T21:00', '2026-03-09T21:00']);
    for (const gap of ['next-instant', 'shift', 'skip'] as const) {
      for (const overlap of ['first', 'last', 'both'] as const) {
        expect(slots(daily('02:30', { gap, overlap }), 'Asia/Kolkata', '2026-03-07T00:00Z', '2026-03-10T00:00Z')).toEqual(reference);
        expect(
          slots(cron('*/30 * * * *', { dst: { gap, overlap } }), 'Asia/Kolkata', '2026-03-07T00:00Z', '2026-03-07T03:00Z'),
        ).toHaveLength(6);
      }
    }
  });
});

describe('where a DST policy is given', () => {
  const zone = 'America/New_York';
  const at = new Date('2026-03-08T00:00:00Z');
  const spring = (compiled: ReturnType<typeof compileSchedule> | null) =>
    compiled ? slotsBetween(compiled, at, new Date('2026-03-08T23:59:00Z')).map((d) => d.toISOString().slice(11, 16)) : null;

  it('a job’s dst applies to its own schedule and to runtime schedules naming none; a spec’s own dst wins', async () => {
    const job = defineJob({ code: 'report', schedule: '30 2 * * *', timezone: zone, dst: { gap: 'skip' }, run: () => undefined });
    expect(job.schedule).toEqual({ kind: 'cron', expression: '30 2 * * *', dst: { gap: 'skip' } });
    expect(spring(jobSchedule(job))).toEqual([]);
    const own = defineJob({
      code: 'own',
      schedule: cron('30 2 * * *', { dst: { gap: 'shift' } }),
      timezone: zone,
      dst: { gap: 'skip' },
      run: () => undefined,
    });
    expect(spring(jobSchedule(own))).toEqual(['07:30']);

    const store = createMemoryStore();
    const scheduler = createScheduler({ jobs: [job], store, clock: { now: () => at } });
    const [inherits, shifts] = await scheduler.schedules('report').upsert([
      { key: 'inherits', schedule: '30 2 * * *', timezone: zone },
      { key: 'shifts', schedule: '30 2 * * *', timezone: zone, dst: { gap: 'shift' } },
    ]);
    expect(inherits?.schedule).toEqual({ kind: 'cron', expression: '30 2 * * *' });
    expect(shifts?.schedule).toEqual({ kind: 'cron', expression: '30 2 * * *', dst: { gap: 'shift' } });
    expect(spring(jobSchedule(runtimeJob(job, inherits as never)))).toEqual([]);
    expect(spring(jobSchedule(runtimeJob(job, shifts as never)))).toEqual(['07:30']);
    await store.close();
  });

  it('refuses a bad policy naming the field, and a policy on a schedule without a wall clock', async () => {
    expect(() => compileSchedule(cron('0 2 * * *', { dst: { gap: 'later' } as never }), { what: 'job "x": schedule' })).toThrow(
      /job "x": schedule: dst\.gap must be one of 'next-instant', 'shift', 'skip', got "later"/,
    );
    expect(() => compileSchedule(cron('0 2 * * *', { dst: { overlap: 'twice' } as never }))).toThrow(
      /dst\.overlap must be one of 'first', 'last', 'both'/,
    );
    expect(() => compileSchedule(cron('0 2 * * *', { dst: { gaps: 'skip' } as never }))).toThrow(
      /"gaps" is not a field of a DST policy.*did you mean "gap"/,
    );
    expect(() => compileSchedule({ kind: 'every', everyMs: 1000, dst: {} } as never)).toThrow(InvalidScheduleError);
    expect(() => defineJob({ code: 'x', schedule: '0 2 * * *', dst: 'skip' as never, run: () => undefined })).toThrow(
      /job "x": dst must be an object/,
    );
    const scheduler = createScheduler({
      jobs: [{ code: 'x', schedule: null, run: () => undefined }],
      store: createMemoryStore(),
      clock: { now: () => at },
    });
    await expect(
      scheduler.schedules('x').upsert({ key: 'k', schedule: { kind: 'every', everyMs: 60_000 }, dst: { gap: 'skip' } }),
    ).rejects.toThrow(/job "x" schedule "k": dst applies to cron and daily schedules only/);
    await expect(
      scheduler.schedules('x').upsert({ key: 'k', schedule: cron('0 2 * * *', { dst: { gap: 'skip' } }), dst: { gap: 'shift' } }),
    ).rejects.toThrow(/dst is given twice/);
  });
});
