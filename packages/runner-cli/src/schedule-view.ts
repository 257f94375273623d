import {
  describeThrown,
  type Job,
  type JobState,
  type JsonValue,
  type RuntimeSchedule,
  type RuntimeScheduleOptions,
  type ScheduleSpec,
} from '@tickwork/core';
import { nextDueAt, runtimeJob, type ScheduleCache } from '@tickwork/core/runner';
import { viewState, type StateView } from './job-view.js';
import { formatDuration } from './output/relative-time.js';

/** One runtime schedule as `schedules` and `schedule set` show it (also their `--json` element). */
export interface ScheduleView extends StateView {
  code: string;
  key: string;
  /** The schedule in words (the override's, when one is set), or why it cannot be read. */
  schedule: string;
  /** The schedule as stored. */
  spec: ScheduleSpec;
  scheduleOverridden: boolean;
  /** The zone the schedule follows (its own, else the job's, else the configured default). */
  timezone: string;
  /** The schedule's own flag; a job disabled in code runs none of its schedules either. */
  enabled: boolean;
  payload: JsonValue;
  description: string | null;
  startAt: string | null;
  expiresAt: string | null;
  /** Job options this schedule sets for itself (durations in milliseconds). */
  options: RuntimeScheduleOptions;
  /** Changes each time the definition changes. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** What planning a schedule needs: compiled schedules shared across a listing, the default zone, the CLI's now. */
export interface Planning {
  cache: ScheduleCache;
  /** The configured default timezone. */
  timezone: string;
  now: Date;
}

/**
 * A runtime schedule joined with its state, planned with core's engine as the runners plan
 * it (the job's options under the schedule's own). A stored schedule this Node cannot compile
 * (e.g. a zone its tz data lacks) is shown with the reason instead of stopping the listing.
 */
export function viewSchedule(job: Job, schedule: RuntimeSchedule, state: JobState, planning: Planning): ScheduleView {
  const { cache, now } = planning;
  const effective = runtimeJob(job, schedule);
  let words: string;
  let timezone = effective.timezone ?? planning.timezone;
  let next: Date | null = null;
  try {
    // Never null here: a runtime schedule always has a schedule of its own.
    const compiled = cache.compile(effective, state.scheduleOverride);
    words = compiled?.describe() ?? '';
    timezone = compiled?.timezone ?? timezone;
    if (effective.enabled && !state.paused) {
      next = nextDueAt({ job: effective, key: schedule.key, schedule: compiled, state, now });
    }
  } catch (error) {
    words = `unreadable: ${describeThrown(error).message.replace(/^\[tickwork\] /, '')}`;
  }
  return {
    code: schedule.code,
    key: schedule.key,
    schedule: words,
    spec: schedule.schedule,
    scheduleOverridden: state.scheduleOverride !== null,
    timezone,
    enabled: schedule.enabled,
    ...viewState(state, next, effective),
    payload: schedule.payload,
    description: schedule.description,
    startAt: schedule.startAt?.toISOString() ?? null,
    expiresAt: schedule.expiresAt?.toISOString() ?? null,
    options: schedule.options,
    version: schedule.version,
    createdAt: schedule.createdAt.toISOString(),
    updatedAt: schedule.updatedAt.toISOString(),
  };
}

/** The payload as compact JSON cut to `max` characters (with "…"); '' for none. */
export function payloadSummary(payload: JsonValue, max = 40): string {
  if (payload === null) return '';
  const text = JSON.stringify(payload);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The options in words: "timeout 5 min, jitter 30 s, missed runs: skip"; '' when none. */
export function describeOptions(options: RuntimeScheduleOptions): string {
  const parts: string[] = [];
  if (options.allowParallelRuns !== undefined) parts.push(options.allowParallelRuns ? 'parallel runs allowed' : 'no parallel runs');
  if (options.overlapPolicy !== undefined) parts.push(`overlap: ${options.overlapPolicy}`);
  if (options.timeoutMs !== undefined) parts.push(`timeout ${formatDuration(options.timeoutMs)}`);
  if (options.retryAfterFailureMs !== undefined) parts.push(`retry after failure ${formatDuration(options.retryAfterFailureMs)}`);
  if (options.jitterMs !== undefined) parts.push(`jitter ${formatDuration(options.jitterMs)}`);
  if (options.leaseTtlMs !== undefined) parts.push(`lease ${formatDuration(options.leaseTtlMs)}`);
  if (options.maxRuns !== undefined) parts.push(`at most ${options.maxRuns} scheduled run${options.maxRuns === 1 ? '' : 's'}`);
  const policy = options.missedRunPolicy;
  if (policy !== undefined)
    parts.push(`missed runs: ${typeof policy === 'string' ? policy : `all within ${formatDuration(policy.all.withinMs)}`}`);
  return parts.join(', ');
}
