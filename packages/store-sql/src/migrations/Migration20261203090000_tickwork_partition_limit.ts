/**
 * `leasePartitions` with the request's `limit` on PostgreSQL (issue #23's cold start: a daemon that
 * sees other live runners not yet members asks for its share among them). The rule of
 * `tickwork_lease_partitions`, with the share the lower of the fair share and `p_limit`. An expand:
 * a function under a new name, the old one kept for older releases; nothing on SQLite (its
 * transaction is in-process and applies core's rule).
 */
import { Migration } from '@mikro-orm/migrations';
import type { MigrationTarget } from './Migration20261123000000_tickwork_init.js';

/** The function's SQL for the quoted schema `s`. */
export function leasePartitionsLimitedFunction(s: string): string {
  return `CREATE OR REPLACE FUNCTION ${s}.tickwork_lease_partitions_limited(p_runner text, p_now bigint, p_ttl bigint, p_count integer, p_limit integer)
RETURNS TABLE (o_parts integer[], o_tokens bigint[], o_runners integer, o_share integer) LANGUAGE plpgsql AS $fn$
DECLARE
  v_exp bigint := p_now + p_ttl;
  v_runners integer;
  v_share integer;
  v_held integer;
BEGIN
  LOCK TABLE ${s}.tickwork_partition_member IN EXCLUSIVE MODE;
  DELETE FROM ${s}.tickwork_partition_member m WHERE m.runner_id <> p_runner AND m.expires_at <= p_now;
  INSERT INTO ${s}.tickwork_partition_member AS m (runner_id, expires_at) VALUES (p_runner, v_exp)
    ON CONFLICT (runner_id) DO UPDATE SET expires_at = EXCLUDED.expires_at;
  SELECT count(*) INTO v_runners FROM ${s}.tickwork_partition_member m;
  v_share := least(ceil(p_count::numeric / v_runners)::integer, p_limit);
  -- Above the share: the highest-numbered held ones are freed.
  UPDATE ${s}.tickwork_partition t SET runner_id = NULL, expires_at = 0
   WHERE t.part IN (SELECT h.part FROM ${s}.tickwork_partition h WHERE h.runner_id = p_runner ORDER BY h.part OFFSET v_share);
  SELECT count(*) INTO v_held FROM ${s}.tickwork_partition t WHERE t.runner_id = p_runner;
  -- Below it: free or lapsed ones, lowest first, each with the next token.
  UPDATE ${s}.tickwork_partition t SET runner_id = p_runner, token = t.token + 1
   WHERE t.part IN (
     SELECT f.part FROM ${s}.tickwork_partition f
      WHERE (f.runner_id IS NULL OR f.expires_at <= p_now) AND f.runner_id IS DISTINCT FROM p_runner
      ORDER BY f.part LIMIT greatest(v_share - v_held, 0));
  UPDATE ${s}.tickwork_partition t SET expires_at = v_exp WHERE t.runner_id = p_runner;
  RETURN QUERY
    SELECT coalesce(array_agg(t.part ORDER BY t.part), '{}'::integer[]), coalesce(array_agg(t.token ORDER BY t.part), '{}'::bigint[]),
           v_runners, v_share
      FROM ${s}.tickwork_partition t WHERE t.runner_id = p_runner;
END
$fn$`;
}

/** Builds the migration class of the limited lease function for `target`. */
export function partitionLimitMigration(target: MigrationTarget): typeof Migration {
  const s = `"${target.schema}"`;
  return class Migration20261203090000TickworkPartitionLimit extends Migration {
    override up(): void {
      if (target.dialect === 'postgresql') this.addSql(leasePartitionsLimitedFunction(s));
    }

    override down(): void {
      if (target.dialect === 'postgresql')
        this.addSql(`DROP FUNCTION IF EXISTS ${s}.tickwork_lease_partitions_limited(text, bigint, bigint, integer, integer)`);
    }
  } as unknown as typeof Migration;
}
