/**
 * Every error Tickwork throws on purpose. Each is a class a host can `instanceof`,
 * carries a `cause` where there is one, reads `[tickwork] …` naming the job and field, and
 * carries the exit code a command line ends with under a registered symbol.
 */

/**
 * The exit codes a command line ends with (the `tickwork` command's, documented in its README).
 * Every Tickwork error carries the one it maps to under {@link EXIT_CODE}.
 */
export const EXIT_CODES = {
  /** Everything ran, or nothing was due. */
  ok: 0,
  /** A job failed, timed out or was interrupted; anything not listed below. */
  failed: 1,
  /** Bad input: command line, config, job definition, schedule, argument, unknown job code. */
  usage: 2,
  /** The store could not be reached, or its schema is not this version's. */
  storeUnavailable: 3,
} as const;

/**
 * The property under which every Tickwork error carries its exit code. A registered symbol
 * (`Symbol.for`), so it reads the same when two copies of core are installed side by side,
 * where `instanceof` and class identity would not.
 */
export const EXIT_CODE: unique symbol = Symbol.for('@tickwork/core.exitCode') as never;

/**
 * The property under which a store error says which it is: `unavailable` (the store could not be
 * reached or did not answer: a call worth retrying) or `schema` (its data or schema is not this
 * version's: retrying does not help). Both have the exit code `storeUnavailable`; a registered symbol
 * like {@link EXIT_CODE}, so it reads the same across installed copies of core.
 */
export const STORE_FAULT: unique symbol = Symbol.for('@tickwork/core.storeFault') as never;

/** `[tickwork] [pkg]`: the start of every message the package `pkg` writes. */
export function messagePrefix(pkg: string): string {
  return `[tickwork] [${pkg}]`;
}

/** `message` with the package's prefix in front, unless it already starts with a `[tickwork]` prefix. */
export function prefixed(pkg: string, message: string): string {
  return message.startsWith('[tickwork]') ? message : `${messagePrefix(pkg)} ${message}`;
}

/** True for an error any copy of core made (it carries an {@link EXIT_CODE}). */
export function isTickworkError(value: unknown): value is TickworkError {
  return typeof value === 'object' && value !== null && typeof (value as { [EXIT_CODE]?: unknown })[EXIT_CODE] === 'number';
}

/** True for a {@link StoreUnavailableError} of any copy of core: the store could not be reached or did not answer. */
export function isStoreUnavailable(value: unknown): value is Error {
  return storeFaultOf(value) === 'unavailable';
}

/** True for a {@link StoreSchemaError} of any copy of core: the store answered, but its schema is not this version's. */
export function isStoreSchemaError(value: unknown): value is Error {
  return storeFaultOf(value) === 'schema';
}

function storeFaultOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { [STORE_FAULT]?: unknown })[STORE_FAULT] : undefined;
}

/** The exit code a command line ending with `thrown` exits with: the error's {@link EXIT_CODE}, else `failed`. */
export function exitCodeOf(thrown: unknown): number {
  return isTickworkError(thrown) ? thrown[EXIT_CODE] : EXIT_CODES.failed;
}

/** Base class of every Tickwork error. */
export class TickworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.startsWith('[tickwork]') ? message : `[tickwork] ${message}`, options);
    this.name = new.target.name;
  }

  /** The exit code a command line ending with this error exits with (a getter on the prototype: subclasses override it). */
  get [EXIT_CODE](): number {
    return EXIT_CODES.failed;
  }
}

/** Base of the errors that mean bad input (a package's own bad-input errors extend it): exit code `usage`. */
export class UsageError extends TickworkError {
  override get [EXIT_CODE](): number {
    return EXIT_CODES.usage;
  }
}

/** Base of the errors that mean the store cannot serve: exit code `storeUnavailable`. */
export class StoreError extends TickworkError {
  override get [EXIT_CODE](): number {
    return EXIT_CODES.storeUnavailable;
  }
}

/** A schedule (cron expression, interval, daily times, instant, timezone) is invalid. */
export class InvalidScheduleError extends UsageError {}

/** A job definition or option is invalid (empty code, unknown option, bad duration, …). */
export class InvalidJobError extends UsageError {}

/** Two jobs were registered with the same code. */
export class DuplicateJobError extends UsageError {}

/** A job code was named that no registered job has. */
export class UnknownJobError extends UsageError {
  constructor(
    readonly code: string,
    readonly knownCodes: readonly string[],
  ) {
    super(`unknown job code "${code}"; known codes: ${knownCodes.length ? knownCodes.join(', ') : '(none registered)'}`);
  }
}

/** The store could not be reached or failed to answer; the call changed nothing it reports as done. */
export class StoreUnavailableError extends StoreError {
  /** `unavailable`: what {@link isStoreUnavailable} reads. */
  get [STORE_FAULT](): 'unavailable' {
    return 'unavailable';
  }
}

/** The run's lease was taken over (or the run was already finished): its result is refused. */
export class StaleLeaseError extends TickworkError {}

/** The store's data or schema is not what this version expects (missing migration, wrong type). */
export class StoreSchemaError extends StoreError {
  /** `schema`: what {@link isStoreSchemaError} reads. */
  get [STORE_FAULT](): 'schema' {
    return 'schema';
  }
}

/** A value passed to a store or runner call is invalid (bad key, limit, payload, …). */
export class InvalidArgumentError extends UsageError {}

/** Turns anything a handler threw into a readable message and an optional stack. */
export function describeThrown(thrown: unknown): { message: string; stack: string | null } {
  if (thrown instanceof Error) {
    return { message: thrown.message || thrown.name, stack: thrown.stack ?? null };
  }
  if (typeof thrown === 'string') return { message: thrown, stack: null };
  if (thrown === undefined || thrown === null) return { message: `non-Error thrown: ${String(thrown)}`, stack: null };
  try {
    return { message: `non-Error thrown: ${JSON.stringify(thrown)}`, stack: null };
  } catch {
    return { message: `non-Error thrown: ${String(thrown)}`, stack: null };
  }
}
