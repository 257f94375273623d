import { show } from './show.js';
import { DEFAULT_OVERDUE_LIMIT, MAX_OVERDUE_WINDOWS, type OverdueWindow } from './store.js';

/** `Store.claimOverdue`'s options as every store reads them, defaults filled in. */
export interface CheckedOverdueOptions {
  now: Date;
  windows: readonly OverdueWindow[];
  /** Undefined: every job. */
  codes: readonly string[] | undefined;
  limit: number;
}

/**
 * Checks `claimOverdue`'s options; every store refuses the same input. `fail` throws the store's
 * `InvalidArgumentError` with the message (which names the field), before anything changes.
 */
export function checkOverdueOptions(options: unknown, fail: (message: string) => never): CheckedOverdueOptions {
  if (options === null || typeof options !== 'object') fail(`options must be an object, got ${show(options)}`);
  const { now, windows, codes, limit } = options as { now?: unknown; windows?: unknown; codes?: unknown; limit?: unknown };
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) fail(`now: expected a valid Date, got ${show(now)}`);
  if (windows !== undefined) {
    if (!Array.isArray(windows)) fail(`windows: expected a list, got ${show(windows)}`);
    if (windows.length > MAX_OVERDUE_WINDOWS) fail(`windows holds ${windows.length} items; at most ${MAX_OVERDUE_WINDOWS}`);
    windows.forEach((window: unknown, i) => {
      if (window === null || typeof window !== 'object')
        fail(`windows[${i}]: expected { code, key, expectSuccessWithinMs }, got ${show(window)}`);
      const { code, key, expectSuccessWithinMs: ms } = window as Record<string, unknown>;
      if (typeof code !== 'string' || code.length === 0) fail(`windows[${i}]: code must be a non-empty string, got ${show(code)}`);
      if (typeof key !== 'string') fail(`windows[${i}]: key of job "${code}" must be a string, got ${show(key)}`);
      if (ms !== null && (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 1)) {
        fail(`windows[${i}] (job "${code}" key "${key}"): expectSuccessWithinMs must be an integer ≥ 1 (ms) or null, got ${show(ms)}`);
      }
    });
  }
  if (codes !== undefined && (!Array.isArray(codes) || codes.some((code) => typeof code !== 'string' || code.length === 0))) {
    fail(`codes must be a list of non-empty strings, got ${show(codes)}`);
  }
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    fail(`limit must be an integer from 1 to 1000, got ${show(limit)}`);
  }
  return {
    now: now as Date,
    windows: (windows ?? []) as readonly OverdueWindow[],
    codes: codes as readonly string[] | undefined,
    limit: (limit as number | undefined) ?? DEFAULT_OVERDUE_LIMIT,
  };
}
