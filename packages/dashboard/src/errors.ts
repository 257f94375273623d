import { EXIT_CODES, exitCodeOf, messagePrefix, prefixed, TickworkError } from '@tickwork/core';

/** Every message of this package starts with this prefix. */
export const PREFIX = messagePrefix('dashboard');

/** An HTTP answer other than success: status, a message for people, and the request field at fault (if one is). */
export class DashboardHttpError extends TickworkError {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(prefixed('dashboard', message), options);
  }
}

/** The token/audit files could not be read or written, or hold something this version cannot read. */
export class AccessStoreError extends TickworkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(prefixed('dashboard', message), options);
  }
}

/**
 * True for bad input: an error carrying the `usage` exit code. Read by the code, not the class, so
 * it holds for a store built on another installed copy of core, whose classes `instanceof` misses.
 */
export function isBadInput(error: unknown): error is Error {
  return exitCodeOf(error) === EXIT_CODES.usage;
}

/** True for an error saying the store cannot serve (the `storeUnavailable` exit code); see {@link isBadInput}. */
export function isStoreDown(error: unknown): error is Error {
  return exitCodeOf(error) === EXIT_CODES.storeUnavailable;
}
