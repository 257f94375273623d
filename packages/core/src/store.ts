/**
 * The Store contract: everything runners share lives behind it, and every guarantee of
 * DESIGN.md ("exactly once per slot", "no overlap", "crash safety", "every started run is
 * logged") is enforced by a store operation, never by timing. Stores take `now` from the
 * caller (the runner's injected Clock), so behaviour is testable without sleeping.
 *
 * Identity: a *schedule* is `(code, key)`. `key` is `''` for the schedule defined in code
 * ({@link DEFAULT_SCHEDULE_KEY}) and the runtime schedule's key otherwise. A *slot* is
 * `(code, key, slotAt)`; each attempt at a slot is one run, unique on
 * `(code, key, slotAt, attempt)`.
 */
import type { RuntimeSchedule, RuntimeScheduleInput, ScheduleQuery, SchedulePage } from './runtime-schedule.js';
import type { ScheduleSpec } from './schedule/spec.js';

/** The key of a job's own, code-defined schedule. */
export const DEFAULT_SCHEDULE_KEY = '';

/** Status of one run (one attempt at one slot). */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'interrupted' | 'skipped';

/** Every run status, in display order. */
export const RUN_STATUSES: readonly RunStatus[] = [
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'interrupted',
  'skipped',
];

/** Statuses a finished run can be completed with. */
export type FinalRunStatus = 'succeeded' | 'failed' | 'timed_out' | 'interrupted';

/** Why a run started: its schedule, a retry of a failed attempt, a run-now request, or `--force`. */
export type RunTrigger = 'schedule' | 'retry' | 'manual' | 'force';

/** One schedule of one job. */
export interface ScheduleRef {
  code: string;
  /** `''` for the job's code-defined schedule. */
  key: string;
}

/** Runtime state of one schedule, kept in the store beside the logs. */
export interface JobState extends ScheduleRef {
  paused: boolean;
  /** Why it was paused (free text from `pause --note`). */
  pausedNote: string | null;
  /** When it was last resumed; slots before this are never run (not even by catch-up). */
  resumedAt: Date | null;
  /** Replaces the code-defined schedule while set. */
  scheduleOverride: ScheduleSpec | null;
  /**
   * The latest slot claimed with `trigger: 'schedule'` (outcome claimed or overlap-skipped).
   * Never moves backwards. Manual, forced and retry runs leave it alone: it is the baseline
   * from which runners compute due slots, so they never hide a scheduled slot.
   */
  lastSlotAt: Date | null;
  /** Status of the latest finished run (overlap skips do not count). */
  lastStatus: RunStatus | null;
  /** When the latest finished run ended. */
  lastFinishedAt: Date | null;
  /** Attempt number of the latest finished run. */
  lastAttempt: number | null;
  /** Slot of the latest finished run. */
  lastFinishedSlotAt: Date | null;
  /** Failed, timed-out and interrupted runs since the last success. */
  consecutiveFailures: number;
  /** Runs claimed (started, any trigger, not counting overlap skips) over all time. */
  totalRuns: number;
  /** When the store first saw this schedule; catch-up never reaches before it. */
  createdAt: Date;
  updatedAt: Date;
}

/** One run: one attempt at one slot. Also the claim record that makes slots exactly-once. */
export interface RunRecord extends ScheduleRef {
  /** Store-assigned id, unique within the store. */
  id: string;
  slotAt: Date;
  attempt: number;
  trigger: RunTrigger;
  status: RunStatus;
  runnerId: string;
  /** Fencing token: strictly increasing per schedule; a completion must present it. */
  token: number;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  /** Lease expiry while running; null once finished. */
  leaseExpiresAt: Date | null;
  /** Message the handler reported (`ctx.report`) or the reason of a skip/interruption. */
  message: string | null;
  error: string | null;
  stack: string | null;
}

/** What a runner holds while a handler runs; renew it before `expiresAt`. */
export interface Lease extends ScheduleRef {
  runId: string;
  token: number;
  runnerId: string;
  expiresAt: Date;
}

