import { DEFAULT_SCHEDULE_KEY, type Job, type JobState, type RunStatus, type SkipReason } from '@tickwork/core';
import { describeSchedule, jobSchedule } from '@tickwork/core/schedule';
import { initialJobState } from '@tickwork/core/store';
import { nextDueAt, remainingRuns } from '@tickwork/core/runner';

/** What a schedule's stored state says, as `list` and `schedules` show it. */
export interface StateView {
  paused: boolean;
  pausedNote: string | null;
  /** ISO instant of the next due slot (or pending retry); null when none (disabled, paused, expired, done). */
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastStatus: RunStatus | null;
  consecutiveFailures: number;
  totalRuns: number;
  /** The schedule's limit of scheduled runs (`maxRuns`); null: no limit. */
  maxRuns: number | null;
  /** Scheduled runs counted towards `maxRuns` (retries, run-now and forced runs are not). */
  scheduledRuns: number;
  /** `maxRuns - scheduledRuns` (0: the schedule ended); null without a limit. */
  remainingRuns: number | null;
  /** ISO instant of the oldest slot waiting behind a running run (overlap policy bufferOne/bufferAll/cancelOther), or null. */
  waitingSlotAt: string | null;
  /** Why the latest skipped slot did not run (an overlap skip or a recorded range), null when none was skipped. */
  lastSkipReason: SkipReason | null;
  /** ISO instant of the latest skipped slot, or null. */
  lastSkippedSlotAt: string | null;
}

/** One job as `list` shows it (also the element of `list --json`'s `jobs`). */
export interface JobView extends StateView {
  code: string;
  description: string | null;
  /** The schedule in words (the override's, when one is set); null for a job that runs only on runtime schedules (`schedule: null`). */
  schedule: string | null;
  scheduleOverridden: boolean;
  timezone: string;
  enabled: boolean;
  /** How many runtime schedules the job has in the store (`tickwork schedules <code>` lists them). */
  runtimeSchedules: number;
}

/** The state's fields of a view; `next` from core's planner (null when not planned). */
export function viewState(state: JobState, next: Date | null, job: Pick<Job, 'maxRuns'>): StateView {
  return {
    paused: state.paused,
    pausedNote: state.pausedNote,
    nextRunAt: next?.toISOString() ?? null,
    lastRunAt: state.lastFinishedAt?.toISOString() ?? null,
    lastStatus: state.lastStatus,
    consecutiveFailures: state.consecutiveFailures,
    totalRuns: state.totalRuns,
    maxRuns: job.maxRuns,
    scheduledRuns: state.scheduledRuns,
    remainingRuns: remainingRuns(job, state),
    waitingSlotAt: state.waitingSlotAt?.toISOString() ?? null,
    lastSkipReason: state.lastSkipReason,
    lastSkippedSlotAt: state.lastSkippedSlotAt?.toISOString() ?? null,
  };
}

/** The state a schedule has before the store first sees it (what `list` shows without writing). */
export function unseenState(code: string, now: Date): JobState {
  return initialJobState({ code, key: DEFAULT_SCHEDULE_KEY }, now);
}

/** A job joined with its stored state and runtime schedule count, computed with core's schedule engine and planner. */
export function viewJob(job: Job, state: JobState, runtimeSchedules: number, defaultTimezone: string, now: Date): JobView {
  const schedule = jobSchedule(job, defaultTimezone, state.scheduleOverride);
  const next = job.enabled && !state.paused ? nextDueAt({ job, key: state.key, schedule, state, now }) : null;
  return {
    code: job.code,
    description: job.description,
    schedule: schedule ? describeSchedule(schedule) : null,
    scheduleOverridden: state.scheduleOverride !== null,
    timezone: schedule?.timezone ?? job.timezone ?? defaultTimezone,
    enabled: job.enabled,
    ...viewState(state, next, job),
    runtimeSchedules,
  };
}
