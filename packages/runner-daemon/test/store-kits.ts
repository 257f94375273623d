import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@tickwork/core';
import type { StoreKit } from './cluster.js';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_START = 'start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const REDIS_START =
  'start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log';

const unique = () => `${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;

/** Fails (never skips) with how to start the server when nothing listens at `url`. */
async function assertReachable(url: string, what: string, howToStart: string): Promise<void> {
  const { hostname, port } = new URL(url);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.end();
      resolve();
    });
    socket.setTimeout(2_000, () => socket.destroy(new Error('timeout')));
    socket.once('error', (error) => reject(new Error(`${what} is not reachable at ${url} (${error.message}); ${howToStart}`)));
  });
}

/** PostgreSQL in its own schema, dropped afterwards. */
export function postgresKit(): StoreKit {
  const schema = `tw_daemon_${unique()}`.toLowerCase().slice(0, 48);
  const options = { driver: 'postgresql' as const, clientUrl: PG_URL, schema };
  return {
    name: 'pg',
    spec: { kind: 'postgresql', url: PG_URL, schema },
    pushesChanges: true,
    async setup() {
      await assertReachable(PG_URL, 'PostgreSQL', PG_START);
      const { migrate } = await import('@tickwork/store-sql');
      await migrate(options);
    },
    async open(): Promise<Store> {
      const { createSqlStore } = await import('@tickwork/store-sql');
      return createSqlStore(options);
    },
    async teardown() {
      execFileSync('psql', [PG_URL, '-q', '-c', `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], { stdio: 'ignore' });
    },
  };
}

/** One SQLite file in a temp directory, shared by every daemon process. */
export function sqliteKit(): StoreKit {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-daemon-sqlite-'));
  const file = join(dir, 'tickwork.db');
  const options = { driver: 'sqlite' as const, dbName: file };
  return {
    name: 'sqlite',
    spec: { kind: 'sqlite', file },
    pushesChanges: false,
    async setup() {
      const { migrate } = await import('@tickwork/store-sql');
      await migrate(options);
    },
    async open(): Promise<Store> {
      const { createSqlStore } = await import('@tickwork/store-sql');
      return createSqlStore(options);
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Redis under its own key prefix, deleted afterwards. */
export function redisKit(): StoreKit {
  const prefix = `tw-daemon-${unique()}`;
  return {
    name: 'redis',
    spec: { kind: 'redis', url: REDIS_URL, prefix },
    pushesChanges: true,
    async setup() {
      await assertReachable(REDIS_URL, 'Redis', REDIS_START);
    },
    async open(): Promise<Store> {
      const { createRedisStore } = await import('@tickwork/store-redis');
      return createRedisStore({ url: REDIS_URL, prefix });
    },
    async teardown() {
      const { hostname, port } = new URL(REDIS_URL);
      const keys = execFileSync('redis-cli', ['-h', hostname, '-p', port, '--scan', '--pattern', `${prefix}:*`], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      })
        .split('\n')
        .filter((k) => k.length > 0);
      for (let i = 0; i < keys.length; i += 500)
        execFileSync('redis-cli', ['-h', hostname, '-p', port, 'DEL', ...keys.slice(i, i + 500)], { stdio: 'ignore' });
    },
  };
}
