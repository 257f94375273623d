import { parseDuration, type Duration } from './duration.js';
import { InvalidJobError } from './errors.js';
import { compileSchedule } from './schedule/engine.js';
import type { JobInput, OverdueContext } from './job.js';
import type { Logger } from './logger.js';
import type { Store } from './store.js';

/** A store, or a function that creates one (called only by commands that need it: keeps `--help` fast). */
export type StoreInput = Store | (() => Store | Promise<Store>);

/** What a host's `tickwork.config.ts` default-exports; both runners read it. */
export interface TickworkConfig {
  /** The jobs this deployment runs. */
  jobs: readonly JobInput[];
  store: StoreInput;
  /** Default IANA timezone for jobs and schedules that name none. Default 'UTC'. */
  timezone?: string;
  /** How long run logs are kept; pruned automatically by the daemon and by `tickwork prune`. Default '30d'; null keeps all. */
  retention?: Duration | null;
  /** Runner id written to every run; default `hostname:pid`. */
  runnerId?: string;
  /** Structured logger; default: none for the core, the runners bring their own. */
  logger?: Logger;
  /** Most handlers one runner runs at once; it claims no more than its free capacity. */
  maxConcurrentRuns?: number;
  /** Options read by `@tickwork/runner-daemon` (validated there). */
  daemon?: Record<string, unknown>;
  /**
   * Dead-man alerts of jobs without an `onOverdue` of their own — also of jobs this deployment does
   * not define, whose windows another deployment wrote to the shared store: with it set, this
   * deployment's runners take part in every overdue check of the store.
   */
  onOverdue?: (ctx: OverdueContext) => void | Promise<void>;
}

const CONFIG_FIELDS = new Set(['jobs', 'store', 'timezone', 'retention', 'runnerId', 'logger', 'maxConcurrentRuns', 'daemon', 'onOverdue']);

/** Default run-log retention. */
export const DEFAULT_RETENTION = '30d';

/** Checks a config's shape and returns it unchanged (typed); errors name the field. */
export function defineConfig(config: TickworkConfig): TickworkConfig {
  if (config === null || typeof config !== 'object') throw new InvalidJobError('config: expected an object with jobs and store');
  for (const key of Object.keys(config)) {
    if (!CONFIG_FIELDS.has(key))
      throw new InvalidJobError(`config: "${key}" is not a known option (known: ${[...CONFIG_FIELDS].join(', ')})`);
  }
  if (!Array.isArray(config.jobs)) throw new InvalidJobError('config: jobs must be an array of jobs');
  if (config.store === undefined || config.store === null) throw new InvalidJobError('config: store is required');
  if (config.timezone !== undefined) compileSchedule('* * * * *', { timezone: config.timezone, what: 'config' });
  if (config.retention !== undefined && config.retention !== null) parseDuration(config.retention, 'config: retention');
  if (config.maxConcurrentRuns !== undefined && (!Number.isInteger(config.maxConcurrentRuns) || config.maxConcurrentRuns < 1)) {
    throw new InvalidJobError(`config: maxConcurrentRuns must be an integer ≥ 1, got ${String(config.maxConcurrentRuns)}`);
  }
  if (config.onOverdue !== undefined && typeof config.onOverdue !== 'function')
    throw new InvalidJobError('config: onOverdue must be a function');
  return config;
}

/** The store a config names, created on first use. */
export async function resolveStore(input: StoreInput): Promise<Store> {
  return typeof input === 'function' ? await input() : input;
}

/** Retention of a config in milliseconds, or null to keep everything. */
export function retentionMs(config: Pick<TickworkConfig, 'retention'>): number | null {
  if (config.retention === null) return null;
  return parseDuration(config.retention ?? DEFAULT_RETENTION, 'config: retention');
}
