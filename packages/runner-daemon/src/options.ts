import { MAX_PARTITION_TTL_MS, MIN_PARTITION_TTL_MS } from '@tickwork/core/store';
import {
  createRegistry,
  InvalidJobError,
  systemClock,
  type Clock,
  type JobInput,
  type JobRegistry,
  type Logger,
  type RunTracer,
  type StoreInput,
  type TickworkConfig,
} from '@tickwork/core';
import { defaultRunnerId, retentionMs } from '@tickwork/core/runner';
import { DaemonOptionError } from './errors.js';

/** Where the opt-in HTTP endpoint (`/healthz`, `/metrics`) listens. */
export interface DaemonHttpOptions {
  port: number;
  /** Default '127.0.0.1' — health and metrics are for the local agent / scraper unless you say otherwise. */
  host?: string;
}

/** Tuning of a daemon; each may also be set under `config.daemon` (same names). */
export interface DaemonOptions {
  /** Injected time source (tests). Default: the system clock. */
  clock?: Clock;
  /**
   * Correct the clock to the store's (PostgreSQL `now()`, Redis `TIME`; NTP-style, at start and
   * every minute), so daemons on machines whose clocks disagree still claim each slot at the same
   * instant. Default true without an injected `clock`, false with one (a test's fake clock).
   */
  storeClock?: boolean;
  /** Written to every run. Default `config.runnerId`, else `hostname:pid`. */
  runnerId?: string;
  /** Structured logger (pino fits). Default: pino to stdout, or `config.logger`. */
  logger?: Logger;
  /** Most handlers running at once; the daemon never claims more than its free capacity. Default `config.maxConcurrentRuns`, else 100. */
  maxConcurrentRuns?: number;
  /** Polling period for reaping expired leases, run-now requests and (stores without change subscription) state changes. Default 1000. */
  pollIntervalMs?: number;
  /** Claim an instant's slots this long before it, so the store round trip is paid ahead. Default 500. */
  preClaimMs?: number;
  /** On stop, how long running handlers may finish before they are aborted and recorded `interrupted`. Default 30000. */
  shutdownGraceMs?: number;
  /** How long after its instant a `skip`-policy slot may still start. Default core's 60 s. */
  missedGraceMs?: number;
  /** How often finished runs past `config.retention` are pruned. Default 1 hour. */
  pruneIntervalMs?: number;
  /**
   * How often this daemon takes part in the dead-man check (`expectSuccessWithin`): tells the store
   * its windows and raises the alerts the store hands it. Default 30000 (an alert comes at most this
   * long after its window ran out; windows are hours, typically).
   */
  overdueIntervalMs?: number;
  /**
   * Heartbeat TTL of this runner's presence (beats every third of it). Default 3000 on stores whose
   * presence is bound to a connection (PostgreSQL, Redis: a stall never makes the runner dead
   * there, only a closed connection plus this TTL), 10000 on heartbeat-only stores (SQLite: a
   * stall this long does).
   */
  runnerTtlMs?: number;
  /**
   * Partitioned runtime schedules: the daemons sharing a store divide the runtime schedules'
   * 256 partitions among themselves through the store (`leasePartitions`), and each loads only
   * its partitions' runtime schedules; the jobs' own schedules stay on every daemon. Default
   * false: every daemon loads every runtime schedule (as before).
   */
  partitions?: boolean;
  /**
   * Lease TTL of this daemon's partitions (renewed every third of it): a dead daemon's partitions are taken
   * over within it. Default 15000.
   */
  partitionTtlMs?: number;
  /** Serve `/healthz` and `/metrics` here; off by default. */
  http?: DaemonHttpOptions | null;
  /** OpenTelemetry: a span per attempt, the handler inside it (`trace.getTracer('tickwork')`; see core's README). Default: none. */
  tracer?: RunTracer;
  /**
   * Label per-job metrics with the schedule `key` too. Default false: one series per job, however
   * many runtime schedules it has (a key per tenant would grow the scrape with the tenants).
   */
  metricsPerKey?: boolean;
}

/** What a daemon runs: a whole Tickwork config, or its jobs and store directly. */
export type DaemonSource =
  | { config: TickworkConfig }
  | { jobs: readonly JobInput[]; store: StoreInput; timezone?: string; retention?: TickworkConfig['retention'] };

