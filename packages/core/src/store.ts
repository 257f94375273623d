/**
 * The Store contract: everything runners share lives behind it, and every guarantee of
 * docs/design.md ("exactly once per slot", "no overlap", "crash safety", "every started run is
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
import type { PartitionLeaseRequest, PartitionLeases } from './partitions.js';
import type { AccessTokenRecord, AuditInput, AuditPage, AuditQuery, AuditRecord } from './store-access.js';

/** The key of a job's own, code-defined schedule. */
export const DEFAULT_SCHEDULE_KEY = '';

/**
 * Status of one run (one attempt at one slot). `waiting`: the slot is consumed and queued behind
 * the schedule's running run (overlap policy `bufferOne`, `bufferAll`, `cancelOther`); a later
 * claim of the same slot turns it into `running`.
 */
export type RunStatus = 'waiting' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'interrupted' | 'skipped';

/** Every run status, in display order. */
export const RUN_STATUSES: readonly RunStatus[] = ['waiting', 'running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped'];

/** Statuses a finished run can be completed with. */
export type FinalRunStatus = 'succeeded' | 'failed' | 'timed_out' | 'interrupted';

/**
 * What a completion may record: a final status, or `skipped` for a claimed run whose handler was never called
 * ({@link RunCompletion.skipReason}).
 */
export type CompletionStatus = FinalRunStatus | 'skipped';

/** Why a run started: its schedule, a retry of a failed attempt, a run-now request, or `--force`. */
export type RunTrigger = 'schedule' | 'retry' | 'manual' | 'force';

/**
 * What a claim does when another run of its schedule holds a live lease (Temporal's names),
 * judged by the store at the slot's instant:
 * - `skip`: the slot is consumed and logged as a `skipped` run (reason: overlap);
 * - `bufferOne`: the slot waits (a `waiting` run) unless one already waits; then it is skipped;
 * - `bufferAll`: every slot waits, and they run in slot order;
 * - `cancelOther`: the running run is asked to stop (`cancelRequested`, seen by its runner in the
 *   renewal answer), and the slot waits as with `bufferOne`;
 * - `allowAll`: runs beside it (the old `allowParallelRuns: true`).
 */
export type OverlapPolicy = 'skip' | 'bufferOne' | 'bufferAll' | 'cancelOther' | 'allowAll';

/** Every overlap policy. */
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'bufferOne', 'bufferAll', 'cancelOther', 'allowAll'];

/**
 * Why a slot did not run (the `skipReason` of a `skipped` record):
 * - `overlap`: another run held the lease and the overlap policy consumed the slot (the message names the policy);
 * - `paused`: the schedule was paused when the slot fell due (recorded when it runs again after the resume);
 * - `disabled`: the runtime schedule was disabled (`enabled: false`) when the slot fell due;
 * - `missed-run-policy`: no runner claimed it in time and the job's missed-run policy passed it over
 *   (`latest` ran a later slot instead, `skip` found it past the grace, `all` found it outside the backfill window);
 * - `window`: before the job's `startAt`;
 * - `dst-gap`: its local time did not exist (a spring-forward gap) and the DST policy is `gap: 'skip'`;
 * - `store-outage`: the store could not be reached when it fell due, and the missed-run policy passed it over.
 */
export type SkipReason = 'overlap' | 'paused' | 'disabled' | 'missed-run-policy' | 'window' | 'dst-gap' | 'store-outage';

/** Every skip reason. */
export const SKIP_REASONS: readonly SkipReason[] = [
  'overlap',
  'paused',
  'disabled',
  'missed-run-policy',
  'window',
  'dst-gap',
  'store-outage',
];

/**
 * Why a claimed run's handler was not called at its instant (a `skipped` completion): its schedule
 * was paused (`paused`), or its runtime schedule disabled or removed (`disabled`), after the runner
 * claimed the slot ahead of its instant.
 */
export type NotRunReason = Extract<SkipReason, 'paused' | 'disabled'>;

/** Every {@link NotRunReason}. */
export const NOT_RUN_REASONS: readonly NotRunReason[] = ['paused', 'disabled'];

/**
 * What is wrong with a completion's status and `skipReason` together (see {@link Store.completeRuns}),
 * as a phrase for a store's error message, or null when they fit. Stores call it to validate.
 */
