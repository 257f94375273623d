import { InvalidArgumentError } from '../errors.js';
import { show } from '../show.js';
import { OVERLAP_POLICIES, RUN_STATUSES } from '../store.js';
const PREFIX = '[tickwork] [memory-store]';
const TRIGGERS = ['schedule', 'retry', 'manual', 'force'];
const FINAL_STATUSES = ['succeeded', 'failed', 'timed_out', 'interrupted'];
function fail(where, message) {
    throw new InvalidArgumentError(`${PREFIX} ${where}: ${message}`);
}
/** A schedule reference: non-empty string code, string key. */
export function checkRef(ref, where) {
    if (typeof ref !== 'object' || ref === null)
        fail(where, `expected { code, key }, got ${show(ref)}`);
    const { code, key } = ref;
    if (typeof code !== 'string' || code.length === 0)
        fail(where, `code must be a non-empty string, got ${show(code)}`);
    if (typeof key !== 'string')
        fail(where, `key of job "${code}" must be a string ('' for its own schedule), got ${show(key)}`);
}
/** A valid Date. */
export function checkDate(value, where) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime()))
        fail(where, `expected a valid Date, got ${show(value)}`);
}
/** An integer within `min … max`. */
export function checkInteger(value, where, min, max = Number.MAX_SAFE_INTEGER) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(where, `expected an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}, got ${show(value)}`);
    }
}
/** A lease length: a positive finite number of milliseconds. */
export function checkLeaseMs(value, where) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        fail(where, `must be a positive number of milliseconds, got ${show(value)}`);
    }
}
/** A claim trigger. */
export function checkTrigger(value, where) {
    if (!TRIGGERS.includes(value))
        fail(where, `trigger must be one of ${TRIGGERS.join(', ')}, got ${show(value)}`);
}
/** An overlap policy. */
export function checkOverlap(value, where) {
    if (!OVERLAP_POLICIES.includes(value))
        fail(where, `must be one of ${OVERLAP_POLICIES.join(', ')}, got ${show(value)}`);
}
/** A status a run can be completed with. */
export function checkFinalStatus(value, where) {
    if (!FINAL_STATUSES.includes(value)) {
        fail(where, `status must be one of ${FINAL_STATUSES.join(', ')}, got ${show(value)}`);
    }
}
/** A run status filter: one status or a list of them. */
export function checkStatusFilter(value, where) {
    const list = Array.isArray(value) ? value : [value];
    for (const status of list) {
        if (!RUN_STATUSES.includes(status))
            fail(where, `unknown run status ${show(status)}`);
    }
}
/** A list of job codes. */
export function checkCodes(value, where) {
    if (!Array.isArray(value) || value.some((code) => typeof code !== 'string' || code.length === 0)) {
        fail(where, `codes must be a list of non-empty strings, got ${show(value)}`);
    }
}
/** An optional string or null (messages, notes, requestedBy). */
export function checkOptionalText(value, where) {
    if (value !== undefined && value !== null && typeof value !== 'string')
        fail(where, `expected a string or null, got ${show(value)}`);
}
/** A list argument. */
export function checkList(value, where) {
    if (!Array.isArray(value))
        fail(where, `expected a list, got ${show(value)}`);
}
/** Throws the memory store's InvalidArgumentError for a failed check done elsewhere. */
export function invalid(where, message) {
    fail(where, message);
}
//# sourceMappingURL=validate.js.map