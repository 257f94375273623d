import type { JobState, ScheduleRef } from './store.js';

/** The state of a schedule no runner has claimed yet, as a store's `ensureStates` creates it. */
export function initialJobState(ref: ScheduleRef, now: Date): JobState {
  return {
    code: ref.code,
    key: ref.key,
    paused: false,
    pausedNote: null,
    resumedAt: null,
    scheduleOverride: null,
    lastSlotAt: null,
    lastStatus: null,
    lastFinishedAt: null,
    lastAttempt: null,
    lastFinishedSlotAt: null,
    consecutiveFailures: 0,
    failingSince: null,
    lastSucceededAt: null,
    endedStreak: 0,
    endedStreakStartedAt: null,
    expectSuccessWithinMs: null,
    overdueAlertedAt: null,
    endedOverdueAlertedAt: null,
    lastSkipReason: null,
    lastSkippedSlotAt: null,
    totalRuns: 0,
    scheduledRuns: 0,
    waitingSlotAt: null,
    createdAt: new Date(now),
    updatedAt: new Date(now),
  };
}
