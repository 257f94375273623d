import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { defineJob, every, runDue, systemClock, type Job } from '@tickwork/core';
import { createSqlStore, migrate } from '@tickwork/store-sql';
import { startHarness, type Harness } from '../support.js';
import { launch, OUTPUT } from './browser.js';

// Generous: a busy 2-core CI machine runs Chromium beside the other packages' tests.
// Safety nets, not speed claims: Chromium on a busy 2-core machine (load 25-30) took over 20 s to show a validation message.
const WAIT = { timeout: 90_000 };

let browser: Browser;
let h: Harness;
let dir: string;
let attempts = 0;
const jobs: Job[] = [
  defineJob({
    code: 'reports.daily',
    schedule: every('1h'),
    description: 'tenant reports',
    run: (ctx) => ctx.report(`report for ${JSON.stringify(ctx.payload)}`),
  }),
  defineJob({
    code: 'flaky.sync',
    schedule: every('1m'),
    timezone: 'Europe/Paris',
    overlapPolicy: 'bufferOne',
    run: () => {
      attempts += 1;
      if (attempts % 2 === 0) throw new Error(`upstream said no (#${attempts})`);
    },
  }),
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tickwork-dashboard-e2e-'));
  const dbName = join(dir, 'tickwork.db');
  await migrate({ driver: 'sqlite', dbName });
  h = await startHarness({ store: createSqlStore({ driver: 'sqlite', dbName }), jobs, clock: systemClock });
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function signedIn(role: 'viewer' | 'operator' | 'admin'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  context.setDefaultTimeout(WAIT.timeout);
  const page = await context.newPage();
  await page.goto(h.url);
  await page.getByLabel('Access token').fill(await h.token(role));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Jobs' }).waitFor(WAIT);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });

describe('the dashboard in Chromium', () => {
  it('signs in with a token, and refuses a wrong one beside the field', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(WAIT.timeout);
    const page = await context.newPage();
    await page.goto(h.url);
    await page.getByLabel('Access token').fill('tw_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#token-error', { hasText: 'unknown token' }).waitFor(WAIT);
    await shot(page, '01-sign-in-refused');
    await page.getByLabel('Access token').fill(await h.token('admin'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('tr[data-code="reports.daily"]').waitFor(WAIT);
    await shot(page, '02-jobs');
    await page.context().close();
  });

  it('pauses a job with a note, seen in the store state and on the jobs page, audited', async () => {
    const page = await signedIn('operator');
    await page.locator('a', { hasText: 'flaky.sync' }).click();
    await page.getByLabel('Pause note').fill('upstream maintenance until 14:00');
    await page.locator('#pause').click();
    await page.locator('#paused-note', { hasText: 'upstream maintenance until 14:00' }).waitFor(WAIT);
    const [state] = await h.store.getStates([{ code: 'flaky.sync', key: '' }]);
    expect(state).toMatchObject({ paused: true, pausedNote: 'upstream maintenance until 14:00' });
    await page.goto(`${h.url}#/`);
    await page.locator('tr[data-code="flaky.sync"] .note', { hasText: 'upstream maintenance' }).waitFor(WAIT);
    await shot(page, '03-jobs-paused');
    const { entries } = await h.store.listAudit();
    expect(entries[0]).toMatchObject({
      action: 'job.pause',
      target: { code: 'flaky.sync', key: '' },
      actor: { role: 'operator' },
      before: { paused: false },
      after: { paused: true, note: 'upstream maintenance until 14:00' },
    });
    await page.locator('a', { hasText: 'flaky.sync' }).click();
    await page.locator('#resume').click();
    await page.locator('#pause').waitFor(WAIT);
    expect((await h.store.getStates([{ code: 'flaky.sync', key: '' }]))[0]?.paused).toBe(false);
    expect((await h.store.listAudit({ limit: 1 })).entries[0]).toMatchObject({
      action: 'job.resume',
      target: { code: 'flaky.sync', key: '' },
      actor: { role: 'operator' },
      before: { paused: true },
      after: { paused: false },
    });
    await page.context().close();
  });

  it('shows the field error for a malformed cron as you type and stores nothing on save', async () => {
    const page = await signedIn('admin');
    const before = (await h.store.listAudit()).entries.length;
    await page.goto(`${h.url}#/job/reports.daily/schedule`);
    await page.getByLabel('Key').fill('broken');
    await page.getByLabel('Kind').selectOption('cron');
    await page.getByLabel('Cron expression').fill('61 * * * *');
    await page.locator('#s-expression-error', { hasText: /minute/ }).waitFor(WAIT);
    await page.locator('#save').click();
    await page.locator('#s-expression-error', { hasText: /minute/ }).waitFor(WAIT);
    expect(await page.locator('#s-expression').getAttribute('aria-invalid')).toBe('true');
    await shot(page, '04-form-cron-error');
    expect(await h.store.getSchedules([{ code: 'reports.daily', key: 'broken' }])).toEqual([]);
    expect((await h.store.listAudit()).entries.length).toBe(before);
    await page.context().close();
  });

  it("keeps a save's payload error when the preview that typing started answers after it", async () => {
    const page = await signedIn('admin');
    await page.goto(`${h.url}#/job/reports.daily/schedules`);
    await page.locator('#new-schedule').click();
    await page.getByLabel('Key').fill('late-preview');
    await page.getByLabel('Kind').selectOption('daily');
    await page.getByLabel('At local times').fill('06:00');
    await page.locator('#preview li').first().waitFor(WAIT);
    // The previews answer a second late, so the one the payload's typing starts lands after the save's refusal.
    let previewsAnswered = 0;
    await page.route('**/preview', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await route.continue();
      previewsAnswered++;
    });
    await page.getByLabel('Payload (JSON)').fill('{"tenant": "acme"');
    await page.locator('#save').click();
    await page.locator('#s-payload-error', { hasText: 'payload is not valid JSON' }).waitFor(WAIT);
    const answered = previewsAnswered;
    await page.waitForResponse('**/preview', WAIT);
    // Let the page handle the preview's answer, then the save's message must still be there.
    await page.locator('#preview li').first().waitFor(WAIT);
    expect(previewsAnswered).toBeGreaterThan(answered);
    expect(await page.locator('#s-payload-error').textContent()).toContain('payload is not valid JSON');
    expect(await h.store.getSchedules([{ code: 'reports.daily', key: 'late-preview' }])).toEqual([]);
    await page.context().close();
  });

  it('creates a runtime schedule with a preview and payload, and a runner runs it with that payload', async () => {
    const page = await signedIn('admin');
    await page.goto(`${h.url}#/job/reports.daily/schedules`);
    await page.locator('#new-schedule').click();
    await page.getByLabel('Key').fill('tenant-acme');
    await page.getByLabel('Kind').selectOption('daily');
    await page.getByLabel('At local times').fill('06:00, 18:30');
    await page.getByLabel('Timezone').fill('Europe/Paris');
    await page.locator('#preview li').nth(4).waitFor(WAIT);
    await page.getByLabel('Payload (JSON)').fill('{"tenant": "acme"');
    await page.locator('#save').click();
    await page.locator('#s-payload-error', { hasText: 'payload is not valid JSON' }).waitFor(WAIT);
    expect(await h.store.getSchedules([{ code: 'reports.daily', key: 'tenant-acme' }])).toEqual([]);
    await page.getByLabel('Payload (JSON)').fill('{"tenant": "acme"}');
    await shot(page, '05-form-daily-preview');
    await page.locator('#save').click();
    await page.locator('tr[data-key="tenant-acme"]').waitFor(WAIT);
    await shot(page, '06-schedules');
    const [stored] = await h.store.getSchedules([{ code: 'reports.daily', key: 'tenant-acme' }]);
    expect(stored).toMatchObject({
      schedule: { kind: 'daily', times: ['06:00', '18:30'] },
      timezone: 'Europe/Paris',
      payload: { tenant: 'acme' },
    });
    // Run now from the schedule's row, then one runner tick runs it with its payload.
    await page.locator('tr[data-key="tenant-acme"] button', { hasText: 'Run now' }).click();
    await page.locator('.flash.ok', { hasText: 'requested a run of tenant-acme' }).waitFor(WAIT);
    await runDue({ jobs, store: h.store });
    const { runs } = await h.store.queryRuns({ code: 'reports.daily', key: 'tenant-acme' });
    expect(runs.map((r) => [r.status, r.trigger, r.message])).toEqual([['succeeded', 'manual', 'report for {"tenant":"acme"}']]);
    const actions = (await h.store.listAudit()).entries.map((e) => e.action);
    expect(actions.slice(0, 2)).toEqual(['schedule.trigger', 'schedule.create']);
    await page.context().close();
  });

  it('filters the run history by status and shows a run with its error and stack; new runs appear live', async () => {
    const page = await signedIn('viewer');
    await page.goto(`${h.url}#/job/flaky.sync`);
    await page.getByRole('heading', { name: 'Run history' }).waitFor(WAIT);
    // Forced runs are once per second-slot: give each its own second, in the recent past.
    const base = Date.now() - 10_000;
    for (let i = 0; i < 4; i += 1)
      await runDue({ jobs, store: h.store, force: true, only: ['flaky.sync'], clock: { now: () => new Date(base + i * 1000) } });
    // The four runs arrive over the live feed, without a reload.
    await page.locator('#runs tr[data-run]').nth(3).waitFor(WAIT);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('#runs tr[data-run]')];
        return rows.length === 2 && rows.every((row) => row.textContent?.includes('failed'));
      },
      undefined,
      WAIT,
    );
    // The job's options name its overlap policy; run times are in the job's zone, in one unambiguous form.
    expect(await page.locator('#job-summary dt', { hasText: /^overlapPolicy$/ }).count()).toBe(1);
    expect(await page.locator('#job-summary dd', { hasText: /^bufferOne$/ }).count()).toBe(1);
    expect(await page.locator('#job-summary dt', { hasText: /^allowParallelRuns$/ }).count()).toBe(0);
    await page.getByRole('columnheader', { name: 'Started (Europe/Paris)' }).waitFor(WAIT);
    const firstId = await page.locator('#runs tr[data-run]').first().getAttribute('data-run');
    const shownAt = await page.locator('#runs tr[data-run] a').first().textContent();
    const startedAt = (await h.store.getRun(firstId as string))?.startedAt as Date;
    const paris = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/Paris',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .format(startedAt)
      .replace(', ', ' ');
    expect(shownAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0[12]:00$/);
    expect(shownAt?.startsWith(paris)).toBe(true);
    await shot(page, '07-job-history-failed');
    await page.locator('#runs tr[data-run] a').first().click();
    await page.locator('#run-error', { hasText: 'upstream said no' }).waitFor(WAIT);
    expect(await page.locator('dd', { hasText: /^Europe\/Paris$/ }).count()).toBe(1);
    expect(await page.locator('#run-stack').textContent()).toMatch(/Error: upstream said no/);
    await shot(page, '08-run');
    await page.context().close();
  });

  it("refuses a viewer's mutation with 403 and a mutation without the CSRF token with 403, auditing neither", async () => {
    const audited = (await h.store.listAudit({ limit: 1000 })).entries.length;
    const viewer = await signedIn('viewer');
    expect(await viewer.locator('#pause').count()).toBe(0);
    const viewerAnswer = await viewer.evaluate(async () => {
      const me = (await (await fetch('api/me')).json()) as { csrf: string };
      const res = await fetch('api/jobs/reports.daily/pause', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf },
        body: '{"note":"viewer"}',
      });
      return { status: res.status, body: (await res.json()) as { message: string } };
    });
    expect(viewerAnswer.status).toBe(403);
    expect(viewerAnswer.body.message).toMatch(/needs the operator role/);
    const admin = await signedIn('admin');
    const noCsrf = await admin.evaluate(async () => {
      const res = await fetch('api/jobs/reports.daily/pause', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"note":"forged"}',
      });
      return { status: res.status, body: (await res.json()) as { message: string } };
    });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.message).toMatch(/CSRF token missing/);
    expect((await h.store.getStates([{ code: 'reports.daily', key: '' }]))[0]?.paused ?? false).toBe(false);
    expect((await h.store.listAudit({ limit: 1000 })).entries.length).toBe(audited);
    await admin.goto(`${h.url}#/audit`);
    await admin.locator('#audit tr').first().waitFor(WAIT);
    await shot(admin, '09-audit');
    await admin.goto(`${h.url}#/tokens`);
    await admin.getByRole('heading', { name: 'Access tokens' }).waitFor(WAIT);
    await shot(admin, '10-tokens');
    await viewer.context().close();
    await admin.context().close();
  });
});
