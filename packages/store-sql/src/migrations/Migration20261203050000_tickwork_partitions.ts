/**
 * Partition leases (issue #23, partitioned schedules): one row per partition (its owner, the
 * owner's lease expiry and its fencing token), filled with every partition free, and the members
 * of the partitioning with their expiry. An expand migration: older releases never read them.
 */
import { Migration } from '@mikro-orm/migrations';
import { PARTITION_COUNT } from '@tickwork/core/store';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of the partition tables for `target`. */
export function partitionsMigration(target: MigrationTarget): typeof Migration {
  const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
  return class Migration20261203050000TickworkPartitions extends Migration {
    override up(): void {
      this.addSql(
        `CREATE TABLE ${s}tickwork_partition (part INTEGER PRIMARY KEY, runner_id VARCHAR(200) NULL, expires_at BIGINT NOT NULL, token BIGINT NOT NULL)`,
      );
      this.addSql(`CREATE TABLE ${s}tickwork_partition_member (runner_id VARCHAR(200) PRIMARY KEY, expires_at BIGINT NOT NULL)`);
      const rows = Array.from({ length: PARTITION_COUNT }, (_, i) => `(${i}, NULL, 0, 0)`).join(', ');
      this.addSql(`INSERT INTO ${s}tickwork_partition (part, runner_id, expires_at, token) VALUES ${rows}`);
    }

    override down(): void {
      this.addSql(`DROP TABLE IF EXISTS ${s}tickwork_partition_member`);
      this.addSql(`DROP TABLE IF EXISTS ${s}tickwork_partition`);
    }
  } as unknown as typeof Migration;
}
