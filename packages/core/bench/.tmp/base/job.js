import { MAX_TIMER_MS, parseDuration } from './duration.js';
import { DuplicateJobError, InvalidJobError, UnknownJobError } from './errors.js';
import { closest } from './suggest.js';
import { bindSchedule, hashSeedOf } from './schedule/bind.js';
import { compileSchedule, resolveDstPolicy } from './schedule/engine.js';
import { OVERLAP_POLICIES } from './store.js';
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
export function assertJobCode(code, what = 'job') {
    if (typeof code !== 'string' || code.length === 0) {
        throw new InvalidJobError(`${what}: code must be a non-empty string`);
    }
    if (!JOB_CODE_PATTERN.test(code)) {
        throw new InvalidJobError(`${what}: code "${code}" may hold only letters, digits and . _ : - (no whitespace), start with a letter or digit, at most 128 characters`);
    }
}
/** Validates a job definition and resolves its options; throws naming the job and the field. */
export function defineJob(definition) {
    if (definition === null || typeof definition !== 'object') {
        throw new InvalidJobError('defineJob: expected an object with code, schedule and run');
    }
    assertJobCode(definition.code, 'defineJob');
    const code = definition.code;
    const what = (field) => `job "${code}": ${field}`;
    for (const key of Object.keys(definition)) {
        if (!KNOWN_FIELDS.has(key)) {
            const suggestion = closest(key, KNOWN_FIELDS);
            throw new InvalidJobError(`${what(key)} is not a known option${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`);
        }
    }
    if (typeof definition.run !== 'function')
        throw new InvalidJobError(`${what('run')} must be a function`);
    if (definition.schedule === undefined) {
        throw new InvalidJobError(`${what('schedule')} is required (null for a job that runs only on runtime schedules)`);
    }
    if (definition.timezone !== undefined) {
        compileSchedule('* * * * *', { timezone: definition.timezone, what: `job "${code}"` });
    }
    if (definition.dst !== undefined)
        resolveDstPolicy(definition.dst, false, what('dst'));
    // The seed of `H` and the job's DST policy go into the spec itself: compiled schedules are shared by spec.
    const schedule = definition.schedule === null ? null : bindSchedule(definition.schedule, { hashSeed: hashSeedOf(code, ''), dst: definition.dst ?? null });
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
    if (definition.onFailure !== undefined && typeof definition.onFailure !== 'function') {
        throw new InvalidJobError(`${what('onFailure')} must be a function`);
    }
    for (const flag of ['allowParallelRuns', 'enabled']) {
        const value = definition[flag];
        if (value !== undefined && typeof value !== 'boolean')
            throw new InvalidJobError(`${what(flag)} must be true or false`);
    }
    const overlapPolicy = resolveOverlapPolicy(definition.overlapPolicy, definition.allowParallelRuns, what);
    return Object.freeze({
        code,
        schedule,
        run: definition.run,
        allowParallelRuns: overlapPolicy === 'allowAll',
        overlapPolicy,
        retryAfterFailureMs: definition.retryAfterFailure === undefined ? null : parseDuration(definition.retryAfterFailure, what('retryAfterFailure')),
        interruptedRetries,
        timeoutMs: definition.timeout === undefined ? null : parseDuration(definition.timeout, what('timeout'), InvalidJobError, MAX_TIMER_MS),
        failuresBeforeAlert,
        onFailure: definition.onFailure ?? null,
        enabled: definition.enabled ?? true,
        startAt,
        expiresAt,
        missedRunPolicy: resolveMissedRunPolicy(definition.missedRunPolicy, what('missedRunPolicy')),
        timezone: definition.timezone ?? null,
        jitterMs: definition.jitter === undefined ? 0 : parseDuration(definition.jitter, what('jitter')),
        leaseTtlMs: definition.leaseTtl === undefined ? DEFAULT_LEASE_TTL_MS : parseDuration(definition.leaseTtl, what('leaseTtl'), InvalidJobError, MAX_TIMER_MS),
        maxRuns: definition.maxRuns === undefined ? null : checkMaxRuns(definition.maxRuns, what('maxRuns')),
        description: definition.description ?? null,
        dst: definition.dst === undefined ? null : Object.freeze({ ...definition.dst }),
    });
}
/**
 * Class sugar for django-cron users: subclass, set `code` and `schedule`, implement `run`.
 * `registry` / `defineJob` accept instances and turn them into the same {@link Job}.
 */
