import { describeThrown, type Job, type JobState, type RuntimeSchedule } from '@tickwork/core';
import type { CompiledSchedule } from '@tickwork/core/schedule';
import type { SlotClaim } from '@tickwork/core/store';
import { nextDueAt, planDue, type StoreOutage } from '@tickwork/core/runner';
import type { SharedValues } from './shared-values.js';
import type { Queued } from './slot-queue.js';

/**
 * One schedule the daemon watches — a job's own (key '') or one of its runtime schedules — with
 * its effective job, compiled schedule, cached state and next instant. Kept small (its job, compiled
 * schedule and instants are shared, see SharedValues): a daemon holds 100,000 of them.
 */
export interface ScheduleEntry extends Queued {
  readonly id: string;
  readonly key: string;
  /** The job as this schedule runs it: the job itself, or `runtimeJob(job, schedule)` for a runtime schedule. */
  job: Job;
  /** A runtime schedule's payload (`ctx.payload`); undefined for the job's own schedule. */
  payload: unknown;
  /** A runtime schedule's stored version (its claims name it); null for the job's own schedule. */
  version: number | null;
  /** Null for a job without a schedule of its own (retries and run-now requests only), or while `invalid`. */
  schedule: CompiledSchedule | null;
  /** The override the schedule was compiled with, as JSON, to notice when it changes. */
  overrideJson: string | null;
  /** The store's state as last read, plus what this daemon's own claims and runs taught it (instants shared). */
  state: JobState;
  /**
   * Held out of the queue and of run-now requests: `stale` from a claim answered `unscheduled` until
   * the schedule is read again; `invalid` while its stored schedule or override does not compile.
   */
  held: 'stale' | 'invalid' | null;
  /** A claim for this schedule is in flight: refreshes only update `state`, the claim re-queues it. */
  busy: boolean;
  /** The last plan had more slots than one claim (`all`-policy backfill): re-plan when the run ends. */
  backlog: boolean;
  /** Runs of this schedule this daemon has launched and not yet seen finish. */
  running: number;
  /** Held out of the queue until its own run ends or its instant comes (see the daemon's wake). */
  deferred: boolean;
  /** How long this schedule's last handler ran (ms), or null before its first run here. */
  handlerMs: number | null;
}

/** What a claimed run executes: the job and payload its slot was planned with (a later change of the schedule leaves it alone). */
export interface RunTarget {
  readonly job: Job;
  readonly payload: unknown;
}

/** The map key of a schedule. */
export function scheduleId(code: string, key: string): string {
  return `${code}\u0000${key}`;
}

/**
 * Creates the entry of a job's own schedule, or — given `runtime` — of one runtime schedule of
 * that job. Returns why its schedule does not compile (the entry is then held `invalid`), or null.
 */
export function createEntry(
  job: Job,
  state: JobState,
  shared: SharedValues,
  runtime?: RuntimeSchedule,
): { entry: ScheduleEntry; error: string | null } {
  const entry: ScheduleEntry = {
    id: scheduleId(job.code, state.key),
    key: state.key,
    job: runtime ? shared.job(job, runtime) : job,
    payload: runtime?.payload,
    version: runtime?.version ?? null,
    schedule: null,
    overrideJson: null,
    state: shared.state(state),
    held: null,
    busy: false,
    backlog: false,
    running: 0,
    deferred: false,
    handlerMs: null,
    dueAt: null,
    queueIndex: -1,
  };
  return { entry, error: compileEntry(entry, shared) };
}

/**
 * Takes a fresh state read from the store. Returns why a changed override does not compile, or null.
 */
export function applyFreshState(entry: ScheduleEntry, fresh: JobState, shared: SharedValues): string | null {
  mergeState(entry, fresh, shared);
  const overrideJson = fresh.scheduleOverride ? JSON.stringify(fresh.scheduleOverride) : null;
  return overrideJson === entry.overrideJson && entry.held !== 'invalid' ? null : compileEntry(entry, shared);
}

