import { createFakeClock, createMemoryStore, defineJob, every, runDue, type Store } from '@tickwork/core';
import { afterEach, describe, expect, it } from 'vitest';
import { notify, verifyWebhookSignature, type Notification, type NotifyHandlers, type NotifyOptions } from '../src/index.js';
import { closedPort, recordingLogger, startHttpReceiver, startSmtpReceiver } from './receivers.js';

const SECRET = 'a shared secret between tickwork and the receiver';
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** A job on core's real executor and memory store, failing while `state.failing`, ticked once a minute on a fake clock. */
async function setup(options: {
  notify: (store: Store, clock: ReturnType<typeof createFakeClock>) => NotifyOptions;
  failuresBeforeAlert?: number;
  interval?: string;
}) {
  const store = createMemoryStore();
  const clock = createFakeClock('2026-03-02T12:00:30.000Z');
  const alerts = notify(options.notify(store, clock));
  cleanup.push(() => alerts.close());
  const state = { failing: true };
  // One definition per notify() instance: what two processes defining the same job would hold.
  const jobFor = (handlers: NotifyHandlers) =>
    defineJob({
      code: 'reports.hourly',
      schedule: every(options.interval ?? '1m'),
      ...(options.failuresBeforeAlert ? { failuresBeforeAlert: options.failuresBeforeAlert } : {}),
      onFailure: handlers.onFailure,
      run() {
        if (state.failing) throw new Error('reporting database unreachable');
      },
    });
  const jobs = new Map([[alerts, jobFor(alerts)]]);
  const logger = recordingLogger();
  const tick = (runnerId = 'runner-a', handlers = alerts) => {
    if (!jobs.has(handlers)) jobs.set(handlers, jobFor(handlers));
    return runDue({ jobs: [jobs.get(handlers)!], store, clock, runnerId, logger });
  };
  return { store, clock, alerts, state, logger, tick };
}

async function webhookReceiver() {
  const hook = await startHttpReceiver([{ status: 200 }]);
  cleanup.push(hook.close);
  const kinds = () => hook.received.map((r) => (JSON.parse(r.body) as Notification).kind);
  const bodies = () => hook.received.map((r) => JSON.parse(r.body) as Notification);
  return { ...hook, kinds, bodies };
}

