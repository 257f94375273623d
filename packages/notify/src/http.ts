import type { Clock, Duration } from '@tickwork/core';
import { DeliveryError, InvalidNotifyOptionError } from './errors.js';
import { durationOption, functionOption, integerOption } from './options.js';
import { formatMs } from './message.js';

/** Delivery options shared by the webhook and Slack notifiers. */
export interface HttpDeliveryOptions {
  /** Per attempt: give up waiting for an answer after this long. Default 10 s. */
  timeout?: Duration;
  /** Further attempts after the first fails (network error, timeout, 5xx, 408, 429). Default 3; 0 … 10. */
  retries?: number;
  /** Delay before the first retry; doubled each time, with jitter. Default 1 s. */
  backoff?: Duration;
  /** Longest delay between attempts, and the longest `Retry-After` honoured. Default 30 s. */
  maxBackoff?: Duration;
  /** Extra request headers (an `Authorization` for a relay, …). */
  headers?: Record<string, string>;
  /** Waits between attempts; tests inject one that does not sleep. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the jitter; tests inject a fixed one. Default `Math.random`. */
  random?: () => number;
}

/** The names {@link HttpDeliveryOptions} accepts. */
export const HTTP_OPTION_NAMES = ['timeout', 'retries', 'backoff', 'maxBackoff', 'headers', 'sleep', 'random'] as const;

/** {@link HttpDeliveryOptions} checked and resolved to milliseconds. */
export interface HttpDelivery {
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  headers: Record<string, string>;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

/** Checks delivery options; errors name `what.field`. */
export function resolveHttpDelivery(options: Record<string, unknown>, what: string): HttpDelivery {
  const backoffMs = durationOption(options.backoff, `${what}.backoff`, 1_000);
  const maxBackoffMs = durationOption(options.maxBackoff, `${what}.maxBackoff`, 30_000);
  if (maxBackoffMs < backoffMs) {
    throw new InvalidNotifyOptionError(`${what}.maxBackoff (${maxBackoffMs} ms) must not be shorter than backoff (${backoffMs} ms)`);
  }
  const headers = options.headers ?? {};
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new InvalidNotifyOptionError(`${what}.headers must be an object of header names to strings`);
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new InvalidNotifyOptionError(`${what}.headers.${name} must be a string`);
  }
  return {
    timeoutMs: durationOption(options.timeout, `${what}.timeout`, 10_000),
    retries: integerOption(options.retries, `${what}.retries`, 3, 0, 10),
    backoffMs,
    maxBackoffMs,
    headers: headers as Record<string, string>,
    sleep: functionOption(options.sleep, `${what}.sleep`, (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    random: functionOption(options.random, `${what}.random`, Math.random),
  };
}

/**
 * The delay before retry number `retry` (1-based): `backoff · 2^(retry-1)` capped at `maxBackoff`, then
 * "equal jitter" (half fixed, half random) so runners that failed together do not retry together.
 */
export function backoffDelay(retry: number, delivery: Pick<HttpDelivery, 'backoffMs' | 'maxBackoffMs' | 'random'>): number {
  const ceiling = Math.min(delivery.maxBackoffMs, delivery.backoffMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + delivery.random() * (ceiling / 2));
}

/**
 * POSTs a JSON body, retrying network errors, timeouts, 5xx, 408 and 429 (after their
 * `Retry-After` when given); other answers are final. `headersFor` is called per attempt (a
 * signature's timestamp is fresh on each). Resolves with the attempts made; throws
 * {@link DeliveryError} after the last.
 */
export async function postJson(
  url: URL,
  body: string,
  headersFor: (now: Date) => Record<string, string>,
  delivery: HttpDelivery,
  clock: Clock,
): Promise<{ attempts: number; status: number }> {
  const target = url.origin;
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    let retryAfterMs: number | null = null;
    try {
      const response = await fetch(url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(delivery.timeoutMs),
        headers: { ...delivery.headers, 'content-type': 'application/json', 'user-agent': 'tickwork-notify', ...headersFor(clock.now()) },
      });
      const answer = (await response.text().catch(() => '')).slice(0, 200);
      if (response.ok) return { attempts: attempt, status: response.status };
      failure = `${target} answered ${response.status}${answer ? `: ${answer}` : ''}`;
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      if (!retryable) throw new DeliveryError(`${failure} (not retried)`, attempt);
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      failure = isTimeout(error)
        ? `${target} did not answer within ${formatMs(delivery.timeoutMs)}`
        : `${target} could not be reached: ${causeOf(error)}`;
    }
    if (attempt > delivery.retries) {
      throw new DeliveryError(`${failure} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'})`, attempt);
    }
    if (retryAfterMs !== null && retryAfterMs > delivery.maxBackoffMs) {
      throw new DeliveryError(
        `${failure}; it asked to retry after ${formatMs(retryAfterMs)}, longer than maxBackoff (${formatMs(delivery.maxBackoffMs)})`,
        attempt,
      );
    }
    await delivery.sleep(retryAfterMs ?? backoffDelay(attempt, delivery));
  }
}

/** `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (value === null || value.trim() === '') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function causeOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause instanceof Error) return `${cause.message}`;
    return error.message;
  }
  return String(error);
}
