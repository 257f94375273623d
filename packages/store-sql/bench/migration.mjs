// How long the exactly-once migration (the third) takes on a run log of RUNS rows, on
// PostgreSQL and SQLite: the database is brought to the second migration's schema, filled
// with finished runs (one state per job), and then migrated. Run after
// `npx tsc -p tsconfig.build.json`:
//   node bench/migration.mjs
// Env: TICKWORK_PG_URL (default postgres://postgres@127.0.0.1:5432/test), RUNS (default 200000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { LibSqlDriver } from '@mikro-orm/libsql';
import pg from 'pg';
import Database from 'libsql';
import { migrate, MIGRATION_NAMES } from '../dist/index.js';
import { initMigration } from '../dist/migrations/Migration20261123000000_tickwork_init.js';
import { schedulesMigration } from '../dist/migrations/Migration20261124000000_tickwork_schedules.js';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.RUNS ?? 200_000);
const AT = Date.UTC(2030, 0, 7);

async function secondSchema(config, dialect, schema) {
  const orm = await MikroORM.init({ ...config, entities: [], discovery: { warnWhenNoEntities: false }, debug: false });
  try {
    orm.config.set('migrations', {
      ...orm.config.get('migrations'),
      tableName: dialect === 'postgresql' ? `${schema}.tickwork_migrations` : 'tickwork_migrations',
      migrationsList: [initMigration, schedulesMigration].map((build, i) => ({
        name: MIGRATION_NAMES[i],
        class: build({ dialect, schema }),
      })),
      transactional: true,
      snapshot: false,
      silent: true,
    });
    await new Migrator(orm.em).up();
  } finally {
    await orm.close(true);
  }
}

async function timed(label, fn) {
  const started = performance.now();
  await fn();
  const ms = performance.now() - started;
  console.log(
    `${label}: ${RUNS.toLocaleString('en-US')} runs migrated in ${(ms / 1000).toFixed(2)} s (${Math.round(RUNS / (ms / 1000)).toLocaleString('en-US')} runs/s)`,
  );
}

async function onPostgres() {
  const schema = `tw_bench_mig_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await secondSchema({ driver: PostgreSqlDriver, clientUrl: PG_URL, schema }, 'postgresql', schema);
    await client.query(
      `INSERT INTO "${schema}".tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms)
       SELECT 'job-' || (i % 1000), '', to_timestamp(($1::bigint + i * 1000) / 1000.0), 1, 'schedule', 'succeeded', 'bench', i, to_timestamp(($1::bigint + i * 1000) / 1000.0),
         to_timestamp(($1::bigint + i * 1000 + 50) / 1000.0), 50
       FROM generate_series(1, $2) AS i`,
      [AT, RUNS],
    );
    await client.query(
      `INSERT INTO "${schema}".tickwork_job_state (code, key, created_at, updated_at) SELECT 'job-' || i, '', now(), now() FROM generate_series(0, 999) AS i`,
    );
    await client.query(`VACUUM ANALYZE "${schema}".tickwork_run`);
    await timed('PostgreSQL', () => migrate({ driver: 'postgresql', clientUrl: PG_URL, schema }));
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

async function onSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-'));
  const file = join(dir, 'tickwork.db');
  try {
    await secondSchema({ driver: LibSqlDriver, dbName: file }, 'sqlite', '');
    const db = new Database(file);
    db.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${RUNS})
       INSERT INTO tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms)
       SELECT 'job-' || (i % 1000), '', ${AT} + i * 1000, 1, 'schedule', 'succeeded', 'bench', i, ${AT} + i * 1000, ${AT} + i * 1000 + 50, 50 FROM n`,
    );
    db.close();
    await timed('SQLite', () => migrate({ driver: 'sqlite', dbName: file }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await onPostgres();
await onSqlite();
