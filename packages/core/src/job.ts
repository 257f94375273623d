import { MAX_TIMER_MS, parseDuration, type Duration } from './duration.js';
import { DuplicateJobError, InvalidJobError, UnknownJobError } from './errors.js';
import type { Logger } from './logger.js';
import { closest } from './suggest.js';
import { bindSchedule, hashSeedOf } from './schedule/bind.js';
import { compileSchedule, resolveDstPolicy, type CompiledSchedule } from './schedule/engine.js';
import type { DstPolicy, ScheduleInput } from './schedule/spec.js';
import { OVERLAP_POLICIES, type JobState, type OverlapPolicy, type RunRecord, type RunTrigger } from './store.js';

/** What to do with slots missed while no runner was alive. */
export type MissedRunPolicy = 'latest' | 'skip' | { all: { within: Duration } };

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
  /** The job's (or runtime schedule's) `failuresBeforeAlert`. */
  failuresBeforeAlert: number;
  /** When the streak's first failure ended (`JobState.failingSince`); null only for a state the store no longer keeps. */
  streakStartedAt: Date | null;
  logger: Logger;
}

/**
 * What an `onRecovery` hook receives: a run succeeded after at least one counted failure (failed,
 * timed out, interrupted), or after its schedule's overdue alert ({@link OverdueContext}). Called
 * once, by the runner whose completion of that success landed.
 */
export interface RecoveryContext {
  code: string;
  key: string;
  /** The succeeded run. */
  run: RunRecord;
  /** Failures in the streak this success ended (`consecutiveFailures` before it); 0 when it ended only an overdue episode. */
  failures: number;
  failuresBeforeAlert: number;
  /** When the streak's first failure ended; null when `failures` is 0. */
  streakStartedAt: Date | null;
  /** The overdue alert this success ended, null when none was raised: when it was raised, and the window. */
  overdue: { alertedAt: Date; expectSuccessWithinMs: number | null } | null;
  logger: Logger;
}

/**
 * What an `onOverdue` hook receives: no run of the schedule succeeded within its
 * `expectSuccessWithin` (every runner down, every slot skipped or failed, a pause forgotten).
 * Called once per overdue episode, by the one live runner the store handed it to; the next
 * success calls `onRecovery` with `overdue` set.
 */
export interface OverdueContext {
  code: string;
  key: string;
  expectSuccessWithinMs: number;
  /** When the latest run succeeded; null: none ever did. */
  lastSucceededAt: Date | null;
  /** When the window ran out: `(lastSucceededAt ?? the state's createdAt) + expectSuccessWithinMs`. */
  overdueSince: Date;
  /** When this runner claimed the alert (the store's `overdueAlertedAt`). */
  alertedAt: Date;
  /** The schedule's state as the claim left it. */
  state: JobState;
  logger: Logger;
}

/** Options of a job; names follow django-cron / celery-beat where they have one. */
export interface JobOptions {
  /**
   * Let a new slot start while a previous run still holds the lease [ALLOW_PARALLEL_RUNS]; `true` is
   * `overlapPolicy: 'allowAll'`. Default false.
   */
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
  /**
   * Called once when a run succeeds after ≥ 1 counted failure or an overdue alert (see
   * {@link RecoveryContext}); errors are logged, never rethrown.
   */
  onRecovery?: (ctx: RecoveryContext) => void | Promise<void>;
  /**
   * Dead-man window: alert (`onOverdue`, else the config's) when no run of a schedule succeeded
   * this long — a duration (`'2h'`) or ms, positive. Each runtime schedule keeps its own window
   * unless it sets its own `expectSuccessWithin`.
   */
  expectSuccessWithin?: Duration;
  /** Called once per overdue episode by one live runner (see {@link OverdueContext}); errors are logged, never rethrown. */
  onOverdue?: (ctx: OverdueContext) => void | Promise<void>;
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
  readonly onRecovery: ((ctx: RecoveryContext) => void | Promise<void>) | null;
  readonly onOverdue: ((ctx: OverdueContext) => void | Promise<void>) | null;
  /** Dead-man window in ms; null: none. */
  readonly expectSuccessWithinMs: number | null;
  readonly enabled: boolean;
  readonly startAt: Date | null;
  readonly expiresAt: Date | null;
  readonly missedRunPolicy: 'latest' | 'skip' | { all: { withinMs: number } };
  readonly timezone: string | null;
  readonly jitterMs: number;
  readonly leaseTtlMs: number;
  /** Scheduled runs before the schedule ends; null: no limit. */
  readonly maxRuns: number | null;
  readonly description: string | null;
  /** The job's DST policy as given (null: each schedule's default). */
  readonly dst: DstPolicy | null;
  /** A runtime schedule's effective job (`runtimeJob`): when its definition last changed (`updatedAt`); absent for a job's own schedule. */
  readonly changedAt?: Date;
}

