/**
 * `completeRuns` on PostgreSQL finds each run by its primary key (issue #22). The completion
 * function's per-run `UPDATE … WHERE id = c.id AND token = c.token AND status = 'running'` names
 * only the first column of the run log's primary key (id, slot_at) and the predicate of the partial
 * index of running runs; on a run log without statistics (a new month's partition before it is
 * analysed, or a server without autovacuum) the planner reads that partial index whole, AND-ed with
 * the key, for every run: a batch of 1,000 completions while 10,000 runs run read it 1,000 times.
 * Now the run's `slot_at` is read by id first and the UPDATE names the whole key. The same function,
 * name, signature and answers (an expand: older releases call it unchanged and get the same
 * results); nothing on SQLite. The function is the shipped one with the two changes below applied,
 * each exactly once.
 * `schema` is a validated schema identifier.
 */
import { Migration } from '@mikro-orm/migrations';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';
import { amended, statement } from './limited-runs-postgres.js';
import { schedulesPostgres } from './schedules-postgres.js';

/** The completion function as the second migration left it (run-partitions recompiled it unchanged). */
export function shippedCompleteRuns(schema: string): string {
  return statement(schedulesPostgres(schema), `CREATE OR REPLACE FUNCTION "${schema}".tickwork_complete_runs(`);
}

/** The completion function of this migration in `schema`. */
export function completeRunsByKey(schema: string): string {
  const s = `"${schema}"`;
  return amended(shippedCompleteRuns(schema), 'tickwork_complete_runs', [
    [`      v_states jsonb;\n`, `      v_states jsonb;\n      v_slot timestamptz;\n`],
    [
      `        UPDATE ${s}.tickwork_run x SET status = c.status, finished_at = c.finished_at,`,
      `        -- The run's partition key first, so the UPDATE below is one probe of the primary key (id, slot_at).
        SELECT x.slot_at INTO v_slot FROM ${s}.tickwork_run x WHERE x.id = c.id;
        UPDATE ${s}.tickwork_run x SET status = c.status, finished_at = c.finished_at,`,
    ],
    [
      `WHERE x.id = c.id AND x.token = c.token AND x.status = 'running' RETURNING x.* INTO r;`,
      `WHERE x.id = c.id AND x.slot_at = v_slot AND x.token = c.token AND x.status = 'running' RETURNING x.* INTO r;`,
    ],
  ]);
}

/** Builds the migration class of the by-key completion for `target`. */
export function completeByKeyMigration(target: MigrationTarget): typeof Migration {
  return class Migration20261203103000TickworkCompleteByKey extends Migration {
    override up(): void {
      if (target.dialect === 'postgresql') this.addSql(completeRunsByKey(target.schema));
    }

    override down(): void {
      if (target.dialect === 'postgresql') this.addSql(shippedCompleteRuns(target.schema));
    }
  } as unknown as typeof Migration;
}