/**
 * Takes a runtime schedule and its state as just read from the store: the new definition (job,
 * payload, version) replaces the old one, and the entry is no longer `stale`. Returns why its
 * schedule does not compile, or null.
 */
export function applyRuntimeSchedule(
  entry: ScheduleEntry,
  job: Job,
  schedule: RuntimeSchedule,
  state: JobState,
  shared: SharedValues,
): string | null {
  entry.job = shared.job(job, schedule);
  entry.payload = schedule.payload;
  entry.version = schedule.version;
  if (entry.held === 'stale') entry.held = null;
  mergeState(entry, state, shared);
  return compileEntry(entry, shared);
}

/**
 * Keeps what this daemon knows to be newer than a state read (a slot it saw claimed after the read
 * began): `lastSlotAt` never moves backwards — unless the state is a new one (a runtime schedule
 * removed and created again).
 */
function mergeState(entry: ScheduleEntry, fresh: JobState, shared: SharedValues): void {
  const known = entry.state.createdAt.getTime() === fresh.createdAt.getTime() ? entry.state.lastSlotAt : null;
  const lastSlotAt = known && (!fresh.lastSlotAt || fresh.lastSlotAt.getTime() < known.getTime()) ? known : fresh.lastSlotAt;
  entry.state = shared.state({ ...fresh, lastSlotAt });
}

/** (Re)compiles the entry's schedule under its state's override; one that does not compile holds the entry `invalid`. */
function compileEntry(entry: ScheduleEntry, shared: SharedValues): string | null {
  entry.overrideJson = entry.state.scheduleOverride ? JSON.stringify(entry.state.scheduleOverride) : null;
  try {
    entry.schedule = shared.compile(entry.job, entry.state.scheduleOverride);
  } catch (error) {
    entry.schedule = null;
    entry.held = 'invalid';
    return describeThrown(error).message;
  }
  if (entry.held === 'invalid') entry.held = null;
  return null;
}

/** Whether this daemon would run the schedule now (enabled, not paused, not held): run-now requests are taken only for these. */
export function runnable(entry: ScheduleEntry): boolean {
  return entry.job.enabled && !entry.state.paused && entry.held === null;
}

/** Names the runtime schedule's version on a claim, so the store refuses it (`unscheduled`) once the schedule changed. */
export function versioned(entry: ScheduleEntry, claim: SlotClaim): SlotClaim {
  if (entry.version !== null) claim.scheduleVersion = entry.version;
  return claim;
}

/** Options shared by the planning calls. */
export interface PlanOptions {
  missedGraceMs: number | null;
}

/** The claims due for this schedule at `nowMs` (core's planDue: the same slots the CLI computes). */
export function planEntry(entry: ScheduleEntry, nowMs: number, options: PlanOptions, outages?: readonly StoreOutage[]): SlotClaim[] {
  const input = { job: entry.job, key: entry.key, schedule: entry.schedule, state: entry.state, now: new Date(nowMs), ...grace(options) };
  const claims = planDue(outages && outages.length > 0 ? { ...input, outages } : input);
  return claims.map((claim) => versioned(entry, claim));
}

/**
 * When this schedule next wants attention after `nowMs`, or null (paused, disabled, held, no more
 * slots). With `catchUp`, a slot already due per the missed-run policy makes it due now.
 */
export function dueAtOf(entry: ScheduleEntry, nowMs: number, options: PlanOptions & { catchUp: boolean }): number | null {
  if (!runnable(entry)) return null;
  if (options.catchUp && planEntry(entry, nowMs, options).length > 0) return nowMs;
  const input = { job: entry.job, key: entry.key, schedule: entry.schedule, state: entry.state, now: new Date(nowMs), ...grace(options) };
  const next = nextDueAt(input)?.getTime() ?? null;
  // Only a pending retry can lie in the past (core drops superseded ones): it is due now.
  return next === null || next > nowMs ? next : nowMs;
}

function grace(options: PlanOptions): { missedGraceMs?: number } {
  return options.missedGraceMs === null ? {} : { missedGraceMs: options.missedGraceMs };
}
