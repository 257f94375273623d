import type { Job } from './job.js';
import { nextSlot, previousSlot, slotsBetween, type CompiledSchedule } from './schedule/engine.js';
import { passedSlots, type StoreOutage } from './passed.js';
import type { JobState, RunRequest, RunStatus, SlotClaim } from './store.js';

/** How long after its instant a `skip`-policy slot may still start (and how far back a first tick looks). */
export const DEFAULT_MISSED_GRACE_MS = 60_000;

/** Most slots one `all`-policy backfill claims in one tick. */
export const MAX_BACKFILL_SLOTS = 1_000;

const FAILED: ReadonlySet<RunStatus> = new Set(['failed', 'timed_out', 'interrupted']);

/** Input of {@link planDue}. */
export interface PlanInput {
  job: Job;
  key: string;
  /** Null for a job without a schedule of its own: only retries are planned. */
  schedule: CompiledSchedule | null;
  state: JobState;
  now: Date;
  missedGraceMs?: number;
  /** Stretches this runner could not reach its store in: slots passed over inside one are recorded `store-outage`. */
  outages?: readonly StoreOutage[];
}

/**
 * The claims due for one schedule at `now`, from the schedule and the stored state only,
 * so every runner computes the same slots. Slots are considered after the *baseline*: the
 * latest of the last claimed slot, the last resume, `startAt`, and (for a schedule the store
 * has just met) its creation minus the grace — no catch-up reaches before a job existed.
 * A due regular slot wins over a retry; a retry re-runs the failed slot with attempt + 1.
 */
export function planDue(input: PlanInput): SlotClaim[] {
  const { job, key, schedule, state, now } = input;
  const grace = input.missedGraceMs ?? DEFAULT_MISSED_GRACE_MS;
  // A slot waiting in the store (overlap policy bufferOne/bufferAll/cancelOther) goes first: the
  // store answers any later slot `busy` or queues it behind that one.
  const waiting = state.waitingSlotAt ? [claimOf(job, key, state.waitingSlotAt, 1, 'schedule')] : [];
  // A limited schedule plans no more slots than it has runs left (the store refuses the rest: `ended`).
  const left = remainingRuns(job, state);
  const regular = schedule && left !== 0 ? dueSlots(job, key, schedule, state, now, grace).slice(0, left ?? undefined) : [];
  // The slots the first regular claim passes over (and why), recorded by the claim that moves past them.
  const first = regular[0];
  const passed =
    schedule && first
      ? passedSlots({ job, key, schedule, state, slotAt: first, ...(input.outages ? { outages: input.outages } : {}) })
      : undefined;
  const withPassed = (claim: SlotClaim, index: number): SlotClaim => (index === 0 && passed ? { ...claim, passed } : claim);
  if (waiting.length > 0)
    return [...waiting, ...regular.map((slotAt, index) => withPassed(claimOf(job, key, slotAt, 1, 'schedule'), index))];
  if (regular.length > 0) {
    // Missed-run policy `all`: every slot is owed, so none may be consumed by an overlap; they wait.
    const backfill = typeof job.missedRunPolicy === 'object';
    return regular.map((slotAt, index) =>
      withPassed({ ...claimOf(job, key, slotAt, 1, 'schedule'), ...(backfill ? { backfill } : {}) }, index),
    );
  }
  const retry = dueRetry(job, state);
  return retry && retry.at <= now.getTime() ? [claimOf(job, key, retry.slotAt, retry.attempt, 'retry')] : [];
}

/**
 * The next instant this schedule wants attention: its next slot's (jittered) start, a slot
 * already passed whose jittered start is still ahead, or a pending retry (which may be in
 * the past: then it is due now). Null when nothing is left (expired, `once` done).
 */
export function nextDueAt(input: PlanInput): Date | null {
  const { job, key, schedule, state, now } = input;
  const nowMs = now.getTime();
  const baseline = baselineOf(job, state, input.missedGraceMs ?? DEFAULT_MISSED_GRACE_MS);
  const expiresMs = job.expiresAt ? job.expiresAt.getTime() : Number.POSITIVE_INFINITY;
  let due: number | null = null;
  const consider = (ms: number) => {
    if (due === null || ms < due) due = ms;
  };
  if (schedule && job.jitterMs > 0 && remainingRuns(job, state) !== 0) {
    const from = Math.max(baseline, nowMs - job.jitterMs);
    if (from < nowMs) {
      for (const slot of slotsBetween(schedule, new Date(from), now, MAX_BACKFILL_SLOTS)) {
        const start = slot.getTime() + jitterMs(job, key, slot);
        if (start > nowMs && slot.getTime() <= expiresMs) consider(start);
      }
    }
  }
  const slot = schedule && remainingRuns(job, state) !== 0 ? nextSlot(schedule, new Date(Math.max(nowMs, baseline))) : null;
  if (slot && slot.getTime() <= expiresMs) consider(slot.getTime() + jitterMs(job, key, slot));
  const retry = dueRetry(job, state);
  if (retry) consider(retry.at);
  return due === null ? null : new Date(due);
}

/**
 * Scheduled runs a limited schedule has left (`maxRuns` minus the state's `scheduledRuns`, never
 * below 0); null without a limit. Retries, run-now requests and forced runs go on at 0.
 */
export function remainingRuns(job: Pick<Job, 'maxRuns'>, state: Pick<JobState, 'scheduledRuns'>): number | null {
  return job.maxRuns === null ? null : Math.max(0, job.maxRuns - state.scheduledRuns);
}

