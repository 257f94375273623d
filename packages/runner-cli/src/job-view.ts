import {
  DEFAULT_SCHEDULE_KEY,
  describeSchedule,
  initialJobState,
  jobSchedule,
  nextDueAt,
  type Job,
  type JobState,
  type RunStatus,
} from '@tickwork/core';

/** One job as `list` shows it (also the element of `list --json`'s `jobs`). */
export interface JobView {
  code: string;
  description: string | null;
  /** The schedule in words (the override's, when one is set). */
  schedule: string;
  scheduleOverridden: boolean;
  timezone: string;
  enabled: boolean;
  paused: boolean;
  pausedNote: string | null;
  /** ISO instant of the next due slot (or pending retry); null when none (disabled, paused, expired). */
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastStatus: RunStatus | null;
  consecutiveFailures: number;
  totalRuns: number;
}

/** The state a schedule has before the store first sees it (what `list` shows without writing). */
export function unseenState(code: string, now: Date): JobState {
  return initialJobState({ code, key: DEFAULT_SCHEDULE_KEY }, now);
}

/** A job joined with its stored state, computed with core's schedule engine and planner. */
export function viewJob(job: Job, state: JobState, defaultTimezone: string, now: Date): JobView {
  const schedule = jobSchedule(job, defaultTimezone, state.scheduleOverride);
  const next = job.enabled && !state.paused ? nextDueAt({ job, key: state.key, schedule, state, now }) : null;
  return {
    code: job.code,
    description: job.description,
    schedule: describeSchedule(schedule),
    scheduleOverridden: state.scheduleOverride !== null,
    timezone: schedule.timezone,
    enabled: job.enabled,
    paused: state.paused,
    pausedNote: state.pausedNote,
    nextRunAt: next?.toISOString() ?? null,
    lastRunAt: state.lastFinishedAt?.toISOString() ?? null,
    lastStatus: state.lastStatus,
    consecutiveFailures: state.consecutiveFailures,
    totalRuns: state.totalRuns,
  };
}