export function completionStatusProblem(completion: { status: unknown; skipReason?: unknown }): string | null {
  const { status, skipReason } = completion;
  if (status === 'skipped') {
    return NOT_RUN_REASONS.includes(skipReason as NotRunReason)
      ? null
      : `skipReason must be one of ${NOT_RUN_REASONS.join(', ')} with status skipped, got ${String(skipReason)}`;
  }
  if (!['succeeded', 'failed', 'timed_out', 'interrupted'].includes(status as string))
    return `status must be one of succeeded, failed, timed_out, interrupted, skipped, got ${String(status)}`;
  return skipReason === undefined ? null : `skipReason is only for status skipped (got status ${String(status)})`;
}

/**
 * A contiguous range of one schedule's slots that did not run for one reason: stored as one
 * `skipped` record (attempt 0, `slotAt` = `firstSlotAt`), however many slots it covers.
 */
export interface SkippedSlots {
  firstSlotAt: Date;
  /** Equal to `firstSlotAt` for a single slot. */
  lastSlotAt: Date;
  /** How many slots the range holds (an integer ≥ 1). */
  count: number;
  reason: SkipReason;
  /** What happened, in words ("missed-run policy latest: slot … ran instead"). */
  message: string;
}

/**
 * The slots a schedule claim passes over, computed by the runner from the state it planned from.
 * Recorded by the claim only when it is current: see {@link ClaimOutcome}, "Passed slots".
 */
export interface PassedSlots {
  /** The state's `lastSlotAt` the runner planned from (null: no slot claimed yet). */
  after: Date | null;
  /** Disjoint, ascending, each after `after` and before the claim's slot; at most {@link MAX_PASSED_RANGES}. */
  ranges: readonly SkippedSlots[];
}

/** Most ranges one claim may carry. */
export const MAX_PASSED_RANGES = 100;

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
  /** When the current failure streak's first failure ended (`consecutiveFailures` 0 → 1); null while not failing. */
  failingSince: Date | null;
  /** When the latest succeeded run ended; null: none has. */
  lastSucceededAt: Date | null;
  /**
   * The failure streak the latest finished run ended: when it succeeded, the `consecutiveFailures`
   * before it; 0 after a failure and after a success that followed a success. With
   * `endedStreakStartedAt` and `endedOverdueAlertedAt`, written by the same atomic operation as the
   * completion, so exactly one runner — the one whose completion landed — sees a recovery.
   */
  endedStreak: number;
  /** `failingSince` before the latest success (the ended streak's start); null when `endedStreak` is 0. */
  endedStreakStartedAt: Date | null;
  /**
   * Dead-man window in ms (the job's or runtime schedule's `expectSuccessWithin`), written through
   * {@link Store.claimOverdue}'s `windows`; null: none.
   */
  expectSuccessWithinMs: number | null;
  /** When {@link Store.claimOverdue} handed out this schedule's overdue alert; cleared by the next success. */
  overdueAlertedAt: Date | null;
  /** `overdueAlertedAt` before the latest success: the overdue episode that success ended (null: none). */
  endedOverdueAlertedAt: Date | null;
  /** Why the latest skipped slot did not run (an overlap skip or a recorded range), null when none was skipped. */
  lastSkipReason: SkipReason | null;
  /** The latest slot recorded as skipped (a range's last slot). */
  lastSkippedSlotAt: Date | null;
  /** Runs claimed (started, any trigger, not counting overlap skips nor waiting runs until they start) over all time. */
  totalRuns: number;
  /**
   * Scheduled runs over the state's life: first attempts of `schedule`-triggered slots that became
   * a run — claimed, or queued as a `waiting` run (counted once, when queued). Retries, run-now
   * requests, forced runs and overlap skips do not count. What `SlotClaim.maxRuns` is compared to.
   */
  scheduledRuns: number;
  /**
   * The slot of this schedule's oldest `waiting` run, null when none waits. Kept by the store on
   * every claim that creates or starts a waiting run; runners claim it before any later slot.
   */
  waitingSlotAt: Date | null;
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
  /**
   * Fencing token: strictly increasing per schedule over the runs that started (`claimed`); a
   * completion must present it. 0 while a run is `waiting` (it gets one when it starts); a
   * skipped run's token means nothing.
   */
  token: number;
  /** The run-now request this run was claimed for (trigger `manual`), else null. */
  requestId: string | null;
  /** A later slot's `cancelOther` claim asked this run to stop; its runner sees it in the renewal answer. */
  cancelRequested: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  /** Lease expiry while running; null once finished and while waiting. */
  leaseExpiresAt: Date | null;
  /** Message the handler reported (`ctx.report`) or the reason of a skip/interruption. */
  message: string | null;
  error: string | null;
  stack: string | null;
  /** Why the slot(s) did not run: set exactly on `skipped` records. */
  skipReason: SkipReason | null;
  /**
   * How many slots the record stands for: 1 for a run; for a skipped range (attempt 0), the
   * slots from `slotAt` through `lastSlotAt`.
   */
  slotCount: number;
  /** The last slot of a skipped range (attempt 0); null for every other record. */
  rangeLastSlotAt: Date | null;
}

