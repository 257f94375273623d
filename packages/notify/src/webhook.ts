import { systemClock, type Clock } from '@tickwork/core';
import { HTTP_OPTION_NAMES, postJson, resolveHttpDelivery, type HttpDeliveryOptions } from './http.js';
import type { Notification } from './message.js';
import type { HttpNotifier } from './notifier.js';
import { InvalidNotifyOptionError } from './errors.js';
import { assertOptions, stringOption, urlOption } from './options.js';
import { signatureHeaders } from './signature.js';

/** Options of {@link createWebhookNotifier}. */
export interface WebhookOptions extends HttpDeliveryOptions {
  /** Where to POST the {@link Notification} as JSON; http or https. */
  url: string | URL;
  /** Signs every delivery (HMAC-SHA256, Standard Webhooks headers); `whsec_<base64>` or any string. */
  secret?: string;
  /** The clock of signature timestamps and `Retry-After` dates. Default: the system clock. */
  clock?: Clock;
}

const WEBHOOK_OPTIONS = ['url', 'secret', 'clock', ...HTTP_OPTION_NAMES];

/** A notifier that POSTs each notification as JSON, signed when a `secret` is set, with timeout and retries. */
export function createWebhookNotifier(options: WebhookOptions, what = 'webhook'): HttpNotifier {
  const raw = assertOptions(options, what, WEBHOOK_OPTIONS);
  const url = urlOption(raw.url, `${what}.url`, ['http:', 'https:']);
  const secret = raw.secret === undefined ? null : stringOption(raw.secret, `${what}.secret`);
  if (secret?.startsWith('whsec_') && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
    throw new InvalidNotifyOptionError(`${what}.secret: after "whsec_" a Standard Webhooks secret is base64 (the key's bytes)`);
  }
  const delivery = resolveHttpDelivery(raw, what);
  const clock = (raw.clock as Clock | undefined) ?? systemClock;
  return {
    name: 'webhook',
    send(notification: Notification) {
      const body = JSON.stringify(notification);
      const headers = (now: Date) =>
        secret === null ? { 'webhook-id': notification.id } : signatureHeaders({ id: notification.id, body, secret, now });
      return postJson(url, body, headers, delivery, clock);
    },
  };
}
