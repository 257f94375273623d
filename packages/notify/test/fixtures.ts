import type { RunRecord } from '@tickwork/core';
import { composeNotification, type Notification } from '../src/index.js';

/** A finished run record as a store returns it. */
export function runRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    code: 'reports.daily',
    key: '',
    id: '42',
    slotAt: new Date('2026-03-02T06:00:00.000Z'),
    attempt: 1,
    trigger: 'schedule',
    status: 'failed',
    runnerId: 'runner-a',
    token: 7,
    requestId: null,
    cancelRequested: false,
    startedAt: new Date('2026-03-02T06:00:00.100Z'),
    finishedAt: new Date('2026-03-02T06:00:02.100Z'),
    durationMs: 2000,
    leaseExpiresAt: null,
    message: null,
    error: 'connection refused by the reporting database',
    stack: null,
    skipReason: null,
    slotCount: 1,
    rangeLastSlotAt: null,
    ...overrides,
  };
}

/** The streak's first message for {@link runRecord}. */
export function failureNotification(overrides: Partial<RunRecord> = {}): Notification {
  const run = runRecord(overrides);
  return composeNotification({
    kind: 'failure',
    code: run.code,
    key: run.key,
    run,
    consecutiveFailures: 1,
    streakStartedAt: run.finishedAt,
    deadMan: null,
    dashboardUrl: new URL('https://ops.example.com/tickwork/'),
    now: new Date('2026-03-02T06:00:03.000Z'),
  });
}
