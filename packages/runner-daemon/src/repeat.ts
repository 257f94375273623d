import { describeThrown, type Logger } from '@tickwork/core';

/** Shortest and longest wait between retries of a failing store call. */
export const BACKOFF_MIN_MS = 250;
export const BACKOFF_MAX_MS = 10_000;

/** Runs `body` every `everyMs` (never overlapping itself; failures are logged and retried next round). Returns a cancel. */
export function repeatEvery(everyMs: number, body: () => Promise<void>, logger: Logger): () => void {
  let handle: NodeJS.Timeout | null = null;
  let cancelled = false;
  const round = () => {
    body()
      .catch((error: unknown) => logger.warn({ err: describeThrown(error).message }, 'periodic store work failed; retrying'))
      .finally(() => {
        if (!cancelled) handle = setTimeout(round, everyMs);
      });
  };
  handle = setTimeout(round, everyMs);
  return () => {
    cancelled = true;
    if (handle) clearTimeout(handle);
  };
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
