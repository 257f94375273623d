import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunRecord, Store } from '@tickwork/core';
import { expect } from 'vitest';

/** How long the every-second job runs before the pause phase; the issue asks ≥ 30 s, CI keeps it short. */
export const SOAK_MS = Number(process.env.TICKWORK_DAEMON_SOAK_S ?? 10) * 1000;

const SCRIPT = fileURLToPath(new URL('./fixtures/daemon-process.mjs', import.meta.url));

/** How a test reaches one real store: the child's store spec, plus setup/teardown of an isolated namespace. */
export interface StoreKit {
  name: string;
  /** What daemon-process.mjs receives as `store`. */
  spec: Record<string, unknown>;
  /** Whether pause must take effect within 1 s (push notification) or within the poll interval. */
  pushesChanges: boolean;
  setup(): Promise<void>;
  /** A store for the test itself (pausing "as the CLI would", reading the run log). */
  open(): Promise<Store>;
  teardown(): Promise<void>;
}

interface LedgerLine {
  code: string;
  slot: number;
  attempt: number;
  runner: string;
  phase: 'start' | 'end';
  at: number;
}

interface Member {
  runnerId: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: string[];
}

/**
 * Three daemon processes on one store: the every-second job runs each slot once with none
 * missed; the daemon running the slow job is SIGKILLed mid-run and another daemon records
 * it interrupted and retries it; a pause made through the store stops runs promptly.
 */