/** Default number of immediate retries of an interrupted slot. */
export const DEFAULT_INTERRUPTED_RETRIES = 1;

/** Default lease length. */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** What a job code may be: letters, digits and `._:-`, starting with a letter or digit, at most 128 characters. */
export const JOB_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const KNOWN_FIELDS = new Set([
  'code',
  'schedule',
  'run',
  'allowParallelRuns',
  'overlapPolicy',
  'retryAfterFailure',
  'interruptedRetries',
  'timeout',
  'failuresBeforeAlert',
  'onFailure',
  'onRecovery',
  'expectSuccessWithin',
  'onOverdue',
  'enabled',
  'startAt',
  'expiresAt',
  'missedRunPolicy',
  'timezone',
  'jitter',
  'leaseTtl',
  'maxRuns',
  'description',
  'dst',
]);

/** Checks a job code; throws InvalidJobError naming `what`. */
export function assertJobCode(code: unknown, what = 'job'): asserts code is string {
  if (typeof code !== 'string' || code.length === 0) {
    throw new InvalidJobError(`${what}: code must be a non-empty string`);
  }
  if (!JOB_CODE_PATTERN.test(code)) {
    throw new InvalidJobError(
      `${what}: code "${code}" may hold only letters, digits and . _ : - (no whitespace), start with a letter or digit, at most 128 characters`,
    );
  }
}

