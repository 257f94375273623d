import { messagePrefix, prefixed, TickworkError } from '@tickwork/core';

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
