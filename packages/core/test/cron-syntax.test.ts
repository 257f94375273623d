import { describe, expect, it } from 'vitest';
import { createMemoryStore, createScheduler, defineJob, type ScheduleInput } from '../src/index.js';
import { compileSchedule, jobSchedule, nextSlot, slotsBetween } from '../src/entry/schedule.js';
import { runtimeJob } from '../src/entry/runner.js';

// The cron language beyond Vixie cron: L, W, #, ?, the year field, the + prefix and Jenkins' H.
// Expected slots below were read off a calendar by hand (2026: 1 January is a Thursday).

function slots(input: ScheduleInput, from: string, count: number, timezone = 'UTC'): string[] {
  const schedule = compileSchedule(input, { timezone });
  return slotsBetween(schedule, new Date(from), new Date('2100-01-01T00:00:00Z'), count).map((d) => d.toISOString().slice(0, 16));
}

describe('day-of-month forms', () => {
  it('L is the last day of each month, leap February included', () => {
    expect(slots('0 0 L * *', '2028-01-01T00:00Z', 4)).toEqual([
      '2028-01-31T00:00',
      '2028-02-29T00:00',
      '2028-03-31T00:00',
      '2028-04-30T00:00',
    ]);
  });

  it('L-n counts back n days from the last day; a month too short for it is skipped', () => {
    expect(slots('0 0 L-2 * *', '2026-01-01T00:00Z', 3)).toEqual(['2026-01-29T00:00', '2026-02-26T00:00', '2026-03-29T00:00']);
    expect(slots('0 0 L-30 * *', '2025-12-31T12:00Z', 3)).toEqual(['2026-01-01T00:00', '2026-03-01T00:00', '2026-05-01T00:00']);
  });

  it('NW is the weekday nearest the Nth: Friday before a Saturday, Monday after a Sunday', () => {
    // 15 Feb 2026 is a Sunday → Monday 16; 15 Aug 2026 is a Saturday → Friday 14.
    expect(slots('0 12 15W * *', '2026-01-01T00:00Z', 8)).toEqual([
      '2026-01-15T12:00',
      '2026-02-16T12:00',
      '2026-03-16T12:00',
      '2026-04-15T12:00',
      '2026-05-15T12:00',
      '2026-06-15T12:00',
      '2026-07-15T12:00',
      '2026-08-14T12:00',
    ]);
  });

  it('W does not cross the month: 1W on a Saturday 1st is Monday 3rd, 31W on a Sunday 31st is Friday 29th', () => {
    // 1 Aug 2026 is a Saturday; 31 May 2026 is a Sunday.
    expect(slots('0 0 1W 8 *', '2026-01-01T00:00Z', 1)).toEqual(['2026-08-03T00:00']);
    expect(slots('0 0 31W 5 *', '2026-01-01T00:00Z', 1)).toEqual(['2026-05-29T00:00']);
    // 30W never happens in February; 31W only in the months that have a 31st.
    expect(slots('0 0 31W * *', '2026-03-01T00:00Z', 3)).toEqual(['2026-03-31T00:00', '2026-05-29T00:00', '2026-07-31T00:00']);
  });

  it('LW is the last weekday of the month', () => {
    // 31 Jan 2026 is a Saturday, 28 Feb a Saturday, 31 May a Sunday.
    expect(slots('0 0 LW * *', '2026-01-01T00:00Z', 5)).toEqual([
      '2026-01-30T00:00',
      '2026-02-27T00:00',
      '2026-03-31T00:00',
      '2026-04-30T00:00',
      '2026-05-29T00:00',
    ]);
  });

  it('mixes plain days and the special forms in one list', () => {
    expect(slots('0 0 1,15W,L 2 *', '2026-01-01T00:00Z', 3)).toEqual(['2026-02-01T00:00', '2026-02-16T00:00', '2026-02-28T00:00']);
  });
});

