import { EXIT_CODES, messagePrefix, prefixed, UsageError } from '@tickwork/core';

/** The prefix of every message this package writes. */
export const PREFIX = messagePrefix('runner-cli');

/** Exit codes of the `tickwork` command (documented in the README); errors carry theirs (core's `EXIT_CODE`). */
export const EXIT = {
  /** Everything ran, or nothing was due. */
  ok: EXIT_CODES.ok,
  /** A job failed, timed out or was interrupted; a doctor check failed. */
  jobFailed: EXIT_CODES.failed,
  /** Bad command line, missing or broken config, unknown job code. */
  usage: EXIT_CODES.usage,
  /** The store could not be reached (or its schema is missing). */
  storeUnavailable: EXIT_CODES.storeUnavailable,
  /** Interrupted by SIGINT (128 + 2). */
  sigint: 130,
  /** Interrupted by SIGTERM (128 + 15). */
  sigterm: 143,
} as const;

/** A command-line or configuration problem: exit code 2. */
export class CliUsageError extends UsageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(prefixed('runner-cli', message), options);
  }
}

/** The config file could not be found or loaded: exit code 2. */
export class ConfigLoadError extends CliUsageError {}
