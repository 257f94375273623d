import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScheduler, defineJob, every } from '@tickwork/core';
import { PARTITION_COUNT } from '@tickwork/core/store';
import { expect } from 'vitest';
import { sleep, waitFor } from './cluster.js';
import type { StoreKit } from './cluster.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/partitioned-process.mjs', import.meta.url));

/** Runtime schedules of the scenario, each every second. */
export const SCHEDULES = 60;
/** The daemons' partition lease TTL. */
export const PARTITION_TTL_MS = 6_000;

interface Status {
  runner: string;
  at: number;
  partitions: number | null;
  runtime: number;
  held: string[];
}

interface Ran {
  key: string;
  slot: number;
  attempt: number;
  runner: string;
  at: number;
}

interface Member {
  runnerId: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: string[];
}

function lines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

/** Each daemon's latest status written after `since`, or undefined while one has none. */
function latest(file: string, runners: readonly string[], since: number): Status[] | undefined {
  const all = lines<Status>(file);
  const out: Status[] = [];
  for (const runner of runners) {
    const last = all.filter((s) => s.runner === runner && s.at > since).at(-1);
    if (!last) return undefined;
    out.push(last);
  }
  return out;
}

/** The statuses when they show every key held by exactly one of them and every partition held. */
function covering(statuses: Status[] | undefined, keys: readonly string[]): Status[] | undefined {
  if (!statuses) return undefined;
  const held = statuses.flatMap((s) => s.held);
  const partitions = statuses.reduce((sum, s) => sum + (s.partitions ?? 0), 0);
  // Settled shares: with each at most ceil(P / n) and all of P held, none is below floor(P / n) − 2.
  const settled = statuses.every((s) => (s.partitions ?? 0) >= Math.floor(PARTITION_COUNT / statuses.length) - 2);
  return settled && partitions === PARTITION_COUNT && held.length === keys.length && new Set(held).size === keys.length
    ? statuses
    : undefined;
}

/** Every (key, slot) of `keys` in [from, to) ran exactly once in the ledger (first attempts). */
function expectExactlyOnce(ledger: Ran[], keys: readonly string[], from: number, to: number): number {
  const first = Math.ceil(from / 1000) * 1000;
  const ran = new Map<string, number>();
  for (const line of ledger) {
    if (line.slot < first || line.slot >= to) continue;
    const id = `${line.key} ${line.slot}`;
    ran.set(id, (ran.get(id) ?? 0) + 1);
  }
  const missing: string[] = [];
  const twice: string[] = [];
  for (const key of keys) {
    for (let slot = first; slot < to; slot += 1000) {
      const n = ran.get(`${key} ${slot}`) ?? 0;
      if (n === 0) missing.push(`${key} ${slot}`);
      if (n > 1) twice.push(`${key} ${slot}`);
    }
  }
  expect(twice).toEqual([]);
  expect(missing).toEqual([]);
  return Math.ceil((to - first) / 1000);
}

/**
 * Three daemon processes with partitions on: each loads only its share of the runtime schedules
 * (every schedule on exactly one), every slot runs once; one is SIGKILLed, the two others take
 * its partitions over (each schedule on exactly one of them again) and every slot runs once.
 */
export async function runPartitionScenario(kit: StoreKit): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-partitions-'));
  const ledger = join(dir, 'ledger.jsonl');
  const status = join(dir, 'status.jsonl');
  const keys = Array.from({ length: SCHEDULES }, (_, i) => `tenant-${i}`);
  await kit.setup();
  const store = await kit.open();
  const members: Member[] = [];
  try {
    const job = defineJob({ code: 'report', schedule: null, run: () => {} });
    await createScheduler({ jobs: [job], store })
      .schedules('report')
      .upsert(keys.map((key) => ({ key, schedule: every('1s') })));
    for (let i = 1; i <= 3; i++) {
      const runnerId = `${kit.name}-p${i}`;
      const env = { store: kit.spec, ledger, status, log: join(dir, `p${i}.log`), runnerId, keys, partitionTtlMs: PARTITION_TTL_MS };
      members.push(spawnMember(runnerId, env));
    }
    await Promise.all(members.map((m) => waitReady(m)));
    const runners = members.map((m) => m.runnerId);

    // Balanced: every partition held, every key on exactly one daemon; each loads only its keys.
    const balanced = await waitFor(() => covering(latest(status, runners, 0), keys), 60_000, 'three daemons to share the schedules');
    for (const s of balanced) {
      expect(s.runtime).toBe(s.held.length);
      expect(s.held.length).toBeLessThan(SCHEDULES);
      expect(s.partitions).toBeGreaterThan(0);
    }
    const balancedAt = Date.now();
    await sleep(10_000);
    const slotsBefore = expectExactlyOnce(lines<Ran>(ledger), keys, balancedAt + 1_000, Date.now() - 2_000);

    const victim = members[0] as Member;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    const survivors = members.slice(1);
    const taken = await waitFor(
      () =>
        covering(
          latest(
            status,
            survivors.map((m) => m.runnerId),
            killedAt,
          ),
          keys,
        ),
      60_000,
      'the two survivors to take the killed daemon’s partitions over',
    );
    const coveredAt = Date.now();
    for (const s of taken) expect(s.runtime).toBe(s.held.length);
    await sleep(10_000);
    const slotsAfter = expectExactlyOnce(lines<Ran>(ledger), keys, coveredAt + 1_000, Date.now() - 2_000);

    for (const m of survivors) m.child.kill('SIGTERM');
    const codes = await Promise.all(survivors.map((m) => m.exited));
    expect(codes, survivors.map((m) => m.stderr.join('')).join('\n')).toEqual([0, 0]);
    // No slot + attempt of any schedule started twice over the whole run, the kill included.
    const all = lines<Ran>(ledger).map((l) => `${l.key} ${l.slot} ${l.attempt}`);
    expect(all.length - new Set(all).size).toBe(0);
    console.log(
      `[${kit.name}] shares ${JSON.stringify(balanced.map((s) => [s.runner, s.partitions, s.runtime]))}; after SIGKILL of ${victim.runnerId}: ${JSON.stringify(taken.map((s) => [s.runner, s.partitions, s.runtime]))}, covered ${coveredAt - killedAt} ms after the kill (TTL ${PARTITION_TTL_MS} ms); judged ${slotsBefore} + ${slotsAfter} seconds × ${SCHEDULES} schedules, each once`,
    );
  } catch (error) {
    for (const m of members) console.log(`--- ${m.runnerId} stderr\n${m.stderr.join('')}`);
    throw error;
  } finally {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(members.map((m) => m.exited));
    await store.close();
    await kit.teardown();
    if (process.env.TW_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function spawnMember(runnerId: string, spec: Record<string, unknown>): Member {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, TW_DAEMON: JSON.stringify(spec) },
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
