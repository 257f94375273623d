#!/usr/bin/env node
// The example's entry (what the root `npm start` runs once everything is built): migrates,
// seeds demo data into an empty database, starts the HTTP API and the Tickwork daemon in
// this one process, prints what to try, and shuts down cleanly on Ctrl-C / SIGTERM.
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(dist))) {
  console.error(
    '[tickwork] [example] dist/ is missing: build first (`npm start` at the repository root does, or `pnpm --filter @tickwork/example build`)',
  );
  process.exit(1);
}
const { readSettings, startExample, APP_DIR } = await import(dist.href);

let settings;
try {
  settings = readSettings(process.env);
} catch (error) {
  console.error(error.message);
  process.exit(2);
}

let app;
try {
  app = await startExample(settings);
} catch (error) {
  console.error(`[tickwork] [example] could not start: ${error.message}`);
  if (settings.store === 'postgres' || settings.database === 'postgres') {
    console.error(
      `PostgreSQL not running? Start it (with your service manager, or \`pg_ctl start\` for a local cluster) or set TICKWORK_PG_URL`,
    );
  }
  if (settings.store === 'redis') {
    console.error(`Redis not running? Start it (with your service manager, or \`redis-server\` for a local one) or set TICKWORK_REDIS_URL`);
  }
  process.exit(1);
}

// Paths as seen from where the user typed the command (npm sets INIT_CWD; the root `npm start` runs us in apps/example).
const userDir = process.env.INIT_CWD ?? process.cwd();
const shown = (file) => (relative(userDir, file).startsWith('..') ? file : relative(userDir, file));
const where =
  settings.store === 'redis'
    ? `Redis ${settings.redisUrl} (prefix ${settings.redisPrefix}) + ${settings.database === 'sqlite' ? `SQLite ${shown(settings.sqliteFile)}` : `PostgreSQL ${settings.pgUrl}`}`
    : settings.store === 'postgres'
      ? `PostgreSQL ${settings.pgUrl} (schema ${settings.pgSchema})`
      : `SQLite ${shown(settings.sqliteFile)}`;
const url = app.url;
const event = app.seeded?.pastEventId ?? 1;
const member = app.seeded?.memberIds[0] ?? 1;
const future = app.seeded?.futureEventId ?? 2;
const cli = (args) => (relative(userDir, APP_DIR) === '' ? `npx tickwork ${args}` : `(cd ${shown(APP_DIR)} && npx tickwork ${args})`);
console.log(`
Tickwork example — attendance service
  HTTP API   ${url}
  dashboard  ${app.dashboardUrl}
             sign in with this one-time admin token (valid 24 h): ${app.adminToken}
  health     ${url}/healthz   metrics ${url}/metrics
  store      ${where}
  daemon     ${settings.daemon ? `running (mark-absent every ${settings.markAbsentEvery}, cleanup 03:00 ${settings.timezone}, report hourly)` : 'off: run `tickwork run` from cron (deploy/crontab)'}
  migrated   ${!settings.migrate ? 'skipped (EXAMPLE_MIGRATE=0)' : app.migrated.length ? app.migrated.join(', ') : 'already up to date'}
  demo data  ${app.seeded ? `seeded: event ${event} started 20 min ago (failMinutes 15), event ${future} starts in an hour` : 'kept from an earlier start (delete apps/example/data/ to start over)'}

Try:
  curl ${url}/events/${event}                 # within a minute Linus and Margaret turn ABSENT
  curl -H 'authorization: Bearer ${app.adminToken}' ${url}/jobs/attendance.mark-absent/runs
  curl -X POST ${url}/events/${future}/check-ins -H 'content-type: application/json' -d '{"memberId": ${member}}'
  curl -X POST ${url}/events/${event}/check-ins -H 'content-type: application/json' -d '{"memberId": ${member + 2}}'   # 409: after start + failMinutes
  ${cli('list')}
  ${cli('logs')}
  ${cli('trigger app.hourly-report')}

Ctrl-C stops (running jobs get 10 s to finish).
`);

let signalled = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (signalled) {
      console.error(`[tickwork] [example] ${signal} again: exiting now`);
      process.exit(130);
    }
    signalled = true;
    console.log(`\n${signal}: stopping — no new requests or runs, waiting for running jobs…`);
    app.stop().then(
      () => {
        console.log('stopped cleanly');
        process.exit(0);
      },
      (error) => {
        console.error(`[tickwork] [example] shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  });
}
