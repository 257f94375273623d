/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl of PostgreSQL 15, as user `postgres`
 * when the tests run as root; data in a temp folder, a free port), so a fault test can stop and start it
 * without touching the shared server on 5432.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = process.env.TICKWORK_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A private server: `url` of its `postgres` database; `stop`, `start`, and `destroy` (stop and delete). */
export interface PrivatePostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL refuses to run as root: as root the server runs as user `postgres` (runuser), which
 * then owns its folder; as anyone else it runs as that user, in a folder that user owns already.
 */
const AS_ROOT = process.getuid?.() === 0;

async function asPostgres(args: string[]): Promise<void> {
  try {
    if (AS_ROOT) await run('runuser', ['-u', 'postgres', '--', ...args], { timeout: 120_000 });
    else await run(args[0] as string, args.slice(1), { timeout: 120_000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${args[0]} failed: ${e.stderr || e.message}`, { cause: error });
  }
}

/** Creates and starts a private PostgreSQL server; fails with what to install when the binaries are missing. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (!existsSync(join(BIN, 'pg_ctl'))) {
    throw new Error(`PostgreSQL 15 binaries are not at ${BIN}; install them (apt-get install -y postgresql-15) or set TICKWORK_PG_BIN`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-pg-'));
  if (AS_ROOT) {
    // The server runs as postgres: it owns the folder (the temp folder itself is 0700).
    const { uid, gid } = await run('id', ['-u', 'postgres']).then(async (u) => ({
      uid: Number(u.stdout),
      gid: Number((await run('id', ['-g', 'postgres'])).stdout),
    }));
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  await asPostgres([join(BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const ctl = (...args: string[]) => asPostgres([join(BIN, 'pg_ctl'), '-D', data, ...args]);
  const start = () =>
    ctl(
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off`,
      'start',
    );
  // `fast`: what `pg_ctl stop` and `pg_ctlcluster stop` do by default (backends are terminated, 57P01).
  const stop = () => ctl('-m', 'fast', '-w', '-t', '60', 'stop');
  await start();
  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await ctl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