/** A request to claim one slot (or one retry attempt of it). */
export interface SlotClaim extends ScheduleRef {
  slotAt: Date;
  /** 1 for the slot's first run; n + 1 to retry after attempt n failed. */
  attempt: number;
  trigger: RunTrigger;
  /** When false, the claim fails with `overlap` while another run of this schedule holds a live lease. */
  allowParallel: boolean;
  /** Lease length in milliseconds. */
  leaseMs: number;
  /**
   * For a runtime schedule (key ≠ ''): the version of the definition the slot was planned
   * from. When given and the stored schedule's version differs, the claim is `unscheduled`.
   */
  scheduleVersion?: number;
}

/** Context of a claim batch. */
export interface ClaimContext {
  runnerId: string;
  /** The runner's current time. */
  now: Date;
}

/**
 * The answer to one {@link SlotClaim}, in request order:
 * - `claimed`: this runner owns the run; `run.status` is `running`. The run's `startedAt`
 *   is `max(now, slotAt)` (a runner may claim a slot shortly before its instant) and the
 *   lease expires `leaseMs` after that.
 * - `taken`: that slot + attempt was already claimed (by anyone, including earlier by this
 *   runner); nothing changed.
 * - `overlap`: another run of the schedule holds a live lease and parallel runs are not
 *   allowed; the slot is consumed and logged as a `skipped` run (returned), once.
 * - `paused`: the schedule is paused; nothing changed, the slot is not consumed.
 * - `unscheduled`: a runtime schedule's claim (key ≠ '') whose schedule no longer exists, is
 *   disabled (`enabled: false`), or — when the claim names `scheduleVersion` — has changed
 *   since the claimant read it; nothing changed. The runner re-reads the schedule. Claims of
 *   a job's own schedule (key '') are never `unscheduled`.
 *
 * A live lease is one whose `expiresAt > now`. A claim that finds only an *expired* lease
 * of a still-`running` run marks that run `interrupted` (message says so, `finishedAt = now`,
 * state updated as a completion would) in the same atomic operation, then proceeds.
 *
 * Checked in this order: `taken`, `unscheduled`, `paused`, `overlap`, `claimed`. The overlap's `skipped`
 * run has `startedAt = finishedAt = max(now, slotAt)`, `durationMs` 0, no lease, a message
 * naming the run that holds the lease; it consumes the slot + attempt (a later claim of it is
 * `taken`) and moves `lastSlotAt` like a claim, but counts in neither `totalRuns` nor `lastStatus`.
 * Invalid input (empty code, non-string key, `leaseMs <= 0`, attempt < 1, …) rejects the
 * whole batch with `InvalidArgumentError` before anything changes.
 */
export type ClaimOutcome =
  | { status: 'claimed'; run: RunRecord; lease: Lease }
  | { status: 'taken' }
  | { status: 'overlap'; run: RunRecord }
  | { status: 'paused' }
  | { status: 'unscheduled' };

/** The result a runner records for a run it holds the lease of. */
export interface RunCompletion {
  lease: Lease;
  status: FinalRunStatus;
  finishedAt: Date;
  message?: string | null;
  error?: string | null;
  stack?: string | null;
}

/**
 * The answer to one {@link RunCompletion}, in request order. `stale` when the run is no
 * longer `running` with that token (reaped, taken over, or already completed): nothing changed.
 */
export type CompletionOutcome =
  /** `state` is null when the run's runtime schedule was removed while it ran (the run is still recorded). */
  | { status: 'completed'; run: RunRecord; state: JobState | null }
  | { status: 'stale'; run: RunRecord | null };

/** Filter and page of a run-log query. Results are newest first (startedAt desc, id desc). */
export interface RunQuery {
  code?: string;
  key?: string;
  /** One status or any of a list (an empty list matches nothing). */
  status?: RunStatus | readonly RunStatus[];
  /** Only runs started at or after this instant. */
  since?: Date;
  /** Only runs started before this instant. */
  until?: Date;
  /** Page size, an integer 1 … 1000, default 50; outside that an `InvalidArgumentError`. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`; a malformed one is an `InvalidArgumentError`. */
  cursor?: string;
}

