/**
 * Every error Tickwork throws on purpose. Each is a class a host can `instanceof`,
 * carries a `cause` where there is one, and reads `[tickwork] …` naming the job and field.
 */
/** Base class of every Tickwork error. */
export class TickworkError extends Error {
    constructor(message, options) {
        super(message.startsWith('[tickwork]') ? message : `[tickwork] ${message}`, options);
        this.name = new.target.name;
    }
}
/** A schedule (cron expression, interval, daily times, instant, timezone) is invalid. */
export class InvalidScheduleError extends TickworkError {
}
/** A job definition or option is invalid (empty code, unknown option, bad duration, …). */
export class InvalidJobError extends TickworkError {
}
/** Two jobs were registered with the same code. */
export class DuplicateJobError extends TickworkError {
}
/** A job code was named that no registered job has. */
export class UnknownJobError extends TickworkError {
    code;
    knownCodes;
    constructor(code, knownCodes) {
        super(`unknown job code "${code}"; known codes: ${knownCodes.length ? knownCodes.join(', ') : '(none registered)'}`);
        this.code = code;
        this.knownCodes = knownCodes;
    }
}
/** The store could not be reached or failed to answer; the call changed nothing it reports as done. */
export class StoreUnavailableError extends TickworkError {
}
/** The run's lease was taken over (or the run was already finished): its result is refused. */
export class StaleLeaseError extends TickworkError {
}
/** The store's data or schema is not what this version expects (missing migration, wrong type). */
export class StoreSchemaError extends TickworkError {
}
/** A value passed to a store or runner call is invalid (bad key, limit, payload, …). */
export class InvalidArgumentError extends TickworkError {
}
/** Turns anything a handler threw into a readable message and an optional stack. */
export function describeThrown(thrown) {
    if (thrown instanceof Error) {
        return { message: thrown.message || thrown.name, stack: thrown.stack ?? null };
    }
    if (typeof thrown === 'string')
        return { message: thrown, stack: null };
    if (thrown === undefined || thrown === null)
        return { message: `non-Error thrown: ${String(thrown)}`, stack: null };
    try {
        return { message: `non-Error thrown: ${JSON.stringify(thrown)}`, stack: null };
    }
    catch {
        return { message: `non-Error thrown: ${String(thrown)}`, stack: null };
    }
}
//# sourceMappingURL=errors.js.map