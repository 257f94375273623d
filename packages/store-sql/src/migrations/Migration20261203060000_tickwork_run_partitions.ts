/**
 * The run-partitions migration (issue #23): on PostgreSQL the run log becomes a table
 * partitioned by month of `slot_at` (see `run-partitions-postgres.ts`), so retention can drop
 * whole months. An expand: the table keeps its name, columns and every query older releases
 * send, and no function's signature or behaviour changes. On SQLite nothing changes (no
 * partitions there); the migration is recorded all the same, so both dialects share one list.
 */
import { Migration } from '@mikro-orm/migrations';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';
import { runPartitionsPostgres, runPartitionsPostgresDown } from './run-partitions-postgres.js';

/** Builds the migration class of the partitioned run log for `target`. */
export function runPartitionsMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261203060000TickworkRunPartitions extends Migration {
    override up(): void {
      // On SQLite nothing of its own: only its declaration row, which every migration from the fourth on records.
      if (target.dialect === 'postgresql') for (const sql of runPartitionsPostgres(target.schema)) this.addSql(sql);
    }

    override down(): void {
      if (target.dialect === 'postgresql') for (const sql of runPartitionsPostgresDown(target.schema)) this.addSql(sql);
    }
  } as unknown as typeof Migration;
}
