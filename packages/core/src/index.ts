/**
 * `@tickwork/core`: what a host application uses — defining jobs and schedules, the config, one
 * tick (`runDue`), the scheduler for runtime schedules, the memory store, clocks, loggers and the
 * errors. Store authors also import `@tickwork/core/store`, runner authors
 * `@tickwork/core/runner` and `@tickwork/core/schedule` (the list is in core's README).
 */

// Jobs
export {
  /** Validates a job definition and resolves its options; throws naming the job and the field. */
  defineJob,
  /** Validates and indexes jobs; rejects duplicate codes. */
  createRegistry,
  /** A validated job with every option resolved. */
  type Job,
  /** A job as written by its author. */
  type JobDefinition,
  /** Options of a job; names follow django-cron / celery-beat where they have one. */
  type JobOptions,
  /** Anything a registry accepts: a defined job, a definition, or a `CronJob` instance. */
  type JobInput,
  /** The set of jobs a runner knows, by code. */
  type JobRegistry,
  /** What a handler receives: slot, attempt, signal, logger, payload, `report`. */
  type RunContext,
  /** What an `onFailure` hook receives once consecutive failures reach `failuresBeforeAlert`. */
  type FailureContext,
  /** What an `onRecovery` hook receives: a success after ≥ 1 counted failure or an overdue alert. */
  type RecoveryContext,
  /** What an `onOverdue` hook receives: no run succeeded within `expectSuccessWithin`. */
  type OverdueContext,
  /** What to do with slots missed while no runner was alive: `latest`, `skip` or `{ all: { within } }`. */
  type MissedRunPolicy,
} from './job.js';
/** What a claim does when another run of its schedule holds a live lease (Temporal's names). */
export type { OverlapPolicy } from './store.js';

// Schedules
export {
  /** Every `interval` of absolute time ("5m", `{ minutes: 5 }`), aligned to the epoch or `anchor`. */
  every,
  /** At the given local times every day, or on the given weekdays / month days. */
  dailyAt,
  /** A cron expression (5 fields, 6 with seconds, 7 with seconds and year). */
  cron,
  /** Once, at `instant`. */
  once,
  /** What a job's `schedule` option accepts: a spec from a builder, or a cron expression string. */
  type ScheduleInput,
  /** A schedule as plain JSON, so a store can persist it. */
  type ScheduleSpec,
  /** The spec `every` builds. */
  type EverySpec,
  /** The spec `dailyAt` builds. */
  type DailySpec,
  /** The spec `cron` builds. */
  type CronSpec,
  /** The spec `once` builds. */
  type OnceSpec,
  /** Options of `dailyAt`. */
  type DailyOptions,
  /** Options of `cron`. */
  type CronOptions,
  /** A weekday as a number (0 = Sunday … 6 = Saturday, 7 = Sunday) or a name. */
  type Weekday,
  /** What a wall-clock schedule does with local times a DST change skips or repeats. */
  type DstPolicy,
} from './schedule/spec.js';

// Configuration
export {
  /** Checks a config's shape and returns it unchanged (typed); errors name the field. */
  defineConfig,
  /** What a host's `tickwork.config.ts` default-exports; both runners read it. */
  type TickworkConfig,
  /** A store, or a function that creates one. */
  type StoreInput,
} from './config.js';

// One tick
export {
  /** One tick: what `tickwork run` does, and what the daemon does at each instant. */
  runDue,
  /** Options of `runDue`; the daemon takes the same ones. */
  type RunDueOptions,
  /** What one tick did. */
  type TickReport,
  /** What one tick did for one schedule. */
  type TickResult,
} from './executor.js';
export type {
  /** The slice of an OpenTelemetry `Tracer` the runners' `tracer` option takes (`trace.getTracer('tickwork')`). */
  RunTracer,
  /** The slice of an OpenTelemetry `Span` core calls on a run's span. */
  RunSpan,
  /** What a span attribute may hold. */
  SpanAttributeValue,
} from './tracing.js';

