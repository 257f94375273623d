import { systemClock, type Clock } from './clock.js';
import { MAX_TIMER_MS, parseDuration, type Duration } from './duration.js';
import { InvalidArgumentError } from './errors.js';
import {
  checkMaxRuns,
  resolveMissedRunPolicy,
  resolveOverlapPolicy,
  type Job,
  type JobInput,
  type JobRegistry,
  type MissedRunPolicy,
} from './job.js';
import { toRegistry } from './executor.js';
import { DEFAULT_MISSED_GRACE_MS } from './plan.js';
import {
  assertScheduleKey,
  checkPayload,
  earliest,
  latest,
  MAX_SCHEDULES_PER_CALL,
  type RuntimeSchedule,
  type RuntimeScheduleInput,
  type RuntimeScheduleOptions,
  type SchedulePage,
} from './runtime-schedule.js';
import { bindSchedule, hashSeedOf } from './schedule/bind.js';
import { compileSchedule } from './schedule/engine.js';
import type { DstPolicy, ScheduleInput, ScheduleSpec } from './schedule/spec.js';
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
  /** Dead-man window of this schedule: alert when none of its runs succeeded this long (default: its job's `expectSuccessWithin`). */
  expectSuccessWithin?: Duration;
  /** DST policy of a cron or daily schedule (written into its spec). Default: the job's, else the schedule's kind's. */
  dst?: DstPolicy;
}

const DEFINITION_FIELDS = new Set([
  'key',
  'schedule',
  'timezone',
  'payload',
  'enabled',
  'startAt',
  'expiresAt',
  'description',
  'allowParallelRuns',
  'overlapPolicy',
  'timeout',
  'retryAfterFailure',
  'jitter',
  'leaseTtl',
  'missedRunPolicy',
  'maxRuns',
  'expectSuccessWithin',
  'dst',
]);

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
  list(query?: { cursor?: string; limit?: number }): Promise<SchedulePage>;
  /** Pauses one schedule (its state, as `tickwork pause` does for a job); throws when it does not exist. */
  pause(key: string, options?: { note?: string | null }): Promise<JobState>;
  /** Resumes one schedule; slots missed while paused are not caught up. */
  resume(key: string): Promise<JobState>;
  /** Files a "run now" request for one schedule. */
  trigger(key: string, options?: { requestedBy?: string | null }): Promise<RunRequest>;
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
export function createScheduler(options: SchedulerOptions): Scheduler {
  const registry = toRegistry(options.jobs);
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const timezone = options.timezone ?? 'UTC';
  return {
    schedules(code) {
      const job = registry.get(code);
      const existing = async (key: string, what: string) => {
        assertScheduleKey(key, `job "${code}": ${what}`);
        const [found] = await store.getSchedules([{ code, key }]);
        if (!found) throw new InvalidArgumentError(`job "${code}": ${what}: no runtime schedule with key "${key}"`);
        return found;
      };
      return {
        upsert: (async (input: ScheduleDefinition | readonly ScheduleDefinition[]) => {
          const many = Array.isArray(input);
          const list = many ? (input as readonly ScheduleDefinition[]) : [input as ScheduleDefinition];
          if (list.length === 0) return [];
          if (list.length > MAX_SCHEDULES_PER_CALL) {
            throw new InvalidArgumentError(
              `job "${code}": upsert: ${list.length} schedules in one call; the limit is ${MAX_SCHEDULES_PER_CALL}`,
            );
          }
          const now = clock.now();
          const normalised = list.map((definition, i) => normaliseSchedule(job, definition, timezone, many ? `[${i}]` : '', now));
          const seen = new Set<string>();
          for (const s of normalised) {
            if (seen.has(s.key)) throw new InvalidArgumentError(`job "${code}": upsert: key "${s.key}" appears twice in one call`);
            seen.add(s.key);
          }
          const stored = await store.upsertSchedules(normalised, clock.now());
          return many ? stored : stored[0];
        }) as JobSchedules['upsert'],
        remove: (async (input: string | readonly string[]) => {
          const keys = typeof input === 'string' ? [input] : [...input];
          for (const key of keys) assertScheduleKey(key, `job "${code}": remove`);
          const removed = keys.length === 0 ? [] : await store.removeSchedules(keys.map((key) => ({ code, key })));
          return typeof input === 'string' ? removed[0] : removed;
        }) as JobSchedules['remove'],
        async get(key) {
          assertScheduleKey(key, `job "${code}": get`);
          const [found] = await store.getSchedules([{ code, key }]);
          return found ?? null;
        },
        list: (query = {}) => store.listSchedules({ ...query, code }),
        async pause(key, pauseOptions = {}) {
          await existing(key, 'pause');
          return store.setPaused({ code, key }, true, { note: pauseOptions.note ?? null, now: clock.now() });
        },
        async resume(key) {
          await existing(key, 'resume');
          return store.setPaused({ code, key }, false, { now: clock.now() });
        },
        async trigger(key, triggerOptions = {}) {
          const schedule = await existing(key, 'trigger');
          if (!job.enabled || !schedule.enabled) {
            throw new InvalidArgumentError(
              `job "${code}": trigger: ${job.enabled ? `schedule "${key}"` : 'the job'} is disabled (enabled: false); a run-now request would never run`,
            );
          }
          return store.requestRun({ code, key }, { now: clock.now(), requestedBy: triggerOptions.requestedBy ?? null });
        },
      };
    },
  };
}

