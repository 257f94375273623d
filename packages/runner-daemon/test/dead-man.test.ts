/**
 * Dead-man alerts across real daemon processes: the only daemon that defines a job with
 * `expectSuccessWithin` is stopped; another daemon — which defines other jobs and the config's
 * `onOverdue` — raises the alert exactly once; when the owner comes back, its first success calls
 * `onRecovery` once with the overdue episode noted, and no second alert follows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreKit } from './cluster.js';
import { postgresKit, redisKit, sqliteKit } from './store-kits.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/dead-man-process.mjs', import.meta.url));
const WINDOW_MS = 3_000;

interface Line {
  kind: 'run' | 'overdue' | 'recovery';
  runner: string;
  at: number;
  code?: string;
  key?: string;
  slot?: number;
  failures?: number;
  overdueAlertedAt?: string | null;
  lastSucceededAt?: string | null;
  overdueSince?: string | null;
  windowMs?: number;
}

interface Member {
  runnerId: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: string[];
}

const members: Member[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const m of members.splice(0)) if (m.child.exitCode === null) m.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function spawnMember(kit: StoreKit, role: 'owner' | 'watcher', runnerId: string, dir: string): Member {
  const child = spawn(process.execPath, [SCRIPT], {
    env: {
      ...process.env,
      TW_DEAD_MAN: JSON.stringify({
        role,
        store: kit.spec,
        ledger: join(dir, 'ledger.jsonl'),
        log: join(dir, `${runnerId}.log`),
        runnerId,
      }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const member = { runnerId, child, exited, stderr };
  members.push(member);
  return member;
}

async function ready(member: Member): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${member.runnerId} not ready after 60 s: ${member.stderr.join('')}`)), 60_000);
    member.child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void member.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${member.runnerId} exited with ${code} before ready: ${member.stderr.join('')}`));
    });
  });
}

async function stop(member: Member): Promise<void> {
  member.child.kill('SIGTERM');
  expect(await member.exited).toBe(0);
}

/** What a failed wait shows: the ledger, and each member's log lines that are not a run's own. */
function diagnose(dir: string, group: Member[]): string {
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '(none)');
  const logs = group.map((m) => {
    const own = read(join(dir, `${m.runnerId}.log`))
      .split('\n')
      .filter((l) => l && !(l.includes('"msg":"run finished"') && l.includes('"status":"succeeded"')))
      .slice(-40);
    return `--- ${m.runnerId} (exit ${m.child.exitCode}) log:\n${own.join('\n')}\nstderr: ${m.stderr.join('')}`;
  });
  return [`ledger:\n${read(join(dir, 'ledger.jsonl'))}`, ...logs].join('\n');
}

function lines(dir: string): Line[] {
  const file = join(dir, 'ledger.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

/** Waits for a condition; the deadline is a safety net for a loaded machine, never a speed claim. */
async function until<T>(probe: () => T | undefined, what: string, deadlineMs = 60_000, context?: () => string): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${context ? `\n${context()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function scenario(kit: StoreKit): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-dead-man-'));
  dirs.push(dir);
  await kit.setup();
  try {
    const owner = spawnMember(kit, 'owner', `${kit.name}-owner`, dir);
    const watcher = spawnMember(kit, 'watcher', `${kit.name}-watcher`, dir);
    await Promise.all([ready(owner), ready(watcher)]);
    // The owner runs its job (each second) until it is stopped: the only runner of that job.
    await until(() => (lines(dir).filter((l) => l.kind === 'run').length >= 2 ? true : undefined), 'two runs of the job');
    await stop(owner);
    const stoppedAt = Date.now();
    const lastRun = Math.max(
      ...lines(dir)
        .filter((l) => l.kind === 'run')
        .map((l) => l.at),
    );

    // The watcher, which does not define the job, raises the alert from the window the owner stored.
    const alert = await until(
      () => lines(dir).find((l) => l.kind === 'overdue'),
      'the overdue alert',
      60_000,
      () => diagnose(dir, [owner, watcher]),
    );
    expect(alert).toMatchObject({ runner: watcher.runnerId, code: 'exports.nightly', key: '', windowMs: WINDOW_MS });
    expect(Date.parse(alert.overdueSince!)).toBe(Date.parse(alert.lastSucceededAt!) + WINDOW_MS);
    expect(Date.parse(alert.lastSucceededAt!)).toBeLessThanOrEqual(lastRun + 1_000);
    expect(alert.at).toBeGreaterThanOrEqual(stoppedAt);
    // Many more checks (every 200 ms) while still overdue: still exactly one alert.
    const checksAfter = Date.now() + 10 * 200 + 1_000;
    await until(() => (Date.now() >= checksAfter ? true : undefined), 'ten more overdue checks');
    expect(lines(dir).filter((l) => l.kind === 'overdue')).toHaveLength(1);

    // The owner comes back: its first success ends the episode, onRecovery is called once, with it noted.
    const back = spawnMember(kit, 'owner', `${kit.name}-owner-2`, dir);
    await ready(back);
    const recovery = await until(() => lines(dir).find((l) => l.kind === 'recovery'), 'the recovery');
    expect(recovery).toMatchObject({ runner: back.runnerId, code: 'exports.nightly', failures: 0 });
    expect(recovery.overdueAlertedAt).not.toBeNull();
    expect(Date.parse(recovery.overdueAlertedAt!)).toBeLessThanOrEqual(alert.at);
    // The job succeeds every second again: no new alert, and one recovery only, over several more windows' worth of checks.
    const settleUntil = Date.now() + 2 * WINDOW_MS;
    await until(() => (Date.now() >= settleUntil ? true : undefined), 'two more windows');
    expect(lines(dir).filter((l) => l.kind === 'recovery')).toHaveLength(1);
    expect(lines(dir).filter((l) => l.kind === 'overdue')).toHaveLength(1);
    await Promise.all([stop(back), stop(watcher)]);
  } finally {
    await kit.teardown();
  }
}

describe('dead-man alerts across two daemon processes', () => {
  it('on SQLite: the only runner of the job stops, the other raises the alert exactly once, and recovery follows', async () => {
    await scenario(sqliteKit());
  }, 240_000);

  it('on PostgreSQL', async () => {
    await scenario(postgresKit());
  }, 240_000);

  it('on Redis', async () => {
    await scenario(redisKit());
  }, 240_000);
});
