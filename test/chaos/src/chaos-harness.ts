import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '@tickwork/core';
import { runCli } from './cli-process.js';
import { PG_URL, REDIS_URL, tempDir, uniqueSuffix } from './fixtures.js';
import { judge, readLedger, type Verdict } from './ledger.js';

const SCRIPTS = fileURLToPath(new URL('../scripts/', import.meta.url));
const CONFIG = join(SCRIPTS, 'chaos-config.mjs');

/** Which store the runners share. */
export type ChaosStoreKind = 'sqlite' | 'pg' | 'redis';

/** One chaos scenario. */
export interface ChaosScenario {
  store: ChaosStoreKind;
  daemons: number;
  /** Also spawn `tickwork run` every second. */
  cliLoop: boolean;
  jobs: number;
  /** Length of the judged window (longer when a disruption's recovery needs it: see `RECOVERED_MIN_MS`). */
  seconds: number;
  /** SIGKILL a random daemon this often and restart it at once; off when absent. */
  killEveryMs?: number;
  /** Clock skew of daemon 0 in ms (positive: ahead). */
  skewMs?: number;
  /** Handler duration. */
  jobMs?: number;
  allowParallelRuns?: boolean;
  leaseTtl?: string;
  /** The jobs' missed-run policy (`latest` when absent). */
  missedRunPolicy?: 'latest' | 'skip' | { all: { within: string } };
  /** Called once mid-run with the scenario's store target, e.g. to kill its connections, restart its server or SIGKILL a daemon. */
  disrupt?: (target: DisruptTarget) => Promise<void | DisruptOutcome>;
  /** Runner presence (default on); false hides it from the daemons, as before it existed, for comparison. */
  presence?: boolean;
  /** The store's server when it is not the shared one (a private redis-server or PostgreSQL the scenario restarts). */
  storeUrl?: string;
}

/** What a disruption may act on. */
export interface DisruptTarget {
  kind: ChaosStoreKind;
  name: string;
  /**
   * SIGKILLs one running daemon (not restarted) and returns its id; with `holding`, only one seen running a handler
   * now (null, and nothing killed, when none is).
   */
  killDaemon(options?: { holding?: boolean }): string | null;
}

/** What a disruption reports, so the slots after it are judged on their own. */
export interface DisruptOutcome {
  /** From here on every slot must run again: `recovered` judges the slots after this instant. */
  recoveredAt: number;
  /** The store lost its data (a restart without persistence): only runs started after `recoveredAt` must be in its log. */
  dataLost?: boolean;
  /** When the disruption happened (a SIGKILL): `resumedAfterMs` is measured from here. */
  disruptedAt?: number;
}

/** The verdict plus what the store says about the runs. */
export interface ChaosResult extends Verdict {
  /** Ledger starts whose run id the store's log does not know. */
  unlogged: number;
  /** Runs still `running` after every runner stopped and leases were reaped. */
  leftRunning: number;
  /** Runs the store recorded as interrupted. */
  interrupted: number;
  /** Runs the store recorded as skipped (overlap with a live lease). */
  skipped: number;
  /** Of those, the ones whose slot lies in the judged window (the slots before it fall while the daemons start). */
  skippedInWindow: number;
  /** Missed slots the store's run log has no record of (interrupted before start, or skipped, would be recorded). */
  unaccountedMisses: number;
  /** The window's missed slots by what the run log says of each: `run <status>`, `range <skip reason>` or `nothing`. */
  missedBy: Record<string, number>;
  /** Skipped ranges whose slotCount is not the number of every-second slots from their first to their last. */
  rangeCountMismatches: number;
  /** Slots a skipped range covers whose handler nevertheless started (must be 0: a range names only slots not run). */
  rangedButStarted: number;
  kills: number;
  /** Daemons still alive 20 s after SIGTERM (killed then): a drain that does not end. */
  stuckOnStop: number;
  /** Process warnings the daemons printed (e.g. ioredis' MaxListenersExceededWarning). */
  warnings: number;
  /**
   * With a disruption that reports its recovery: the slots after `recoveredAt`, the skipped runs the store logged for
   * them, and their missed slots by what the run log says of each (as `missedBy`).
   */
  recovered: (Verdict & { skipped: number; missedBy: Record<string, number> }) | null;
  /**
   * With `disruptedAt`: how long after it the last slot not run came (a job held by the killed
   * daemon runs again from the slot after that one); 0 when no slot from the disruption on was missed.
   */
  resumedAfterMs: number | null;
}