/** What a runner holds while a handler runs; renew it before `expiresAt`. */
export interface Lease extends ScheduleRef {
  runId: string;
  token: number;
  runnerId: string;
  expiresAt: Date;
  /** The run's `cancelRequested` when the lease was handed out or renewed: the runner aborts the handler. */
  cancelRequested: boolean;
}

/** The lease a running run's owner holds, as a claim or a renewal answers it (`expiresAt` a copy of the run's). */
export function leaseOf(run: RunRecord): Lease {
  return {
    code: run.code,
    key: run.key,
    runId: run.id,
    token: run.token,
    runnerId: run.runnerId,
    expiresAt: new Date(run.leaseExpiresAt ?? run.startedAt),
    cancelRequested: run.cancelRequested,
  };
}

/** A request to claim one slot (or one retry attempt of it), or one run-now request. */
export interface SlotClaim extends ScheduleRef {
  /** The slot's instant; for a run-now request (`requestId`), the request's `requestedAt`. */
  slotAt: Date;
  /** 1 for the slot's first run; n + 1 to retry after attempt n failed. Always 1 with `requestId`. */
  attempt: number;
  /** `manual` exactly when `requestId` is given. */
  trigger: RunTrigger;
  /** What to do when another run of this schedule holds a live lease; see {@link ClaimOutcome}. */
  overlap: OverlapPolicy;
  /**
   * A slot the runner catches up on (missed-run policy `all`): like a retry, it never gets
   * consumed by an overlap — it answers `busy` and is claimed again later. Default false.
   */
  backfill?: boolean;
  /**
   * Claims this run-now request (a pending one, of this schedule): the request is consumed in
   * the same atomic operation as the claim, and the run records it (`RunRecord.requestId`).
   * Such runs are outside slot uniqueness: their identity is the request.
   */
  requestId?: string;
  /** Lease length in milliseconds. */
  leaseMs: number;
  /**
   * The schedule's limit of scheduled runs (job / runtime schedule option `maxRuns`, an integer ≥ 1).
   * A `schedule`-triggered claim whose run does not exist yet answers `ended` once the state's
   * `scheduledRuns` reached it; other triggers ignore it. Absent: no limit.
   */
  maxRuns?: number;
  /**
   * For a runtime schedule (key ≠ ''): the version of the definition the slot was planned
   * from. When given and the stored schedule's version differs, the claim is `unscheduled`.
   */
  scheduleVersion?: number;
  /** The slots this (schedule-triggered, attempt 1) claim passes over, with why; see {@link ClaimOutcome}. */
  passed?: PassedSlots;
}

/** Context of a claim batch. */
export interface ClaimContext {
  runnerId: string;
  /** The runner's current time. */
  now: Date;
}

/** A run a store marked `interrupted` because its lease expired, with its schedule's state after that (null: runtime schedule removed). */
export interface ReapedRun {
  run: RunRecord;
  state: JobState | null;
}

