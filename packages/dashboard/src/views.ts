/** The JSON shapes the API answers with, built from core's records (dates become ISO text). */
import { DEFAULT_SCHEDULE_KEY, type Job, type JobState, type RunRecord, type RuntimeSchedule } from '@tickwork/core';
import { describeSchedule, jobSchedule, nextSlot, type CompiledSchedule } from '@tickwork/core/schedule';
import { initialJobState, type RunnerRecord } from '@tickwork/core/store';
import { nextDueAt, remainingRuns, runtimeJob } from '@tickwork/core/runner';

/** An instant as ISO text and as wall-clock text in `zone`. */
export interface InstantView {
  at: string;
  local: string;
}

/** `at` in `zone`, e.g. "Tue 1 Dec 2026, 21:30:00 CET". */
export function instantView(at: Date | null, zone: string): InstantView | null {
  if (!at) return null;
  return { at: at.toISOString(), local: localText(at, zone) };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock text of an instant in an IANA zone. */
export function localText(at: Date, zone: string): string {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      weekday: 'short',
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formats.set(zone, format);
  }
  return format.format(at);
}

/** The state fields a page shows. */
export function stateView(state: JobState | undefined) {
  return {
    paused: state?.paused ?? false,
    pausedNote: state?.pausedNote ?? null,
    lastStatus: state?.lastStatus ?? null,
    lastFinishedAt: state?.lastFinishedAt ?? null,
    consecutiveFailures: state?.consecutiveFailures ?? 0,
    totalRuns: state?.totalRuns ?? 0,
    scheduledRuns: state?.scheduledRuns ?? 0,
    lastSlotAt: state?.lastSlotAt ?? null,
  };
}

/** A job's compiled own schedule (override included), or null; a broken override is reported as text rather than failing the page. */
export function compiledOf(
  job: Job,
  timezone: string,
  state: JobState | undefined,
): { schedule: CompiledSchedule | null; problem: string | null } {
  try {
    return { schedule: jobSchedule(job, timezone, state?.scheduleOverride ?? null), problem: null };
  } catch (error) {
    return { schedule: null, problem: (error as Error).message };
  }
}

/** The zone a job's times are shown in: its own `timezone`, else its schedule's, else the configured one (an interval compiles to UTC). */
export function jobZone(job: Job, schedule: CompiledSchedule | null, timezone: string): string {
  return job.timezone ?? schedule?.timezone ?? timezone;
}

/** One row of the jobs page. */
export function jobSummary(
  job: Job,
  state: JobState | undefined,
  timezone: string,
  now: Date,
  extra: { pending: number; runtimeSchedules: { count: number; more: boolean } },
) {
  const { schedule, problem } = compiledOf(job, timezone, state);
  const zone = jobZone(job, schedule, timezone);
  const next =
    schedule && job.enabled
      ? nextDueAt({ job, key: DEFAULT_SCHEDULE_KEY, schedule, state: state ?? initialJobState({ code: job.code, key: '' }, now), now })
      : null;
  return {
    code: job.code,
    description: job.description,
    enabled: job.enabled,
    schedule: schedule ? schedule.spec : null,
    scheduleText: problem ?? (schedule ? schedule.describe() : 'no schedule of its own (runtime schedules and run-now only)'),
    overridden: Boolean(state?.scheduleOverride),
    timezone: zone,
    nextRun: instantView(next, zone),
    ...stateView(state),
    pendingRequests: extra.pending,
    runtimeSchedules: extra.runtimeSchedules,
    // Limited runs (maxRuns): null without a limit; 0 once the schedule ended.
    maxRuns: job.maxRuns,
    remainingRuns: remainingRuns(job, state ?? { scheduledRuns: 0 }),
  };
}

/** A job's options as resolved by core (durations in milliseconds). */
export function jobOptions(job: Job) {
  return {
    overlapPolicy: job.overlapPolicy,
    retryAfterFailureMs: job.retryAfterFailureMs,
    interruptedRetries: job.interruptedRetries,
    timeoutMs: job.timeoutMs,
    failuresBeforeAlert: job.failuresBeforeAlert,
    enabled: job.enabled,
    startAt: job.startAt,
    expiresAt: job.expiresAt,
    missedRunPolicy: job.missedRunPolicy,
    timezone: job.timezone,
    jitterMs: job.jitterMs,
    leaseTtlMs: job.leaseTtlMs,
    maxRuns: job.maxRuns,
    onFailure: job.onFailure !== null,
  };
}

/** The next `count` slots of a compiled schedule after `now`. */
export function nextSlots(schedule: CompiledSchedule, now: Date, count: number, zone: string): InstantView[] {
  const out: InstantView[] = [];
  let after = now;
  while (out.length < count) {
    const slot = nextSlot(schedule, after);
    if (!slot) break;
    out.push(instantView(slot, zone) as InstantView);
    after = slot;
  }
  return out;
}

/** One runtime schedule with its state and next run. */
export function scheduleView(job: Job, schedule: RuntimeSchedule, state: JobState | undefined, timezone: string, now: Date) {
  const effective = runtimeJob(job, schedule);
  let text: string;
  let next: Date | null = null;
  let zone = effective.timezone ?? timezone;
  try {
    const compiled = jobSchedule(effective, timezone);
    text = compiled ? describeSchedule(compiled) : '—';
    zone = compiled?.timezone ?? zone;
    if (compiled && effective.enabled)
      next = nextDueAt({ job: effective, key: schedule.key, schedule: compiled, state: state ?? initialJobState(schedule, now), now });
  } catch (error) {
    text = (error as Error).message;
  }
  return {
    code: schedule.code,
    key: schedule.key,
    schedule: schedule.schedule,
    scheduleText: text,
    timezone: schedule.timezone,
    zone,
    payload: schedule.payload,
    enabled: schedule.enabled,
    startAt: schedule.startAt,
    expiresAt: schedule.expiresAt,
    description: schedule.description,
    options: schedule.options,
    version: schedule.version,
    createdAt: schedule.createdAt,
    updatedAt: schedule.updatedAt,
    nextRun: instantView(next, zone),
    ...stateView(state),
  };
}

/** A run as the API shows it. */
export function runView(run: RunRecord) {
  return { ...run };
}

/** A runner sharing the store, as the runners page shows it (the listing's `now` decides `alive`). */
export function runnerView(runner: RunnerRecord) {
  return { ...runner };
}
