import type { ClaimContext, ClaimOutcome, CompletionOutcome, FinalRunStatus, Lease, RunCompletion, ReapedRun, RunRecord, ScheduleRef, SlotClaim } from '../store.js';
import { type MemoryData } from './backend.js';
/** Ends a running run and updates its schedule's state as every completion does (complete, reap, takeover). */
export declare function finishRun(data: MemoryData, run: RunRecord, outcome: {
    status: FinalRunStatus;
    finishedAt: Date;
    message?: string | null;
    error?: string | null;
    stack?: string | null;
}): void;
/** Marks a run whose lease expired as interrupted; returns it with its schedule's state (live records). */
export declare function interruptExpired(data: MemoryData, run: RunRecord, now: Date): ReapedRun;
/** The waiting runs of one schedule, oldest slot first (then id). */
export declare function waitingRuns(data: MemoryData, ref: ScheduleRef): RunRecord[];
/** One claim, applied synchronously; the caller has validated it. Returned records are live: copy before handing out. */
export declare function claimOne(data: MemoryData, claim: SlotClaim, context: ClaimContext): ClaimOutcome;
/** The lease a running run's owner holds. */
export declare function leaseOf(run: RunRecord): Lease;
/** The run a lease is current for, or null when it was reaped, taken over or finished. */
export declare function currentRun(data: MemoryData, lease: Lease): RunRecord | null;
/** Sets a current lease's expiry to `now + leaseMs`, as the contract says; null when not current. */
export declare function renewOne(data: MemoryData, lease: Lease, now: Date, leaseMs: number): Lease | null;
/** Records one completion; `stale` when its token is no longer current. */
export declare function completeOne(data: MemoryData, completion: RunCompletion): CompletionOutcome;
//# sourceMappingURL=leases.d.ts.map