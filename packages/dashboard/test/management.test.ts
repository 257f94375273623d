import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore, defineJob, every, runDue, systemClock, type Store } from '@tickwork/core';
import { createSqlStore, migrate } from '@tickwork/store-sql';
import { startHarness, testJobs, type Harness } from './support.js';

const stores: Array<[string, () => Promise<{ store: Store; cleanup(): void }>]> = [
  ['memory', async () => ({ store: createMemoryStore(), cleanup: () => undefined })],
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tickwork-dashboard-sqlite-'));
      const dbName = join(dir, 'tickwork.db');
      await migrate({ driver: 'sqlite', dbName });
      return { store: createSqlStore({ driver: 'sqlite', dbName }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];

describe.each(stores)('management on the %s store', (_name, open) => {
  let h: Harness;
  let cleanup = () => undefined as void;
  afterEach(async () => {
    await h?.close();
    cleanup();
  });
  const start = async () => {
    const opened = await open();
    cleanup = opened.cleanup;
    h = await startHarness({ store: opened.store });
  };

  it('lists jobs with schedule in words, next run in the job zone, paused note and runtime-schedule count', async () => {
    await start();
    const admin = await h.client('admin');
    await admin.send('POST', 'api/jobs/cleanup/pause', { note: 'disk migration' });
    await admin.send('PUT', 'api/jobs/reports.daily/schedules/acme', {
      kind: 'daily',
      times: '06:00',
      weekdays: [1, 2, 3, 4, 5],
      timezone: 'Europe/Paris',
      payload: '{"tenant":"acme"}',
    });
    const { body } = await admin.json('GET', 'api/jobs');
    const byCode = Object.fromEntries(body.jobs.map((j: any) => [j.code, j]));
    expect(byCode['reports.daily']).toMatchObject({
      scheduleText: 'every hour',
      nextRun: { at: '2026-06-01T11:00:00.000Z' },
      runtimeSchedules: { count: 1, more: false },
      paused: false,
    });
    expect(byCode.cleanup).toMatchObject({ paused: true, pausedNote: 'disk migration', nextRun: { at: '2026-06-02T03:00:00.000Z' } });
    expect(byCode['reminders.send']).toMatchObject({ schedule: null, timezone: 'Europe/Paris', nextRun: null });
  });

  it('creates, edits, disables and removes a runtime schedule, each audited before → after', async () => {
    await start();
    const admin = await h.client('admin');
    const created = await admin.send('PUT', 'api/jobs/reports.daily/schedules/acme', {
      kind: 'cron',
      expression: '0 7 * * 1-5',
      timezone: 'Europe/Paris',
      payload: '{"tenant":"acme"}',
      description: 'acme report',
    });
    expect(created.status).toBe(201);
    const [stored] = await h.store.getSchedules([{ code: 'reports.daily', key: 'acme' }]);
    expect(stored).toMatchObject({
      schedule: { kind: 'cron', expression: '0 7 * * 1-5' },
      timezone: 'Europe/Paris',
      payload: { tenant: 'acme' },
      enabled: true,
    });
    expect((await admin.send('PUT', 'api/jobs/reports.daily/schedules/acme', { kind: 'every', every: '15m' })).status).toBe(200);
    expect((await admin.send('POST', 'api/jobs/reports.daily/schedules/acme/disable')).status).toBe(200);
    expect((await h.store.getSchedules([{ code: 'reports.daily', key: 'acme' }]))[0]).toMatchObject({
      schedule: { kind: 'every', everyMs: 900_000 },
      enabled: false,
    });
    expect((await admin.send('DELETE', 'api/jobs/reports.daily/schedules/acme')).status).toBe(200);
    expect(await h.store.getSchedules([{ code: 'reports.daily', key: 'acme' }])).toEqual([]);
    const { entries } = await h.store.listAudit();
    expect(entries.map((e) => e.action)).toEqual(['schedule.remove', 'schedule.disable', 'schedule.update', 'schedule.create']);
    const [remove, disable, update, create] = entries as [any, any, any, any];
    expect(create).toMatchObject({
      target: { code: 'reports.daily', key: 'acme' },
      before: null,
      after: { schedule: { expression: '0 7 * * 1-5' } },
      actor: { name: 'admin-user', role: 'admin' },
    });
    expect(update).toMatchObject({ before: { schedule: { kind: 'cron' } }, after: { schedule: { kind: 'every', everyMs: 900_000 } } });
    expect(disable).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
    expect(remove).toMatchObject({ before: { key: 'acme' }, after: null });
    const page = await admin.json('GET', 'api/audit?limit=2');
    expect(page.body.entries).toHaveLength(2);
    expect((await admin.json('GET', `api/audit?cursor=${page.body.nextCursor}`)).body.entries.map((e: any) => e.action)).toEqual([
      'schedule.update',
      'schedule.create',
    ]);
  });

  it('pauses a selection in bulk with one note (job and runtime schedule), auditing each target', async () => {
    await start();
    const admin = await h.client('admin');
    await admin.send('PUT', 'api/jobs/reports.daily/schedules/acme', { kind: 'every', every: '1h' });
    const operator = await h.client('operator');
    const res = await operator.json('POST', 'api/bulk', {
      action: 'pause',
      note: 'freeze',
      targets: [{ code: 'cleanup' }, { code: 'reports.daily', key: 'acme' }],
    });
    expect(res.status).toBe(200);
    const states = await h.store.getStates([
      { code: 'cleanup', key: '' },
      { code: 'reports.daily', key: 'acme' },
    ]);
    expect(states.map((s) => [s.key, s.paused, s.pausedNote])).toEqual([
      ['', true, 'freeze'],
      ['acme', true, 'freeze'],
    ]);
    const { entries } = await h.store.listAudit();
    expect(entries.slice(0, 2).map((e) => [e.action, e.target.code, e.target.key, e.actor.role])).toEqual([
      ['schedule.pause', 'reports.daily', 'acme', 'operator'],
      ['job.pause', 'cleanup', '', 'operator'],
    ]);
    expect((await operator.json('POST', 'api/bulk', { action: 'resume', targets: [{ code: 'cleanup' }] })).status).toBe(200);
    expect((await h.store.getStates([{ code: 'cleanup', key: '' }]))[0]?.paused).toBe(false);
  });

  it('previews the next five slots of a form in its zone, or names the field at fault', async () => {
    await start();
    const viewer = await h.client('viewer');
    const ok = await viewer.json('POST', 'api/jobs/reports.daily/preview', {
      kind: 'daily',
      times: '06:00, 18:30',
      weekdays: [1],
      timezone: 'America/New_York',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.zone).toBe('America/New_York');
    expect(ok.body.slots.map((s: any) => s.at)).toEqual([
      '2026-06-01T22:30:00.000Z',
      '2026-06-08T10:00:00.000Z',
      '2026-06-08T22:30:00.000Z',
      '2026-06-15T10:00:00.000Z',
      '2026-06-15T22:30:00.000Z',
    ]);
    expect(ok.body.slots[0].local).toMatch(/Mon, 1 Jun 2026, 18:30:00/);
    const bad = await viewer.json('POST', 'api/jobs/reports.daily/preview', { kind: 'cron', expression: '* * *' });
    expect(bad).toMatchObject({ status: 400, body: { field: 'expression' } });
    expect((await h.store.listAudit()).entries).toEqual([]);
  });

  it('pages runtime schedules by cursor with their state', async () => {
    await start();
    const inputs = Array.from({ length: 120 }, (_, i) => ({
      code: 'reports.daily',
      key: `t-${String(i).padStart(3, '0')}`,
      schedule: { kind: 'every' as const, everyMs: 3_600_000 },
      timezone: null,
      payload: { i },
      enabled: true,
      startAt: null,
      expiresAt: null,
      description: null,
      options: {},
    }));
    await h.store.upsertSchedules(inputs, h.clock.now());
    await h.store.setPaused({ code: 'reports.daily', key: 't-050' }, true, { note: 'tenant left', now: h.clock.now() });
    const viewer = await h.client('viewer');
    const keys: string[] = [];
    let cursor: string | null = null;
    let paused: any = null;
    do {
      const { body }: { body: any } = await viewer.json(
        'GET',
        `api/jobs/reports.daily/schedules?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      keys.push(...body.schedules.map((s: any) => s.key));
      paused ??= body.schedules.find((s: any) => s.key === 't-050');
      cursor = body.nextCursor;
    } while (cursor);
    expect(keys).toEqual(inputs.map((s) => s.key));
    expect(paused).toMatchObject({ paused: true, pausedNote: 'tenant left', scheduleText: 'every hour', payload: { i: 50 } });
    const { body } = await viewer.json('GET', 'api/jobs');
    expect(body.jobs.find((j: any) => j.code === 'reports.daily').runtimeSchedules).toEqual({ count: 120, more: false });
  });

  it('filters run history by status, key and time range, newest first, with cursor pages', async () => {
    await start();
    let n = 0;
    const jobs = [
      defineJob({
        code: 'flaky',
        schedule: every('1m'),
        run: () => {
          n += 1;
          if (n % 3 === 0) throw new Error(`boom ${n}`);
        },
      }),
    ];
    await h.close();
    const opened = await open();
    cleanup = opened.cleanup;
    h = await startHarness({ store: opened.store, jobs });
    const clock = h.clock as import('@tickwork/core').FakeClock;
    for (let i = 0; i < 9; i += 1) {
      clock.advance(60_000);
      await runDue({ jobs, store: h.store, clock });
    }
    const viewer = await h.client('viewer');
    const failed = await viewer.json('GET', 'api/jobs/flaky/runs?status=failed');
    expect(failed.body.runs.map((r: any) => r.error)).toEqual(['boom 9', 'boom 6', 'boom 3']);
    const ranged = await viewer.json(
      'GET',
      `api/jobs/flaky/runs?since=${encodeURIComponent('2026-06-01T10:03:00Z')}&until=${encodeURIComponent('2026-06-01T10:06:00Z')}`,
    );
    expect(ranged.body.runs.map((r: any) => r.slotAt)).toEqual([
      '2026-06-01T10:05:00.000Z',
      '2026-06-01T10:04:00.000Z',
      '2026-06-01T10:03:00.000Z',
    ]);
    const first = await viewer.json('GET', 'api/jobs/flaky/runs?limit=4');
    const second = await viewer.json('GET', `api/jobs/flaky/runs?limit=4&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect([...first.body.runs, ...second.body.runs].map((r: any) => r.slotAt.slice(11, 16))).toEqual([
      '10:09',
      '10:08',
      '10:07',
      '10:06',
      '10:05',
      '10:04',
      '10:03',
      '10:02',
    ]);
    expect((await viewer.json('GET', 'api/jobs/flaky/runs?key=other')).body.runs).toEqual([]);
    const run = await viewer.json('GET', `api/runs/${failed.body.runs[0].id}`);
    expect(run.body.run).toMatchObject({ status: 'failed', error: 'boom 9' });
    expect(run.body.run.stack).toMatch(/Error: boom 9/);
  });
});

describe('live runs', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('streams a run starting and finishing over SSE without reloading', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const jobs = [...testJobs().filter((j) => j.code !== 'cleanup'), defineJob({ code: 'slow', schedule: null, run: () => gate })];
    h = await startHarness({ jobs, clock: systemClock });
    const client = await h.client('viewer');
    const res = await client.send('GET', 'api/events');
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        text += decoder.decode(value);
      }
    };
    await until(/retry: 1000/);
    await h.store.requestRun({ code: 'slow', key: '' }, { now: new Date() });
    const tick = runDue({ jobs, store: h.store });
    await until(/event: runs\ndata: .*"code":"slow".*"status":"running"/);
    release();
    await tick;
    await until(/event: runs\ndata: .*"code":"slow".*"status":"succeeded"/);
    await reader.cancel();
  });
});

it('counts runtime schedules up to 1,000 per job and says "more" past it', async () => {
  const store = createMemoryStore();
  const h = await startHarness({ store });
  try {
    for (let batch = 0; batch < 2; batch += 1) {
      await store.upsertSchedules(
        Array.from({ length: 600 }, (_, i) => ({
          code: 'reports.daily',
          key: `k${batch}-${i}`,
          schedule: { kind: 'every' as const, everyMs: 3_600_000 },
          timezone: null,
          payload: null,
          enabled: true,
          startAt: null,
          expiresAt: null,
          description: null,
          options: {},
        })),
        h.clock.now(),
      );
    }
    const { body } = await (await h.client('viewer')).json('GET', 'api/jobs');
    expect(body.jobs.find((j: any) => j.code === 'reports.daily').runtimeSchedules).toEqual({ count: 1000, more: true });
  } finally {
    await h.close();
  }
});
