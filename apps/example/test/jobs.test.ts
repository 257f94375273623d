import { markAbsent } from '@tickwork/attendance';
import { runDue } from '@tickwork/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanupJob, CLEANUP_CODE } from '../src/jobs/cleanup.js';
import { hourlyReportJob, HOURLY_REPORT_CODE } from '../src/jobs/hourly-report.js';
import { openApiFixture, type ApiFixture } from './fixture.js';

// Jobs run through core's one-tick executor against the fixture's real SQLite store, on the
// fixture's fake clock (2026-03-10T18:00Z = 19:00 in Paris, before the March DST change).
describe('the two ordinary jobs', () => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await openApiFixture();
    // The seeded past event's deadline was 17:55Z; close it at 17:58Z.
    await markAbsent(f.orm, { now: new Date('2026-03-10T17:58:00Z') });
  });
  afterEach(async () => {
    await f.dispose();
  });

  it('the hourly report runs at minute 0 and counts the attendance of events closed in the previous hour', async () => {
    const job = hourlyReportJob({ database: f.database });
    const report = await runDue({ jobs: [job], store: f.store, clock: f.clock, timezone: 'Europe/Paris' });
    const result = report.results.find((r) => r.code === HOURLY_REPORT_CODE);
    expect(result).toMatchObject({ outcome: 'succeeded', slotAt: new Date('2026-03-10T18:00:00Z') });
    expect(result?.run?.message).toBe(
      '1 event(s) closed in the hour to 2026-03-10T18:00:00.000Z: 1 present, 1 late, 2 absent, 0 unchecked',
    );

    // An hour later nothing closed in the window: the next report says so.
    f.clock.set('2026-03-10T19:00:00Z');
    const next = await runDue({ jobs: [job], store: f.store, clock: f.clock, timezone: 'Europe/Paris' });
    expect(next.results[0]?.run?.message).toBe(
      '0 event(s) closed in the hour to 2026-03-10T19:00:00.000Z: 0 present, 0 late, 0 absent, 0 unchecked',
    );
  });

  it('the nightly cleanup runs at 03:00 local time and deletes only events closed longer ago than keepDays, with their records', async () => {
    const job = cleanupJob({ database: f.database, keepDays: 1, timezone: 'Europe/Paris' });
    // 03:00 in Paris on 12 March is 02:00Z; the event closed at 17:58Z on the 10th, more than a day before.
    f.clock.set('2026-03-12T02:00:00Z');
    const report = await runDue({ jobs: [job], store: f.store, clock: f.clock, timezone: 'Europe/Paris' });
    const result = report.results.find((r) => r.code === CLEANUP_CODE);
    expect(result).toMatchObject({ outcome: 'succeeded', slotAt: new Date('2026-03-12T02:00:00Z') });
    expect(result?.run?.message).toBe('deleted 1 event(s) closed before 2026-03-11T02:00:00.000Z');

    const events = (await f.api.inject({ method: 'GET', url: '/events' })).json() as { id: number }[];
    expect(events.map((e) => e.id)).toEqual([f.seeded.futureEventId]);
    const records = await f.orm.em
      .getConnection()
      .execute('select count(*) as n from attendance_record where event_id = ?', [f.seeded.pastEventId]);
    expect(Number(records[0].n)).toBe(0);
  });

  it('the nightly cleanup keeps events closed less than keepDays ago', async () => {
    const job = cleanupJob({ database: f.database, keepDays: 2, timezone: 'Europe/Paris' });
    f.clock.set('2026-03-12T02:00:00Z');
    const report = await runDue({ jobs: [job], store: f.store, clock: f.clock, timezone: 'Europe/Paris' });
    expect(report.results[0]?.run?.message).toBe('deleted 0 event(s) closed before 2026-03-10T02:00:00.000Z');
    const events = (await f.api.inject({ method: 'GET', url: '/events' })).json() as { id: number }[];
    expect(events.map((e) => e.id)).toEqual([f.seeded.pastEventId, f.seeded.futureEventId]);
  });
});
