import { parseDuration } from './duration.js';
import { InvalidJobError } from './errors.js';
import { compileSchedule } from './schedule/engine.js';
const CONFIG_FIELDS = new Set(['jobs', 'store', 'timezone', 'retention', 'runnerId', 'logger', 'maxConcurrentRuns', 'daemon']);
/** Default run-log retention. */
export const DEFAULT_RETENTION = '30d';
/** Checks a config's shape and returns it unchanged (typed); errors name the field. */
export function defineConfig(config) {
    if (config === null || typeof config !== 'object')
        throw new InvalidJobError('config: expected an object with jobs and store');
    for (const key of Object.keys(config)) {
        if (!CONFIG_FIELDS.has(key))
            throw new InvalidJobError(`config: "${key}" is not a known option (known: ${[...CONFIG_FIELDS].join(', ')})`);
    }
    if (!Array.isArray(config.jobs))
        throw new InvalidJobError('config: jobs must be an array of jobs');
    if (config.store === undefined || config.store === null)
        throw new InvalidJobError('config: store is required');
    if (config.timezone !== undefined)
        compileSchedule('* * * * *', { timezone: config.timezone, what: 'config' });
    if (config.retention !== undefined && config.retention !== null)
        parseDuration(config.retention, 'config: retention');
    if (config.maxConcurrentRuns !== undefined && (!Number.isInteger(config.maxConcurrentRuns) || config.maxConcurrentRuns < 1)) {
        throw new InvalidJobError(`config: maxConcurrentRuns must be an integer ≥ 1, got ${String(config.maxConcurrentRuns)}`);
    }
    return config;
}
/** The store a config names, created on first use. */
export async function resolveStore(input) {
    return typeof input === 'function' ? await input() : input;
}
/** Retention of a config in milliseconds, or null to keep everything. */
export function retentionMs(config) {
    if (config.retention === null)
        return null;
    return parseDuration(config.retention ?? DEFAULT_RETENTION, 'config: retention');
}
//# sourceMappingURL=config.js.map