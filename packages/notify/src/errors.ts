import { prefixed, TickworkError } from '@tickwork/core';

/** A notifier or `notify()` option is invalid; the message names the field (`webhook.timeout`, `email.smtp.host`). */
export class InvalidNotifyOptionError extends TickworkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(prefixed('notify', message), options);
  }
}

/** A notification could not be delivered after every attempt; `attempts` says how many were made. */
export class DeliveryError extends TickworkError {
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(prefixed('notify', message), options);
  }
}
