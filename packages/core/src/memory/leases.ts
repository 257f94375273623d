import {
  type ClaimContext,
  type ClaimOutcome,
  type CompletionOutcome,
  type FinalRunStatus,
  type JobState,
  type Lease,
  leaseOf,
  type RunCompletion,
  type ReapedRun,
  type RunRecord,
  type ScheduleRef,
  type SlotClaim,
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
  applyFinish(state, outcome.status, outcome.finishedAt);
  state.updatedAt = new Date(outcome.finishedAt);
}

/**
 * The streak and dead-man fields a finished run moves (every store does the same, in the same
 * atomic operation as the completion): a success records the streak and the overdue alert it
 * ended and clears both; a failure opens or extends the streak.
 */
export function applyFinish(state: JobState, status: FinalRunStatus, finishedAt: Date): void {
  if (status === 'succeeded') {
    state.endedStreak = state.consecutiveFailures;
    state.endedStreakStartedAt = state.consecutiveFailures > 0 ? state.failingSince : null;
    state.endedOverdueAlertedAt = state.overdueAlertedAt;
    state.overdueAlertedAt = null;
    state.failingSince = null;
    state.lastSucceededAt = new Date(finishedAt);
    state.consecutiveFailures = 0;
  } else {
    if (state.consecutiveFailures === 0) state.failingSince = new Date(finishedAt);
    state.endedStreak = 0;
    state.endedStreakStartedAt = null;
    state.endedOverdueAlertedAt = null;
    state.consecutiveFailures += 1;
  }
}

/** Marks a run whose lease expired as interrupted; returns it with its schedule's state (live records). */
export function interruptExpired(data: MemoryData, run: RunRecord, now: Date): ReapedRun {
  const expiredAt = run.leaseExpiresAt?.toISOString() ?? 'unknown';
  finishRun(data, run, {
    status: 'interrupted',
    finishedAt: now,
    message: `interrupted: lease of runner "${run.runnerId}" expired at ${expiredAt} without renewal (runner crashed or stalled)`,
  });
  return { run, state: data.states.get(refKey(run)) ?? null };
}

/** The run a claim names: by request id, or by slot + attempt among runs without one. */
function namedRun(data: MemoryData, claim: SlotClaim): RunRecord | null {
  const id =
    claim.requestId !== undefined ? data.requestRuns.get(claim.requestId) : data.slots.get(slotKey(claim, claim.slotAt, claim.attempt));
  return id === undefined ? null : (data.runs.get(id) ?? null);
}

function newRun(data: MemoryData, claim: SlotClaim, context: ClaimContext, startedAt: Date): RunRecord {
  const run: RunRecord = {
    id: String(data.nextRunId++),
    code: claim.code,
    key: claim.key,
    slotAt: new Date(claim.slotAt),
    attempt: claim.attempt,
    trigger: claim.trigger,
    status: 'running',
    runnerId: context.runnerId,
    token: 0,
    requestId: claim.requestId ?? null,
    cancelRequested: false,
    startedAt,
    finishedAt: null,
    durationMs: null,
    leaseExpiresAt: null,
    message: null,
    error: null,
    stack: null,
    skipReason: null,
    slotCount: 1,
    rangeLastSlotAt: null,
  };
  data.runs.set(run.id, run);
  if (claim.requestId !== undefined) {
    data.requestRuns.set(claim.requestId, run.id);
    data.requests = data.requests.filter((request) => request.id !== claim.requestId);
  } else data.slots.set(slotKey(claim, claim.slotAt, claim.attempt), run.id);
  return run;
}

function nextToken(data: MemoryData, ref: ScheduleRef): number {
  const key = refKey(ref);
  const token = (data.tokens.get(key) ?? 0) + 1;
  data.tokens.set(key, token);
  return token;
}

/** The waiting runs of one schedule, oldest slot first (then id). */
export function waitingRuns(data: MemoryData, ref: ScheduleRef): RunRecord[] {
  const ids = data.waiting.get(refKey(ref));
  if (!ids) return [];
  return [...ids]
    .map((id) => data.runs.get(id))
    .filter((run): run is RunRecord => run !== undefined)
    .sort((a, b) => a.slotAt.getTime() - b.slotAt.getTime() || Number(a.id) - Number(b.id));
}