export class CronJob {
    /** The same definition as {@link defineJob} would receive. */
    toJob() {
        const definition = {};
        // Fields (own properties, so a misspelt one is still reported) and methods such as onFailure.
        for (const [key, value] of Object.entries(this))
            if (value !== undefined)
                definition[key] = value;
        for (const key of KNOWN_FIELDS) {
            const value = this[key];
            if (value !== undefined && !(key in definition))
                definition[key] = typeof value === 'function' ? value.bind(this) : value;
        }
        definition.run = (ctx) => this.run(ctx);
        return defineJob(definition);
    }
}
/** Validates and indexes jobs; rejects duplicate codes. */
export function createRegistry(inputs) {
    if (!Array.isArray(inputs))
        throw new InvalidJobError('jobs must be an array');
    const byCode = new Map();
    for (const input of inputs) {
        const job = toJob(input);
        if (byCode.has(job.code))
            throw new DuplicateJobError(`job "${job.code}": code is registered twice`);
        byCode.set(job.code, job);
    }
    const jobs = [...byCode.values()];
    return {
        jobs,
        get(code) {
            const job = byCode.get(code);
            if (!job)
                throw new UnknownJobError(code, [...byCode.keys()]);
            return job;
        },
        has: (code) => byCode.has(code),
        codes: () => [...byCode.keys()],
    };
}
/** Resolves a {@link JobInput} to a {@link Job}. */
export function toJob(input) {
    if (input instanceof CronJob)
        return input.toJob();
    if (isDefinedJob(input))
        return input;
    return defineJob(input);
}
/**
 * The compiled schedule a job runs on, given the configured default timezone and an optional
 * override; null for a job without a schedule of its own (`schedule: null`) and no override.
 */
export function jobSchedule(job, defaultTimezone = 'UTC', override = null) {
    const input = override ?? job.schedule;
    if (input === null)
        return null;
    return compileSchedule(input, {
        timezone: job.timezone ?? defaultTimezone,
        what: `job "${job.code}": schedule${override ? ' override' : ''}`,
    });
}
function isDefinedJob(input) {
    return Object.isFrozen(input) && 'leaseTtlMs' in input;
}
/**
 * The overlap policy of `overlapPolicy` and `allowParallelRuns` together (`allowParallelRuns: true`
 * means `allowAll`; with any other policy it is a contradiction); throws `ErrorClass` naming the field.
 */
export function resolveOverlapPolicy(policy, allowParallelRuns, what, ErrorClass = InvalidJobError) {
    if (policy !== undefined && !OVERLAP_POLICIES.includes(policy)) {
        const suggestion = typeof policy === 'string' ? closest(policy, new Set(OVERLAP_POLICIES)) : null;
        throw new ErrorClass(`${what('overlapPolicy')} must be one of ${OVERLAP_POLICIES.join(', ')}, got ${JSON.stringify(policy) ?? String(policy)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`);
    }
    if (allowParallelRuns === true && policy !== undefined && policy !== 'allowAll') {
        throw new ErrorClass(`${what('overlapPolicy')} '${String(policy)}' contradicts allowParallelRuns: true (which means 'allowAll'); set only one of them`);
    }
    if (allowParallelRuns === true)
        return 'allowAll';
    return policy ?? 'skip';
}
/** A `maxRuns` value: an integer ≥ 1; throws `ErrorClass` naming `what`. */
export function checkMaxRuns(value, what, ErrorClass = InvalidJobError) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
        throw new ErrorClass(`${what} must be an integer ≥ 1 (scheduled runs before the schedule ends), got ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}`);
    }
    return value;
}
/** A missed-run policy resolved to milliseconds; throws `ErrorClass` naming `what`. */
export function resolveMissedRunPolicy(policy, what, ErrorClass = InvalidJobError) {
    if (policy === undefined || policy === 'latest')
        return 'latest';
    if (policy === 'skip')
        return 'skip';
    if (typeof policy === 'object' && policy !== null && 'all' in policy && policy.all && typeof policy.all === 'object') {
        return { all: { withinMs: parseDuration(policy.all.within, `${what}.all.within`, ErrorClass) } };
    }
    throw new ErrorClass(`${what} must be 'latest', 'skip' or { all: { within: duration } }, got ${JSON.stringify(policy)}`);
}
function optionalInstant(value, what) {
    if (value === undefined)
        return null;
    const date = value instanceof Date ? new Date(value.getTime()) : new Date(value);
    if (Number.isNaN(date.getTime()))
        throw new InvalidJobError(`${what}: "${String(value)}" is not a valid instant`);
    return date;
}
//# sourceMappingURL=job.js.map