async function openStore(kind: ChaosStoreKind, name: string, url?: string): Promise<Store> {
  if (kind === 'redis') {
    const { createRedisStore } = await import('@tickwork/store-redis');
    return createRedisStore({ url: url ?? REDIS_URL, prefix: name });
  }
  const { createSqlStore } = await import('@tickwork/store-sql');
  return kind === 'sqlite'
    ? createSqlStore({ driver: 'sqlite', dbName: name })
    : createSqlStore({ driver: 'postgresql', clientUrl: url ?? PG_URL, schema: name, poolSize: 2 });
}

async function prepareStore(kind: ChaosStoreKind, dir: string, url?: string): Promise<{ name: string; cleanup: () => Promise<void> }> {
  if (kind === 'redis') {
    const name = `chaos-${uniqueSuffix()}`;
    return {
      name,
      cleanup: async () => {
        const { Redis } = await import('ioredis');
        const redis = new Redis(url ?? REDIS_URL);
        const keys = await redis.keys(`${name}:*`);
        if (keys.length > 0) await redis.del(...keys);
        await redis.quit();
      },
    };
  }
  const { migrate } = await import('@tickwork/store-sql');
  if (kind === 'sqlite') {
    const name = join(dir, 'chaos.db');
    await migrate({ driver: 'sqlite', dbName: name });
    return { name, cleanup: async () => undefined };
  }
  const name = `chaos_${uniqueSuffix()}`;
  await migrate({ driver: 'postgresql', clientUrl: url ?? PG_URL, schema: name });
  return {
    name,
    cleanup: async () => {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: url ?? PG_URL });
      await client.connect();
      await client.query(`drop schema if exists "${name}" cascade`);
      await client.end();
    },
  };
}

function startDaemon(id: string, env: NodeJS.ProcessEnv, onStderr: (text: string) => void): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(SCRIPTS, 'chaos-daemon.mjs')], {
      env: { ...env, CHAOS_RUNNER_ID: id },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr(chunk.toString());
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`[tickwork] [chaos] daemon ${id} exited ${String(code)} before ready: ${stderr}`)));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Judged slots a disruption's recovery always gets: the scenario runs until at least this long after the
 * `recoveredAt` its disruption measured, however late a busy machine made that (a restart taking most of
 * the planned run left the recovered window empty).
 */
export const RECOVERED_MIN_MS = 10_000;

/** A safety net, not a speed claim: how far past its planned end a scenario may run for that window. */
const OVERRUN_CAP_MS = 120_000;

/**
 * After the judged window, how long the daemons may take to start a slot past it for every job (then every
 * slot of the window has had its turn): a safety net; the scenario stops as soon as they have.
 */
const TAIL_CAP_MS = 60_000;

/** How long a daemon may take to exit after SIGTERM (its grace period is 5 s) before it counts as stuck. */
const STOP_BOUND_MS = 20_000;