/** Every option resolved and validated. */
export interface ResolvedDaemonOptions {
  registry: JobRegistry;
  store: StoreInput;
  timezone: string;
  retentionMs: number | null;
  clock: Clock;
  storeClock: boolean;
  runnerId: string;
  logger: Logger | null;
  maxConcurrentRuns: number;
  pollIntervalMs: number;
  preClaimMs: number;
  shutdownGraceMs: number;
  missedGraceMs: number | null;
  pruneIntervalMs: number;
  overdueIntervalMs: number;
  /** The config's `onOverdue` (dead-man alerts of jobs without their own hook, this deployment's or not); null: none. */
  onOverdue: NonNullable<TickworkConfig['onOverdue']> | null;
  /** null: core's default for the store's presence kind. */
  runnerTtlMs: number | null;
  http: { port: number; host: string } | null;
  partitions: boolean;
  partitionTtlMs: number;
  metricsPerKey: boolean;
  tracer: RunTracer | null;
}

const OPTION_FIELDS = new Set([
  'clock',
  'storeClock',
  'runnerId',
  'logger',
  'maxConcurrentRuns',
  'pollIntervalMs',
  'preClaimMs',
  'shutdownGraceMs',
  'missedGraceMs',
  'pruneIntervalMs',
  'overdueIntervalMs',
  'runnerTtlMs',
  'partitions',
  'partitionTtlMs',
  'http',
  'metricsPerKey',
  'tracer',
]);
const CONFIG_DAEMON_FIELDS = new Set([...OPTION_FIELDS].filter((field) => field !== 'clock' && field !== 'logger' && field !== 'tracer'));
const SOURCE_FIELDS = new Set(['config', 'jobs', 'store', 'timezone', 'retention']);

/** Validates the arguments of `createDaemon`; throws naming the field, before anything starts. */
export function resolveDaemonOptions(source: DaemonSource & DaemonOptions, extra: DaemonOptions = {}): ResolvedDaemonOptions {
  if (source === null || typeof source !== 'object') {
    throw new DaemonOptionError('createDaemon: expected { config } or { jobs, store }');
  }
  for (const key of Object.keys(source)) {
    if (!SOURCE_FIELDS.has(key) && !OPTION_FIELDS.has(key)) {
      throw new DaemonOptionError(
        `createDaemon: "${key}" is not a known option (known: ${[...SOURCE_FIELDS, ...OPTION_FIELDS].join(', ')})`,
      );
    }
  }
  checkKnown(extra, OPTION_FIELDS, 'createDaemon options');
  const config: TickworkConfig =
    'config' in source && source.config !== undefined
      ? source.config
      : ({ jobs: (source as { jobs: readonly JobInput[] }).jobs, store: (source as { store: StoreInput }).store } as TickworkConfig);
  if (config === null || typeof config !== 'object') throw new DaemonOptionError('config: expected an object with jobs and store');
  const daemonSection = config.daemon ?? {};
  if (daemonSection === null || typeof daemonSection !== 'object') throw new DaemonOptionError('config.daemon: expected an object');
  checkKnown(daemonSection, CONFIG_DAEMON_FIELDS, 'config.daemon');
  const merged: DaemonOptions = { ...(daemonSection as DaemonOptions), ...pick(source), ...extra };

  if (!Array.isArray(config.jobs) || config.jobs.length === 0) {
    throw new DaemonOptionError('config.jobs: the daemon needs at least one job (got none) — add jobs to the config');
  }
  const registry = createRegistry(config.jobs);
  if (registry.jobs.every((job) => !job.enabled)) {
    throw new DaemonOptionError(`config.jobs: every job is disabled (${registry.codes().join(', ')}); nothing to run`);
  }
  if (config.store === undefined || config.store === null) throw new DaemonOptionError('config.store is required');
  const timezone = (('config' in source ? config.timezone : (source as { timezone?: string }).timezone) ?? 'UTC') as string;
  const retentionSource = 'config' in source ? config : { retention: (source as { retention?: TickworkConfig['retention'] }).retention };
  let retention: number | null;
  try {
    retention = retentionMs(retentionSource.retention === undefined ? {} : { retention: retentionSource.retention });
  } catch (error) {
    if (error instanceof InvalidJobError) throw new DaemonOptionError(`config.retention: ${error.message}`, { cause: error });
    throw error;
  }

  const clock = merged.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw new DaemonOptionError('clock: expected an object with now()');
  const runnerId = merged.runnerId ?? config.runnerId ?? defaultRunnerId();
  if (typeof runnerId !== 'string' || runnerId.length === 0) throw new DaemonOptionError('runnerId: expected a non-empty string');

  return {
    registry,
    store: config.store,
    timezone,
    retentionMs: retention,
    clock,
    storeClock: flag(merged.storeClock, 'storeClock', merged.clock === undefined),
    runnerId,
    logger: merged.logger ?? config.logger ?? null,
    maxConcurrentRuns: integer(merged.maxConcurrentRuns ?? config.maxConcurrentRuns, 'maxConcurrentRuns', 100, 1),
    pollIntervalMs: integer(merged.pollIntervalMs, 'pollIntervalMs', 1000, 10),
    preClaimMs: integer(merged.preClaimMs, 'preClaimMs', 500, 0, 60_000),
    shutdownGraceMs: integer(merged.shutdownGraceMs, 'shutdownGraceMs', 30_000, 0),
    missedGraceMs: merged.missedGraceMs === undefined ? null : integer(merged.missedGraceMs, 'missedGraceMs', 0, 1),
    pruneIntervalMs: integer(merged.pruneIntervalMs, 'pruneIntervalMs', 3_600_000, 1000),
    overdueIntervalMs: integer(merged.overdueIntervalMs, 'overdueIntervalMs', 30_000, 100),
    onOverdue: onOverdueOf(config),
    runnerTtlMs: merged.runnerTtlMs === undefined ? null : integer(merged.runnerTtlMs, 'runnerTtlMs', 0, 300, 3_600_000),
    http: resolveHttp(merged.http),
    partitions: flag(merged.partitions, 'partitions', false),
    partitionTtlMs: integer(merged.partitionTtlMs, 'partitionTtlMs', 15_000, MIN_PARTITION_TTL_MS, MAX_PARTITION_TTL_MS),
    metricsPerKey: flag(merged.metricsPerKey, 'metricsPerKey', false),
    tracer: tracerOption(merged.tracer),
  };
}

