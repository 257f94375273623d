import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Client, type Harness } from './support.js';

let h: Harness;
let admin: Client;
beforeEach(async () => {
  h = await startHarness();
  admin = await h.client('admin');
});
afterEach(async () => {
  await h.close();
});

async function nothingStored(): Promise<void> {
  expect((await h.store.listSchedules()).schedules).toEqual([]);
  expect((await h.store.listAudit()).entries).toEqual([]);
}

describe('bad input: a clear status and message, nothing changed', () => {
  it('answers 404 naming an unknown job code, for reads and mutations', async () => {
    for (const [method, path] of [
      ['GET', 'api/jobs/nope'],
      ['GET', 'api/jobs/nope/runs'],
      ['POST', 'api/jobs/nope/pause'],
      ['PUT', 'api/jobs/nope/schedules/a'],
    ] as const) {
      const res = await admin.send(method, path, method === 'GET' ? undefined : { kind: 'cron', expression: '* * * * *' });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { message: string }).message).toBe(
        '[tickwork] [dashboard] no job "nope" (known: reports.daily, reminders.send, cleanup)',
      );
    }
    await nothingStored();
  });

  it('answers 404 for a runtime schedule that does not exist', async () => {
    const res = await admin.send('POST', 'api/jobs/reports.daily/schedules/ghost/pause', {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/has no runtime schedule "ghost"/);
    expect(await h.store.getStates()).toEqual([]);
  });

  it('answers 413 for an oversized body, by Content-Length and by streamed size', async () => {
    const big = JSON.stringify({ kind: 'cron', expression: '* * * * *', payload: 'x'.repeat(300_000) });
    const res = await admin.send('PUT', 'api/jobs/reports.daily/schedules/big', big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { message: string }).message).toMatch(/the limit is 262144/);
    await nothingStored();
  });

  it('answers 400 naming the field for a malformed cron, a bad zone, bad JSON payload, a bad interval, and stores nothing', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ kind: 'cron', expression: '61 * * * *' }, 'expression', /minute/],
      [{ kind: 'cron', expression: '0 * * * *', timezone: 'Mars/Olympus' }, 'timezone', /Mars\/Olympus/],
      [{ kind: 'cron', expression: '0 * * * *', payload: '{"tenant":' }, 'payload', /payload is not valid JSON/],
      [{ kind: 'every', every: 'soon' }, 'every', /soon/],
      [{ kind: 'daily', times: '25:00' }, 'times', /25:00/],
      [{ kind: 'once', at: 'tomorrow' }, 'at', /not an instant/],
      [{ kind: 'once', at: '2020-01-01T00:00:00Z' }, 'at', /in the past/],
      [{ kind: 'weekly' }, 'kind', /kind must be one of/],
      [{ kind: 'cron', expression: '0 * * * *', colour: 'red' }, 'colour', /not a field of a schedule/],
      [
        { kind: 'cron', expression: '0 * * * *', startAt: '2026-07-01T00:00:00Z', expiresAt: '2026-06-01T00:00:00Z' },
        'expiresAt',
        /must be after startAt/,
      ],
    ];
    for (const [body, field, message] of cases) {
      const res = await admin.send('PUT', 'api/jobs/reports.daily/schedules/acme', body);
      const answer = (await res.json()) as { message: string; field: string };
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(answer.field, JSON.stringify(body)).toBe(field);
      expect(answer.message).toMatch(message);
    }
    const key = await admin.send('PUT', `api/jobs/reports.daily/schedules/${encodeURIComponent('has space')}`, {
      kind: 'cron',
      expression: '0 * * * *',
    });
    expect(key.status).toBe(400);
    expect(((await key.json()) as { field: string }).field).toBe('key');
    await nothingStored();
  });

  it('answers 400 for a non-JSON body and 415 for another content type', async () => {
    const res = await admin.send('POST', 'api/jobs/cleanup/pause', '{not json');
    expect(res.status).toBe(400);
    const form = await admin.send('POST', 'api/jobs/cleanup/pause', undefined, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(200); // no body at all is fine
    const typed = await fetch(new URL('api/jobs/cleanup/resume', h.url), {
      method: 'POST',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'text/plain' },
      body: 'note=x',
    });
    expect(typed.status).toBe(415);
  });

  it('answers 400 naming the filter for bad run-history filters', async () => {
    const status = await admin.json('GET', 'api/jobs/cleanup/runs?status=done');
    expect(status).toMatchObject({ status: 400, body: { field: 'status' } });
    const since = await admin.json('GET', 'api/jobs/cleanup/runs?since=yesterday');
    expect(since).toMatchObject({ status: 400, body: { field: 'since' } });
    const cursor = await admin.json('GET', 'api/jobs/cleanup/runs?cursor=garbage');
    expect(cursor).toMatchObject({ status: 400, body: { field: 'cursor' } });
  });

  it('refuses a bulk action naming a missing schedule before changing any target', async () => {
    const res = await admin.send('POST', 'api/bulk', {
      action: 'pause',
      targets: [{ code: 'cleanup' }, { code: 'reports.daily', key: 'ghost' }],
    });
    expect(res.status).toBe(404);
    expect(await h.store.getStates()).toEqual([]);
    expect((await h.store.listAudit()).entries).toEqual([]);
  });
});
