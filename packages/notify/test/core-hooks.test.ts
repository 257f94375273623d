import { createFakeClock, createMemoryBackend, createMemoryStore, defineJob, every, runDue, type Store } from '@tickwork/core';
import { afterEach, describe, expect, it } from 'vitest';
import { notify, type Notification } from '../src/index.js';
import { recordingLogger, startHttpReceiver } from './receivers.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

describe("notifiers as core's onFailure, onRecovery and onOverdue", () => {
  it('one message for the streak, one dead-man alert, then the recovery and the dead-man recovery — from two runners taking turns', async () => {
    const hook = await startHttpReceiver([{ status: 200 }]);
    cleanup.push(hook.close);
    const sent: Notification[] = [];
    const clock = createFakeClock('2026-03-02T12:00:00.000Z');
    const alerts = notify({
      webhook: { url: hook.url, secret: 'shared', retries: 0 },
      notifiers: [{ name: 'memory', send: async (n) => void sent.push(n) }],
      dashboardUrl: 'https://ops.example.com/tickwork/',
      clock,
    });
    cleanup.push(() => alerts.close());
    const state = { failing: false };
    const job = defineJob({
      code: 'exports.hourly',
      schedule: every('10m'),
      failuresBeforeAlert: 2,
      expectSuccessWithin: '1h',
      onFailure: alerts.onFailure,
      onRecovery: alerts.onRecovery,
      onOverdue: alerts.onOverdue,
      run() {
        if (state.failing) throw new Error('bucket unreachable');
      },
    });
    const backend = createMemoryBackend();
    const stores: Store[] = [createMemoryStore({ backend }), createMemoryStore({ backend })];
    const logger = recordingLogger();
    let turn = 0;
    const tickAt = async (iso: string) => {
      clock.set(iso);
      turn++;
      await runDue({ jobs: [job], store: stores[turn % 2]!, clock, runnerId: `runner-${turn % 2}`, logger });
    };
    await tickAt('2026-03-02T12:00:00.000Z');
    state.failing = true;
    for (const minute of ['10', '20', '30', '40', '50']) await tickAt(`2026-03-02T12:${minute}:00.000Z`);
    expect(sent.map((n) => n.kind)).toEqual(['failure']);
    // 13:00: an hour since the last success (12:00): the 13:00 run fails too, and the dead-man alert goes out once.
    await tickAt('2026-03-02T13:00:00.000Z');
    await tickAt('2026-03-02T13:05:00.000Z');
    expect(sent.map((n) => n.kind)).toEqual(['failure', 'dead-man']);
    state.failing = false;
    await tickAt('2026-03-02T13:10:00.000Z');
    await tickAt('2026-03-02T13:20:00.000Z');
    expect(sent.map((n) => n.kind)).toEqual(['failure', 'dead-man', 'recovery', 'dead-man-recovered']);
    const [failure, deadMan, recovery, recovered] = sent as [Notification, Notification, Notification, Notification];
    expect(failure.title).toBe('exports.hourly failed (2 failures in a row)');
    expect(failure.url).toBe(`https://ops.example.com/tickwork/#/run/${failure.run?.id}`);
    expect(deadMan.title).toBe('exports.hourly: no run succeeded within 1h (last success: 2026-03-02T12:00:00.000Z)');
    expect(deadMan.url).toBe('https://ops.example.com/tickwork/#/job/exports.hourly');
    expect(recovery.title).toBe('exports.hourly recovered: succeeded after 6 failures');
    expect(recovery.url).toBe(`https://ops.example.com/tickwork/#/run/${recovery.run?.id}`);
    expect(recovered.title).toBe('exports.hourly succeeded again after being overdue since 2026-03-02T13:00:00.000Z');
    // The same four reached the real receiver, signed.
    expect(hook.received.map((r) => (JSON.parse(r.body) as Notification).kind)).toEqual([
      'failure',
      'dead-man',
      'recovery',
      'dead-man-recovered',
    ]);
    expect(logger.lines.filter((l) => l.msg === 'notification not delivered')).toEqual([]);
  });
});
