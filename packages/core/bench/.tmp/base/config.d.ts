import { type Duration } from './duration.js';
import type { JobInput } from './job.js';
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
}
/** Default run-log retention. */
export declare const DEFAULT_RETENTION = "30d";
/** Checks a config's shape and returns it unchanged (typed); errors name the field. */
export declare function defineConfig(config: TickworkConfig): TickworkConfig;
/** The store a config names, created on first use. */
export declare function resolveStore(input: StoreInput): Promise<Store>;
/** Retention of a config in milliseconds, or null to keep everything. */
export declare function retentionMs(config: Pick<TickworkConfig, 'retention'>): number | null;
//# sourceMappingURL=config.d.ts.map