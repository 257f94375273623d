import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createFakeClock, type Store } from '@tickwork/core';
import { createSqlStore, migrate } from '@tickwork/store-sql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notify, type Notification } from '../src/index.js';
import { startHttpReceiver } from './receivers.js';
import { streakRunner } from './streak-runner.mjs';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `tw_notify_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}); start it, or set TICKWORK_PG_URL`, { cause: error });
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

let store: Store;
beforeAll(async () => {
  await admin('SELECT 1');
  await migrate({ driver: 'postgresql', clientUrl: PG_URL, schema });
  store = createSqlStore({ driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 2 });
});
afterAll(async () => {
  await store?.close();
  await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});

/** The child runner, driven one tick at a time. */
function childRunner(hookUrl: string) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./runner-child.mjs', import.meta.url))], {
    env: { ...process.env, TW_PG_URL: PG_URL, TW_SCHEMA: schema, TW_HOOK_URL: hookUrl },
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

describe('a failure streak shared by two runner processes on PostgreSQL', () => {
  it('sends the streak’s message and its reminders once each, whichever process reports the failure', async () => {
    const hook = await startHttpReceiver([{ status: 200 }]);
    const clock = createFakeClock('2026-03-02T12:00:30.000Z');
    const here = streakRunner({ notify, store, clock, hookUrl: hook.url, runnerId: 'runner-a' });
    const there = childRunner(hook.url);
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
    }
    const bodies = hook.received.map((r) => JSON.parse(r.body) as Notification);
    expect(bodies.map((b) => [b.kind, b.consecutiveFailures, b.run?.runnerId, b.streakStartedAt])).toEqual([
      ['failure', 1, 'runner-a', '2026-03-02T12:00:30.000Z'],
      ['reminder', 11, 'runner-b', '2026-03-02T12:00:30.000Z'],
      ['reminder', 21, 'runner-b', '2026-03-02T12:00:30.000Z'],
    ]);
  }, 120_000);
});
