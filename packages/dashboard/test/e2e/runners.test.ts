import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createMemoryBackend, createMemoryStore, defineJob, every, silentLogger, systemClock, type Store } from '@tickwork/core';
import { createDaemon, type DaemonHandle } from '@tickwork/runner-daemon';
import { startHarness, type Harness } from '../support.js';
import { launch, OUTPUT } from './browser.js';

// Generous: a busy 2-core CI machine runs Chromium beside the other packages' tests.
// Safety nets, not speed claims (Chromium on a busy 2-core machine).
const WAIT = { timeout: 90_000 };

let browser: Browser;
let h: Harness;
let daemon: DaemonHandle | undefined;
let daemonStore: Store;
const jobs = [defineJob({ code: 'heartbeat.demo', schedule: every('1h'), run: () => undefined })];

beforeAll(async () => {
  const backend = createMemoryBackend();
  h = await startHarness({ store: createMemoryStore({ backend }), jobs, clock: systemClock, extra: { timezone: 'Europe/Paris' } });
  // A real daemon on its own store instance of the same backend: its heartbeats are what the page lists.
  daemonStore = createMemoryStore({ backend });
  daemon = createDaemon({ jobs, store: daemonStore, logger: silentLogger, http: null, runnerId: 'e2e-daemon-1' });
  await daemon.ready;
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  await h?.close();
});

it('lists a running daemon sharing the store on the runners page: id, alive, started, last seen, clock offset', async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 700 } });
  context.setDefaultTimeout(WAIT.timeout);
  const page = await context.newPage();
  await page.goto(h.url);
  await page.getByLabel('Access token').fill(await h.token('viewer'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Runners' }).click();
  const row = page.locator('tr[data-runner="e2e-daemon-1"]');
  await row.waitFor(WAIT);
  const cells = await row.locator('td').allTextContents();
  expect(cells[0]).toBe('e2e-daemon-1');
  expect(cells[1]).toBe('alive');
  // Times in the dashboard's zone, one unambiguous form (never the browser's locale).
  expect(cells[2]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0[12]:00$/);
  expect(cells[3]).toMatch(/ago — \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0[12]:00$|in \d+ s — /);
  const [runner] = (await h.store.listRunners?.({ now: new Date() })) ?? [];
  expect(runner?.runnerId).toBe('e2e-daemon-1');
  expect(cells[4]).toEqual(runner?.clockOffsetMs === null ? '—' : expect.stringMatching(/^[+−]\d/));
  await page.screenshot({ path: join(OUTPUT, '11-runners.png'), fullPage: true });

  // Once the daemon stopped and its store connection closed, the page shows it dead after its heartbeat TTL.
  await daemon?.stop();
  daemon = undefined;
  await daemonStore.close();
  const deadline = Date.now() + 60_000;
  for (;;) {
    await page.reload();
    await row.waitFor(WAIT);
    if ((await row.locator('td').nth(1).textContent()) === 'dead') break;
    if (Date.now() > deadline) throw new Error('the stopped daemon still shows alive after 60 s');
    await page.waitForTimeout(1000);
  }
  await page.screenshot({ path: join(OUTPUT, '12-runners-dead.png'), fullPage: true });
  await page.context().close();
});
