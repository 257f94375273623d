import { type Duration } from './duration.js';
import type { Logger } from './logger.js';
import { type CompiledSchedule } from './schedule/engine.js';
import type { DstPolicy, ScheduleInput } from './schedule/spec.js';
import { type OverlapPolicy, type RunRecord, type RunTrigger } from './store.js';
/** What to do with slots missed while no runner was alive. */
export type MissedRunPolicy = 'latest' | 'skip' | {
    all: {
        within: Duration;
    };
};
/** What a handler receives. */
export interface RunContext<Payload = unknown> {
    code: string;
    /** `''` for the code-defined schedule, else the runtime schedule's key. */
    key: string;
    /** The scheduled instant this run belongs to. */
    slot: Date;
    /** 1 for the first attempt at this slot. */
    attempt: number;
    trigger: RunTrigger;
    runId: string;
    runnerId: string;
    /**
     * The run's fencing token: strictly increasing per schedule. Pass it to the systems the
     * handler writes to and have them refuse a lower one than they saw, so a run whose lease was
     * taken over cannot overwrite its successor's effects.
     */
    fencingToken: number;
    /** Aborted on timeout, on shutdown, when the lease is lost, and by `cancelOther`; pass it to fetch, database calls, … */
    signal: AbortSignal;
    logger: Logger;
    /** The runtime schedule's JSON payload (undefined for the code-defined schedule). */
    payload: Payload | undefined;
    /** Attaches a message to the run log (the last call wins). */
    report(message: string): void;
}
/** What an `onFailure` hook receives once consecutive failures reach `failuresBeforeAlert`. */
export interface FailureContext {
    code: string;
    key: string;
    run: RunRecord;
    consecutiveFailures: number;
    logger: Logger;
}
/** Options of a job; names follow django-cron / celery-beat where they have one. */
export interface JobOptions {
    /** Let a new slot start while a previous run still holds the lease [ALLOW_PARALLEL_RUNS]; `true` is `overlapPolicy: 'allowAll'`. Default false. */
    allowParallelRuns?: boolean;
    /**
     * What a slot does when the previous run still holds the lease, judged at the slot's instant:
     * `skip` (default; logged `skipped`), `bufferOne`, `bufferAll`, `cancelOther` or `allowAll`
     * (Temporal's names). Backfill slots and retries always wait instead.
     */
    overlapPolicy?: OverlapPolicy;
    /** After a failed/timed-out/interrupted run, retry the slot after this long [retry_after_failure_mins]. */
    retryAfterFailure?: Duration;
    /**
     * How many times a slot whose run was interrupted (its runner died or was stopped) is
     * retried at once by any live runner, before `retryAfterFailure` applies. Default 1; 0 disables.
     */
    interruptedRetries?: number;
    /** Abort the handler's signal and record `timed_out` after this long. */
    timeout?: Duration;
    /** Call `onFailure` once this many consecutive failures happened [MIN_NUM_FAILURES]. Default 1. */
    failuresBeforeAlert?: number;
    /** Failure hook (e-mail, Sentry, Slack); its own errors are logged, never rethrown. */
    onFailure?: (ctx: FailureContext) => void | Promise<void>;
    /** A disabled job is registered (listed) but never claimed. Default true. */
    enabled?: boolean;
    /** No slot before this instant [start_time]. */
    startAt?: Date | string;
    /** No slot after this instant [expires]. */
    expiresAt?: Date | string;
    /** Slots missed while no runner was alive: `latest` (default), `skip`, or `{ all: { within } }`. */
    missedRunPolicy?: MissedRunPolicy;
    /** IANA timezone for schedules that name none. Default: the configured zone, else UTC. */
    timezone?: string;
    /** Spread starts by a deterministic per-slot delay of up to this long (thundering herds). */
    jitter?: Duration;
    /**
     * What the job's cron and daily schedules (its own and its runtime ones) do with local times a
     * DST change skips or repeats, where a schedule names no policy of its own. See {@link DstPolicy}.
     */
    dst?: DstPolicy;
    /** Lease length; renewed while the handler runs. Default 30 s. */
    leaseTtl?: Duration;
    /**
     * The schedule ends after this many scheduled runs (BullMQ `limit`, Temporal `limitedActions`,
     * croner `maxRuns`), an integer ≥ 1; each of the job's runtime schedules counts its own unless it
     * sets its own limit. Retries, run-now requests and forced runs neither count nor are refused.
     */
    maxRuns?: number;
    /** A line for listings. */
    description?: string;
}
/** A job as written by its author. */
export interface JobDefinition<Payload = unknown> extends JobOptions {
    /** Stable unique code [django-cron's code]: letters, digits and `._:-`, no whitespace. */
    code: string;
    /**
     * The job's own schedule, or `null` for a job that runs only on its runtime schedules
     * (`scheduler.schedules(code).upsert(…)`) and run-now requests.
     */
    schedule: ScheduleInput | null;
    run: (ctx: RunContext<Payload>) => unknown;
}
/** A validated job with every option resolved. */
export interface Job<Payload = unknown> {
    readonly code: string;
    /** Null: no schedule of its own (runtime schedules and run-now requests only). */
    readonly schedule: ScheduleInput | null;
    readonly run: (ctx: RunContext<Payload>) => unknown;
    /** True exactly when `overlapPolicy` is `allowAll`. */
    readonly allowParallelRuns: boolean;
    readonly overlapPolicy: OverlapPolicy;
    readonly retryAfterFailureMs: number | null;
    readonly interruptedRetries: number;
    readonly timeoutMs: number | null;
    readonly failuresBeforeAlert: number;
    readonly onFailure: ((ctx: FailureContext) => void | Promise<void>) | null;
    readonly enabled: boolean;
    readonly startAt: Date | null;
    readonly expiresAt: Date | null;
    readonly missedRunPolicy: 'latest' | 'skip' | {
        all: {
            withinMs: number;
        };
    };
    readonly timezone: string | null;
    readonly jitterMs: number;
    readonly leaseTtlMs: number;
    /** Scheduled runs before the schedule ends; null: no limit. */
    readonly maxRuns: number | null;
    readonly description: string | null;
    /** The job's DST policy as given (null: each schedule's default). */
    readonly dst: DstPolicy | null;
}
/** Default number of immediate retries of an interrupted slot. */
export declare const DEFAULT_INTERRUPTED_RETRIES = 1;
/** Default lease length. */
export declare const DEFAULT_LEASE_TTL_MS = 30000;
/** What a job code may be: letters, digits and `._:-`, starting with a letter or digit, at most 128 characters. */
export declare const JOB_CODE_PATTERN: RegExp;
/** Checks a job code; throws InvalidJobError naming `what`. */
export declare function assertJobCode(code: unknown, what?: string): asserts code is string;
/** Validates a job definition and resolves its options; throws naming the job and the field. */
export declare function defineJob<Payload = unknown>(definition: JobDefinition<Payload>): Job<Payload>;
/**
 * Class sugar for django-cron users: subclass, set `code` and `schedule`, implement `run`.
 * `registry` / `defineJob` accept instances and turn them into the same {@link Job}.
 */
