import { type Clock } from './clock.js';
import { type Duration } from './duration.js';
import { type Job, type JobInput, type JobRegistry, type MissedRunPolicy } from './job.js';
import { type RuntimeSchedule, type RuntimeScheduleInput, type SchedulePage } from './runtime-schedule.js';
import type { DstPolicy, ScheduleInput } from './schedule/spec.js';
import type { JobState, OverlapPolicy, RunRequest, Store } from './store.js';
/**
 * What `schedules(code).upsert()` takes: the schedule and, optionally, a timezone, payload,
 * enabled flag, start/expiry and job options for this schedule alone. An upsert replaces the
 * whole definition (fields left out take their defaults), like BullMQ's `upsertJobScheduler`.
 */
export interface ScheduleDefinition {
    /** Unique within the job: 1 … 200 characters from letters, digits and `. _ : - @ / + = #`. */
    key: string;
    /** A cron expression, or a spec from `every()`, `dailyAt()`, `cron()`, `once()`. */
    schedule: ScheduleInput;
    /** IANA zone for a cron/daily schedule that names none. Default: the job's, else the configured zone. */
    timezone?: string | null;
    /** JSON handed to the handler as `ctx.payload` (at most 64 KiB as JSON). */
    payload?: unknown;
    /** Default true. */
    enabled?: boolean;
    startAt?: Date | string | null;
    expiresAt?: Date | string | null;
    description?: string | null;
    allowParallelRuns?: boolean;
    /** This schedule's overlap policy (default: its job's). */
    overlapPolicy?: OverlapPolicy;
    timeout?: Duration;
    retryAfterFailure?: Duration;
    jitter?: Duration;
    leaseTtl?: Duration;
    missedRunPolicy?: MissedRunPolicy;
    /** This schedule ends after this many scheduled runs (default: its job's `maxRuns`, else no limit). */
    maxRuns?: number;
    /** DST policy of a cron or daily schedule (written into its spec). Default: the job's, else the schedule's kind's. */
    dst?: DstPolicy;
}
/** The runtime schedules of one job. */
export interface JobSchedules {
    /** Creates or replaces one schedule (or several, all or nothing); returns what the store holds. */
    upsert(definition: ScheduleDefinition): Promise<RuntimeSchedule>;
    upsert(definitions: readonly ScheduleDefinition[]): Promise<RuntimeSchedule[]>;
    /** Removes one schedule (true when it existed) or several. Runs already started finish and are logged. */
    remove(key: string): Promise<boolean>;
    remove(keys: readonly string[]): Promise<boolean[]>;
    /** One schedule, or null. */
    get(key: string): Promise<RuntimeSchedule | null>;
    /** A page of this job's schedules, ordered by key. */
    list(query?: {
        cursor?: string;
        limit?: number;
    }): Promise<SchedulePage>;
    /** Pauses one schedule (its state, as `tickwork pause` does for a job); throws when it does not exist. */
    pause(key: string, options?: {
        note?: string | null;
    }): Promise<JobState>;
    /** Resumes one schedule; slots missed while paused are not caught up. */
    resume(key: string): Promise<JobState>;
    /** Files a "run now" request for one schedule. */
    trigger(key: string, options?: {
        requestedBy?: string | null;
    }): Promise<RunRequest>;
}
/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
    jobs: JobRegistry | readonly JobInput[];
    store: Store;
    clock?: Clock;
    /** Default timezone, as configured for the runners. Default 'UTC'. */
    timezone?: string;
}
/** The management API of a host application (what `tickwork schedule …` uses). */
export interface Scheduler {
    /** The runtime schedules of a job defined in code; throws UnknownJobError for an unknown code. */
    schedules(code: string): JobSchedules;
}
/** Creates the management API over a store and the jobs defined in code. */
export declare function createScheduler(options: SchedulerOptions): Scheduler;
/**
 * Validates one definition for `job` and returns what a store persists. Errors name the job,
 * the key and the field; nothing reaches the store before every item passed.
 */
export declare function normaliseSchedule(job: Job, definition: ScheduleDefinition, defaultTimezone: string, index?: string, now?: Date | null): RuntimeScheduleInput;
//# sourceMappingURL=scheduler.d.ts.map