/** Runs one scenario with real OS processes on a real store and judges the ledger. */
export async function runScenario(scenario: ChaosScenario): Promise<ChaosResult> {
  const dir = tempDir(`run-${scenario.store}`);
  const ledgerDir = join(dir, 'ledger');
  mkdirSync(ledgerDir);
  const target = await prepareStore(scenario.store, dir, scenario.storeUrl);
  const storeTarget = `${scenario.store}:${target.name}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(scenario.storeUrl ? { [scenario.store === 'redis' ? 'TICKWORK_REDIS_URL' : 'TICKWORK_PG_URL']: scenario.storeUrl } : {}),
    CHAOS_STORE: storeTarget,
    CHAOS_JOBS: String(scenario.jobs),
    CHAOS_JOB_MS: String(scenario.jobMs ?? 50),
    CHAOS_LEDGER_DIR: ledgerDir,
    CHAOS_ALLOW_PARALLEL: scenario.allowParallelRuns ? '1' : '0',
    CHAOS_LEASE_TTL: scenario.leaseTtl ?? '3s',
    ...(scenario.presence === false ? { CHAOS_PRESENCE: 'off' } : {}),
    ...(scenario.missedRunPolicy ? { CHAOS_MISSED_POLICY: JSON.stringify(scenario.missedRunPolicy) } : {}),
  };
  const daemons = new Map<string, ChildProcess>();
  let kills = 0;
  let warnings = 0;
  const onStderr = (text: string) => {
    warnings += text.split('\n').filter((line) => /Warning: /.test(line)).length;
  };
  let stopping = false;
  const cliRuns: Array<Promise<unknown>> = [];
  try {
    await Promise.all(
      Array.from({ length: scenario.daemons }, async (_, i) => {
        const id = `daemon-${i}`;
        const skew = i === 0 && scenario.skewMs ? String(scenario.skewMs) : '0';
        daemons.set(id, await startDaemon(id, { ...env, CHAOS_CLOCK_SKEW_MS: skew }, onStderr));
      }),
    );
    const from = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    let to = from + scenario.seconds * 1000;
    const cliTimer = scenario.cliLoop
      ? setInterval(() => {
          if (!stopping)
            cliRuns.push(
              runCli(['run', '--silent', '--config', CONFIG], {
                cwd: dir,
                env: { ...env, CHAOS_RUNNER_ID: `cli-${cliRuns.length}` },
                timeoutMs: 20_000,
              }),
            );
        }, 1000)
      : null;
    const killer = scenario.killEveryMs
      ? (async () => {
          while (!stopping && Date.now() + (scenario.killEveryMs as number) < to - 1000) {
            await sleep(scenario.killEveryMs as number);
            const ids = [...daemons.keys()];
            const id = ids[Math.floor(Math.random() * ids.length)] as string;
            daemons.get(id)?.kill('SIGKILL');
            kills++;
            daemons.set(id, await startDaemon(id, { ...env, CHAOS_CLOCK_SKEW_MS: '0' }, onStderr));
          }
        })()
      : Promise.resolve();
    let disrupted: DisruptOutcome | null = null;
    if (scenario.disrupt) {
      await sleep(Math.max(0, from - Date.now() + (scenario.seconds * 1000) / 3));
      const killDaemon = (options: { holding?: boolean } = {}): string | null => {
        const alive = [...daemons].filter(([, c]) => c.exitCode === null && c.signalCode === null);
        // A daemon whose handler started less than its length minus 20 ms ago (the time read after the ledger, just before
        // the kill) and has not ended: it holds runs.
        const entries = options.holding ? readLedger(ledgerDir) : [];
        const now = Date.now();
        const holdMs = (scenario.jobMs ?? 50) - 20;
        const ended = new Set(entries.filter((e) => e.event === 'end').map((e) => e.runId));
        const busy = new Set(entries.filter((e) => e.event === 'start' && now - e.at < holdMs && !ended.has(e.runId)).map((e) => e.runner));
        const [id, child] = alive.find(([name]) => busy.has(name)) ?? (options.holding ? [] : alive[0]) ?? [];
        if (options.holding && !id) return null;
        if (!id || !child) throw new Error('[tickwork] [chaos] no running daemon to kill');
        child.kill('SIGKILL');
        kills++;
        return id;
      };
      disrupted = (await scenario.disrupt({ kind: scenario.store, name: target.name, killDaemon })) ?? null;
      if (disrupted) {
        const end = Math.ceil((disrupted.recoveredAt + RECOVERED_MIN_MS) / 1000) * 1000;
        if (end > to + OVERRUN_CAP_MS)
          throw new Error(
            `[tickwork] [chaos] the disruption recovered ${Math.round((disrupted.recoveredAt - from) / 1000)} s into a ${scenario.seconds} s scenario: past the ${OVERRUN_CAP_MS / 1000} s safety net`,
          );
        to = Math.max(to, end);
      }
    }
    // Every job's handler started for a slot past the window (a late machine starts slots late): the window's
    // slots have all had their turn, whether they ran or were coalesced, skipped or interrupted.
    await sleep(Math.max(0, to - Date.now() + 1000 + (scenario.jobMs ?? 50)));
    const codes = Array.from({ length: scenario.jobs }, (_, i) => `chaos.j${i}`);
    for (const tailEnd = Date.now() + TAIL_CAP_MS; Date.now() < tailEnd; await sleep(250)) {
      const past = new Set(
        readLedger(ledgerDir)
          .filter((e) => e.event === 'start' && e.slot > to)
          .map((e) => e.code),
      );
      if (codes.every((code) => past.has(code))) break;
    }
    stopping = true;
    if (cliTimer) clearInterval(cliTimer);
    await killer;
    await Promise.all(cliRuns);
    // A daemon must drain within its grace period; one still alive well after is a finding, not a hang of the suite.
    const stuckOnStop = (
      await Promise.all(
        [...daemons.values()].map(
          (child) =>
            new Promise<boolean>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve(false);
              const timer = setTimeout(() => {
                child.kill('SIGKILL');
                resolve(true);
              }, STOP_BOUND_MS);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve(false);
              });
              child.kill('SIGTERM');
            }),
        ),
      )
    ).filter(Boolean).length;
    const entries = readLedger(ledgerDir);
    const verdict = judge(entries, codes, from, to);
    const store = await openStore(scenario.store, target.name, scenario.storeUrl);
    try {
      const leaseMs = Number.parseFloat(scenario.leaseTtl ?? '3s') * 1000;
      await store.reapExpired({ now: new Date(Date.now() + leaseMs + 1000) });
      const recorded = new Map<string, string>();
      // Slots a skipped range (attempt 0) stands for, expanded over the every-second schedule, with its reason.
      const ranged = new Map<string, string>();
      let rangeCountMismatches = 0;
      let cursor: string | null = null;
      do {
        const page = await store.queryRuns({ limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const run of page.runs) {
          if (run.rangeLastSlotAt === null) {
            recorded.set(`${run.code}|${run.slotAt.getTime()}`, run.status);
            continue;
          }
          let slots = 0;
          for (let slot = run.slotAt.getTime(); slot <= run.rangeLastSlotAt.getTime(); slot += 1000, slots++)
            ranged.set(`${run.code}|${slot}`, run.skipReason ?? 'none');
          if (slots !== run.slotCount) rangeCountMismatches++;
        }
        cursor = page.nextCursor;
      } while (cursor);
      const count = (status: string) => [...recorded.values()].filter((s) => s === status).length;
      // After a data loss only what ran since can be in the log.
      const logged = (slot: number) => !disrupted?.dataLost || slot > disrupted.recoveredAt;
      let unlogged = 0;
      for (const e of entries) if (e.event === 'start' && logged(e.slot) && (await store.getRun(e.runId)) === null) unlogged++;
      const unaccountedMisses = verdict.missed.filter(
        (m) => logged(m.slot) && !recorded.has(`${m.code}|${m.slot}`) && !ranged.has(`${m.code}|${m.slot}`),
      ).length;
      // Each missed slot of the window by what the log says of it: a run's status, or a range's reason.
      const reasons = (missed: Verdict['missed']) => {
        const by: Record<string, number> = {};
        for (const m of missed) {
          const id = `${m.code}|${m.slot}`;
          const why = recorded.has(id) ? `run ${recorded.get(id)}` : ranged.has(id) ? `range ${ranged.get(id)}` : 'nothing';
          by[why] = (by[why] ?? 0) + 1;
        }
        return by;
      };
      const missedBy = reasons(verdict.missed);
      const startedSlots = new Set(entries.filter((e) => e.event === 'start').map((e) => `${e.code}|${e.slot}`));
      const rangedButStarted = [...ranged.keys()].filter((id) => startedSlots.has(id)).length;
      const afterRecovery = disrupted && judge(entries, codes, disrupted.recoveredAt, to);
      const recovered = disrupted && {
        ...(afterRecovery as Verdict),
        missedBy: reasons((afterRecovery as Verdict).missed),
        skipped: [...recorded].filter(
          ([id, status]) => status === 'skipped' && Number(id.slice(id.lastIndexOf('|') + 1)) > (disrupted as DisruptOutcome).recoveredAt,
        ).length,
      };
      return {
        ...verdict,
        unlogged,
        leftRunning: count('running'),
        interrupted: count('interrupted'),
        skipped: count('skipped'),
        skippedInWindow: [...recorded].filter(([id, status]) => {
          const slot = Number(id.slice(id.lastIndexOf('|') + 1));
          return status === 'skipped' && slot >= from && slot <= to;
        }).length,
        unaccountedMisses,
        missedBy,
        rangeCountMismatches,
        rangedButStarted,
        kills,
        stuckOnStop,
        warnings,
        recovered,
        resumedAfterMs: resumedAfter(verdict.missed, disrupted?.disruptedAt),
      };
    } finally {
      await store.close();
    }
  } finally {
    stopping = true;
    for (const child of daemons.values()) if (child.exitCode === null) child.kill('SIGKILL');
    await target.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The last missed slot at or after `disruptedAt` (one slot back: it may have been claimed just before), as ms
 * after it, plus the 1 s to the next slot.
 */
function resumedAfter(missed: readonly { slot: number }[], disruptedAt: number | undefined): number | null {
  if (disruptedAt === undefined) return null;
  const after = missed.filter((m) => m.slot >= disruptedAt - 1_000).map((m) => m.slot);
  return after.length === 0 ? 0 : Math.max(0, Math.max(...after) + 1_000 - disruptedAt);
}

/** How long `killOneDaemon` with `holding` looks for a daemon running a handler: a safety net, not a speed claim. */
const HOLDING_CAP_MS = 60_000;

/**
 * SIGKILLs one daemon (not restarted); with `holding`, one seen running a handler at the moment of the kill, so it
 * holds runs. Slots from the kill (its actual instant) plus the killed daemon's lease TTL plus `settleMs` on are
 * judged as `recovered`: the other daemons must run every one of them.
 */
export function killOneDaemon(
  leaseTtlMs: number,
  settleMs = 3_000,
  options: { holding?: boolean } = {},
): (target: DisruptTarget) => Promise<DisruptOutcome> {
  return async ({ killDaemon }) => {
    if (!options.holding) killDaemon();
    else {
      // Looked for as often as it takes: on a busy machine handlers start late and ledger lines come late, so a
      // look at a fixed point of a second, even three of them, can find none and kill a daemon holding nothing.
      const deadline = Date.now() + HOLDING_CAP_MS;
      while (killDaemon({ holding: true }) === null) {
        if (Date.now() > deadline)
          throw new Error(`[tickwork] [chaos] no daemon was seen running a handler within ${HOLDING_CAP_MS / 1000} s: nothing killed`);
        await sleep(10);
      }
    }
    const disruptedAt = Date.now();
    return { recoveredAt: disruptedAt + leaseTtlMs + settleMs, disruptedAt };
  };
}
