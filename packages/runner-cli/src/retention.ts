/**
 * Retention for deployments without a daemon: `tickwork run` prunes at most once per hour. The
 * "once" is decided in the store (`claimMaintenance`), so every CLI process, on any host, agrees,
 * and nothing shows in the run log.
 */
import type { Clock, Store } from '@tickwork/core';

/** The maintenance task name `tickwork run` claims (daemons prune on their own loop). */
export const RETENTION_TASK = 'retention';

/** How often `tickwork run` prunes at most. */
export const PRUNE_EVERY_MS = 3_600_000;

/** Runs deleted per statement (each batch its own short statement in the SQL stores). */
export const PRUNE_BATCH = 1_000;

/**
 * Prunes finished runs older than `retentionMs` (as the daemon does) if this hour's maintenance
 * claim is won; returns how many were deleted, or null when another runner has pruned within the
 * hour or the store offers no maintenance claims.
 */
export async function pruneHourly(store: Store, clock: Clock, retentionMs: number): Promise<number | null> {
  if (!store.claimMaintenance) return null;
  const now = clock.now();
  if (!(await store.claimMaintenance(RETENTION_TASK, { now, everyMs: PRUNE_EVERY_MS }))) return null;
  return store.pruneRuns({ olderThan: new Date(now.getTime() - retentionMs), batchSize: PRUNE_BATCH });
}
