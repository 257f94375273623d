import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createFakeClock } from '@tickwork/core';
import { migrate } from '@tickwork/store-sql';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { notify, type Notification } from '../src/index.js';
import { startHttpReceiver } from './receivers.js';
import { openStore, streakRunner } from './streak-runner.mjs';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Backend {
  kind: 'postgresql' | 'redis';
  url: string;
  /** Creates the schema / checks the server; returns the cleanup that removes everything the test stored. */
  prepare(name: string): Promise<() => Promise<void>>;
}

async function pgAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}); start it, or set TICKWORK_PG_URL`, {
      cause: error,
    });
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const backends: Backend[] = [
  {
    kind: 'postgresql',
    url: PG_URL,
    async prepare(schema) {
      await pgAdmin('SELECT 1');
      await migrate({ driver: 'postgresql', clientUrl: PG_URL, schema });
      return () => pgAdmin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  },
  {
    kind: 'redis',
    url: REDIS_URL,
    async prepare(prefix) {
      const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      admin.on('error', () => undefined);
      try {
        await admin.connect();
      } catch (error) {
        throw new Error(`Redis is not reachable at ${REDIS_URL} (${(error as Error).message}); start it, or set TICKWORK_REDIS_URL`, {
          cause: error,
        });
      }
      return async () => {
        // Only this test's keys: SCAN + UNLINK under its own random prefix, never a flush.
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await admin.unlink(...keys);
        } while (cursor !== '0');
        admin.disconnect();
      };
    },
  },
];

/** The child runner, driven one tick at a time. */
function childRunner(target: object, hookUrl: string) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./runner-child.mjs', import.meta.url))], {
    env: { ...process.env, TW_STORE: JSON.stringify(target), TW_HOOK_URL: hookUrl },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async tick(now: Date): Promise<string[]> {
      child.stdin.write(`${JSON.stringify({ now: now.toISOString() })}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error('the child runner exited');
      const answer = JSON.parse(value as string) as { outcomes?: string[]; error?: string };
      if (answer.error) throw new Error(`child runner: ${answer.error}`);
      return answer.outcomes ?? [];
    },
    async stop() {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

describe.each(backends)('a failure streak shared by two runner processes on $kind', (backend) => {
  it('sends the streak’s message and its reminders once each, whichever process reports the failure', async () => {
    const name = `tw_notify_${randomBytes(6).toString('hex')}`;
    const cleanup = await backend.prepare(name);
    const target = { kind: backend.kind, url: backend.url, name };
    const store = await openStore(target);
    const hook = await startHttpReceiver([{ status: 200 }]);
    const clock = createFakeClock('2026-03-02T12:00:30.000Z');
    const here = streakRunner({ notify, store, clock, hookUrl: hook.url, runnerId: 'runner-a' });
    const there = childRunner(target, hook.url);
    try {
      for (let minute = 0; minute < 25; minute++) {
        // The child takes every fifth minute, among them minutes 10 and 20, when reminders fall due.
        const outcomes = minute % 5 === 0 && minute > 0 ? await there.tick(clock.now()) : await here.tick();
        expect(outcomes).toEqual(['failed']);
        clock.advance(60_000);
      }
    } finally {
      await there.stop();
      await here.close();
      await hook.close();
      await store.close();
      await cleanup();
    }
    const bodies = hook.received.map((r) => JSON.parse(r.body) as Notification);
    expect(bodies.map((b) => [b.kind, b.consecutiveFailures, b.run?.runnerId, b.streakStartedAt])).toEqual([
      ['failure', 1, 'runner-a', '2026-03-02T12:00:30.000Z'],
      ['reminder', 11, 'runner-b', '2026-03-02T12:00:30.000Z'],
      ['reminder', 21, 'runner-b', '2026-03-02T12:00:30.000Z'],
    ]);
  }, 120_000);
});