/** Validates a job definition and resolves its options; throws naming the job and the field. */
export function defineJob<Payload = unknown>(definition: JobDefinition<Payload>): Job<Payload> {
  if (definition === null || typeof definition !== 'object') {
    throw new InvalidJobError('defineJob: expected an object with code, schedule and run');
  }
  assertJobCode(definition.code, 'defineJob');
  const code = definition.code;
  const what = (field: string) => `job "${code}": ${field}`;
  for (const key of Object.keys(definition)) {
    if (!KNOWN_FIELDS.has(key)) {
      const suggestion = closest(key, KNOWN_FIELDS);
      throw new InvalidJobError(`${what(key)} is not a known option${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`);
    }
  }
  if (typeof definition.run !== 'function') throw new InvalidJobError(`${what('run')} must be a function`);
  if (definition.schedule === undefined) {
    throw new InvalidJobError(`${what('schedule')} is required (null for a job that runs only on runtime schedules)`);
  }
  if (definition.timezone !== undefined) {
    compileSchedule('* * * * *', { timezone: definition.timezone, what: `job "${code}"` });
  }
  if (definition.dst !== undefined) resolveDstPolicy(definition.dst, false, what('dst'));
  // The seed of `H` and the job's DST policy go into the spec itself: compiled schedules are shared by spec.
  const schedule =
    definition.schedule === null
      ? null
      : bindSchedule(definition.schedule, { hashSeed: hashSeedOf(code, ''), dst: definition.dst ?? null });
  // Validate the schedule now; runners compile it again with the configured default zone.
  if (schedule !== null) {
    compileSchedule(schedule, {
      what: what('schedule'),
      ...(definition.timezone !== undefined ? { timezone: definition.timezone } : {}),
    });
  }

  const startAt = optionalInstant(definition.startAt, what('startAt'));
  const expiresAt = optionalInstant(definition.expiresAt, what('expiresAt'));
  if (startAt && expiresAt && expiresAt.getTime() <= startAt.getTime()) {
    throw new InvalidJobError(`${what('expiresAt')} (${expiresAt.toISOString()}) must be after startAt (${startAt.toISOString()})`);
  }
  const interruptedRetries = definition.interruptedRetries ?? DEFAULT_INTERRUPTED_RETRIES;
  if (typeof interruptedRetries !== 'number' || !Number.isInteger(interruptedRetries) || interruptedRetries < 0) {
    throw new InvalidJobError(`${what('interruptedRetries')} must be an integer ≥ 0, got ${String(definition.interruptedRetries)}`);
  }
  const failuresBeforeAlert = definition.failuresBeforeAlert ?? 1;
  if (!Number.isInteger(failuresBeforeAlert) || failuresBeforeAlert < 1) {
    throw new InvalidJobError(`${what('failuresBeforeAlert')} must be an integer ≥ 1, got ${String(definition.failuresBeforeAlert)}`);
  }
  for (const hook of ['onFailure', 'onRecovery', 'onOverdue'] as const) {
    if (definition[hook] !== undefined && typeof definition[hook] !== 'function')
      throw new InvalidJobError(`${what(hook)} must be a function`);
  }
  const expectSuccessWithinMs =
    definition.expectSuccessWithin === undefined ? null : parseDuration(definition.expectSuccessWithin, what('expectSuccessWithin'));
  for (const flag of ['allowParallelRuns', 'enabled'] as const) {
    const value = definition[flag];
    if (value !== undefined && typeof value !== 'boolean') throw new InvalidJobError(`${what(flag)} must be true or false`);
  }

  const overlapPolicy = resolveOverlapPolicy(definition.overlapPolicy, definition.allowParallelRuns, what);
  return Object.freeze({
    code,
    schedule,
    run: definition.run,
    allowParallelRuns: overlapPolicy === 'allowAll',
    overlapPolicy,
    retryAfterFailureMs:
      definition.retryAfterFailure === undefined ? null : parseDuration(definition.retryAfterFailure, what('retryAfterFailure')),
    interruptedRetries,
    timeoutMs: definition.timeout === undefined ? null : parseDuration(definition.timeout, what('timeout'), InvalidJobError, MAX_TIMER_MS),
    failuresBeforeAlert,
    onFailure: definition.onFailure ?? null,
    onRecovery: definition.onRecovery ?? null,
    onOverdue: definition.onOverdue ?? null,
    expectSuccessWithinMs,
    enabled: definition.enabled ?? true,
    startAt,
    expiresAt,
    missedRunPolicy: resolveMissedRunPolicy(definition.missedRunPolicy, what('missedRunPolicy')),
    timezone: definition.timezone ?? null,
    jitterMs: definition.jitter === undefined ? 0 : parseDuration(definition.jitter, what('jitter')),
    leaseTtlMs:
      definition.leaseTtl === undefined
        ? DEFAULT_LEASE_TTL_MS
        : parseDuration(definition.leaseTtl, what('leaseTtl'), InvalidJobError, MAX_TIMER_MS),
    maxRuns: definition.maxRuns === undefined ? null : checkMaxRuns(definition.maxRuns, what('maxRuns')),
    description: definition.description ?? null,
    dst: definition.dst === undefined ? null : Object.freeze({ ...definition.dst }),
  });
}

/**
 * Class sugar for django-cron users: subclass, set `code` and `schedule`, implement `run`.
 * `registry` / `defineJob` accept instances and turn them into the same {@link Job}.
 */
export abstract class CronJob<Payload = unknown> {
  abstract readonly code: string;
  abstract readonly schedule: ScheduleInput | null;
  abstract run(ctx: RunContext<Payload>): unknown;

