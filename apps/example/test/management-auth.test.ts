import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_REMINDER_CODE } from '../src/jobs/event-reminder.js';
import { openApiFixture, type ApiFixture } from './fixture.js';

// The example's /jobs routes follow the dashboard's rules (docs/design.md: "the same rules guard any management HTTP route").
describe('the management routes (/jobs/...) are guarded like the dashboard', () => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await openApiFixture();
  });
  afterEach(async () => {
    await f.dispose();
  });

  it('answers 401 to anonymous reads and writes, changing nothing', async () => {
    const before = await f.snapshot();
    for (const [method, url] of [
      ['GET', '/jobs'],
      ['GET', '/jobs/attendance.mark-absent/runs'],
      ['POST', '/jobs/app.hourly-report/trigger'],
      ['PUT', `/jobs/${EVENT_REMINDER_CODE}/schedules/a`],
      ['DELETE', `/jobs/${EVENT_REMINDER_CODE}/schedules/a`],
    ] as const) {
      const response = await f.api.inject({ method, url, ...(method === 'PUT' ? { payload: { cron: '0 9 * * *' } } : {}) });
      expect(response.statusCode, url).toBe(401);
      expect(response.json().message).toMatch(/sign in first/);
    }
    expect(await f.snapshot()).toBe(before);
  });

  it('refuses a viewer a trigger and an operator a schedule edit (403), and audits what is allowed', async () => {
    const viewer = await f.authAs('viewer');
    const operator = await f.authAs('operator');
    expect((await f.api.inject({ method: 'GET', url: '/jobs', headers: viewer })).statusCode).toBe(200);
    const refused = await f.api.inject({ method: 'POST', url: '/jobs/app.hourly-report/trigger', headers: viewer, payload: {} });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().message).toMatch(/needs the operator role/);
    const edit = await f.api.inject({
      method: 'PUT',
      url: `/jobs/${EVENT_REMINDER_CODE}/schedules/a`,
      headers: operator,
      payload: { cron: '0 9 * * *' },
    });
    expect(edit.statusCode).toBe(403);
    expect(await f.store.pendingRunRequests()).toEqual([]);
    expect((await f.store.listSchedules()).schedules).toEqual([]);
    expect((await f.access.listAudit()).entries).toEqual([]);

    expect(
      (await f.api.inject({ method: 'POST', url: '/jobs/app.hourly-report/trigger', headers: operator, payload: {} })).statusCode,
    ).toBe(202);
    expect(
      (
        await f.api.inject({
          method: 'PUT',
          url: `/jobs/${EVENT_REMINDER_CODE}/schedules/a`,
          headers: f.auth,
          payload: { cron: '0 9 * * *' },
        })
      ).statusCode,
    ).toBe(201);
    expect((await f.api.inject({ method: 'DELETE', url: `/jobs/${EVENT_REMINDER_CODE}/schedules/a`, headers: f.auth })).statusCode).toBe(
      204,
    );
    const { entries } = await f.access.listAudit();
    expect(entries.map((e) => [e.action, e.actor.name, e.target.code])).toEqual([
      ['schedule.remove', 'admin-test', EVENT_REMINDER_CODE],
      ['schedule.create', 'admin-test', EVENT_REMINDER_CODE],
      ['job.trigger', 'operator-test', 'app.hourly-report'],
    ]);
    expect(entries[1]?.before).toBeNull();
    expect(entries[0]?.after).toBeNull();
  });

  it('refuses a cookie session without the CSRF token (403), and serves the dashboard at /dashboard', async () => {
    const token = f.auth.authorization.slice('Bearer '.length);
    const signIn = await f.api.inject({ method: 'POST', url: '/dashboard/api/session', payload: { token } });
    expect(signIn.statusCode).toBe(200);
    const cookie = String(signIn.headers['set-cookie']).split(';')[0] as string;
    const forged = await f.api.inject({ method: 'POST', url: '/jobs/app.hourly-report/trigger', headers: { cookie }, payload: {} });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().message).toMatch(/CSRF token missing/);
    const withCsrf = await f.api.inject({
      method: 'POST',
      url: '/jobs/app.hourly-report/trigger',
      headers: { cookie, 'x-csrf-token': signIn.json().csrf },
      payload: {},
    });
    expect(withCsrf.statusCode).toBe(202);
    const page = await f.api.inject({ method: 'GET', url: '/dashboard/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script type="module" src="assets/app.js">');
  });
});