function setWaiting(data: MemoryData, run: RunRecord, waiting: boolean): void {
  const key = refKey(run);
  let ids = data.waiting.get(key);
  if (!ids) {
    ids = new Set();
    data.waiting.set(key, ids);
  }
  if (waiting) ids.add(run.id);
  else ids.delete(run.id);
  const state = data.states.get(key);
  if (state) state.waitingSlotAt = waitingRuns(data, run)[0]?.slotAt ?? null;
}

/** One claim, applied synchronously; the caller has validated it. Returned records are live: copy before handing out. */
export function claimOne(data: MemoryData, claim: SlotClaim, context: ClaimContext): ClaimOutcome {
  const { now } = context;
  const named = namedRun(data, claim);
  if (named) {
    if (named.status === 'running' && named.runnerId === context.runnerId) return { status: 'claimed', run: named, lease: leaseOf(named) };
    if (named.status !== 'waiting') return { status: 'taken' };
  } else if (claim.requestId !== undefined) {
    const request = data.requests.find((r) => r.id === claim.requestId);
    if (!request || request.code !== claim.code || request.key !== claim.key) return { status: 'taken' };
  }
  if (claim.key !== '') {
    const schedule = data.schedules.get(refKey(claim));
    if (!schedule || !schedule.enabled) return { status: 'unscheduled' };
    if (claim.scheduleVersion !== undefined && claim.scheduleVersion !== schedule.version) return { status: 'unscheduled' };
  }
  const state = stateFor(data, claim, now);
  if (state.paused) return { status: 'paused' };
  const scheduled = claim.trigger === 'schedule' && !named;
  if (scheduled && claim.maxRuns !== undefined && state.scheduledRuns >= claim.maxRuns) return { status: 'ended' };
  const lastBefore = state.lastSlotAt;
  const key = refKey(claim);
  const startedAt = new Date(Math.max(now.getTime(), claim.slotAt.getTime()));
  const reaped: ReapedRun[] = [];
  const withReaped = <T extends ClaimOutcome>(outcome: T): T => (reaped.length > 0 ? { ...outcome, reaped } : outcome);

  if (claim.overlap !== 'allowAll') {
    const holders: RunRecord[] = [];
    for (const id of [...(data.running.get(key) ?? [])]) {
      const other = data.runs.get(id);
      if (!other) continue;
      if (other.leaseExpiresAt && other.leaseExpiresAt.getTime() > now.getTime()) holders.push(other);
      else reaped.push(interruptExpired(data, other, now));
    }
    const waiting = waitingRuns(data, claim).filter((run) => run !== named);
    const earlier = waiting.find((run) => run.slotAt.getTime() < claim.slotAt.getTime());
    if (holders.length > 0 || earlier) {
      const holder = holders[0];
      const because = holder
        ? `run ${holder.id} (slot ${holder.slotAt.toISOString()}, runner "${holder.runnerId}") still holds the lease`
        : `slot ${earlier?.slotAt.toISOString()} waits before it`;
      if (named || now.getTime() < claim.slotAt.getTime() || claim.trigger === 'retry' || claim.backfill === true) {
        return withReaped({ status: 'busy' });
      }
      const policy = claim.overlap;
      if (policy === 'skip' || ((policy === 'bufferOne' || policy === 'cancelOther') && waiting.length > 0)) {
        const skipped = newRun(data, claim, context, startedAt);
        skipped.status = 'skipped';
        skipped.finishedAt = new Date(startedAt);
        skipped.durationMs = 0;
        skipped.skipReason = 'overlap';
        skipped.message =
          policy === 'skip'
            ? `skipped: ${because} (overlap policy skip)`
            : `skipped: slot ${waiting[0]?.slotAt.toISOString()} already waits for ${holder ? `run ${holder.id}` : 'its turn'} (overlap policy ${policy})`;
        recordPassed(data, claim, context, lastBefore, startedAt, state);
        state.lastSkipReason = 'overlap';
        state.lastSkippedSlotAt = new Date(claim.slotAt);
        advanceSlot(state, claim, now);
        return withReaped({ status: 'overlap', run: skipped });
      }
      if (policy === 'cancelOther') for (const other of holders) other.cancelRequested = true;
      if (claim.requestId !== undefined) return withReaped({ status: 'busy' });
      const queued = newRun(data, claim, context, startedAt);
      queued.status = 'waiting';
      queued.message = `waiting: ${because} (overlap policy ${policy})`;
      setWaiting(data, queued, true);
      if (scheduled) state.scheduledRuns += 1;
      recordPassed(data, claim, context, lastBefore, startedAt, state);
      advanceSlot(state, claim, now);
      return withReaped({ status: 'waiting', run: queued });
    }
  }

  const run = named ?? newRun(data, claim, context, startedAt);
  if (named) {
    setWaiting(data, named, false);
    run.status = 'running';
    run.runnerId = context.runnerId;
    run.startedAt = startedAt;
    run.message = null;
  }
  run.token = nextToken(data, claim);
  run.leaseExpiresAt = new Date(startedAt.getTime() + claim.leaseMs);
  let ids = data.running.get(key);
  if (!ids) {
    ids = new Set();
    data.running.set(key, ids);
  }
  ids.add(run.id);
  state.totalRuns += 1;
  if (scheduled) state.scheduledRuns += 1;
  recordPassed(data, claim, context, lastBefore, startedAt, state);
  advanceSlot(state, claim, now);
  return withReaped({ status: 'claimed', run, lease: leaseOf(run) });
}