/**
 * The answer to one {@link SlotClaim}, in request order. Claims of one batch are applied one
 * after the other in request order, each atomically (a later claim sees an earlier one's effect).
 *
 * **The claim's run.** A claim without `requestId` names the run `(code, key, slotAt, attempt)`
 * among runs without a request id; one with `requestId` names the run that carries that
 * request id. Either may not exist yet.
 *
 * **Checks, in this order** (the first that applies answers):
 * 1. The named run exists:
 *    - `running` and its `runnerId` is this claim's runner → `claimed`, with that run and its
 *      current lease, unchanged (a claim retried after a lost answer gets its own claim back);
 *    - `waiting` → go on (this claim may start it, see 4 and 5);
 *    - anything else → `taken`, nothing changes.
 *    With `requestId` and no such run: a request that is not pending for this schedule
 *    (consumed, removed, never filed, or another schedule's) → `taken`, nothing changes.
 * 2. `unscheduled`: a runtime schedule (key ≠ '') that no longer exists, is disabled
 *    (`enabled: false`), or — when the claim names `scheduleVersion` — has another version;
 *    nothing changes (a request stays pending). Claims of key '' are never `unscheduled`.
 * 3. `paused`: the schedule is paused; nothing changes (a request stays pending, a waiting run waits).
 *    Then `ended`: the claim has `maxRuns`, trigger `schedule`, its named run does not exist yet, and
 *    the state's `scheduledRuns >= maxRuns`; nothing changes (no run, no skip, `lastSlotAt` stays).
 * 4. Overlap, skipped entirely when `overlap` is `allowAll`. First, every `running` run of the
 *    schedule whose lease is not live (`leaseExpiresAt <= now`) is marked `interrupted` exactly
 *    as {@link Store.reapExpired} does and returned in this outcome's `reaped` (to this caller
 *    only, so exactly one runner handles each). Then the schedule is **busy** for this claim when
 *    another run of it is `running` (a live lease), or another run of it is `waiting` with a
 *    `slotAt` before this claim's. When busy, the first that applies:
 *    - the named run is `waiting`, or `now < slotAt` (a pre-claim), or `trigger` is `retry`, or
 *      `backfill` → `busy`: nothing changes; the runner claims again after the holder ends (a
 *      pre-claim: again at the instant);
 *    - `skip`, or `bufferOne` / `cancelOther` while another run of the schedule already waits
 *      → `overlap`: the named run is created as a `skipped` run (returned) and the request, if
 *      any, consumed;
 *    - `requestId` with `bufferOne`, `bufferAll` or `cancelOther` → `busy` (the request stays
 *      pending: it waits as a request), and with `cancelOther` the running runs are asked to stop;
 *    - `bufferOne`, `bufferAll`, `cancelOther` → `waiting`: the named run is created as a
 *      `waiting` run (returned); with `cancelOther` every `running` run of the schedule gets
 *      `cancelRequested = true`.
 * 5. `claimed`: the named run is created (or, when `waiting`, started) as `running` for this
 *    claim's runner, with a fresh token, `startedAt = max(now, slotAt)` (a runner may claim a
 *    slot shortly before its instant), and a lease expiring `leaseMs` after `startedAt`; the
 *    request, if any, is consumed.
 *
 * **State.** `claimed` adds 1 to `totalRuns`. `claimed` of a new run and `waiting` of a
 * `schedule`-triggered claim add 1 to `scheduledRuns` (a waiting run that starts was counted
 * already). `claimed`, `waiting` and `overlap` of a `schedule`-triggered claim move `lastSlotAt`
 * forward (never back), a started waiting run having moved it when it was created.
 * `waitingSlotAt` is kept the oldest waiting slot. A `skipped` or `waiting` run counts in neither
 * `totalRuns` nor `lastStatus`.
 *
 * **Records.** A `skipped` run has `startedAt = finishedAt = max(now, slotAt)`, `durationMs` 0,
 * no lease, and a message naming the run that holds the lease (or the slot that already
 * waits); it consumes its slot + attempt (or request) for good. A `waiting` run has
 * `startedAt = max(now, slotAt)` (replaced when it starts), no lease, `finishedAt` null, token 0,
 * and a message saying what it waits for; it is never pruned, and is removed with its runtime
 * schedule.
 *
 * **Passed slots.** A claim with `passed` whose outcome is `claimed` (a new run, or a waiting one
 * started), `waiting` or `overlap`, with trigger `schedule`, records each of `passed.ranges` as a
 * `skipped` record — attempt 0, `slotAt` = `firstSlotAt`, `rangeLastSlotAt` = `lastSlotAt`,
 * `slotCount` = `count`, its `reason` and `message`, `startedAt` = `lastSlotAt` (when its last
 * slot fell due), `finishedAt = max(now, slotAt of the claim)` (when it was recorded), `durationMs`
 * 0, trigger `schedule`, token 0, this claim's runner — only when the schedule's
 * `lastSlotAt` before this claim equals `passed.after` (same instant, or both null) and the claim's
 * `slotAt` is after it: a runner that planned from an older state (another runner claimed since)
 * passes over nothing, so a range is recorded once, by the claim that moved past it. The state's
 * `lastSkipReason` / `lastSkippedSlotAt` then name the last range. An `overlap` skip sets them too
 * (reason `overlap`). Otherwise `passed` is ignored.
 *
 * `reaped` is present only when this claim interrupted runs. Invalid input (empty code,
 * non-string key, `leaseMs <= 0`, attempt < 1, unknown `overlap`, `maxRuns` not an integer ≥ 1, `requestId` without trigger
 * `manual` or the reverse, …) rejects the whole batch with `InvalidArgumentError` before
 * anything changes.
 */
