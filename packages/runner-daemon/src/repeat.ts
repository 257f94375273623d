import { describeThrown, type Logger } from '@tickwork/core';

/** Shortest and longest wait between retries of a failing store call. */
export const BACKOFF_MIN_MS = 250;
export const BACKOFF_MAX_MS = 10_000;

/** Stops a periodic loop: no further round starts; resolves once the round in flight (if any) has settled. */
export type CancelRepeat = () => Promise<void>;

/**
 * Runs `body` every `everyMs` (never overlapping itself; failures are logged and retried next round).
 * Returns its cancel, which the caller awaits before closing what the rounds use (the store).
 */
export function repeatEvery(everyMs: number, body: () => Promise<void>, logger: Logger): CancelRepeat {
  let handle: NodeJS.Timeout | null = null;
  let cancelled = false;
  let inFlight: Promise<void> | null = null;
  const round = () => {
    handle = null;
    inFlight = body()
      .catch((error: unknown) =>
        logger.warn(
          { err: describeThrown(error).message },
          cancelled ? 'periodic store work failed while stopping' : 'periodic store work failed; retrying',
        ),
      )
      .finally(() => {
        inFlight = null;
        if (!cancelled) handle = setTimeout(round, everyMs);
      });
  };
  handle = setTimeout(round, everyMs);
  return () => {
    cancelled = true;
    if (handle) clearTimeout(handle);
    handle = null;
    return inFlight ?? Promise.resolve();
  };
}

/**
 * Resolves once every one of `work` settled, or after `boundMs`, whichever comes first; true when
 * all settled. Rejections count as settled (each part logs its own failure).
 */
export async function settledWithin(work: readonly Promise<unknown>[], boundMs: number): Promise<boolean> {
  if (work.length === 0) return true;
  let timer: NodeJS.Timeout | null = null;
  const bound = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), boundMs);
  });
  const all = Promise.allSettled(work).then(() => true as const);
  try {
    return await Promise.race([all, bound]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Retries `body` with exponential backoff until it succeeds, or rethrows once `stopped()` says so. */
export async function retryUntilStored<T>(
  what: string,
  body: () => Promise<T>,
  options: { logger: Logger; stopped: () => boolean },
): Promise<T> {
  for (let delay = BACKOFF_MIN_MS; ; delay = Math.min(delay * 2, BACKOFF_MAX_MS)) {
    try {
      return await body();
    } catch (error) {
      if (options.stopped()) throw error;
      options.logger.warn({ err: describeThrown(error).message, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
