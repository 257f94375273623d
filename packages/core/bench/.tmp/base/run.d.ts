import type { Clock } from './clock.js';
import type { Job } from './job.js';
import type { Logger } from './logger.js';
import type { JobState, Lease, ReapedRun, RunRecord, Store } from './store.js';
/** Input of {@link executeRun}. */
export interface ExecuteRunInput {
    job: Job;
    run: RunRecord;
    lease: Lease;
    store: Store;
    clock: Clock;
    logger: Logger;
    /** The runtime schedule's payload, handed to the handler as `ctx.payload`. */
    payload?: unknown;
    /** Shutdown: aborting it aborts the handler, and the run is recorded `interrupted`. */
    signal?: AbortSignal;
    /**
     * The runner is exiting: aborting it stops waiting for a handler that ignores its (already
     * aborted) signal; the run is recorded `interrupted` at once. Without it, a handler is awaited to the end.
     */
    abandon?: AbortSignal;
    /** Backoff between completion attempts while the store is unreachable (ms, doubling). Default 50 … 5,000. */
    completionBackoff?: {
        firstMs: number;
        maxMs: number;
    };
}
/** What {@link executeRun} recorded: the run as stored, and its schedule's state after it (null when not recorded by this runner). */
export interface ExecutedRun {
    run: RunRecord;
    state: JobState | null;
    /** `stale`: the store said another runner reaped or took the run over; this result was not recorded. */
    outcome: 'completed' | 'stale';
}
/**
 * Runs a claimed slot's handler and records its outcome: renews the lease while it runs and
 * until its result is recorded, aborts `ctx.signal` on timeout / shutdown / a lost lease / a
 * `cancelOther` request, completes with the fencing token, and calls `onFailure` when the
 * failure streak reaches `failuresBeforeAlert`.
 *
 * A handler that ignores its signal cannot be killed (JavaScript has no way to), so its run
 * keeps its lease — and the caller's capacity — until it settles, and is then recorded
 * `timed_out` (or `interrupted`). A result is never thrown away while this process lives: the
 * completion is retried with backoff through store outages until it lands or the store says
 * another runner took the run over (`stale`).
 */
export declare function executeRun(input: ExecuteRunInput): Promise<ExecutedRun>;
/**
 * Calls `onFailure` for interrupted runs a store handed to this runner (by `reapExpired` or a
 * claim's `reaped`) — each is handed to exactly one caller, so exactly one runner alerts on it.
 * `jobOf` finds the job of a code (undefined: not this deployment's job; nothing to call).
 */
export declare function alertInterrupted(reaped: readonly ReapedRun[], jobOf: (code: string) => Job | undefined, logger: Logger): Promise<void>;
/**
 * Reaping as every runner does it: marks expired runs `interrupted` in the store, then alerts on
 * the ones handed to this runner ({@link alertInterrupted}). Returns them (runners re-plan their schedules).
 */
export declare function reapInterrupted(store: Store, now: Date, jobOf: (code: string) => Job | undefined, logger: Logger): Promise<ReapedRun[]>;
/**
 * Text as every store can hold it: NUL bytes (refused by PostgreSQL text and jsonb) and lone
 * UTF-16 surrogates (refused by JSON decoders such as Redis's cjson) become U+FFFD. Applied to
 * handler text before completion, or the store would refuse the run's result and lose the run.
 */
export declare function storable(text: string | null): string | null;
//# sourceMappingURL=run.d.ts.map