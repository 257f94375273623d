import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openApiFixture, type ApiFixture } from './fixture.js';

describe('HTTP API', () => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await openApiFixture('2026-03-10T18:00:00Z');
  });
  afterEach(async () => {
    await f.dispose();
  });

  const post = (url: string, payload: object) => f.api.inject({ method: 'POST', url, payload, headers: f.auth });

  it('creates a group, a member, a membership and an event, and records PRESENT then LATE check-ins by time', async () => {
    const group = await post('/groups', { name: '  Chess club ' });
    expect(group.statusCode).toBe(201);
    expect(group.json()).toMatchObject({ name: 'Chess club' });
    const member = (await post('/members', { name: 'Judit Polgar' })).json();
    const joined = await post(`/groups/${group.json().id}/members`, { memberId: member.id, joinedAt: '2026-03-01T00:00:00Z' });
    expect(joined.statusCode).toBe(201);
    const event = await post('/events', {
      groupId: group.json().id,
      title: 'Blitz night',
      startsAt: '2026-03-10T18:05:00Z',
      failMinutes: 10,
    });
    expect(event.statusCode).toBe(201);
    expect(event.json()).toMatchObject({ open: true, failMinutes: 10, absentFrom: '2026-03-10T18:15:00.000Z' });

    const present = await post(`/events/${event.json().id}/check-ins`, { memberId: member.id });
    expect(present.statusCode).toBe(201);
    expect(present.json()).toMatchObject({ status: 'PRESENT', checkedAt: '2026-03-10T18:00:00.000Z', changed: true });
    // A second check-in keeps the first.
    f.clock.set('2026-03-10T18:07:00Z');
    const again = await post(`/events/${event.json().id}/check-ins`, { memberId: member.id });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'PRESENT', changed: false });

    const late = await post(`/events/${f.seeded.futureEventId}/check-ins`, { memberId: f.seeded.memberIds[1], at: '2026-03-10T19:05:00Z' });
    expect(late.json()).toMatchObject({ status: 'LATE' });
    const detail = (await f.api.inject({ method: 'GET', url: `/events/${f.seeded.futureEventId}` })).json();
    expect(detail.attendance.map((a: { status: string }) => a.status)).toEqual(['UNCHECKED', 'LATE', 'UNCHECKED', 'UNCHECKED']);
  });

  it('lets an admin override an ABSENT after the event closed', async () => {
    const { markAbsent } = await import('@tickwork/attendance');
    await markAbsent(f.orm, { now: f.clock.now() });
    const linus = f.seeded.memberIds[2];
    const override = await f.api.inject({
      method: 'PUT',
      url: `/events/${f.seeded.pastEventId}/attendance/${linus}`,
      payload: { status: 'LATE' },
    });
    expect(override.statusCode).toBe(200);
    expect(override.json()).toMatchObject({ status: 'LATE', overriddenAt: '2026-03-10T18:00:00.000Z' });
    const detail = (await f.api.inject({ method: 'GET', url: `/events/${f.seeded.pastEventId}` })).json();
    expect(detail.open).toBe(false);
    expect(detail.attendance.map((a: { status: string }) => a.status)).toEqual(['PRESENT', 'LATE', 'LATE', 'ABSENT']);
  });

  it('files a run-now request for a job and lists the jobs with their state', async () => {
    const triggered = await post('/jobs/app.hourly-report/trigger', {});
    expect(triggered.statusCode).toBe(202);
    expect(await f.store.pendingRunRequests()).toMatchObject([{ code: 'app.hourly-report', requestedBy: 'http:admin-test' }]);
    const jobs = (await f.api.inject({ method: 'GET', url: '/jobs', headers: f.auth })).json() as { code: string; schedule: unknown }[];
    expect(jobs.map((j) => j.code)).toEqual([
      'attendance.mark-absent',
      'app.cleanup-old-events',
      'app.hourly-report',
      'app.event-reminder',
    ]);
  });
});
