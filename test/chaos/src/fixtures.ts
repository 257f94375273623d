import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '@tickwork/core';

/** Where the chaos package's dependencies live, as absolute file URLs (temp projects outside the repo import them). */
export const PACKAGE_URLS = {
  core: new URL('../node_modules/@tickwork/core/dist/index.js', import.meta.url).href,
  storeSql: new URL('../node_modules/@tickwork/store-sql/dist/index.js', import.meta.url).href,
  storeRedis: new URL('../node_modules/@tickwork/store-redis/dist/index.js', import.meta.url).href,
  runnerDaemon: new URL('../node_modules/@tickwork/runner-daemon/dist/index.js', import.meta.url).href,
};

/** The `tickwork` command's entry point. */
export const CLI_BIN = fileURLToPath(new URL('../node_modules/@tickwork/runner-cli/dist/bin.js', import.meta.url));

/** PostgreSQL URL of the test database. */
export const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Redis URL of the test server. */
export const REDIS_URL = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** How to start the shared servers, quoted when one is unreachable. */
export const START_HINT = {
  postgres: 'start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  redis:
    'start it: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
};

/** A fresh temporary directory. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `tickwork-chaos-${label}-`));
}

/** A short random suffix for schema names and key prefixes. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e9).toString(36)}`;
}

/** Everything a store holds that a caller can see: states, the run log, pending run-now requests. */
export async function snapshotStore(store: Store): Promise<string> {
  const states = await store.getStates();
  const runs = await store.queryRuns({ limit: 1000 });
  const requests = await store.pendingRunRequests();
  const byRef = (a: { code: string; key: string }, b: { code: string; key: string }) =>
    `${a.code}\u0000${a.key}`.localeCompare(`${b.code}\u0000${b.key}`);
  return JSON.stringify({ states: [...states].sort(byRef), runs: runs.runs, requests });
}
