import { type Clock } from './clock.js';
import { type Job, type JobInput, type JobRegistry } from './job.js';
import { type Logger } from './logger.js';
import type { CompiledSchedule } from './schedule/engine.js';
import { type JobState, type RunRecord, type Store } from './store.js';
/** Options of {@link runDue}; the daemon takes the same ones. */
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
    /** Most handlers running at once; due schedules beyond it are claimed in later waves. Default 100. */
    maxConcurrentRuns?: number;
}
/** Default of {@link RunDueOptions.maxConcurrentRuns}. */
export declare const DEFAULT_MAX_CONCURRENT_RUNS = 100;
/** What one tick did for one schedule. */
export interface TickResult {
    code: string;
    key: string;
    outcome: 'succeeded' | 'failed' | 'timed_out' | 'interrupted' | 'skipped' | 'waiting' | 'busy' | 'not-due' | 'taken' | 'paused' | 'disabled' | 'unscheduled' | 'ended' | 'would-run' | 'error';
    slotAt: Date | null;
    attempt: number | null;
    run: RunRecord | null;
    /** Why it did not run, or the run's message / error. */
    reason: string | null;
    nextSlotAt: Date | null;
}
/** What one tick did. `ok` is false when any run failed, timed out or was interrupted, or a schedule met an error (`error`: a claim the store kept refusing). */
export interface TickReport {
    startedAt: Date;
    finishedAt: Date;
    results: TickResult[];
    ok: boolean;
}
/** The runner id used when none is configured: `hostname:pid`. */
export declare function defaultRunnerId(): string;
/** Accepts a registry or a list of job inputs. */
export declare function toRegistry(jobs: JobRegistry | readonly JobInput[]): JobRegistry;
/**
 * One tick — what `tickwork run` does and what the daemon does at each instant: reaps
 * expired leases, consumes run-now requests, plans due slots per each schedule's policy
 * (the jobs' own schedules and their runtime schedules), claims them all in one store round
 * trip, runs the claimed handlers (concurrently across schedules, in slot order within one),
 * records every run, and reports per schedule.
 */
export declare function runDue(options: RunDueOptions): Promise<TickReport>;
/** Compiles each distinct (zone, spec) once: thousands of runtime schedules share a few specs. */
export declare class ScheduleCache {
    private readonly defaultTimezone;
    private readonly cache;
    constructor(defaultTimezone: string);
    /** The job's compiled schedule (under an optional override); throws InvalidScheduleError naming the job. */
    compile(job: Job, override: JobState['scheduleOverride']): CompiledSchedule | null;
}
//# sourceMappingURL=executor.d.ts.map