// Runtime schedules
export {
  /** Creates the management API over a store and the jobs defined in code. */
  createScheduler,
  /** The management API of a host application (what `tickwork schedule …` uses). */
  type Scheduler,
  /** Options of `createScheduler`. */
  type SchedulerOptions,
  /** The runtime schedules of one job. */
  type JobSchedules,
  /** What `schedules(code).upsert()` takes. */
  type ScheduleDefinition,
} from './scheduler.js';
export type {
  /** A runtime schedule as a store returns it. */
  RuntimeSchedule,
  /** Job options a runtime schedule may set for itself. */
  RuntimeScheduleOptions,
  /** A JSON value, as a payload must be. */
  JsonValue,
} from './runtime-schedule.js';
/** The key of a job's own, code-defined schedule. */
export { DEFAULT_SCHEDULE_KEY } from './store.js';

// Stores (the whole contract is in `@tickwork/core/store`)
export type {
  /** The store every runner shares. */
  Store,
  /** One schedule of one job: its code and key. */
  ScheduleRef,
  /** Runtime state of one schedule, kept in the store beside the logs. */
  JobState,
  /** One run: one attempt at one slot. */
  RunRecord,
  /** Status of one run. */
  RunStatus,
  /** Why a slot did not run. */
  SkipReason,
} from './store.js';
export {
  /** The reference store: complete, in-process, no persistence. */
  createMemoryStore,
  /** Options of `createMemoryStore`. */
  type MemoryStoreOptions,
  /** Creates the data behind memory stores, to share it between several. */
  createMemoryBackend,
  /** The shared data behind one or more memory stores (one "server"). */
  type MemoryBackend,
} from './memory-store.js';

// Clocks, logging, durations
export {
  /** Where every "what time is it" in Tickwork comes from. */
  type Clock,
  /** The real clock. */
  systemClock,
  /** A clock that only moves when told to: for tests and simulations. */
  type FakeClock,
  /** Creates a `FakeClock` starting at `start`. */
  createFakeClock,
} from './clock.js';
export {
  /** The structured logger Tickwork writes to; pino, console and most loggers fit it. */
  type Logger,
  /** A logger that drops everything. */
  silentLogger,
} from './logger.js';
export {
  /** A length of time: milliseconds, a string like "90s" or "1h30m", or an object. */
  type Duration,
  /** Parses a `Duration` to milliseconds; `what` names the field in the error. */
  parseDuration,
} from './duration.js';

// Errors
export {
  /** Base class of every Tickwork error. */
  TickworkError,
  /** Base of the errors that mean bad input: exit code `usage`. */
  UsageError,
  /** Base of the errors that mean the store cannot serve: exit code `storeUnavailable`. */
  StoreError,
  /** A schedule (cron expression, interval, daily times, instant, timezone) is invalid. */
  InvalidScheduleError,
  /** A job definition or option is invalid. */
  InvalidJobError,
  /** Two jobs were registered with the same code. */
  DuplicateJobError,
  /** A job code was named that no registered job has. */
  UnknownJobError,
  /** A value passed to a store or runner call is invalid. */
  InvalidArgumentError,
  /** The store could not be reached or failed to answer. */
  StoreUnavailableError,
  /** The store's data or schema is not what this version expects. */
  StoreSchemaError,
  /** The run's lease was taken over (or the run was already finished): its result is refused. */
  StaleLeaseError,
  /** True for an error any copy of core made. */
  isTickworkError,
  /** Turns anything a handler threw into a readable message and an optional stack. */
  describeThrown,
  /** The exit codes a command line ends with. */
  EXIT_CODES,
  /** The registered symbol under which every Tickwork error carries its exit code. */
  EXIT_CODE,
  /** The exit code a command line ending with `thrown` exits with. */
  exitCodeOf,
  /** The registered symbol under which a store error says whether it is an outage or a schema error. */
  STORE_FAULT,
  /** True for a `StoreUnavailableError` of any installed copy of core: worth retrying. */
  isStoreUnavailable,
  /** True for a `StoreSchemaError` of any installed copy of core. */
  isStoreSchemaError,
  /** `[tickwork] [pkg]`: the start of every message the package `pkg` writes. */
  messagePrefix,
  /** `message` with the package's prefix in front, unless it already has one. */
  prefixed,
} from './errors.js';
