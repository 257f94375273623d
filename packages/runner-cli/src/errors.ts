import { TickworkError } from '@tickwork/core';

/** The prefix of every message this package writes. */
export const PREFIX = '[tickwork] [runner-cli]';

/** Exit codes of the `tickwork` command (documented in the README). */
export const EXIT = {
  /** Everything ran, or nothing was due. */
  ok: 0,
  /** A job failed, timed out or was interrupted; a doctor check failed. */
  jobFailed: 1,
  /** Bad command line, missing or broken config, unknown job code. */
  usage: 2,
  /** The store could not be reached (or its schema is missing). */
  storeUnavailable: 3,
  /** Interrupted by SIGINT (128 + 2). */
  sigint: 130,
  /** Interrupted by SIGTERM (128 + 15). */
  sigterm: 143,
} as const;

/** A command-line or configuration problem: exit code 2. */
export class CliUsageError extends TickworkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.startsWith('[tickwork]') ? message : `${PREFIX} ${message}`, options);
  }
}

/** The config file could not be found or loaded: exit code 2. */
export class ConfigLoadError extends CliUsageError {}