/**
 * Validates one definition for `job` and returns what a store persists. Errors name the job,
 * the key and the field; nothing reaches the store before every item passed.
 */
export function normaliseSchedule(
  job: Job,
  definition: ScheduleDefinition,
  defaultTimezone: string,
  index = '',
  now: Date | null = null,
): RuntimeScheduleInput {
  if (definition === null || typeof definition !== 'object') {
    throw new InvalidArgumentError(`job "${job.code}": schedule${index}: expected an object with key and schedule`);
  }
  assertScheduleKey(definition.key, `job "${job.code}": schedule${index}`);
  const what = (field: string) => `job "${job.code}" schedule "${definition.key}": ${field}`;
  for (const field of Object.keys(definition)) {
    if (!DEFINITION_FIELDS.has(field)) {
      throw new InvalidArgumentError(`${what(field)} is not a known field (known: ${[...DEFINITION_FIELDS].join(', ')})`);
    }
  }
  if (definition.schedule === undefined || definition.schedule === null) throw new InvalidArgumentError(`${what('schedule')} is required`);
  const tz = definition.timezone ?? null;
  if (tz !== null && typeof tz !== 'string') throw new InvalidArgumentError(`${what('timezone')} must be a string`);
  let spec: ScheduleSpec =
    typeof definition.schedule === 'string' ? { kind: 'cron', expression: definition.schedule } : definition.schedule;
  if (tz !== null && (spec.kind === 'every' || spec.kind === 'once')) {
    // Absolute-time kinds have no wall clock: a zone here is a mistake (the CLI refuses it too).
    throw new InvalidArgumentError(
      `${what('timezone')} applies to cron and daily schedules only; a "${spec.kind}" schedule is absolute time`,
    );
  }
  if (definition.dst !== undefined) {
    if (spec.kind !== 'cron' && spec.kind !== 'daily') {
      throw new InvalidArgumentError(`${what('dst')} applies to cron and daily schedules only; a "${spec.kind}" schedule is absolute time`);
    }
    if (spec.dst !== undefined)
      throw new InvalidArgumentError(`${what('dst')} is given twice: beside the schedule and in its spec; give it once`);
    spec = { ...spec, dst: definition.dst };
  }
  // `H` is hashed from the job code and this key, written into the stored spec so that every runner reads the same.
  spec = bindSchedule(spec, { hashSeed: hashSeedOf(job.code, definition.key) }) as ScheduleSpec;
  // Throws InvalidScheduleError naming the field for a malformed cron, a bad zone, a bad instant, …; compiled as it will run.
  const compiled = compileSchedule(bindSchedule(spec, { dst: job.dst }), {
    timezone: tz ?? job.timezone ?? defaultTimezone,
    what: what('schedule'),
  });
  if (now && spec.kind === 'cron' && compiled.next(new Date(now.getTime() - DEFAULT_MISSED_GRACE_MS)) === null) {
    // As a one-off in the past: a cron whose years are all behind us would be stored and never run.
    throw new InvalidArgumentError(
      `${what('schedule')}: cron "${spec.expression}" never matches after now (${now.toISOString()}); its year field lies in the past`,
    );
  }
  // A JSON round trip of the spec: what the store will give back.
  const storedSpec = JSON.parse(JSON.stringify(spec)) as ScheduleSpec;
  const enabled = definition.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new InvalidArgumentError(`${what('enabled')} must be true or false`);
  const startAt = instant(definition.startAt, what('startAt'));
  const expiresAt = instant(definition.expiresAt, what('expiresAt'));
  if (startAt && expiresAt && expiresAt.getTime() <= startAt.getTime()) {
    throw new InvalidArgumentError(`${what('expiresAt')} (${expiresAt.toISOString()}) must be after startAt (${startAt.toISOString()})`);
  }
  // The schedule runs within the job's window too: one that can never run is refused, not stored.
  const from = latest(job.startAt, startAt);
  const until = earliest(job.expiresAt, expiresAt);
  if (from && until && until.getTime() <= from.getTime()) {
    throw new InvalidArgumentError(
      `${what('startAt/expiresAt')}: the window ${from.toISOString()} … ${until.toISOString()} (this schedule's within job "${job.code}"'s) is empty`,
    );
  }
  if (now && spec.kind === 'once') {
    // Choice: a one-off in the past is refused rather than run at once or never (within the missed-run grace it still runs).
    const at = Date.parse(spec.at);
    if (at < now.getTime() - DEFAULT_MISSED_GRACE_MS) {
      throw new InvalidArgumentError(
        `${what('schedule')}: once at ${spec.at} is in the past (now ${now.toISOString()}); a one-off schedule must be in the future`,
      );
    }
  }
  const description = definition.description ?? null;
  if (description !== null && typeof description !== 'string') throw new InvalidArgumentError(`${what('description')} must be a string`);
  const options: RuntimeScheduleOptions = {};
  if (definition.allowParallelRuns !== undefined) {
    if (typeof definition.allowParallelRuns !== 'boolean')
      throw new InvalidArgumentError(`${what('allowParallelRuns')} must be true or false`);
    options.allowParallelRuns = definition.allowParallelRuns;
  }
  if (definition.overlapPolicy !== undefined || definition.allowParallelRuns === true) {
    const policy = resolveOverlapPolicy(definition.overlapPolicy, definition.allowParallelRuns, what, InvalidArgumentError);
    if (definition.overlapPolicy !== undefined) options.overlapPolicy = policy;
  }
  const duration = (value: Duration | undefined, field: string, max?: number) =>
    value === undefined ? undefined : parseDuration(value, what(field), InvalidArgumentError, max);
  const timeoutMs = duration(definition.timeout, 'timeout', MAX_TIMER_MS);
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  const retryMs = duration(definition.retryAfterFailure, 'retryAfterFailure');
  if (retryMs !== undefined) options.retryAfterFailureMs = retryMs;
  const jitterMs = duration(definition.jitter, 'jitter');
  if (jitterMs !== undefined) options.jitterMs = jitterMs;
  const leaseMs = duration(definition.leaseTtl, 'leaseTtl', MAX_TIMER_MS);
  if (leaseMs !== undefined) options.leaseTtlMs = leaseMs;
  if (definition.missedRunPolicy !== undefined)
    options.missedRunPolicy = resolveMissedRunPolicy(definition.missedRunPolicy, what('missedRunPolicy'), InvalidArgumentError);
  if (definition.maxRuns !== undefined) options.maxRuns = checkMaxRuns(definition.maxRuns, what('maxRuns'), InvalidArgumentError);
  const windowMs = duration(definition.expectSuccessWithin, 'expectSuccessWithin');
  if (windowMs !== undefined) options.expectSuccessWithinMs = windowMs;
  return {
    code: job.code,
    key: definition.key,
    schedule: storedSpec,
    timezone: tz,
    payload: checkPayload(definition.payload === undefined ? null : definition.payload, `job "${job.code}" schedule "${definition.key}"`),
    enabled,
    startAt,
    expiresAt,
    description,
    options,
  };
}

function instant(value: Date | string | null | undefined, what: string): Date | null {
  if (value === undefined || value === null) return null;
  const date = value instanceof Date ? new Date(value.getTime()) : typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`${what}: ${JSON.stringify(value)} is not a valid instant`);
  return date;
}
