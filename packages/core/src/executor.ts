// STUB — the executor is being written now. Signatures are the contract.
import type { Clock } from './clock.js';
import type { Job, JobInput, JobRegistry } from './job.js';
import type { Logger } from './logger.js';
import type { CompiledSchedule } from './schedule/engine.js';
import type { JobState, Lease, RunRecord, SlotClaim, Store } from './store.js';

/** Options of {@link runDue}; the daemon passes the same ones to its own loop. */
export interface RunDueOptions {
  jobs: JobRegistry | readonly JobInput[];
  store: Store;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: `hostname:pid`. */
  runnerId?: string;
  logger?: Logger;
  /** Default timezone for schedules and jobs that name none. Default 'UTC'. */
  timezone?: string;
  /** Only these job codes (unknown codes throw UnknownJobError before anything runs). */
  only?: readonly string[];
  /** Run the selected jobs now whatever their schedule (slot = now, to the second); still once per slot, no overlap. */
  force?: boolean;
  /** Report what would run; claim nothing, change nothing. */
  dryRun?: boolean;
  /** Aborting it aborts running handlers; their runs are recorded `interrupted`. */
  signal?: AbortSignal;
  /** How long after a slot a `skip`-policy job may still start it. Default 60 s. */
  missedGraceMs?: number;
}

/** What one tick did for one schedule. */
export interface TickResult {
  code: string;
  key: string;
  outcome:
    | 'succeeded'
    | 'failed'
    | 'timed_out'
    | 'interrupted'
    | 'skipped'
    | 'not-due'
    | 'taken'
    | 'paused'
    | 'disabled'
    | 'would-run';
  slotAt: Date | null;
  attempt: number | null;
  run: RunRecord | null;
  /** Why it did not run, or the run's message / error. */
  reason: string | null;
  nextSlotAt: Date | null;
}

/** What one tick did. `ok` is false when any run failed, timed out or was interrupted. */
export interface TickReport {
  startedAt: Date;
  finishedAt: Date;
  results: TickResult[];
  ok: boolean;
}

/** One tick: claims and runs every due slot (or the `only` / `force`d jobs), logs every run, returns a report. */
export function runDue(options: RunDueOptions): Promise<TickReport> {
  void options;
  throw new Error('not implemented');
}

/** The claims due for one schedule at `now` (slots per its missed-run policy, and retries), pure. */
export function planDue(input: {
  job: Job;
  key: string;
  schedule: CompiledSchedule;
  state: JobState;
  now: Date;
  missedGraceMs?: number;
}): SlotClaim[] {
  void input;
  throw new Error('not implemented');
}

/** Runs a claimed slot's handler: timeout, lease renewal, completion with fencing, onFailure. */
export function executeRun(input: {
  job: Job;
  run: RunRecord;
  lease: Lease;
  store: Store;
  clock: Clock;
  logger: Logger;
  payload?: unknown;
  signal?: AbortSignal;
}): Promise<RunRecord> {
  void input;
  throw new Error('not implemented');
}