/** Records a claim's passed ranges when its plan is current (see the Store contract, "Passed slots"). */
function recordPassed(data: MemoryData, claim: SlotClaim, context: ClaimContext, lastBefore: Date | null, at: Date, state: JobState): void {
  const { passed } = claim;
  if (!passed || claim.trigger !== 'schedule' || passed.ranges.length === 0) return;
  if ((passed.after?.getTime() ?? null) !== (lastBefore?.getTime() ?? null)) return;
  if (lastBefore && claim.slotAt.getTime() <= lastBefore.getTime()) return;
  for (const range of passed.ranges) {
    const record: RunRecord = {
      id: String(data.nextRunId++),
      code: claim.code,
      key: claim.key,
      slotAt: new Date(range.firstSlotAt),
      attempt: 0,
      trigger: 'schedule',
      status: 'skipped',
      runnerId: context.runnerId,
      token: 0,
      requestId: null,
      cancelRequested: false,
      startedAt: new Date(range.lastSlotAt),
      finishedAt: new Date(at),
      durationMs: 0,
      leaseExpiresAt: null,
      message: range.message,
      error: null,
      stack: null,
      skipReason: range.reason,
      slotCount: range.count,
      rangeLastSlotAt: new Date(range.lastSlotAt),
    };
    data.runs.set(record.id, record);
    data.slots.set(slotKey(claim, range.firstSlotAt, 0), record.id);
    state.lastSkipReason = range.reason;
    state.lastSkippedSlotAt = new Date(range.lastSlotAt);
  }
}

function advanceSlot(state: { lastSlotAt: Date | null; updatedAt: Date }, claim: SlotClaim, now: Date): void {
  if (claim.trigger === 'schedule' && (state.lastSlotAt === null || claim.slotAt.getTime() > state.lastSlotAt.getTime())) {
    state.lastSlotAt = new Date(claim.slotAt);
  }
  state.updatedAt = new Date(now);
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
  if (completion.status === 'skipped') return skipClaimed(data, run, completion);
  finishRun(data, run, { ...completion, status: completion.status });
  const state = run.key === '' ? stateFor(data, run, completion.finishedAt) : (data.states.get(refKey(run)) ?? null);
  return { status: 'completed', run, state };
}

/** A `skipped` completion: the claimed run's handler was not called (see `Store.completeRuns`). */
function skipClaimed(data: MemoryData, run: RunRecord, completion: RunCompletion): CompletionOutcome {
  run.status = 'skipped';
  run.skipReason = completion.skipReason ?? 'paused';
  run.finishedAt = new Date(completion.finishedAt);
  run.durationMs = 0;
  run.leaseExpiresAt = null;
  run.message = completion.message ?? null;
  run.error = null;
  run.stack = null;
  data.running.get(refKey(run))?.delete(run.id);
  const state = run.key === '' ? stateFor(data, run, completion.finishedAt) : (data.states.get(refKey(run)) ?? null);
  if (state) {
    if (!state.lastSkippedSlotAt || state.lastSkippedSlotAt.getTime() <= run.slotAt.getTime()) {
      state.lastSkipReason = run.skipReason;
      state.lastSkippedSlotAt = new Date(run.slotAt);
    }
    state.totalRuns = Math.max(0, state.totalRuns - 1);
    if (run.trigger === 'schedule' && run.attempt === 1) state.scheduledRuns = Math.max(0, state.scheduledRuns - 1);
    if (state.updatedAt.getTime() < completion.finishedAt.getTime()) state.updatedAt = new Date(completion.finishedAt);
  }
  return { status: 'completed', run, state };
}