  /** The same definition as {@link defineJob} would receive. */
  toJob(): Job<Payload> {
    const definition: Record<string, unknown> = {};
    // Fields (own properties, so a misspelt one is still reported) and methods such as onFailure.
    for (const [key, value] of Object.entries(this)) if (value !== undefined) definition[key] = value;
    for (const key of KNOWN_FIELDS) {
      const value = (this as Record<string, unknown>)[key];
      if (value !== undefined && !(key in definition)) definition[key] = typeof value === 'function' ? value.bind(this) : value;
    }
    definition.run = (ctx: RunContext<Payload>) => this.run(ctx);
    return defineJob(definition as unknown as JobDefinition<Payload>);
  }
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
export function createRegistry(inputs: readonly JobInput[]): JobRegistry {
  if (!Array.isArray(inputs)) throw new InvalidJobError('jobs must be an array');
  const byCode = new Map<string, Job>();
  for (const input of inputs) {
    const job = toJob(input);
    if (byCode.has(job.code)) throw new DuplicateJobError(`job "${job.code}": code is registered twice`);
    byCode.set(job.code, job);
  }
  const jobs = [...byCode.values()];
  return {
    jobs,
    get(code) {
      const job = byCode.get(code);
      if (!job) throw new UnknownJobError(code, [...byCode.keys()]);
      return job;
    },
    has: (code) => byCode.has(code),
    codes: () => [...byCode.keys()],
  };
}

/** Resolves a {@link JobInput} to a {@link Job}. */
export function toJob(input: JobInput): Job {
  if (input instanceof CronJob) return input.toJob();
  if (isDefinedJob(input)) return input;
  return defineJob(input as JobDefinition);
}

/**
 * The compiled schedule a job runs on, given the configured default timezone and an optional
 * override; null for a job without a schedule of its own (`schedule: null`) and no override.
 */
export function jobSchedule(job: Job, defaultTimezone = 'UTC', override: ScheduleInput | null = null): CompiledSchedule | null {
  const input = override ?? job.schedule;
  if (input === null) return null;
  return compileSchedule(input, {
    timezone: job.timezone ?? defaultTimezone,
    what: `job "${job.code}": schedule${override ? ' override' : ''}`,
  });
}

function isDefinedJob(input: JobInput): input is Job {
  return Object.isFrozen(input) && 'leaseTtlMs' in input;
}

/**
 * The overlap policy of `overlapPolicy` and `allowParallelRuns` together (`allowParallelRuns: true`
 * means `allowAll`; with any other policy it is a contradiction); throws `ErrorClass` naming the field.
 */
export function resolveOverlapPolicy(
  policy: unknown,
  allowParallelRuns: unknown,
  what: (field: string) => string,
  ErrorClass: new (message: string) => Error = InvalidJobError,
): OverlapPolicy {
  if (policy !== undefined && !OVERLAP_POLICIES.includes(policy as OverlapPolicy)) {
    const suggestion = typeof policy === 'string' ? closest(policy, new Set(OVERLAP_POLICIES)) : null;
    throw new ErrorClass(
      `${what('overlapPolicy')} must be one of ${OVERLAP_POLICIES.join(', ')}, got ${JSON.stringify(policy) ?? String(policy)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
    );
  }
  if (allowParallelRuns === true && policy !== undefined && policy !== 'allowAll') {
    throw new ErrorClass(
      `${what('overlapPolicy')} '${String(policy)}' contradicts allowParallelRuns: true (which means 'allowAll'); set only one of them`,
    );
  }
  if (allowParallelRuns === true) return 'allowAll';
  return (policy as OverlapPolicy | undefined) ?? 'skip';
}

/** A `maxRuns` value: an integer ≥ 1; throws `ErrorClass` naming `what`. */
export function checkMaxRuns(value: unknown, what: string, ErrorClass: new (message: string) => Error = InvalidJobError): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ErrorClass(
      `${what} must be an integer ≥ 1 (scheduled runs before the schedule ends), got ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}`,
    );
  }
  return value;
}

/** A missed-run policy resolved to milliseconds; throws `ErrorClass` naming `what`. */
export function resolveMissedRunPolicy(
  policy: MissedRunPolicy | undefined,
  what: string,
  ErrorClass: new (message: string) => Error = InvalidJobError,
): Job['missedRunPolicy'] {
  if (policy === undefined || policy === 'latest') return 'latest';
  if (policy === 'skip') return 'skip';
  if (typeof policy === 'object' && policy !== null && 'all' in policy && policy.all && typeof policy.all === 'object') {
    return { all: { withinMs: parseDuration(policy.all.within, `${what}.all.within`, ErrorClass) } };
  }
  throw new ErrorClass(`${what} must be 'latest', 'skip' or { all: { within: duration } }, got ${JSON.stringify(policy)}`);
}

function optionalInstant(value: Date | string | undefined, what: string): Date | null {
  if (value === undefined) return null;
  const date = value instanceof Date ? new Date(value.getTime()) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidJobError(`${what}: "${String(value)}" is not a valid instant`);
  return date;
}
