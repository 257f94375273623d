import type { Job } from './job.js';
import { type CompiledSchedule } from './schedule/engine.js';
import type { JobState, RunRequest, SlotClaim } from './store.js';
/** How long after its instant a `skip`-policy slot may still start (and how far back a first tick looks). */
export declare const DEFAULT_MISSED_GRACE_MS = 60000;
/** Most slots one `all`-policy backfill claims in one tick. */
export declare const MAX_BACKFILL_SLOTS = 1000;
/** Input of {@link planDue}. */
export interface PlanInput {
    job: Job;
    key: string;
    /** Null for a job without a schedule of its own: only retries are planned. */
    schedule: CompiledSchedule | null;
    state: JobState;
    now: Date;
    missedGraceMs?: number;
}
/**
 * The claims due for one schedule at `now`, from the schedule and the stored state only,
 * so every runner computes the same slots. Slots are considered after the *baseline*: the
 * latest of the last claimed slot, the last resume, `startAt`, and (for a schedule the store
 * has just met) its creation minus the grace — no catch-up reaches before a job existed.
 * A due regular slot wins over a retry; a retry re-runs the failed slot with attempt + 1.
 */
export declare function planDue(input: PlanInput): SlotClaim[];
/**
 * The next instant this schedule wants attention: its next slot's (jittered) start, a slot
 * already passed whose jittered start is still ahead, or a pending retry (which may be in
 * the past: then it is due now). Null when nothing is left (expired, `once` done).
 */
export declare function nextDueAt(input: PlanInput): Date | null;
/**
 * Scheduled runs a limited schedule has left (`maxRuns` minus the state's `scheduledRuns`, never
 * below 0); null without a limit. Retries, run-now requests and forced runs go on at 0.
 */
export declare function remainingRuns(job: Pick<Job, 'maxRuns'>, state: Pick<JobState, 'scheduledRuns'>): number | null;
/**
 * A deterministic delay in [0, job.jitterMs) for one slot: every runner computes the same
 * one, so jitter spreads a herd without breaking once-per-slot.
 */
export declare function jitterMs(job: Job, key: string, slotAt: Date): number;
/**
 * A forced run's claim (`--force`) of the slot "now, to the second": two forced together share
 * one slot, so even these run once per slot.
 */
export declare function claimAt(job: Job, key: string, at: Date, trigger: 'force'): SlotClaim;
/** The claim of one run-now request: its own identity (the request id), its slot the request's time. */
export declare function requestClaim(job: Job, key: string, request: RunRequest): SlotClaim;
//# sourceMappingURL=plan.d.ts.map