describe('a failure streak through core’s executor', () => {
  it('sends one e-mail when the streak starts, a reminder each interval, and the recovery', async () => {
    const smtp = await startSmtpReceiver();
    cleanup.push(smtp.close);
    const { store, clock, alerts, state, logger, tick } = await setup({
      notify: (store, clock) => ({
        email: { smtp: smtp.url, from: 'alerts@example.com', to: 'ops@example.com' },
        remindEvery: '10m',
        dashboardUrl: 'https://ops.example.com/tickwork',
        store,
        clock,
      }),
    });
    for (let minute = 0; minute < 25; minute++) {
      const report = await tick();
      expect(report.results.map((r) => r.outcome)).toEqual(['failed']);
      clock.advance(60_000);
    }
    // Failures 1 … 25 finished at 12:00:30 + (n − 1) min: the streak's message, then reminders at 12:10:30 and 12:20:30.
    expect(smtp.mails.map((m) => m.subject)).toEqual([
      '[tickwork] reports.hourly failed',
      '[tickwork] reports.hourly is still failing: 11 failures in a row since 2026-03-02T12:00:30.000Z',
      '[tickwork] reports.hourly is still failing: 21 failures in a row since 2026-03-02T12:00:30.000Z',
    ]);
    const [firstRun] = (await store.queryRuns({ code: 'reports.hourly', limit: 1000 })).runs.reverse();
    expect(smtp.mails[0]?.text).toContain(`run: https://ops.example.com/tickwork/#/run/${firstRun?.id}\n`);
    expect(smtp.mails[0]?.text).toContain('slot: 2026-03-02T12:00:00.000Z\n');
    expect(smtp.mails[0]?.text).toContain('error: reporting database unreachable\n');

    state.failing = false;
    const report = await tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['succeeded']);
    const [succeeded] = (await store.queryRuns({ code: 'reports.hourly', status: 'succeeded', limit: 1 })).runs;
    // What core will call once it has the hook (see notify-core-hooks.md): the success that ended 25 failures.
    await alerts.onRecovery({ code: 'reports.hourly', key: '', run: succeeded!, failures: 25, logger });
    expect(smtp.mails.map((m) => m.subject).at(-1)).toBe('[tickwork] reports.hourly recovered: succeeded after 25 failures');
    expect(smtp.mails.at(-1)?.inReplyTo).toBe(smtp.mails[0]?.messageId);
    expect(logger.lines.filter((l) => l.msg === 'notification sent')).toHaveLength(4);
  });

  it('opens at the job’s threshold and reminds every n failures', async () => {
    const hook = await webhookReceiver();
    const { tick, clock } = await setup({
      failuresBeforeAlert: 3,
      notify: (_store, clock) => ({
        webhook: { url: hook.url, secret: SECRET },
        failuresBeforeAlert: 3,
        remindEvery: { failures: 5 },
        clock,
      }),
    });
    for (let i = 0; i < 14; i++) {
      await tick();
      clock.advance(60_000);
    }
    expect(hook.bodies().map((b) => [b.kind, b.consecutiveFailures])).toEqual([
      ['failure', 3],
      ['reminder', 8],
      ['reminder', 13],
    ]);
    for (const r of hook.received)
      expect(verifyWebhookSignature({ body: r.body, headers: r.headers, secret: SECRET, now: clock.now(), toleranceMs: 900_000 }).ok).toBe(
        true,
      );
  });

  it('sends no reminder without remindEvery, and no recovery for a streak below the threshold', async () => {
    const hook = await webhookReceiver();
    const { tick, clock, alerts, state, store, logger } = await setup({
      notify: () => ({ webhook: { url: hook.url }, failuresBeforeAlert: 3 }),
      failuresBeforeAlert: 3,
    });
    for (let i = 0; i < 2; i++) {
      await tick();
      clock.advance(60_000);
    }
    state.failing = false;
    await tick();
    const [succeeded] = (await store.queryRuns({ code: 'reports.hourly', status: 'succeeded', limit: 1 })).runs;
    await alerts.onRecovery({ code: 'reports.hourly', key: '', run: succeeded!, failures: 2, logger });
    expect(hook.received).toHaveLength(0);
    state.failing = true;
    for (let i = 0; i < 30; i++) {
      clock.advance(60_000);
      await tick();
    }
    expect(hook.kinds()).toEqual(['failure']);
  });

  it('decides from the shared store, so runners taking turns send what one runner would', async () => {
    const hook = await webhookReceiver();
    const { tick, clock, store } = await setup({
      notify: (store, clock) => ({ webhook: { url: hook.url }, remindEvery: '10m', store, clock }),
    });
    // A second process: its own notify() (nothing in memory shared; the store given as a factory, as in
    // defineConfig), the same store and receiver.
    const other = notify({ webhook: { url: hook.url }, remindEvery: '10m', store: async () => store, clock });
    cleanup.push(() => other.close());
    for (let minute = 0; minute < 25; minute++) {
      await tick(minute % 2 === 0 ? 'runner-a' : 'runner-b', minute % 3 === 0 ? undefined : other);
      clock.advance(60_000);
    }
    expect(hook.bodies().map((b) => [b.kind, b.consecutiveFailures, b.run?.runnerId])).toEqual([
      ['failure', 1, 'runner-a'],
      ['reminder', 11, 'runner-a'],
      ['reminder', 21, 'runner-a'],
    ]);
    // Minutes 10 and 20 ran on runner A with the second notify() (10 % 3, 20 % 3 ≠ 0): it had never seen the streak.
    expect(hook.bodies().map((b) => b.streakStartedAt)).toEqual([
      '2026-03-02T12:00:30.000Z',
      '2026-03-02T12:00:30.000Z',
      '2026-03-02T12:00:30.000Z',
    ]);
  });

  it('reads the run log twice per failure once the streak’s start is known, and not at all for the first', async () => {
    const hook = await webhookReceiver();
    const queries: string[] = [];
    const { tick, clock } = await setup({
      notify: (store, clock) => {
        // The real store, its queryRuns calls counted.
        const counted = new Proxy(store, {
          get(target, name, receiver) {
            const value = Reflect.get(target, name, receiver);
            if (name !== 'queryRuns' || typeof value !== 'function') return value;
            return (query: Parameters<typeof store.queryRuns>[0]) => {
              queries.push(`${JSON.stringify(query?.status)}/${query?.limit}`);
              return value.call(target, query);
            };
          },
        });
        return { webhook: { url: hook.url }, remindEvery: '10m', store: counted, clock };
      },
    });
    const perFailure: number[] = [];
    for (let minute = 0; minute < 30; minute++) {
      const before = queries.length;
      await tick();
      perFailure.push(queries.length - before);
      clock.advance(60_000);
    }
    // 1st: none (it opens the streak, which starts with it); 2nd: the previous failure and the
    // streak's start (found, then remembered); every later one: the previous failure, and whether a success came since.
    expect(perFailure).toEqual([0, ...Array.from({ length: 29 }, () => 2)]);
    expect(queries.slice(2, 4)).toEqual(['["succeeded","failed","timed_out","interrupted"]/2', '"succeeded"/2']);
    expect(hook.kinds()).toEqual(['failure', 'reminder', 'reminder']);
  });

  it('keeps timing reminders from the streak’s start past 1,000 failures (run-log paging)', async () => {
    const hook = await webhookReceiver();
    const { tick, clock } = await setup({
      interval: '1s',
      notify: (store, clock) => ({ webhook: { url: hook.url }, remindEvery: '5m', store, clock }),
    });
    for (let second = 0; second < 1210; second++) {
      await tick();
      clock.advance(1_000);
    }
    // Failure n finished n − 1 seconds after the first: reminders at 300, 600, 900 and 1,200 s.
    expect(hook.bodies().map((b) => [b.kind, b.consecutiveFailures])).toEqual([
      ['failure', 1],
      ['reminder', 301],
      ['reminder', 601],
      ['reminder', 901],
      ['reminder', 1201],
    ]);
  }, 120_000);

  it('logs a receiver that is down, still delivers to the others, and leaves the job’s result alone', async () => {
    const hook = await webhookReceiver();
    const port = await closedPort();
    const { tick, store, logger } = await setup({
      notify: () => ({
        webhook: { url: `http://127.0.0.1:${port}/down`, retries: 2, sleep: async () => undefined },
        slack: { url: hook.url },
      }),
    });
    const report = await tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['failed']);
    const { runs } = await store.queryRuns({ code: 'reports.hourly' });
    expect(runs.map((r) => [r.status, r.error])).toEqual([['failed', 'reporting database unreachable']]);
    expect(hook.received).toHaveLength(1);
    const failures = logger.lines.filter((l) => l.msg === 'notification not delivered');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.level).toBe('error');
    expect(failures[0]?.fields).toMatchObject({
      notifier: 'webhook',
      kind: 'failure',
      attempts: 3,
      job: 'reports.hourly',
      slot: '2026-03-02T12:00:00.000Z',
    });
    expect(String(failures[0]?.fields.err)).toMatch(/could not be reached/);
  });

  it('a store factory that fails is logged, leaves the job alone, and is tried again at the next failure', async () => {
    const hook = await webhookReceiver();
    let opens = 0;
    const { tick, clock, logger } = await setup({
      notify: (store, clock) => ({
        webhook: { url: hook.url },
        remindEvery: '1m',
        clock,
        store: async () => {
          opens += 1;
          if (opens === 1) throw new Error('store not reachable yet');
          return store;
        },
      }),
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(...(await tick()).results.map((r) => r.outcome));
      clock.advance(60_000);
    }
    expect(outcomes).toEqual(['failed', 'failed', 'failed']);
    // Failure 1 needs no store (it opens the streak); failure 2's read fails; failure 3 reads the store.
    expect(logger.lines.filter((l) => l.msg === 'notify onFailure failed').map((l) => l.fields.err)).toEqual(['store not reachable yet']);
    expect(hook.bodies().map((b) => [b.kind, b.consecutiveFailures])).toEqual([
      ['failure', 1],
      ['reminder', 3],
    ]);
    expect(opens).toBe(2);
  });

  it('a notifier that throws synchronously is logged too, never thrown into the job', async () => {
    const { tick, logger } = await setup({
      notify: () => ({
        notifiers: [
          {
            name: 'broken',
            send() {
              throw new Error('boom');
            },
          },
        ],
      }),
    });
    const report = await tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['failed']);
    expect(logger.lines.filter((l) => l.msg === 'notification not delivered').map((l) => l.fields.err)).toEqual(['boom']);
  });
});

