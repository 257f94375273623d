import { parseDuration } from '@tickwork/core';
import { retentionMs } from '@tickwork/core/runner';
import { CliUsageError } from '../errors.js';
import { formatInstant } from '../output/relative-time.js';
import type { Session } from '../session.js';

/** `tickwork prune`: deletes finished runs older than `--older-than` or the config's retention. */
export async function pruneCommand(session: Session, flags: { olderThan?: string }): Promise<number> {
  const config = await session.config();
  let ageMs: number | null;
  try {
    ageMs = flags.olderThan !== undefined ? parseDuration(flags.olderThan, '--older-than') : retentionMs(config);
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (ageMs === null) {
    session.out('retention is null in the config (keep everything): nothing pruned; pass --older-than to prune anyway\n');
    return 0;
  }
  const store = await session.store();
  const olderThan = new Date(session.clock.now().getTime() - ageMs);
  const deleted = await store.pruneRuns({ olderThan });
  session.out(`deleted ${deleted} finished run${deleted === 1 ? '' : 's'} that ended before ${formatInstant(olderThan)}\n`);
  return 0;
}
