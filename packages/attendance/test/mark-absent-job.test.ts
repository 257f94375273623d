import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, createMemoryStore, every, InvalidJobError, runDue } from '@tickwork/core';
import {
  addMember,
  createEvent,
  createGroup,
  createMember,
  InvalidAttendanceInputError,
  MARK_ABSENT_CODE,
  markAbsentJob,
} from '../src/index.js';
import { DIALECTS, minutes, openDatabase, type Database } from './fixtures.js';

describe('markAbsentJob options', () => {
  const orm = () => {
    throw new Error('not reached: defining a job opens no connection');
  };

  it('defaults to code attendance.mark-absent every five minutes', () => {
    const job = markAbsentJob({ orm });
    expect(job.code).toBe(MARK_ABSENT_CODE);
    expect(job.schedule).toEqual(every('5m'));
  });

  it('passes Tickwork job options through and lets the schedule and code be replaced', () => {
    const job = markAbsentJob({ orm, code: 'club.absences', schedule: '*/10 * * * *', timeout: '2m', retryAfterFailure: '1m' });
    expect(job).toMatchObject({ code: 'club.absences', schedule: '*/10 * * * *', timeoutMs: 120_000, retryAfterFailureMs: 60_000 });
  });

  it('rejects a missing orm, a bad batch size and unknown options, naming the field', () => {
    expect(() => markAbsentJob({} as never)).toThrow(/markAbsentJob \(job "attendance.mark-absent"\): orm must be/);
    expect(() => markAbsentJob({ orm, batchSize: 0 })).toThrow(InvalidAttendanceInputError);
    expect(() => markAbsentJob({ orm, batchSize: 2.5 })).toThrow(/batchSize must be an integer/);
    expect(() => markAbsentJob({ orm, timout: '1m' } as never)).toThrow(InvalidJobError);
    expect(() => markAbsentJob({ orm, schedule: 'every tuesday' })).toThrow(/schedule/);
  });
});

describe.each(DIALECTS)('markAbsentJob run by core runDue with the memory store, on %s', (dialect) => {
  let db: Database;
  beforeEach(async () => {
    db = await openDatabase(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  it('marks absentees as of the slot and records the counts in the run log', async () => {
    const start = new Date('2025-03-01T18:00:00.000Z');
    const em = db.orm.em.fork();
    const groupId = (await createGroup(em, { name: 'Choir' })).id;
    for (const name of ['Ann', 'Ben', 'Cat']) {
      const memberId = (await createMember(em, { name })).id;
      await addMember(em, { groupId, memberId, joinedAt: new Date(start.getTime() - minutes(60)) });
    }
    const early = (await createEvent(em, { groupId, title: 'Warm-up', startsAt: start, failMinutes: 10 })).id;
    const later = (await createEvent(em, { groupId, title: 'Rehearsal', startsAt: start, failMinutes: 17 })).id;

    const store = createMemoryStore();
    const jobs = [markAbsentJob({ orm: db.orm })];
    // The tick runs a little after the slot; the rule still uses the slot (18:10).
    const clock = createFakeClock(start.getTime() + minutes(10) + 2_500);
    const first = await runDue({ jobs, store, clock, runnerId: 'test' });
    expect(first.ok).toBe(true);
    expect(first.results).toMatchObject([
      { code: MARK_ABSENT_CODE, outcome: 'succeeded', slotAt: new Date(start.getTime() + minutes(10)) },
    ]);
    expect(await db.closedAt(early)).toEqual(new Date(start.getTime() + minutes(10)));
    expect(await db.closedAt(later)).toBeNull();

    clock.set(start.getTime() + minutes(20));
    await runDue({ jobs, store, clock, runnerId: 'test' });
    expect(await db.closedAt(later)).toEqual(new Date(start.getTime() + minutes(20)));

    const page = await store.queryRuns({ code: MARK_ABSENT_CODE });
    const messages = page.runs.map((run) => [run.slotAt.toISOString(), run.status, run.message]).sort();
    // The tick at 18:20 passed over 18:15 (missed-run policy latest): it is logged skipped with its reason (#20).
    expect(messages).toEqual([
      ['2025-03-01T18:10:00.000Z', 'succeeded', 'events closed: 1, rows updated: 0, rows inserted: 3'],
      [
        '2025-03-01T18:15:00.000Z',
        'skipped',
        'skipped 1 slot from 2025-03-01T18:15:00.000Z to 2025-03-01T18:15:00.000Z: missed-run policy latest: only the latest missed slot (2025-03-01T18:20:00.000Z) runs',
      ],
      ['2025-03-01T18:20:00.000Z', 'succeeded', 'events closed: 1, rows updated: 0, rows inserted: 3'],
    ]);
    await store.close();
  });
});