export async function runClusterScenario(kit: StoreKit): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-daemon-'));
  const ledger = join(dir, 'ledger.jsonl');
  await kit.setup();
  const store = await kit.open();
  const members: Member[] = [];
  try {
    for (let i = 1; i <= 3; i++) members.push(spawnMember(kit, `${kit.name}-d${i}`, ledger, join(dir, `d${i}.log`)));
    await Promise.all(members.map((m) => waitReady(m)));
    const t0 = Date.now();

    // Kill whichever daemon starts the first on-time slow run after everyone is up (not a start-up catch-up).
    const victimLine = await waitFor(
      () => readLedger(ledger).find((l) => l.code === 'slow' && l.phase === 'start' && l.at > t0 && l.at - l.slot < 500),
      // Generous: a busy 2-core CI machine may start the daemons' first on-time runs late.
      60_000,
      'a slow run to start',
      20,
    );
    const victim = members.find((m) => m.runnerId === victimLine.runner) as Member;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;

    const retried = await waitFor(
      () =>
        readLedger(ledger).find(
          (l) => l.code === 'slow' && l.slot === victimLine.slot && l.attempt === victimLine.attempt + 1 && l.phase === 'start',
        ),
      15_000,
      'the killed run to be retried by another daemon',
    );
    expect(retried.runner).not.toBe(victim.runnerId);
    const remaining = t0 + SOAK_MS - Date.now();
    if (remaining > 0) await sleep(remaining);

    await store.ping();
    await store.setPaused({ code: 'tick', key: '' }, true, { now: new Date(), note: 'cluster test' });
    const pausedAt = Date.now();
    const bound = kit.pushesChanges ? 1_000 : 500 + 1_000;
    await sleep(bound + 1_500);

    const survivors = members.filter((m) => m !== victim);
    for (const m of survivors) m.child.kill('SIGTERM');
    const codes = await Promise.all(survivors.map((m) => m.exited));
    expect(codes, survivors.map((m) => m.stderr.join('')).join('\n')).toEqual([0, 0]);

    const lines = readLedger(ledger);
    const ticks = lines.filter((l) => l.code === 'tick');
    // No slot + attempt started twice (exactly once per claim), across all three daemons.
    const keys = ticks.map((l) => `${l.slot}#${l.attempt}`);
    expect(keys.length - new Set(keys).size).toBe(0);
    // No slot lost from the first full second after start-up until the pause: each one ran, or —
    // only a slot the killed daemon had already claimed — was logged interrupted (its retry is
    // superseded by the newer slots that ran meanwhile).
    const first = Math.ceil(t0 / 1000) * 1000;
    const last = Math.floor((pausedAt - 3_000) / 1000) * 1000;
    const slots = new Set(ticks.map((l) => l.slot));
    const tickRuns = await allRuns(store, 'tick');
    const notRun: number[] = [];
    for (let slot = first; slot <= last; slot += 1000) if (!slots.has(slot)) notRun.push(slot);
    const unlogged = notRun.filter((slot) => !tickRuns.some((r) => r.slotAt.getTime() === slot));
    expect(unlogged).toEqual([]);
    const leaseTtlMs = 2_000;
    for (const slot of notRun) {
      expect(slot).toBeGreaterThanOrEqual(killedAt - 1_500);
      expect(slot).toBeLessThanOrEqual(killedAt + leaseTtlMs + 1_500);
      const statuses = tickRuns.filter((r) => r.slotAt.getTime() === slot).map((r) => r.status);
      expect(statuses.length > 0 && statuses.every((st) => st === 'interrupted'), `slot ${slot}: ${statuses.join(',')}`).toBe(true);
    }
    expect(last - first).toBeGreaterThanOrEqual(SOAK_MS - 6_000);
    // Runs shared between daemons, not all taken by one.
    expect(new Set(ticks.map((l) => l.runner)).size).toBeGreaterThan(1);
    // Paused: nothing started after the pause took effect.
    expect(ticks.filter((l) => l.at > pausedAt + bound)).toEqual([]);

    const perRunner = Object.fromEntries(
      survivors.concat(victim).map((m) => [m.runnerId, ticks.filter((l) => l.runner === m.runnerId).length]),
    );
    console.log(
      `[${kit.name}] tick slots ${first}…${last} (${(last - first) / 1000 + 1}, ${notRun.length} skipped for the killed lease), runs per daemon ${JSON.stringify(perRunner)}, killed ${victim.runnerId} in slow@${victimLine.slot}, retried by ${retried.runner}`,
    );

    const slowRuns = await allRuns(store, 'slow');
    const killed = slowRuns.find((r) => r.slotAt.getTime() === victimLine.slot && r.attempt === victimLine.attempt);
    expect(killed?.status).toBe('interrupted');
    expect(killed?.runnerId).toBe(victim.runnerId);
    const retry = slowRuns.find((r) => r.slotAt.getTime() === victimLine.slot && r.attempt === victimLine.attempt + 1);
    expect(retry?.status).toBe('succeeded');
    // Every ledger line has its run in the store's log, and no run is still `running`.
    expect(tickRuns.filter((r) => r.status === 'running')).toEqual([]);
    const logged = new Set(tickRuns.map((r) => `${r.slotAt.getTime()}#${r.attempt}`));
    expect(keys.filter((k) => !logged.has(k))).toEqual([]);
  } finally {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(members.map((m) => m.exited));
    await store.close();
    await kit.teardown();
    if (process.env.TW_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function spawnMember(kit: StoreKit, runnerId: string, ledger: string, log: string): Member {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, TW_DAEMON: JSON.stringify({ store: kit.spec, ledger, log, runnerId, pollIntervalMs: 500 }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { runnerId, child, exited, stderr };
}

async function waitReady(member: Member): Promise<void> {
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

function readLedger(file: string): LedgerLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as LedgerLine);
}

/** Every run of a job (of one of its schedules, given `key`) in the store's log. */
export async function allRuns(store: Store, code: string, key?: string): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.queryRuns({ code, limit: 1000, ...(key !== undefined ? { key } : {}), ...(cursor ? { cursor } : {}) });
    runs.push(...page.runs);
    cursor = page.nextCursor;
  } while (cursor);
  return runs;
}

/** Waits on real processes or servers (not testing time logic): polls `probe` until it finds something. */
export async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Real time passing, for tests on real servers. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