/** One page of runs. */
export interface RunPage {
  runs: RunRecord[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** A "run now" request (CLI `trigger`, API, dashboard). */
export interface RunRequest extends ScheduleRef {
  id: string;
  requestedAt: Date;
  requestedBy: string | null;
}

/** A change another runner should react to without restart. */
export type StoreChange =
  | { type: 'state'; code: string; key: string }
  | { type: 'run-request'; code: string; key: string }
  | { type: 'schedule'; code: string; key: string };

/** What a store can do beyond the required contract; the conformance suite tests the fallback of each absent one. */
export interface StoreCapabilities {
  /** `subscribe()` delivers changes pushed by the store (Redis pub/sub, PostgreSQL LISTEN/NOTIFY). Without it runners poll. */
  changeSubscription: boolean;
}

/** Stops a subscription. */
export type Unsubscribe = () => Promise<void>;

/**
 * The store every runner shares. All methods may throw `StoreUnavailableError` when the
 * backend cannot be reached; such a call either happened completely or not at all.
 */
export interface Store {
  /** A short name for messages ("memory", "postgresql", "sqlite", "redis"). */
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  /** Checks the backend answers; `serverTime` is the backend's clock where it has one (for skew checks). */
  ping(): Promise<{ latencyMs: number; serverTime: Date | null }>;

  // — job state —
  /**
   * Creates missing state rows (`createdAt = now`, not paused) for these schedules and
   * returns the state of each, in request order. Existing rows are returned unchanged.
   */
  ensureStates(refs: readonly ScheduleRef[], now: Date): Promise<JobState[]>;
  /** States of the given schedules (missing ones are omitted), or of every schedule when `refs` is absent. */
  getStates(refs?: readonly ScheduleRef[]): Promise<JobState[]>;
  /** Pauses (with an optional note) or resumes one schedule; creates its state if missing. Resuming a paused schedule sets `resumedAt = now`; resuming one that is not paused leaves `resumedAt` alone. */
  setPaused(ref: ScheduleRef, paused: boolean, options: { note?: string | null; now: Date }): Promise<JobState>;
  /** Sets or clears (null) the schedule override of one schedule; creates its state if missing. */
  setScheduleOverride(ref: ScheduleRef, schedule: ScheduleSpec | null, now: Date): Promise<JobState>;

  // — claims and leases —
  /** Claims slots atomically, all of them in one round trip. See {@link ClaimOutcome}. */
  claimSlots(claims: readonly SlotClaim[], context: ClaimContext): Promise<ClaimOutcome[]>;
  /**
   * Extends leases to `now + leaseMs`, in one round trip. Returns the new lease, or null
   * for a lease that is no longer current (run reaped, taken over or finished). A lease past
   * its expiry that nobody took over or reaped is still current and is renewed.
   */
  renewLeases(leases: readonly Lease[], options: { now: Date; leaseMs: number }): Promise<(Lease | null)[]>;
  /**
   * Records results, in one round trip. Updates the schedule's state: `lastStatus`,
   * `lastFinishedAt`, `lastAttempt`, `lastFinishedSlotAt`, and `consecutiveFailures`
   * (reset by `succeeded`, incremented by any other status). Refused per item with
   * `stale` for a token that is no longer current. Releases the lease.
   */
  completeRuns(completions: readonly RunCompletion[]): Promise<CompletionOutcome[]>;
  /**
   * Marks up to `limit` (default 1000) running runs whose lease is not live (`expiresAt <= now`) as `interrupted`
   * (finishedAt = now, message says the lease expired), updating their schedules' state as
   * a completion would (no state when its runtime schedule was removed). Each such run is returned to exactly one caller, so exactly one
   * runner decides on its retry.
   */
  reapExpired(options: { now: Date; limit?: number }): Promise<RunRecord[]>;

  // — run log —
  /** Run-log query, newest first, paginated. */
  queryRuns(query?: RunQuery): Promise<RunPage>;
  /** One run by id, or null (also for an id the store could never have issued). */
  getRun(id: string): Promise<RunRecord | null>;
  /**
   * Deletes finished runs (skipped ones included) whose `finishedAt` is before `olderThan`, in batches of
   * `batchSize` (default 1000) so no statement holds locks for long. Never deletes
   * running runs. Returns how many were deleted.
   */
  pruneRuns(options: { olderThan: Date; batchSize?: number }): Promise<number>;

  // — run-now requests —
  /**
   * Files a "run now" request for a schedule. A request for a runtime schedule (key ≠ '')
   * that does not exist is refused with `InvalidArgumentError`, and nothing is filed.
   */
  requestRun(ref: ScheduleRef, options: { now: Date; requestedBy?: string | null }): Promise<RunRequest>;
  /**
   * Takes up to `limit` (≥ 1, default 100) pending requests (oldest first), optionally only
   * for `codes` and/or only for the schedules `refs` (at most 1000); each request is returned
   * to exactly one caller, ever.
   */
  consumeRunRequests(options: { codes?: readonly string[]; refs?: readonly ScheduleRef[]; limit?: number; now: Date }): Promise<RunRequest[]>;
  /** Pending (unconsumed) requests, oldest first, without consuming them; at most `limit` (default all). */
  pendingRunRequests(options?: { codes?: readonly string[]; limit?: number }): Promise<RunRequest[]>;

  // — runtime schedules (key ≠ '') —
  /**
   * Creates or changes runtime schedules (at most 1000, validated with core's
   * `checkScheduleInputs`: a bad item or a key twice rejects the whole call before anything
   * changes), all or nothing, and returns them in request order. Per schedule:
   * - new: stored with a fresh `version`, `createdAt = updatedAt = now`, and a fresh state
   *   (`createdAt = now`, replacing any state left under that ref);
   * - same canonical definition as stored: nothing changes (same version, no change event);
   * - different: definition replaced, fresh `version`, `updatedAt = now`; the state is kept,
   *   except that turning `enabled` from false to true sets `resumedAt = now` (as a resume
   *   does: slots missed while disabled are not caught up).
   * Emits a `schedule` change for each created or changed one.
   */
  upsertSchedules(schedules: readonly RuntimeScheduleInput[], now: Date): Promise<RuntimeSchedule[]>;
  /**
   * Removes runtime schedules (at most 1000 refs, each key ≠ ''), their states and their
   * pending run-now requests; runs already claimed go on and are recorded (their completion's
   * `state` is null). Returns, per ref, whether it existed. Emits a `schedule` change per removal.
   */
  removeSchedules(refs: readonly ScheduleRef[]): Promise<boolean[]>;
  /** The runtime schedules among `refs` (at most 1000) that exist, in request order (missing ones omitted). */
  getSchedules(refs: readonly ScheduleRef[]): Promise<RuntimeSchedule[]>;
  /** Runtime schedules ordered by code then key, paginated. */
  listSchedules(query?: ScheduleQuery): Promise<SchedulePage>;
  /**
   * An opaque text that changes whenever any runtime schedule is created, changed or removed
   * (one cheap read): runners without push poll it and re-list only when it moved.
   */
  schedulesRevision(): Promise<string>;

  // — changes —
  /**
   * Present when `capabilities.changeSubscription`: calls `listener` for every change made
   * through any store instance on the same backend (state, run requests, schedules).
   * `setPaused` / `setScheduleOverride` emit `state`, `requestRun` emits `run-request`,
   * `upsertSchedules` / `removeSchedules` emit `schedule` per created, changed or removed one. Claims and completions emit nothing (thousands a
   * minute; runners learn of them by reading).
   */
  subscribe?(listener: (change: StoreChange) => void): Promise<Unsubscribe>;

  /** Releases connections the store created (an injected client is left open). */
  close(): Promise<void>;
}
