import { markAbsent } from '@tickwork/attendance';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openApiFixture, type ApiFixture } from './fixture.js';

// The seeded past event started 20 minutes before the fixture's clock, with failMinutes 15.
describe('HTTP API bad input', () => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await openApiFixture();
  });
  afterEach(async () => {
    await f.dispose();
  });

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
    f.api.inject({ method, url, headers: f.auth, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('answers 404 for unknown ids and job codes, and writes nothing', async () => {
    const before = await f.snapshot();
    const event = { groupId: 999, title: 'Ghost', startsAt: '2026-03-11T18:00:00Z', failMinutes: 10 };
    const cases: Array<[string, 'GET' | 'POST' | 'PUT', string, unknown, RegExp]> = [
      ['group', 'GET', '/groups/999', undefined, /group 999 does not exist/],
      ['event', 'GET', '/events/999', undefined, /event 999 does not exist/],
      ['event of a check-in', 'POST', '/events/999/check-ins', { memberId: 1 }, /event 999 does not exist/],
      ['member of a check-in', 'POST', `/events/${f.seeded.futureEventId}/check-ins`, { memberId: 999 }, /member 999 does not exist/],
      ['group of a membership', 'POST', '/groups/999/members', { memberId: 1 }, /group 999 does not exist/],
      ['member of a membership', 'POST', `/groups/${f.seeded.groupId}/members`, { memberId: 999 }, /member 999 does not exist/],
      ['group of a new event', 'POST', '/events', event, /group 999 does not exist/],
      ['event of an override', 'PUT', '/events/999/attendance/1', { status: 'PRESENT' }, /event 999 does not exist/],
      ['job of a run log', 'GET', '/jobs/nope/runs', undefined, /nope/],
      ['job of a trigger', 'POST', '/jobs/nope/trigger', undefined, /nope/],
      ['route', 'GET', '/nowhere', undefined, /no route GET \/nowhere/],
    ];
    for (const [what, method, url, payload, message] of cases) {
      const response = await call(method, url, payload);
      expect(response.statusCode, `${what}: ${response.body}`).toBe(404);
      expect(response.json().message, what).toMatch(message);
      expect(response.json().message, what).toMatch(/^\[tickwork\] /);
    }
    expect(await f.snapshot()).toBe(before);
  });

  it('answers 400 naming the field for invalid bodies, paths and queries, and writes nothing', async () => {
    const before = await f.snapshot();
    const event = { groupId: f.seeded.groupId, title: 'Bouldering', startsAt: '2026-03-11T18:00:00Z', failMinutes: 10 };
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/members', {}, 'body.name'],
      ['POST', '/members', { name: '   ' }, 'body.name'],
      ['POST', '/groups', { name: 42 }, 'body.name'],
      ['POST', '/groups', { name: 'Chess', colour: 'red' }, 'body.colour'],
      ['POST', '/events', { ...event, failMinutes: -1 }, 'body.failMinutes'],
      ['POST', '/events', { ...event, failMinutes: '15' }, 'body.failMinutes'],
      ['POST', '/events', { ...event, failMinutes: 1.5 }, 'body.failMinutes'],
      ['POST', '/events', { ...event, startsAt: 'tomorrow evening' }, 'body.startsAt'],
      ['POST', '/events', { groupId: f.seeded.groupId, startsAt: event.startsAt, failMinutes: 10 }, 'body.title'],
      ['POST', `/events/${f.seeded.futureEventId}/check-ins`, { memberId: 'one' }, 'body.memberId'],
      ['POST', `/events/${f.seeded.futureEventId}/check-ins`, { memberId: 1, at: 'now' }, 'body.at'],
      ['PUT', `/events/${f.seeded.futureEventId}/attendance/1`, { status: 'ABSENT' }, 'body.status'],
      ['POST', '/events/abc/check-ins', { memberId: 1 }, 'params.id'],
      ['GET', '/events/0', undefined, 'params.id'],
      ['GET', '/events?open=maybe', undefined, 'querystring.open'],
      ['GET', '/jobs/attendance.mark-absent/runs?limit=5000', undefined, 'querystring.limit'],
    ];
    for (const [method, url, payload, field] of cases) {
      const response = await call(method as 'GET' | 'POST' | 'PUT', url, payload);
      expect(response.statusCode, `${method} ${url} ${JSON.stringify(payload)}: ${response.body}`).toBe(400);
      expect(response.json()).toMatchObject({ statusCode: 400, field });
      expect(response.json().message).toContain(field);
    }
    const malformed = await f.api.inject({
      method: 'POST',
      url: '/members',
      payload: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(await f.snapshot()).toBe(before);
  });

  it('answers 409 to a check-in at or after start + failMinutes, and writes nothing', async () => {
    const before = await f.snapshot();
    const response = await call('POST', `/events/${f.seeded.pastEventId}/check-ins`, { memberId: f.seeded.memberIds[2] });
    expect(response.statusCode).toBe(409);
    expect(response.json().message).toMatch(/at or after its absence deadline/);
    expect(await f.snapshot()).toBe(before);
  });

  it('answers 409 to a check-in after the mark-absent job closed the event, and writes nothing', async () => {
    await markAbsent(f.orm, { now: f.clock.now() });
    // Even a check-in dated inside the window is refused once the job has closed the event.
    const before = await f.snapshot();
    const response = await call('POST', `/events/${f.seeded.pastEventId}/check-ins`, {
      memberId: f.seeded.memberIds[3],
      at: new Date(f.clock.now().getTime() - 10 * 60_000).toISOString(),
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().message).toMatch(/attendance was closed/);
    expect(await f.snapshot()).toBe(before);
  });

  it("answers 409 to a member outside the event's group and to a second membership, and writes nothing", async () => {
    const outsider = (await call('POST', '/members', { name: 'Outsider' })).json();
    const before = await f.snapshot();
    const notInGroup = await call('POST', `/events/${f.seeded.futureEventId}/check-ins`, { memberId: outsider.id });
    expect(notInGroup.statusCode).toBe(409);
    expect(notInGroup.json().message).toMatch(/is not in group/);
    const twice = await call('POST', `/groups/${f.seeded.groupId}/members`, { memberId: f.seeded.memberIds[0] });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().message).toMatch(/already in group/);
    expect(await f.snapshot()).toBe(before);
  });
});
