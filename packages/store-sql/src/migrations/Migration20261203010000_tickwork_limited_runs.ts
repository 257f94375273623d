/**
 * The fifth migration (issue #18, limited runs `maxRuns`): the state's `scheduled_runs`
 * counter on both dialects, and on PostgreSQL the claim and upsert functions that keep it.
 * An expand (see `names.ts`).
 */
import { Migration } from '@mikro-orm/migrations';
import { PREFIX } from '../errors.js';
import { limitedRunsPostgres } from './limited-runs-postgres.js';
import { limitedRunsSqlite } from './limited-runs-sqlite.js';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of limited runs for `target`. */
export function limitedRunsMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261203010000TickworkLimitedRuns extends Migration {
    override up(): void {
      const statements = target.dialect === 'postgresql' ? limitedRunsPostgres(target.schema) : limitedRunsSqlite();
      for (const sql of statements) this.addSql(sql);
    }

    override down(): void {
      // Not supported: the previous claim function is the exactly-once migration's, and the counter's values would be lost.
      throw new Error(
        `${PREFIX} Migration20261203010000_tickwork_limited_runs cannot be reverted; restore a backup taken before migrating`,
      );
    }
  } as unknown as typeof Migration;
}
