import type {
  ClaimContext,
  ClaimOutcome,
  CompletionOutcome,
  FinalRunStatus,
  Lease,
  RunCompletion,
  RunRecord,
  SlotClaim,
} from '../store.js';
import { refKey, slotKey, stateFor, type MemoryData } from './backend.js';

/** Ends a running run and updates its schedule's state as every completion does (complete, reap, takeover). */
export function finishRun(
  data: MemoryData,
  run: RunRecord,
  outcome: { status: FinalRunStatus; finishedAt: Date; message?: string | null; error?: string | null; stack?: string | null },
): void {
  run.status = outcome.status;
  run.finishedAt = new Date(outcome.finishedAt);
  // A run pre-claimed before its slot and ended before it would be negative: clamp.
  run.durationMs = Math.max(0, outcome.finishedAt.getTime() - run.startedAt.getTime());
  run.leaseExpiresAt = null;
  run.message = outcome.message ?? run.message ?? null;
  run.error = outcome.error ?? null;
  run.stack = outcome.stack ?? null;
  data.running.get(refKey(run))?.delete(run.id);
  // A runtime schedule removed while its run went on has no state any more; the run is still recorded.
  const state = run.key === '' ? stateFor(data, run, outcome.finishedAt) : data.states.get(refKey(run));
  if (!state) return;
  state.lastStatus = outcome.status;
  state.lastFinishedAt = new Date(outcome.finishedAt);
  state.lastAttempt = run.attempt;
  state.lastFinishedSlotAt = new Date(run.slotAt);
  state.consecutiveFailures = outcome.status === 'succeeded' ? 0 : state.consecutiveFailures + 1;
  state.updatedAt = new Date(outcome.finishedAt);
}

/** Marks a run whose lease expired as interrupted. */
export function interruptExpired(data: MemoryData, run: RunRecord, now: Date): void {
  const expiredAt = run.leaseExpiresAt?.toISOString() ?? 'unknown';
  finishRun(data, run, {
    status: 'interrupted',
    finishedAt: now,
    message: `interrupted: lease of runner "${run.runnerId}" expired at ${expiredAt} without renewal (runner crashed or stalled)`,
  });
}

function newRun(data: MemoryData, claim: SlotClaim, context: ClaimContext, startedAt: Date): RunRecord {
  const key = refKey(claim);
  const token = (data.tokens.get(key) ?? 0) + 1;
  data.tokens.set(key, token);
  const run: RunRecord = {
    id: String(data.nextRunId++),
    code: claim.code,
    key: claim.key,
    slotAt: new Date(claim.slotAt),
    attempt: claim.attempt,
    trigger: claim.trigger,
    status: 'running',
    runnerId: context.runnerId,
    token,
    startedAt,
    finishedAt: null,
    durationMs: null,
    leaseExpiresAt: null,
    message: null,
    error: null,
    stack: null,
  };
  data.runs.set(run.id, run);
  data.slots.set(slotKey(claim, claim.slotAt, claim.attempt), run.id);
  return run;
}

/** One claim, applied synchronously; the caller has validated it. Returned records are live: copy before handing out. */
export function claimOne(data: MemoryData, claim: SlotClaim, context: ClaimContext): ClaimOutcome {
  const { now } = context;
  if (data.slots.has(slotKey(claim, claim.slotAt, claim.attempt))) return { status: 'taken' };
  if (claim.key !== '') {
    const schedule = data.schedules.get(refKey(claim));
    if (!schedule || !schedule.enabled) return { status: 'unscheduled' };
    if (claim.scheduleVersion !== undefined && claim.scheduleVersion !== schedule.version) return { status: 'unscheduled' };
  }
  const state = stateFor(data, claim, now);
  if (state.paused) return { status: 'paused' };
  const key = refKey(claim);
  const startedAt = new Date(Math.max(now.getTime(), claim.slotAt.getTime()));

  if (!claim.allowParallel) {
    let holder: RunRecord | null = null;
    for (const id of [...(data.running.get(key) ?? [])]) {
      const other = data.runs.get(id);
      if (!other) continue;
      if (other.leaseExpiresAt && other.leaseExpiresAt.getTime() > now.getTime()) holder = other;
      else interruptExpired(data, other, now);
    }
    if (holder) {
      const skipped = newRun(data, claim, context, startedAt);
      skipped.status = 'skipped';
      skipped.finishedAt = new Date(startedAt);
      skipped.durationMs = 0;
      skipped.message = `skipped: run ${holder.id} (slot ${holder.slotAt.toISOString()}, runner "${holder.runnerId}") still holds the lease and parallel runs are not allowed`;
      advanceSlot(state, claim, now);
      return { status: 'overlap', run: skipped };
    }
  }

  const run = newRun(data, claim, context, startedAt);
  run.leaseExpiresAt = new Date(startedAt.getTime() + claim.leaseMs);
  let ids = data.running.get(key);
  if (!ids) {
    ids = new Set();
    data.running.set(key, ids);
  }
  ids.add(run.id);
  state.totalRuns += 1;
  advanceSlot(state, claim, now);
  return { status: 'claimed', run, lease: leaseOf(run) };
}

function advanceSlot(state: { lastSlotAt: Date | null; updatedAt: Date }, claim: SlotClaim, now: Date): void {
  if (claim.trigger === 'schedule' && (state.lastSlotAt === null || claim.slotAt.getTime() > state.lastSlotAt.getTime())) {
    state.lastSlotAt = new Date(claim.slotAt);
  }
  state.updatedAt = new Date(now);
}

/** The lease a running run's owner holds. */
export function leaseOf(run: RunRecord): Lease {
  return {
    code: run.code,
    key: run.key,
    runId: run.id,
    token: run.token,
    runnerId: run.runnerId,
    expiresAt: new Date(run.leaseExpiresAt ?? run.startedAt),
  };
}

/** The run a lease is current for, or null when it was reaped, taken over or finished. */
export function currentRun(data: MemoryData, lease: Lease): RunRecord | null {
  const run = data.runs.get(lease.runId);
  if (!run || run.status !== 'running' || run.token !== lease.token) return null;
  if (run.code !== lease.code || run.key !== lease.key) return null;
  return run;
}

/** Sets a current lease's expiry to `now + leaseMs`, as the contract says; null when not current. */
export function renewOne(data: MemoryData, lease: Lease, now: Date, leaseMs: number): Lease | null {
  const run = currentRun(data, lease);
  if (!run) return null;
  run.leaseExpiresAt = new Date(now.getTime() + leaseMs);
  return leaseOf(run);
}

/** Records one completion; `stale` when its token is no longer current. */
export function completeOne(data: MemoryData, completion: RunCompletion): CompletionOutcome {
  const run = currentRun(data, completion.lease);
  if (!run) return { status: 'stale', run: data.runs.get(completion.lease.runId) ?? null };
  finishRun(data, run, completion);
  const state = run.key === '' ? stateFor(data, run, completion.finishedAt) : (data.states.get(refKey(run)) ?? null);
  return { status: 'completed', run, state };
}