describe('day-of-week forms', () => {
  it('#n is the nth such weekday of the month, with names or numbers', () => {
    expect(slots('0 9 ? * TUE#2', '2026-01-01T00:00Z', 3)).toEqual(['2026-01-13T09:00', '2026-02-10T09:00', '2026-03-10T09:00']);
    expect(slots('0 9 * * 2#2', '2026-01-01T00:00Z', 3)).toEqual(slots('0 9 * * TUE#2', '2026-01-01T00:00Z', 3));
  });

  it('#5 only in months that have a fifth one', () => {
    // Thursdays: January 2026 has five (1 … 29), February four, April five (2 … 30).
    expect(slots('0 0 * * THU#5', '2026-01-01T00:00Z', 3)).toEqual(['2026-01-29T00:00', '2026-04-30T00:00', '2026-07-30T00:00']);
  });

  it('#L, nL and FRI#L are the last such weekday; a range with # applies it to each day', () => {
    const lastFridays = ['2026-01-30T00:00', '2026-02-27T00:00', '2026-03-27T00:00'];
    expect(slots('0 0 * * FRI#L', '2026-01-01T00:00Z', 3)).toEqual(lastFridays);
    expect(slots('0 0 * * 5#L', '2026-01-01T00:00Z', 3)).toEqual(lastFridays);
    expect(slots('0 0 * * 5L', '2026-01-01T00:00Z', 3)).toEqual(lastFridays);
    expect(slots('0 0 * 1 MON-WED#1', '2026-01-01T00:00Z', 3)).toEqual(['2026-01-05T00:00', '2026-01-06T00:00', '2026-01-07T00:00']);
  });

  it('both day fields restricted match either (Vixie cron); + on the day of week asks for both', () => {
    expect(slots('0 0 13 * FRI', '2026-02-01T00:00Z', 3)).toEqual(['2026-02-06T00:00', '2026-02-13T00:00', '2026-02-20T00:00']);
    // Friday the 13th: February, March and November 2026, then August 2027.
    expect(slots('0 0 13 * +FRI', '2026-01-01T00:00Z', 4)).toEqual([
      '2026-02-13T00:00',
      '2026-03-13T00:00',
      '2026-11-13T00:00',
      '2027-08-13T00:00',
    ]);
    expect(slots('0 0 L * +FRI#L', '2026-01-01T00:00Z', 2)).toEqual(['2026-07-31T00:00', '2027-04-30T00:00']);
  });

  it('? stands for * in either day field', () => {
    expect(slots('0 0 ? * MON', '2026-01-01T00:00Z', 5)).toEqual(slots('0 0 * * MON', '2026-01-01T00:00Z', 5));
    expect(slots('0 0 1 * ?', '2026-01-01T00:00Z', 5)).toEqual(slots('0 0 1 * *', '2026-01-01T00:00Z', 5));
  });
});

describe('the year field (7 fields: seconds first, year last, as croner and Quartz)', () => {
  it('takes values, ranges, lists and steps; */n is the years divisible by n, as croner', () => {
    expect(slots('0 0 0 1 1 * 2030-2032', '2026-01-01T00:00Z', 5)).toEqual(['2030-01-01T00:00', '2031-01-01T00:00', '2032-01-01T00:00']);
    expect(slots('0 0 0 1 1 * 2027,2029', '2026-01-01T00:00Z', 5)).toEqual(['2027-01-01T00:00', '2029-01-01T00:00']);
    expect(slots('0 0 0 1 1 * */4', '2026-01-01T00:00Z', 3)).toEqual(['2028-01-01T00:00', '2032-01-01T00:00', '2036-01-01T00:00']);
    expect(slots('0 0 0 29 2 * 2026/2', '2026-01-01T00:00Z', 2)).toEqual(['2028-02-29T00:00', '2032-02-29T00:00']);
  });

  it('ends when its years do: no slot after the last one', () => {
    const schedule = compileSchedule('0 30 9 * * MON-FRI 2026');
    expect(nextSlot(schedule, new Date('2026-12-31T09:30:00Z'))).toBeNull();
    expect(nextSlot(schedule, new Date('2026-12-30T12:00:00Z'))?.toISOString()).toBe('2026-12-31T09:30:00.000Z');
  });

  it('a runtime schedule whose years all lie in the past is refused when created; the same cron of a job has no next slot', async () => {
    const store = createMemoryStore();
    const job = defineJob({ code: 'reports', schedule: '0 0 0 1 1 * 2020-2025', run: () => undefined });
    const scheduler = createScheduler({ jobs: [job], store, clock: { now: () => new Date('2026-03-01T00:00:00Z') } });
    await expect(scheduler.schedules('reports').upsert({ key: 'old', schedule: '0 0 0 1 1 * 2020-2025' })).rejects.toThrow(
      /job "reports" schedule "old": schedule: cron "0 0 0 1 1 \* 2020-2025" never matches after now/,
    );
    expect((await store.listSchedules()).schedules).toEqual([]);
    expect(nextSlot(jobSchedule(job) as never, new Date('2026-03-01T00:00:00Z'))).toBeNull();
    await store.close();
  });

  it('a 6-field expression has seconds, never a year', () => {
    expect(slots('30 0 12 * * *', '2026-01-01T00:00Z', 1)).toEqual(['2026-01-01T12:00']);
    expect(compileSchedule('30 0 12 * * *').next(new Date('2026-01-01T00:00Z'))?.getUTCSeconds()).toBe(30);
  });

  it('works with every other form, in a zone', () => {
    // The last Friday of each month of 2026, 18:00 in Paris (CET +1 in winter, CEST +2 in summer).
    expect(slots('0 0 18 ? * FRI#L 2026', '2026-01-01T00:00Z', 3, 'Europe/Paris')).toEqual([
      '2026-01-30T17:00',
      '2026-02-27T17:00',
      '2026-03-27T17:00',
    ]);
  });
});

