import { InvalidArgumentError, prefixed, TickworkError } from '@tickwork/core';

/** A daemon option (from `createDaemon` or `config.daemon`) is invalid; the message names the field. */
export class DaemonOptionError extends InvalidArgumentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(prefixed('runner-daemon', message), options);
  }
}

/** The daemon could not start (HTTP port in use, store never reached before stop, …). */
export class DaemonStartError extends TickworkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(prefixed('runner-daemon', message), options);
  }
}