function pick(source: object): DaemonOptions {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) if (OPTION_FIELDS.has(key) && value !== undefined) options[key] = value;
  return options as DaemonOptions;
}

function checkKnown(value: object, known: Set<string>, what: string): void {
  if (value === null || typeof value !== 'object') throw new DaemonOptionError(`${what}: expected an object`);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new DaemonOptionError(`${what}: "${key}" is not a known option (known: ${[...known].join(', ')})`);
  }
}

// Timers cannot wait longer: Node clamps a larger delay to 1 ms (a "very long" grace would end at once).
const MAX_TIMER_MS = 2_147_483_647;

function integer(value: unknown, field: string, fallback: number, min: number, max = MAX_TIMER_MS): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DaemonOptionError(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function resolveHttp(value: DaemonOptions['http']): { port: number; host: string } | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') throw new DaemonOptionError(`http must be { port, host? }, got ${JSON.stringify(value)}`);
  const { port, host } = value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new DaemonOptionError(`http.port must be an integer 0 … 65535, got ${JSON.stringify(port)}`);
  }
  if (host !== undefined && (typeof host !== 'string' || host.length === 0)) {
    throw new DaemonOptionError(`http.host must be a non-empty string, got ${JSON.stringify(host)}`);
  }
  return { port, host: host ?? '127.0.0.1' };
}

function flag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new DaemonOptionError(`${name}: expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

function onOverdueOf(config: TickworkConfig): NonNullable<TickworkConfig['onOverdue']> | null {
  const hook = config.onOverdue;
  if (hook !== undefined && typeof hook !== 'function') throw new DaemonOptionError('config.onOverdue: expected a function');
  return hook ?? null;
}

/** An OpenTelemetry tracer (anything with `startActiveSpan`), or null. */
function tracerOption(value: unknown): RunTracer | null {
  if (value === undefined || value === null) return null;
  if (typeof (value as RunTracer).startActiveSpan !== 'function') {
    throw new DaemonOptionError(`tracer: expected an OpenTelemetry Tracer (with startActiveSpan), got ${typeof value}`);
  }
  return value as RunTracer;
}