/**
 * A deterministic delay in [0, job.jitterMs) for one slot: every runner computes the same
 * one, so jitter spreads a herd without breaking once-per-slot.
 */
export function jitterMs(job: Job, key: string, slotAt: Date): number {
  if (job.jitterMs <= 0) return 0;
  // FNV-1a over code, key and instant: cheap, stable across processes and versions.
  let hash = 0x811c9dc5;
  const text = `${job.code}\u0000${key}\u0000${slotAt.getTime()}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % job.jitterMs;
}

function dueSlots(job: Job, key: string, schedule: CompiledSchedule, state: JobState, now: Date, grace: number): Date[] {
  const baseline = baselineOf(job, state, grace);
  const upperMs = Math.min(now.getTime(), job.expiresAt ? job.expiresAt.getTime() : Number.POSITIVE_INFINITY);
  if (upperMs <= baseline) return [];
  const started = (slot: Date) => slot.getTime() + jitterMs(job, key, slot) <= now.getTime();
  const policy = job.missedRunPolicy;

  if (policy === 'latest' || policy === 'skip') {
    const floor = policy === 'skip' ? Math.max(baseline, now.getTime() - grace) : baseline;
    let upper = new Date(upperMs);
    // The latest slot whose (jittered) start has come; a later one still waiting for its jitter is not due yet.
    for (;;) {
      const slot = previousSlot(schedule, upper, new Date(floor));
      if (!slot) return [];
      if (started(slot)) return [slot];
      upper = new Date(slot.getTime() - 1);
    }
  }
  const floor = Math.max(baseline, now.getTime() - policy.all.withinMs);
  // In order, up to the first slot still waiting for its jitter: claiming a later one first would
  // move lastSlotAt past the waiting one, which would then never run.
  const all = slotsBetween(schedule, new Date(floor), new Date(upperMs), MAX_BACKFILL_SLOTS);
  // Nothing was owed before the store first met the schedule: of those slots only the latest (the
  // grace a first tick looks back, as with `latest`) runs; every slot since is owed.
  const createdMs = state.createdAt.getTime();
  const firstOwed = all.findIndex((slot) => slot.getTime() >= createdMs);
  const slots = firstOwed < 0 ? all.slice(-1) : all.slice(Math.max(0, firstOwed - 1));
  const waiting = slots.findIndex((slot) => !started(slot));
  return waiting < 0 ? slots : slots.slice(0, waiting);
}

/** Slots at or before this instant are never (re)considered for regular runs. */
function baselineOf(job: Job, state: JobState, grace: number): number {
  let baseline = state.createdAt.getTime() - grace;
  if (state.lastSlotAt) baseline = Math.max(baseline, state.lastSlotAt.getTime());
  if (state.resumedAt) baseline = Math.max(baseline, state.resumedAt.getTime() - 1);
  if (job.startAt) baseline = Math.max(baseline, job.startAt.getTime() - 1);
  return baseline;
}

/** The retry a failed slot is owed, and from when: null when none (succeeded, superseded, no policy). */
function dueRetry(job: Job, state: JobState): { slotAt: Date; attempt: number; at: number } | null {
  if (!state.lastStatus || !FAILED.has(state.lastStatus)) return null;
  if (!state.lastFinishedAt || !state.lastFinishedSlotAt || state.lastAttempt === null) return null;
  // A slot outside the job's window (its start, its expiry, a runtime schedule's last change) is not retried.
  const slotMs = state.lastFinishedSlotAt.getTime();
  if ((job.startAt && slotMs < job.startAt.getTime()) || (job.expiresAt && slotMs > job.expiresAt.getTime())) return null;
  // A newer slot was claimed since the failure: that run supersedes the retry.
  if (state.lastSlotAt && state.lastSlotAt.getTime() > state.lastFinishedSlotAt.getTime()) return null;
  const retry = { slotAt: state.lastFinishedSlotAt, attempt: state.lastAttempt + 1 };
  // The runner died or was stopped (not the job's fault): any live runner takes the slot over at once,
  // so no due slot is lost while a runner is alive.
  if (state.lastStatus === 'interrupted' && state.lastAttempt <= job.interruptedRetries)
    return { ...retry, at: state.lastFinishedAt.getTime() };
  if (job.retryAfterFailureMs === null) return null;
  return { ...retry, at: state.lastFinishedAt.getTime() + job.retryAfterFailureMs };
}

/**
 * A forced run's claim (`--force`) of the slot "now, to the second": two forced together share
 * one slot, so even these run once per slot.
 */
export function claimAt(job: Job, key: string, at: Date, trigger: 'force'): SlotClaim {
  return claimOf(job, key, new Date(Math.floor(at.getTime() / 1000) * 1000), 1, trigger);
}

/** The claim of one run-now request: its own identity (the request id), its slot the request's time. */
export function requestClaim(job: Job, key: string, request: RunRequest): SlotClaim {
  return { ...claimOf(job, key, request.requestedAt, 1, 'manual'), requestId: request.id };
}

function claimOf(job: Job, key: string, slotAt: Date, attempt: number, trigger: SlotClaim['trigger']): SlotClaim {
  const claim: SlotClaim = { code: job.code, key, slotAt, attempt, trigger, overlap: job.overlapPolicy, leaseMs: job.leaseTtlMs };
  if (job.maxRuns !== null && trigger === 'schedule') claim.maxRuns = job.maxRuns;
  return claim;
}