describe('dead-man alerts (the hook core will call)', () => {
  it('sends the overdue message and the recovery, with the job link', async () => {
    const smtp = await startSmtpReceiver();
    cleanup.push(smtp.close);
    const alerts = notify({
      email: { smtp: smtp.url, from: 'alerts@example.com', to: 'ops@example.com' },
      dashboardUrl: 'https://ops.example.com/tickwork/',
    });
    cleanup.push(() => alerts.close());
    const logger = recordingLogger();
    const common = {
      code: 'backup.nightly',
      key: 'tenant-7',
      expectSuccessWithinMs: 7_200_000,
      lastSucceededAt: new Date('2026-03-02T01:00:00Z'),
      overdueSince: new Date('2026-03-02T03:00:00Z'),
      logger,
    };
    await alerts.onDeadMan({ ...common, state: 'overdue', run: null });
    expect(smtp.mails.map((m) => m.subject)).toEqual([
      '[tickwork] backup.nightly [tenant-7]: no run succeeded within 2h (last success: 2026-03-02T01:00:00.000Z)',
    ]);
    expect(smtp.mails[0]?.text).toContain('run: https://ops.example.com/tickwork/#/job/backup.nightly\n');
    expect(smtp.mails[0]?.headers.get('x-tickwork-key')).toBe('tenant-7');
    await alerts.onDeadMan({ ...common, state: 'recovered', run: null });
    expect(smtp.mails.map((m) => m.headers.get('x-tickwork-kind'))).toEqual(['dead-man', 'dead-man-recovered']);
  });
});
