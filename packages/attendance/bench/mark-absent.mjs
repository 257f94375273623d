// Times the mark-absent job against a hand-written INSERT … SELECT on identical seeds.
// Usage: node bench/mark-absent.mjs [--events 10000] [--members 100] [--dialect postgresql|sqlite|both]
// Build first: npx tsc -p tsconfig.build.json
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MikroORM as PostgresOrm } from '@mikro-orm/postgresql';
import { MikroORM as SqliteOrm } from '@mikro-orm/libsql';
import { attendanceEntities, markAbsent, migrateAttendance } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    members: { type: 'string', default: '100' },
    dialect: { type: 'string', default: 'both' },
  },
});
const EVENTS = Number(values.events);
const MEMBERS = Number(values.members);
const GROUPS = 10;
const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NOW = new Date('2025-06-01T12:00:00.000Z');

async function open(dialect, tag) {
  if (dialect === 'postgresql') {
    const schema = `attendance_bench_${process.pid}_${tag}`;
    const orm = await PostgresOrm.init({ clientUrl: PG_URL, schema, entities: [...attendanceEntities] });
    await orm.em.getConnection().execute(`drop schema if exists "${schema}" cascade`);
    return {
      orm,
      t: (name) => `"${schema}"."attendance_${name}"`,
      drop: () => orm.em.getConnection().execute(`drop schema if exists "${schema}" cascade`),
    };
  }
  const file = join(tmpdir(), `attendance-bench-${process.pid}-${tag}.sqlite`);
  await rm(file, { force: true });
  const orm = await SqliteOrm.init({ dbName: file, entities: [...attendanceEntities] });
  return { orm, t: (name) => `"attendance_${name}"`, drop: () => rm(file, { force: true }) };
}

async function seed(dialect, { orm, t }) {
  await migrateAttendance(orm);
  const run = (sql) => orm.em.getConnection().execute(sql, [], 'run');
  const pg = dialect === 'postgresql';
  const series = (n) =>
    pg
      ? `generate_series(1, ${n}) s(g)`
      : `(with recursive s(g) as (select 1 union all select g + 1 from s where g < ${n}) select g from s) s`;
  const ts = (ms) => (pg ? `to_timestamp(${ms} / 1000.0)` : `${ms}`);
  const nowMs = NOW.getTime();
  await run(`insert into ${t('group')} (name, created_at) select 'group ' || g, ${ts(nowMs)} from ${series(GROUPS)}`);
  await run(`insert into ${t('member')} (name, created_at) select 'member ' || g, ${ts(nowMs)} from ${series(GROUPS * MEMBERS)}`);
  await run(
    `insert into ${t('group_membership')} (group_id, member_id, joined_at) select ((g - 1) / ${MEMBERS}) + 1, g, ${ts(nowMs - 365 * 86_400_000)} from ${series(GROUPS * MEMBERS)}`,
  );
  // Past events, one a minute back from an hour before NOW, all past their deadline.
  const startMs = pg ? `(${nowMs} - 3600000 - g * 60000)` : `(${nowMs} - 3600000 - g * 60000)`;
  await run(
    `insert into ${t('event')} (group_id, title, starts_at, fail_minutes, created_at) select (g % ${GROUPS}) + 1, 'event ' || g, ${pg ? `to_timestamp(${startMs} / 1000.0)` : startMs}, 15, ${ts(nowMs)} from ${series(EVENTS)}`,
  );
  if (pg) await orm.em.getConnection().execute(`analyze ${t('event')}; analyze ${t('group_membership')}`);
}

async function time(fn) {
  const started = performance.now();
  const result = await fn();
  return { ms: performance.now() - started, result };
}

async function bench(dialect) {
  const jobDb = await open(dialect, 'job');
  const rawDb = await open(dialect, 'raw');
  try {
    await seed(dialect, jobDb);
    await seed(dialect, rawDb);
    const first = await time(() => markAbsent(jobDb.orm, { now: NOW }));
    const pg = dialect === 'postgresql';
    const { t } = rawDb;
    const raw = await time(() =>
      rawDb.orm.em
        .getConnection()
        .execute(
          `insert into ${t('record')} (event_id, member_id, status) select e.id, m.member_id, 'ABSENT' from ${t('event')} e ` +
            `join ${t('group_membership')} m on m.group_id = e.group_id where e.attendance_closed_at is null and ` +
            (pg
              ? `e.starts_at + e.fail_minutes * interval '1 minute' <= now()`
              : `e.starts_at + e.fail_minutes * 60000 <= ${NOW.getTime()}`) +
            ' on conflict (event_id, member_id) do nothing',
          [],
          'run',
        ),
    );
    const idle = [];
    for (let i = 0; i < 21; i++) idle.push((await time(() => markAbsent(jobDb.orm, { now: NOW }))).ms);
    idle.sort((a, b) => a - b);
    const f = (ms) => `${ms.toFixed(1)} ms`;
    console.log(`${dialect}: ${EVENTS} events × ${MEMBERS} members = ${EVENTS * MEMBERS} rows`);
    console.log(`  job first run      ${f(first.ms)}  (${JSON.stringify(first.result)})`);
    console.log(`  raw INSERT…SELECT  ${f(raw.ms)}  (${raw.result.affectedRows} rows)  ratio ${(first.ms / raw.ms).toFixed(2)}×`);
    console.log(`  job no-op run      median ${f(idle[10])}, max ${f(idle[20])} over 21 runs`);
  } finally {
    for (const db of [jobDb, rawDb]) {
      await db.drop();
      await db.orm.close(true);
    }
  }
}

console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
for (const dialect of values.dialect === 'both' ? ['postgresql', 'sqlite'] : [values.dialect]) await bench(dialect);
