/**
 * A daemon on PostgreSQL whose tables another session locks (`LOCK TABLE … ACCESS
 * EXCLUSIVE`, on the test's own schema): its store calls fail within the store's bound, it
 * keeps answering health and reports the store unreachable, it runs its job again once the
 * lock is released, and stop() with the lock held finishes within shutdownGraceMs plus the
 * bound. Real time, real server, generous bounds (a busy 2-core machine).
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { defineJob, every, silentLogger, type Store } from '@tickwork/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createDaemon, type DaemonHandle } from '../src/index.js';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LOCK_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 2_000;
const QUERY_TIMEOUT_MS = 4_000;
const CONNECT_TIMEOUT_MS = 3_000;
const GRACE_MS = 1_000;

async function until(what: string, check: () => Promise<boolean> | boolean, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A psql session of its own (the lock holder), fed statements on stdin; `run` resolves when psql printed `tag`. */
function session(): { run(sql: string, tag: string): Promise<void>; end(): Promise<void> } {
  try {
    execFileSync('psql', [PG_URL, '-qAtc', 'SELECT 1'], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}); start a PostgreSQL server there or set TICKWORK_PG_URL`,
      { cause: error },
    );
  }
  const child: ChildProcessWithoutNullStreams = spawn('psql', [PG_URL, '-v', 'ON_ERROR_STOP=1'], {
    env: { ...process.env, PGAPPNAME: 'tickwork-test:lock-holder' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    async run(sql, tag) {
      const from = output.length;
      child.stdin.write(`${sql}\n`);
      await until(`psql to answer ${tag}`, () => output.slice(from).includes(tag), 20_000);
    },
    async end() {
      child.stdin.end();
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    },
  };
}

describe('daemon on PostgreSQL with its tables locked by another session', () => {
  const undo: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (undo.length > 0) await undo.pop()!().catch(() => undefined);
  });

  it('fails store calls within the bound, keeps answering health, recovers when the lock is released, and stops within grace + bound', async () => {
    const schema = `tw_daemon_bounds_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    undo.push(async () => execFileSync('psql', [PG_URL, '-q', '-c', `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], { stdio: 'ignore' }));
    // Ended before the schema is dropped (a lock still held would block the drop).
    const holder = session();
    undo.push(() => holder.end());
    const { createSqlStore, migrate } = await import('@tickwork/store-sql');
    const options = {
      driver: 'postgresql' as const,
      clientUrl: PG_URL,
      schema,
      lockTimeoutMs: LOCK_TIMEOUT_MS,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    };
    await migrate(options);
    const sql: Store = createSqlStore(options);
    undo.push(() => sql.close());
    // The daemon's claims, timed: each failed one with how long it took.
    const failedClaims: { ms: number; message: string }[] = [];
    const store: Store = {
      ...sql,
      name: sql.name,
      capabilities: sql.capabilities,
      claimSlots: async (claims, context) => {
        const began = performance.now();
        try {
          return await sql.claimSlots(claims, context);
        } catch (error) {
          failedClaims.push({ ms: performance.now() - began, message: (error as Error).message });
          throw error;
        }
      },
    };
    let ran = 0;
    const job = defineJob({
      code: 'tick',
      schedule: every('1s'),
      run: () => {
        ran += 1;
      },
    });
    const daemon: DaemonHandle = createDaemon(
      { jobs: [job], store },
      { logger: silentLogger, runnerId: 'd1', pollIntervalMs: 200, shutdownGraceMs: GRACE_MS },
    );
    undo.push(() => daemon.stop());
    await daemon.ready;
    await until('two runs', () => ran >= 2);

    const lock = async () => {
      await holder.run(
        `BEGIN; LOCK TABLE "${schema}".tickwork_job_state, "${schema}".tickwork_run IN ACCESS EXCLUSIVE MODE;`,
        'LOCK TABLE',
      );
    };
    await lock();
    // The next claim waits for the lock and fails at lockTimeoutMs, with StoreUnavailableError's message.
    await until('a failed claim', () => failedClaims.length > 0);
    expect(failedClaims[0]!.message).toMatch(/claimSlots: PostgreSQL at .* waited longer than lockTimeoutMs/);
    expect(failedClaims[0]!.ms).toBeLessThan(CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + 5_000);
    await until('the failure in health', async () => /lockTimeoutMs/.test((await daemon.health()).lastStoreError ?? ''));
    // Health is answered while the tables stay locked (its ping touches no table).
    const began = performance.now();
    await daemon.health();
    expect(performance.now() - began).toBeLessThan(LOCK_TIMEOUT_MS * 5);
    const ranWhileLocked = ran;

    await holder.run('COMMIT;', 'COMMIT');
    await until('runs after the lock was released', () => ran >= ranWhileLocked + 2);
    expect((await daemon.health()).ok).toBe(true);

    // stop() while the tables are locked: in-flight calls end within their bound, so the drain does too.
    await lock();
    const failedBefore = failedClaims.length;
    await until('a failed claim under the second lock', () => failedClaims.length > failedBefore);
    const stopBegan = performance.now();
    await daemon.stop();
    const stopMs = performance.now() - stopBegan;
    await holder.run('COMMIT;', 'COMMIT');
    // The bound of one call is connect + query timeout; generous slack on top for a busy machine.
    expect(stopMs).toBeLessThan(GRACE_MS + CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + 10_000);
  }, 120_000);
});
