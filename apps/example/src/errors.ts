import { messagePrefix, prefixed, TickworkError } from '@tickwork/core';

/** `[tickwork] [example]`: the start of every message the example writes. */
export const PREFIX = messagePrefix('example');

/** Base class of the errors the example application throws on purpose. */
export class ExampleError extends TickworkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(prefixed('example', message), options);
  }
}

/** An environment variable has a value the example cannot use; nothing was started. */
export class ExampleSettingsError extends ExampleError {}