describe("Jenkins' H: a hashed value, stable per seed", () => {
  const seeded = (expression: string, hashSeed: string) => compileSchedule({ kind: 'cron', expression, hashSeed });

  it('gives the same slots for the same seed and spreads 1,000 seeds over the hour', () => {
    const first = (seed: string) => (nextSlot(seeded('H * * * *', seed), new Date('2026-01-01T00:00:00Z')) as Date).getUTCMinutes();
    expect(first('report')).toBe(first('report'));
    const perMinute = new Array<number>(60).fill(0);
    for (let i = 0; i < 1000; i++) perMinute[first(`job-${i}`)] = (perMinute[first(`job-${i}`)] as number) + 1;
    // 1,000 over 60 minutes is 16.7 each on average: every minute is used and none is crowded.
    expect(Math.min(...perMinute)).toBeGreaterThan(3);
    expect(Math.max(...perMinute)).toBeLessThan(35);
  });

  it('H/n starts at a hashed offset below n; H(a-b) stays in its range; H in the day of month stays in 1-28', () => {
    for (let i = 0; i < 200; i++) {
      const minutes = slotsBetween(seeded('H/15 * * * *', `s${i}`), new Date('2025-12-31T23:59:59Z'), new Date('2026-01-01T00:59:59Z')).map(
        (d) => d.getUTCMinutes(),
      );
      expect(minutes).toHaveLength(4);
      expect(minutes.map((m) => m - (minutes[0] as number))).toEqual([0, 15, 30, 45]);
      const hour = (nextSlot(seeded('0 H(9-17) * * *', `s${i}`), new Date('2026-01-01T00:00:00Z')) as Date).getUTCHours();
      expect(hour).toBeGreaterThanOrEqual(9);
      expect(hour).toBeLessThanOrEqual(17);
      const day = (nextSlot(seeded('0 0 H * *', `s${i}`), new Date('2026-01-01T00:00:00Z')) as Date).getUTCDate();
      expect(day).toBeLessThanOrEqual(28);
    }
  });

  it('the fields of one expression hash independently: 50 seeds of "H H * * *" give (almost) 50 times of day', () => {
    const distinct = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const slot = nextSlot(seeded('H H * * *', `s${i}`), new Date('2026-01-01T00:00:00Z')) as Date;
      distinct.add(`${slot.getUTCHours()}:${slot.getUTCMinutes()}`);
    }
    expect(distinct.size).toBeGreaterThan(45);
  });

  it('defineJob seeds H with the job code: two jobs on "H * * * *" get their own minute', () => {
    const run = () => undefined;
    const a = defineJob({ code: 'reports.daily', schedule: 'H * * * *', run });
    const b = defineJob({ code: 'cache.warm', schedule: 'H * * * *', run });
    expect(a.schedule).toEqual({ kind: 'cron', expression: 'H * * * *', hashSeed: 'reports.daily' });
    const at = new Date('2026-01-01T00:00:00Z');
    const minuteOf = (job: typeof a) => (nextSlot(jobSchedule(job) as never, at) as Date).getUTCMinutes();
    expect(minuteOf(a)).toBe((nextSlot(seeded('H * * * *', 'reports.daily'), at) as Date).getUTCMinutes());
    expect(minuteOf(a)).not.toBe(minuteOf(b));
    // An expression without H is left as written.
    expect(defineJob({ code: 'plain', schedule: '0 * * * *', run }).schedule).toBe('0 * * * *');
  });

  it('a runtime schedule hashes from the job code and its key, stored in its spec so every runner reads the same', async () => {
    const store = createMemoryStore();
    const job = defineJob({ code: 'reports', schedule: null, run: () => undefined });
    const scheduler = createScheduler({ jobs: [job], store, clock: { now: () => new Date('2026-01-01T00:00:00Z') } });
    const stored = await scheduler.schedules('reports').upsert([
      { key: 'tenant-1', schedule: 'H 6 * * *' },
      { key: 'tenant-2', schedule: 'H 6 * * *' },
    ]);
    expect(stored.map((s) => s.schedule)).toEqual([
      { kind: 'cron', expression: 'H 6 * * *', hashSeed: 'reports tenant-1' },
      { kind: 'cron', expression: 'H 6 * * *', hashSeed: 'reports tenant-2' },
    ]);
    const at = new Date('2026-01-01T00:00:00Z');
    const minutes = stored.map((s) => (nextSlot(jobSchedule(runtimeJob(job, s)) as never, at) as Date).getUTCMinutes());
    expect(minutes[0]).not.toBe(minutes[1]);
    // Upserting the same definition again is no change: the seed is derived, not random.
    const again = await scheduler.schedules('reports').upsert({ key: 'tenant-1', schedule: 'H 6 * * *' });
    expect(again.version).toBe(stored[0]?.version);
    await store.close();
  });
});