export declare abstract class CronJob<Payload = unknown> {
    abstract readonly code: string;
    abstract readonly schedule: ScheduleInput | null;
    abstract run(ctx: RunContext<Payload>): unknown;
    /** The same definition as {@link defineJob} would receive. */
    toJob(): Job<Payload>;
}
/** Anything a registry accepts: a defined job, a definition, or a {@link CronJob} instance. */
export type JobInput = Job<any> | JobDefinition<any> | CronJob<any>;
/** The set of jobs a runner knows, by code. */
export interface JobRegistry {
    /** Jobs in registration order. */
    readonly jobs: readonly Job[];
    /** The job with this code; throws UnknownJobError listing the known codes. */
    get(code: string): Job;
    has(code: string): boolean;
    codes(): string[];
}
/** Validates and indexes jobs; rejects duplicate codes. */
export declare function createRegistry(inputs: readonly JobInput[]): JobRegistry;
/** Resolves a {@link JobInput} to a {@link Job}. */
export declare function toJob(input: JobInput): Job;
/**
 * The compiled schedule a job runs on, given the configured default timezone and an optional
 * override; null for a job without a schedule of its own (`schedule: null`) and no override.
 */
export declare function jobSchedule(job: Job, defaultTimezone?: string, override?: ScheduleInput | null): CompiledSchedule | null;
/**
 * The overlap policy of `overlapPolicy` and `allowParallelRuns` together (`allowParallelRuns: true`
 * means `allowAll`; with any other policy it is a contradiction); throws `ErrorClass` naming the field.
 */
export declare function resolveOverlapPolicy(policy: unknown, allowParallelRuns: unknown, what: (field: string) => string, ErrorClass?: new (message: string) => Error): OverlapPolicy;
/** A `maxRuns` value: an integer ≥ 1; throws `ErrorClass` naming `what`. */
export declare function checkMaxRuns(value: unknown, what: string, ErrorClass?: new (message: string) => Error): number;
/** A missed-run policy resolved to milliseconds; throws `ErrorClass` naming `what`. */
export declare function resolveMissedRunPolicy(policy: MissedRunPolicy | undefined, what: string, ErrorClass?: new (message: string) => Error): Job['missedRunPolicy'];
//# sourceMappingURL=job.d.ts.map