export type ClaimOutcome = (
  | { status: 'claimed'; run: RunRecord; lease: Lease }
  | { status: 'taken' }
  | { status: 'busy' }
  | { status: 'waiting'; run: RunRecord }
  | { status: 'overlap'; run: RunRecord }
  | { status: 'paused' }
  | { status: 'unscheduled' }
  | { status: 'ended' }
) & { reaped?: ReapedRun[] };

/** The result a runner records for a run it holds the lease of. */
export interface RunCompletion {
  lease: Lease;
  status: CompletionStatus;
  finishedAt: Date;
  message?: string | null;
  error?: string | null;
  stack?: string | null;
  /** Required with status `skipped`, refused with any other: why the handler was not called. */
  skipReason?: NotRunReason;
}

/**
 * The answer to one {@link RunCompletion}, in request order. A completion is accepted while the
 * run is `running` with that token — also after its lease expired, as long as nobody reaped it
 * or took it over. `stale` when it is no longer (reaped, taken over, or already completed):
 * nothing changed, and `run` is what the store holds.
 */
export type CompletionOutcome =
  /** `state` is null when the run's runtime schedule was removed while it ran (the run is still recorded). */
  { status: 'completed'; run: RunRecord; state: JobState | null } | { status: 'stale'; run: RunRecord | null };

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
  /**
   * Only skipped records with this reason or any of a list (an empty list matches nothing); an unknown one is
   * an `InvalidArgumentError`.
   */
  reason?: SkipReason | readonly SkipReason[];
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
  /**
   * How the store tells a dead runner from a live one ({@link Store.heartbeat}); absent: the store
   * has no `heartbeat` / `listRunners`, and a dead runner's runs end only when their leases expire.
   */
  runnerPresence?: RunnerPresence;
}

/**
 * - `connection`: a runner is dead once its heartbeat TTL has passed **and** the connection of the
 *   store instance that sent its last heartbeat is gone (a PostgreSQL session advisory lock, a
 *   Redis subscription; the server drops them the moment the process dies). A live runner keeps
 *   its connection however slow it is, so a stall never makes it dead.
 * - `heartbeat`: a runner is dead once its heartbeat TTL has passed.
 */
export type RunnerPresence = 'connection' | 'heartbeat';

/** Every runner presence kind. */
export const RUNNER_PRESENCES: readonly RunnerPresence[] = ['connection', 'heartbeat'];

/** What a runner tells the store about itself, every heartbeat. */
export interface RunnerHeartbeat {
  runnerId: string;
  /** The runner's current time. */
  now: Date;
  /** The runner counts as dead from `now + ttlMs` on unless it beats again (see {@link RunnerPresence}). */
  ttlMs: number;
  /** When the runner started. */
  startedAt: Date;
  /** Offset of the runner's local clock to the store's clock in ms (local − store), null when not measured. */
  clockOffsetMs: number | null;
}

/** A schedule's dead-man window, as a runner that defines it tells the store ({@link Store.claimOverdue}). */
export interface OverdueWindow extends ScheduleRef {
  /** An integer ≥ 1 (ms), or null: the schedule has none. */
  expectSuccessWithinMs: number | null;
}

/** Most windows one `claimOverdue` call may carry. */
export const MAX_OVERDUE_WINDOWS = 1000;

/** How many overdue schedules one `claimOverdue` call hands out when it names no `limit`. */
export const DEFAULT_OVERDUE_LIMIT = 100;

