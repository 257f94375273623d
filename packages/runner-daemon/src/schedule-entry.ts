import { jobSchedule, nextDueAt, planDue, type CompiledSchedule, type Job, type JobState, type SlotClaim } from '@tickwork/core';
import type { Queued } from './slot-queue.js';

/** One schedule the daemon watches: its job, compiled schedule, cached state and next instant. */
export interface ScheduleEntry extends Queued {
  readonly id: string;
  readonly job: Job;
  readonly key: string;
  schedule: CompiledSchedule;
  /** The override the schedule was compiled with, as JSON, to notice when it changes. */
  overrideJson: string | null;
  /** The store's state as last read, plus what this daemon's own claims and runs taught it. */
  state: JobState;
  /** A claim for this schedule is in flight: refreshes only update `state`, the claim re-queues it. */
  busy: boolean;
  /** The last plan had more slots than one claim (`all`-policy backfill): re-plan when the run ends. */
  backlog: boolean;
  /** Runs of this schedule this daemon has launched and not yet seen finish. */
  running: number;
  /** Held out of the queue until its own run ends or its instant comes (see the daemon's wake). */
  deferred: boolean;
}

/**
 * Compiles schedules once per distinct (spec, timezone): thousands of jobs on `* * * * *` share one
 * compiled schedule (immutable), which is most of a schedule's memory in a daemon.
 */
export class ScheduleCompiler {
  private readonly cache = new Map<string, CompiledSchedule>();

  constructor(private readonly defaultTimezone: string) {}

  /** The compiled schedule of a job, under an optional override; throws InvalidScheduleError naming the job. */
  compile(job: Job, override: JobState['scheduleOverride']): CompiledSchedule {
    const spec = override ?? job.schedule;
    const key = `${job.timezone ?? this.defaultTimezone}\u0000${typeof spec === 'string' ? spec : JSON.stringify(spec)}`;
    let compiled = this.cache.get(key);
    if (!compiled) {
      compiled = jobSchedule(job, this.defaultTimezone, override);
      this.cache.set(key, compiled);
    }
    return compiled;
  }
}

/** The map key of a schedule. */
export function scheduleId(code: string, key: string): string {
  return `${code}\u0000${key}`;
}

/** Creates an entry from a job and its stored state; throws InvalidScheduleError for a bad stored override. */
export function createEntry(job: Job, state: JobState, compiler: ScheduleCompiler): ScheduleEntry {
  return {
    id: scheduleId(job.code, state.key),
    job,
    key: state.key,
    schedule: compiler.compile(job, state.scheduleOverride),
    overrideJson: state.scheduleOverride ? JSON.stringify(state.scheduleOverride) : null,
    state,
    busy: false,
    backlog: false,
    running: 0,
    deferred: false,
    dueAt: null,
    queueIndex: -1,
  };
}

/**
 * Takes a fresh state read from the store, keeping what this daemon knows to be newer
 * (a slot it saw claimed after the read began): `lastSlotAt` never moves backwards.
 */
export function applyFreshState(entry: ScheduleEntry, fresh: JobState, compiler: ScheduleCompiler): void {
  const known = entry.state.lastSlotAt;
  const lastSlotAt = known && (!fresh.lastSlotAt || fresh.lastSlotAt.getTime() < known.getTime()) ? known : fresh.lastSlotAt;
  entry.state = { ...fresh, lastSlotAt };
  const overrideJson = fresh.scheduleOverride ? JSON.stringify(fresh.scheduleOverride) : null;
  if (overrideJson !== entry.overrideJson) {
    entry.schedule = compiler.compile(entry.job, fresh.scheduleOverride);
    entry.overrideJson = overrideJson;
  }
}

/** Options shared by the planning calls. */
export interface PlanOptions {
  missedGraceMs: number | null;
}

/** The claims due for this schedule at `nowMs` (core's planDue: the same slots the CLI computes). */
export function planEntry(entry: ScheduleEntry, nowMs: number, options: PlanOptions): SlotClaim[] {
  return planDue({ job: entry.job, key: entry.key, schedule: entry.schedule, state: entry.state, now: new Date(nowMs), ...grace(options) });
}

/**
 * When this schedule next wants attention after `nowMs`, or null (paused, disabled, no more
 * slots). With `catchUp`, a slot already due per the missed-run policy makes it due now.
 */
export function dueAtOf(entry: ScheduleEntry, nowMs: number, options: PlanOptions & { catchUp: boolean }): number | null {
  if (!entry.job.enabled || entry.state.paused) return null;
  if (options.catchUp && planEntry(entry, nowMs, options).length > 0) return nowMs;
  const input = { job: entry.job, key: entry.key, schedule: entry.schedule, state: entry.state, now: new Date(nowMs), ...grace(options) };
  const next = nextDueAt(input)?.getTime() ?? null;
  // Only a pending retry can lie in the past (core drops superseded ones): it is due now.
  return next === null || next > nowMs ? next : nowMs;
}

function grace(options: PlanOptions): { missedGraceMs?: number } {
  return options.missedGraceMs === null ? {} : { missedGraceMs: options.missedGraceMs };
}
