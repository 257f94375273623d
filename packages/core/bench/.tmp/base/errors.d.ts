/**
 * Every error Tickwork throws on purpose. Each is a class a host can `instanceof`,
 * carries a `cause` where there is one, and reads `[tickwork] …` naming the job and field.
 */
/** Base class of every Tickwork error. */
export declare class TickworkError extends Error {
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
/** A schedule (cron expression, interval, daily times, instant, timezone) is invalid. */
export declare class InvalidScheduleError extends TickworkError {
}
/** A job definition or option is invalid (empty code, unknown option, bad duration, …). */
export declare class InvalidJobError extends TickworkError {
}
/** Two jobs were registered with the same code. */
export declare class DuplicateJobError extends TickworkError {
}
/** A job code was named that no registered job has. */
export declare class UnknownJobError extends TickworkError {
    readonly code: string;
    readonly knownCodes: readonly string[];
    constructor(code: string, knownCodes: readonly string[]);
}
/** The store could not be reached or failed to answer; the call changed nothing it reports as done. */
export declare class StoreUnavailableError extends TickworkError {
}
/** The run's lease was taken over (or the run was already finished): its result is refused. */
export declare class StaleLeaseError extends TickworkError {
}
/** The store's data or schema is not what this version expects (missing migration, wrong type). */
export declare class StoreSchemaError extends TickworkError {
}
/** A value passed to a store or runner call is invalid (bad key, limit, payload, …). */
export declare class InvalidArgumentError extends TickworkError {
}
/** Turns anything a handler threw into a readable message and an optional stack. */
export declare function describeThrown(thrown: unknown): {
    message: string;
    stack: string | null;
};
//# sourceMappingURL=errors.d.ts.map