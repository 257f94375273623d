/**
 * A PostgreSQL server of the harness's own (initdb + pg_ctl of PostgreSQL 15, as user `postgres` when
 * the tests run as root; data in a temp folder, a free port), for scenarios that stop the store with its own command.
 * Ported from store-sql's test helper (packages/store-sql/test/private-postgres.ts), which is not
 * part of that package's build. The shared server on 5432 is never stopped.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { DisruptOutcome } from './chaos-harness.js';
import { tempDir } from './fixtures.js';
import { unusedPort } from './redis-server.js';

const run = promisify(execFile);
const BIN = process.env.TICKWORK_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A private server a scenario can stop (`pg_ctl stop -m fast`) and start again on the same port. */
export interface ChaosPostgres {
  readonly url: string;
  /** `pg_ctl start -w`: resolves once it accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl stop -m fast -w`: what `pg_ctl stop` and `pg_ctlcluster stop` do by default. */
  stop(): Promise<void>;
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
    throw new Error(`[tickwork] [chaos] ${args[0]} failed: ${e.stderr || e.message}`, { cause: error });
  }
}

/** Runs `scenario` with a private PostgreSQL server, stopped and removed afterwards whatever happens. */
export async function withChaosPostgres<T>(scenario: (pg: ChaosPostgres) => Promise<T>): Promise<T> {
  if (!existsSync(join(BIN, 'pg_ctl'))) {
    throw new Error(
      `[tickwork] [chaos] PostgreSQL 15 binaries are not at ${BIN}; install them (apt-get install -y postgresql-15) or set TICKWORK_PG_BIN`,
    );
  }
  const dir = tempDir('postgres');
  if (AS_ROOT) {
    // The server runs as postgres: it owns the folder (the temp folder itself is 0700).
    const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout);
    chownSync(dir, await id('-u'), await id('-g'));
  }
  const data = join(dir, 'data');
  const port = await unusedPort();
  const ctl = (...args: string[]) => asPostgres([join(BIN, 'pg_ctl'), '-D', data, ...args]);
  const server: ChaosPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () =>
      ctl(
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off`,
        'start',
      ),
    stop: () => ctl('-m', 'fast', '-w', '-t', '60', 'stop'),
  };
  try {
    await asPostgres([join(BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await server.start();
    return await scenario(server);
  } finally {
    await ctl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The instant a query on `url` is first answered (tried every 100 ms, a 60 s safety net): the server is seen answering. */
async function answeredAt(url: string): Promise<number> {
  for (const deadline = Date.now() + 60_000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      return Date.now();
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`[tickwork] [chaos] the private PostgreSQL did not answer within 60 s of its start`, { cause: error });
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * The disruption of the PostgreSQL-restart scenarios: `pg_ctl stop -m fast`, the server down for
 * `outageMs`, started again with its data. Slots from `settleMs` after it is seen answering a query
 * again (measured, however long the start took) are judged as `recovered`: all of them must run.
 */
export function stopAndStart(server: ChaosPostgres, outageMs = 8_000, settleMs = 3_000): () => Promise<DisruptOutcome> {
  return async () => {
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    await server.start();
    return { recoveredAt: (await answeredAt(server.url)) + settleMs };
  };
}
