/**
 * The partition of each runtime schedule, stored (issue #23): `tickwork_schedule.part` is core's
 * `partitionOf(code, key)`, indexed with (code, key), so `listSchedules({ partitions })` reads
 * only the rows of those partitions (a daemon with `partitions: true` lists its share, not every
 * schedule). An expand: older releases never read the column and write schedules as before.
 *
 * On PostgreSQL a trigger computes it on every insert (older releases' upsert function included)
 * and the column is NOT NULL. On SQLite (no trigger can compute it: SQLite takes no WITH clause
 * inside a trigger) this release writes it with each insert; a row an older release inserted has
 * NULL, and a partitioned listing first fills those in with `SQLITE_FILL_PARTS` (an indexed
 * look-up of NULLs, which finds none once every writer runs this release).
 */
import { Migration } from '@mikro-orm/migrations';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';
import { schedulePartitionsPostgres, SQLITE_FILL_PARTS } from './schedule-partitions-sql.js';

/** Builds the migration class of the stored schedule partitions for `target`. */
export function schedulePartitionsMigration(target: MigrationTarget): typeof Migration {
  const s = `"${target.schema}"`;
  return class Migration20261203080000TickworkSchedulePartitions extends Migration {
    override up(): void {
      const statements =
        target.dialect === 'postgresql'
          ? schedulePartitionsPostgres(s)
          : [
              'ALTER TABLE tickwork_schedule ADD COLUMN part INTEGER',
              SQLITE_FILL_PARTS,
              'CREATE INDEX tickwork_schedule_part_idx ON tickwork_schedule (part, code, key)',
            ];
      for (const sql of statements) this.addSql(sql);
    }

    override down(): void {
      if (target.dialect === 'postgresql') {
        this.addSql(`DROP TRIGGER IF EXISTS tickwork_schedule_part ON ${s}.tickwork_schedule`);
        this.addSql(`DROP FUNCTION IF EXISTS ${s}.tickwork_schedule_part()`);
        this.addSql(`DROP INDEX IF EXISTS ${s}.tickwork_schedule_part_idx`);
        this.addSql(`ALTER TABLE ${s}.tickwork_schedule DROP COLUMN part`);
        this.addSql(`DROP FUNCTION IF EXISTS ${s}.tickwork_partition_of(text, text)`);
      } else {
        this.addSql('DROP INDEX IF EXISTS tickwork_schedule_part_idx');
        this.addSql('ALTER TABLE tickwork_schedule DROP COLUMN part');
      }
    }
  } as unknown as typeof Migration;
}
