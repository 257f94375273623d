/**
 * completeRuns on PostgreSQL finds each run by its primary key (issue #22, migration
 * Migration20261203103000_tickwork_complete_by_key): on a run log without statistics (a fresh
 * schema, as a new month's partition or a server without autovacuum has it) the shipped function's
 * per-run UPDATE was planned as a BitmapAnd of the key and the partial index of running runs, read
 * whole for every completed run. Counted in index blocks the completion reads from that index, in
 * one transaction of one session (pg_stat_get_xact_blocks_fetched), so no timing is involved.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlStore, migrate } from '../src/index.js';
import { adminQuery, PG_URL, pgOptions, randomSchema } from './fixtures.js';

const RUNNING = 2000;
const COMPLETED = 100;

describe('completeRuns on PostgreSQL', () => {
  let schema: string | undefined;
  afterEach(async () => {
    if (schema) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    schema = undefined;
  });

  it(`reads the index of running runs less than once per completed run (${COMPLETED} of ${RUNNING} running)`, async () => {
    schema = randomSchema();
    await migrate(pgOptions(schema));
    const store = createSqlStore(pgOptions(schema));
    const now = new Date();
    const slotAt = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    const outcomes = await store.claimSlots(
      Array.from({ length: RUNNING }, (_, i) => ({
        code: `job-${i}`,
        key: '',
        slotAt,
        attempt: 1,
        trigger: 'schedule' as const,
        overlap: 'skip' as const,
        leaseMs: 600_000,
      })),
      { runnerId: 'r1', now },
    );
    await store.close();
    const runs = outcomes.map((o) => (o.status === 'claimed' ? o.run : null));
    expect(runs.every((r) => r !== null)).toBe(true);
    const items = runs.slice(0, COMPLETED).map((run, ord) => ({
      ord,
      id: run!.id,
      token: run!.token,
      code: run!.code,
      key: run!.key,
      status: 'succeeded',
      finished_at: new Date(now.getTime() + 1000).toISOString(),
      message: null,
      error: null,
      stack: null,
    }));

    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ outcome: string }>(`SELECT outcome FROM "${schema}".tickwork_complete_runs($1::jsonb)`, [
        JSON.stringify(items),
      ]);
      expect(rows.filter((r) => r.outcome === 'completed')).toHaveLength(COMPLETED);
      // The running index of every partition of the run log (each partition's index is attached to the parent's).
      const [read] = (
        await client.query<{ blocks: string }>(
          `SELECT sum(pg_stat_get_xact_blocks_fetched(i.inhrelid))::text AS blocks FROM pg_inherits i WHERE i.inhparent = to_regclass($1)`,
          [`"${schema}".tickwork_run_running_idx`],
        )
      ).rows;
      await client.query('ROLLBACK');
      // The shipped function read 1,429 blocks of it here (the index whole for each completion); this one 31.
      expect(Number(read!.blocks)).toBeLessThan(COMPLETED);
    } finally {
      await client.end();
    }
  });
});
