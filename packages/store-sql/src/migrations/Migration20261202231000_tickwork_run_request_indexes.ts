/**
 * The seventh migration (issue #19, bounded growth): run-now requests get a per-schedule partial
 * index of the pending ones (taking one schedule's requests scanned every pending request
 * before) and an index of the consumed ones by `consumed_at`, which retention deletes in
 * batches. An expand: older releases run the same statements (they never prune requests).
 */
import { Migration } from '@mikro-orm/migrations';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** Builds the migration class of the run-request indexes for `target`. */
export function runRequestIndexesMigration(target: MigrationTarget): typeof Migration {
  const s = target.dialect === 'postgresql' ? `"${target.schema}".` : '';
  return class Migration20261202231000TickworkRunRequestIndexes extends Migration {
    override up(): void {
      this.addSql(
        `CREATE INDEX tickwork_run_request_schedule_idx ON ${s}tickwork_run_request (code, key, requested_at, id) WHERE consumed_at IS NULL`,
      );
      this.addSql(`CREATE INDEX tickwork_run_request_consumed_idx ON ${s}tickwork_run_request (consumed_at) WHERE consumed_at IS NOT NULL`);
    }

    override down(): void {
      this.addSql(`DROP INDEX IF EXISTS ${s}tickwork_run_request_schedule_idx`);
      this.addSql(`DROP INDEX IF EXISTS ${s}tickwork_run_request_consumed_idx`);
    }
  } as unknown as typeof Migration;
}
