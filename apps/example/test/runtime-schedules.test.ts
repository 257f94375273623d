import { runDue } from '@tickwork/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_REMINDER_CODE } from '../src/jobs/event-reminder.js';
import { openApiFixture, type ApiFixture } from './fixture.js';

describe('runtime schedules in the example', () => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await openApiFixture('2026-03-10T18:00:00Z');
  });
  afterEach(async () => {
    await f.dispose();
  });

  const inject = (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, payload?: object) =>
    f.api.inject({ method, url, headers: f.auth, ...(payload ? { payload } : {}) });
  const tick = () => runDue({ jobs: f.jobs, store: f.store, clock: f.clock, timezone: 'Europe/Paris', runnerId: 'test' });

  it('creating an event stores its reminder, which runs 15 minutes before the start with the event in its payload', async () => {
    const created = await inject('POST', '/events', {
      groupId: f.seeded.groupId,
      title: 'Board meeting',
      startsAt: '2026-03-10T20:00:00Z',
      failMinutes: 10,
    });
    expect(created.statusCode).toBe(201);
    const { id, reminder } = created.json() as { id: number; reminder: { key: string; at: string } };
    expect(reminder).toEqual({ key: `event-${id}`, at: '2026-03-10T19:45:00.000Z' });
    const listed = (await inject('GET', `/jobs/${EVENT_REMINDER_CODE}/schedules`)).json() as {
      schedules: Array<{ key: string; payload: unknown }>;
    };
    expect(listed.schedules.map((s) => [s.key, s.payload])).toContainEqual([`event-${id}`, { eventId: id }]);

    f.clock.set('2026-03-10T19:44:59Z');
    expect((await tick()).results.find((r) => r.key === `event-${id}`)?.outcome).toBe('not-due');
    f.clock.set('2026-03-10T19:45:00Z');
    const result = (await tick()).results.find((r) => r.key === `event-${id}`);
    expect(result?.outcome).toBe('succeeded');
    expect(result?.run?.message).toMatch(
      /^reminder: "Board meeting" \(group ".+"\) starts at 2026-03-10T20:00:00.000Z: \d+ member\(s\) expected$/,
    );
    f.clock.set('2026-03-10T19:50:00Z');
    expect((await tick()).results.find((r) => r.key === `event-${id}`)?.outcome).toBe('not-due');
  });

  it('an event whose reminder time has passed gets no reminder', async () => {
    const created = await inject('POST', '/events', {
      groupId: f.seeded.groupId,
      title: 'Soon',
      startsAt: '2026-03-10T18:10:00Z',
      failMinutes: 10,
    });
    expect(created.json()).toMatchObject({ reminder: null });
  });

  it('PUT creates (201) and replaces (200) a schedule, DELETE removes it (204, then 404)', async () => {
    const url = `/jobs/${EVENT_REMINDER_CODE}/schedules/manual-1`;
    const created = await inject('PUT', url, { cron: '0 9 * * 1', timezone: 'Europe/Paris', payload: { eventId: 1 } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      key: 'manual-1',
      schedule: { kind: 'cron', expression: '0 9 * * 1' },
      timezone: 'Europe/Paris',
      enabled: true,
    });
    const replaced = await inject('PUT', url, { every: '1h', enabled: false });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({
      schedule: { kind: 'every', everyMs: 3_600_000 },
      enabled: false,
      payload: null,
      timezone: null,
    });
    expect((await inject('DELETE', url)).statusCode).toBe(204);
    const again = await inject('DELETE', url);
    expect(again.statusCode).toBe(404);
    expect(again.json().message).toMatch(/no runtime schedule "manual-1"/);
  });

  it('bad schedules are a 400 (404 for an unknown job) naming the problem, and nothing is stored', async () => {
    const before = await f.snapshot();
    const cases: Array<[string, object, number, RegExp]> = [
      [`/jobs/${EVENT_REMINDER_CODE}/schedules/a`, { cron: '61 * * * *' }, 400, /schedule "a": schedule/],
      [`/jobs/${EVENT_REMINDER_CODE}/schedules/a`, { cron: '* * * * *', timezone: 'Mars/Base' }, 400, /Mars\/Base/],
      [`/jobs/${EVENT_REMINDER_CODE}/schedules/a`, { every: '-5m' }, 400, /-5m/],
      [`/jobs/${EVENT_REMINDER_CODE}/schedules/a`, { cron: '* * * * *', every: '1h' }, 400, /body/],
      [`/jobs/${EVENT_REMINDER_CODE}/schedules/a`, { timezone: 'UTC' }, 400, /body/],
      [`/jobs/${EVENT_REMINDER_CODE}/schedules/has%20space`, { cron: '* * * * *' }, 400, /key "has space"/],
      [`/jobs/${EVENT_REMINDER_CODE}/schedules/a`, { cron: '* * * * *', payload: 'x'.repeat(70_000) }, 400, /limit is 65536/],
      ['/jobs/no.such.job/schedules/a', { cron: '* * * * *' }, 404, /unknown job code "no.such.job"/],
    ];
    for (const [url, body, status, message] of cases) {
      const response = await inject('PUT', url, body);
      expect(response.statusCode, `${url} ${JSON.stringify(body).slice(0, 80)}`).toBe(status);
      expect(response.json().message).toMatch(message);
    }
    expect(await f.snapshot()).toBe(before);
  });
});