/** One runner as the store knows it ({@link Store.listRunners}). */
export interface RunnerRecord {
  runnerId: string;
  startedAt: Date;
  lastHeartbeatAt: Date;
  /** `lastHeartbeatAt + ttlMs` of the last heartbeat. */
  expiresAt: Date;
  clockOffsetMs: number | null;
  /** `connection` stores: whether the connection that sent the last heartbeat is still open; null on `heartbeat` stores. */
  connected: boolean | null;
  /** Not dead at the listing's `now` (see {@link RunnerPresence}). */
  alive: boolean;
}

/** A runner record is deleted by the next heartbeat of any runner once its `expiresAt` is this long past. */
export const RUNNER_RECORD_RETENTION_MS = 3_600_000;

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
  /**
   * Pauses (with an optional note) or resumes one schedule; creates its state if missing. Resuming a paused
   * schedule sets `resumedAt = now`; resuming one that is not paused leaves `resumedAt` alone.
   */
  setPaused(ref: ScheduleRef, paused: boolean, options: { note?: string | null; now: Date }): Promise<JobState>;
  /** Sets or clears (null) the schedule override of one schedule; creates its state if missing. */
  setScheduleOverride(ref: ScheduleRef, schedule: ScheduleSpec | null, now: Date): Promise<JobState>;

  // — claims and leases —
  /** Claims slots atomically, all of them in one round trip. See {@link ClaimOutcome}. */
  claimSlots(claims: readonly SlotClaim[], context: ClaimContext): Promise<ClaimOutcome[]>;
  /**
   * Extends leases to `now + leaseMs`, in one round trip. Returns the new lease, or null
   * for a lease that is no longer current (run reaped, taken over or finished). A lease past
   * its expiry that nobody took over or reaped is still current and is renewed. The answer
   * carries the run's `cancelRequested`: true tells the runner to abort the handler.
   */
  renewLeases(leases: readonly Lease[], options: { now: Date; leaseMs: number }): Promise<(Lease | null)[]>;
  /**
   * Records results, in one round trip. Updates the schedule's state: `lastStatus`,
   * `lastFinishedAt`, `lastAttempt`, `lastFinishedSlotAt`, and `consecutiveFailures`
   * (reset by `succeeded`, incremented by any other status). Refused per item with
   * `stale` for a token that is no longer current; accepted past the lease's expiry while
   * nobody reaped or took over the run. Releases the lease. The returned state's
   * `waitingSlotAt` tells the runner a waiting slot may now be claimed.
   *
   * A `skipped` completion (with `skipReason`; the runner did not call the handler because the
   * schedule was paused, disabled or removed between its claim and the slot's instant) makes the
   * run a `skipped` record with that reason and the completion's message, `durationMs` 0, no error
   * or stack, and releases the lease. The state gets `lastSkipReason` and `lastSkippedSlotAt`
   * (unless a later slot was skipped already) and gives back what the claim counted — `totalRuns` − 1, and for a
   * `schedule`-triggered attempt 1 `scheduledRuns` − 1 (a slot not run is no run of `maxRuns`) —
   * and leaves `lastStatus`, `lastFinishedAt`, `lastAttempt`, `lastFinishedSlotAt`,
   * `consecutiveFailures` and `lastSlotAt` alone (it is no failure, and the slot stays consumed).
   * `skipReason` missing with `skipped`, given with another status, or not a {@link NotRunReason}
   * rejects the whole call with `InvalidArgumentError` before anything changes.
   */
  completeRuns(completions: readonly RunCompletion[]): Promise<CompletionOutcome[]>;
  /**
   * Marks up to `limit` (default 1000) running runs whose lease is not live (`expiresAt <= now`)
   * as `interrupted` (finishedAt = now, message says the lease expired), updating their
   * schedules' state as a completion would (`consecutiveFailures` + 1), and returns each with
   * that state (null when its runtime schedule was removed). Each interrupted run is returned
   * to exactly one caller, by this method or by a claim's `reaped`, ever — so exactly one runner
   * calls `onFailure` for it and decides on its retry. Oldest expiry first.
   *
   * With `runners: true` (stores with `runnerPresence` only; ignored by others) it also marks
   * `interrupted` the running runs of dead runners — a runner with a record ({@link heartbeat})
   * that is dead at `now` — though their leases are still live, with a message naming the runner
   * and its last heartbeat; they count in `limit` after the expired leases. Runs of runner ids that
   * never sent a heartbeat (the CLI, older releases) end only with their leases.
   */
  reapExpired(options: { now: Date; limit?: number; runners?: boolean }): Promise<ReapedRun[]>;

  // — dead-man alerts —
  /**
   * Dead-man check, one atomic operation. First records the given `windows` (at most 1000): each
   * existing state among them gets `expectSuccessWithinMs` (null clears it; states that do not
   * exist are left alone). Then hands out up to `limit` (default 100) overdue schedules — a window
   * set, `overdueAlertedAt` null, and `coalesce(lastSucceededAt, createdAt) + expectSuccessWithinMs
   * <= now` — only of `codes` when given (an empty list matches nothing), oldest due first: each gets
   * `overdueAlertedAt = now` (a compare-and-set on it being null) and is returned, so each overdue
   * episode is returned to exactly one caller, across every instance and process sharing the
   * store. A success (`completeRuns`) clears `overdueAlertedAt`, moving it to
   * `endedOverdueAlertedAt`; the next window then alerts again. A paused schedule is not exempt
   * (a pause forgotten is what the alert is for). Invalid input (a date that is not one, a window
   * that is not an integer ≥ 1 or null, a bad ref, `limit` outside 1 … 1000) is an
   * `InvalidArgumentError`, nothing changed.
   */
  claimOverdue(options: { now: Date; windows?: readonly OverdueWindow[]; codes?: readonly string[]; limit?: number }): Promise<JobState[]>;

  // — runners (stores with `capabilities.runnerPresence`) —
  /**
   * Records that a runner is alive until `now + ttlMs`, replacing its previous record (startedAt
   * and clockOffsetMs included), and returns it. On `connection` stores it also binds the runner's
   * presence to this instance's connection (re-binding after a reconnect), which `close()` releases.
   * Deletes the records of runners whose `expiresAt` is more than {@link RUNNER_RECORD_RETENTION_MS}
   * before `now`. Invalid input (empty `runnerId`, `ttlMs <= 0`, a date that is not one, an offset
   * that is not a finite number or null) is an `InvalidArgumentError`, nothing recorded. Runner ids
   * must be unique per process: two processes beating as one runner are one runner to the store.
   */
  heartbeat?(beat: RunnerHeartbeat): Promise<RunnerRecord>;
  /** Every runner with a record, ordered by runnerId; `alive` as of `now`. */
  listRunners?(options: { now: Date }): Promise<RunnerRecord[]>;

  // — partitioned schedules (see partitions.ts) —
  /**
   * One atomic operation that divides the `PARTITION_COUNT` partitions among the runners
   * that call it: records the caller as a member until `now + ttlMs` (members lapsed at `now` are
   * removed), computes its share ceil(P / live members) (or the request's `limit` when lower), keeps what it holds up to that
   * share and releases the highest-numbered ones above it (so a joining runner finds free ones
   * on its next call), takes free partitions and those whose lease lapsed (`expiresAt <= now`,
   * lowest first) up to the share — each taken one's fencing token + 1 — and renews every held
   * one to `now + ttlMs`. Each partition is held by at most one runner at any `now`, and a dead
   * runner's partitions are taken over by the first call after its TTL. Invalid input (a runnerId
   * that is not 1–200 storable characters, a date that is not one, `ttlMs` not an integer
   * 1000 … 3,600,000, `limit` not an integer 1 … P) is an `InvalidArgumentError` naming the field,
   * nothing changed.
   */
  leasePartitions?(request: PartitionLeaseRequest): Promise<PartitionLeases>;
  /**
   * Frees every partition `runnerId` holds and ends its membership (a runner that stops); answers how many it
   * held. Invalid input as {@link leasePartitions}.
   */
  releasePartitions?(request: { runnerId: string }): Promise<number>;

  // — run log —
  /** Run-log query, newest first, paginated. */
  queryRuns(query?: RunQuery): Promise<RunPage>;
  /** One run by id, or null (also for an id the store could never have issued). */
  getRun(id: string): Promise<RunRecord | null>;
  /**
   * Deletes finished runs (skipped ones included) whose `finishedAt` is before `olderThan`, in batches of
   * `batchSize` (default 1000) so no statement holds locks for long. Never deletes
   * running or waiting runs. Returns how many were deleted.
   */
  pruneRuns(options: { olderThan: Date; batchSize?: number }): Promise<number>;
  /**
   * Claims the maintenance task `name` (1–100 characters) for the period `everyMs` (an integer
   * ≥ 1000): resolves true for exactly one caller, across every instance and process sharing
   * the store, once `everyMs` has passed since the last winner's `now` (or when no call won
   * yet), and records `now` as "last done at"; false for every other caller. Lets runners
   * without a daemon share chores such as retention. Absent on stores that do not offer it.
   */
  claimMaintenance?(name: string, options: { now: Date; everyMs: number }): Promise<boolean>;

  // — run-now requests —
  /**
   * Files a "run now" request for a schedule. A request for a runtime schedule (key ≠ '')
   * that does not exist is refused with `InvalidArgumentError`, and nothing is filed.
   */
  requestRun(ref: ScheduleRef, options: { now: Date; requestedBy?: string | null }): Promise<RunRequest>;
  /**
   * Pending (unconsumed) requests, oldest first (`requestedAt`, then id), without consuming
   * them; optionally only for `codes` and/or only for the schedules `refs` (at most 1000); at
   * most `limit` (default all). A request is consumed only by the claim that names it
   * (`SlotClaim.requestId`), atomically with that claim.
   */
  pendingRunRequests(options?: { codes?: readonly string[]; refs?: readonly ScheduleRef[]; limit?: number }): Promise<RunRequest[]>;

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
   * Removes runtime schedules (at most 1000 refs, each key ≠ ''), their states, their
   * pending run-now requests and their waiting runs; runs already claimed go on and are recorded (their completion's
   * `state` is null). Returns, per ref, whether it existed. Emits a `schedule` change per removal.
   */
  removeSchedules(refs: readonly ScheduleRef[]): Promise<boolean[]>;
  /** The runtime schedules among `refs` (at most 1000) that exist, in request order (missing ones omitted). */
  getSchedules(refs: readonly ScheduleRef[]): Promise<RuntimeSchedule[]>;
  /** Runtime schedules ordered by code then key (with `query.partitions`, only theirs, by partition first), paginated. */
  listSchedules(query?: ScheduleQuery): Promise<SchedulePage>;
  /**
   * An opaque text that changes whenever any runtime schedule is created, changed or removed
   * (one cheap read): runners without push poll it and re-list only when it moved.
   */
  schedulesRevision(): Promise<string>;

  // — audit log and access tokens (a management UI's, shared by its instances; see store-access.ts) —
  /**
   * Appends one audit row (checked with core's `checkAuditInput`; bad input changes nothing) and
   * returns it with its id, a positive integer as text, greater than every id handed out before.
   * Durable when it resolves, as the store's other writes are.
   */
  appendAudit(entry: AuditInput): Promise<AuditRecord>;
  /** The audit log newest first (id desc), paginated by cursor (see core's `checkAuditQuery`). */
  listAudit(query?: AuditQuery): Promise<AuditPage>;
  /**
   * Deletes audit rows whose `at` is before `olderThan` (the retention), in batches of
   * `batchSize` (default 1000). Returns how many were deleted.
   */
  pruneAudit(options: { olderThan: Date; batchSize?: number }): Promise<number>;
  /**
   * Adds an access token (checked with core's `checkAccessToken`). An id the store holds already
   * or a store holding `MAX_ACCESS_TOKENS` is refused with `InvalidArgumentError`, nothing added.
   */
  addAccessToken(token: AccessTokenRecord): Promise<AccessTokenRecord>;
  /** One access token by id, or null (also for an id no token could have). */
  getAccessToken(id: string): Promise<AccessTokenRecord | null>;
  /** Every access token, oldest first (createdAt, then id). */
  listAccessTokens(): Promise<AccessTokenRecord[]>;
  /** Removes an access token; false when there was none with that id. */
  removeAccessToken(id: string): Promise<boolean>;

  // — changes —
  /**
   * Present when `capabilities.changeSubscription`: calls `listener` for every change made
   * through any store instance on the same backend (state, run requests, schedules).
   * `setPaused` / `setScheduleOverride` emit `state`, `requestRun` emits `run-request`,
   * `upsertSchedules` / `removeSchedules` emit `schedule` per created, changed or removed one.
   * Claims and completions emit nothing (thousands a minute; runners learn of them by reading).
   */
  subscribe?(listener: (change: StoreChange) => void): Promise<Unsubscribe>;

  /** Releases connections the store created (an injected client is left open). */
  close(): Promise<void>;
}
