/**
 * A master SIGKILLed mid-run on a real Redis Cluster (3 masters, 3 replicas, node timeout 2 s).
 * One runner claims and completes every second's slot of 24 jobs (spread over the 16 shards, so
 * over all three masters) with `replicas: { count: 1 }`; while a claim batch is in flight, the
 * master serving the most of those jobs is killed, its replica takes over, and the runner goes on
 * until it has claimed three rounds on the promoted replica. Then, from a fresh client, exactly
 * what the README "Redis Cluster" states:
 * - kept: every call that answered — each claimed run (its id and runner), each completion (its
 *   status), every runtime schedule (same version) and every state's lastSlotAt;
 * - in doubt: only the batches whose call failed; a new runner's claim of each of their slots
 *   answers `taken` (kept) for all but the killed master's jobs in the batch in flight at the
 *   kill, which answer `taken` or `claimed` (never applied, or lost with the master before its
 *   replica had it) — never a second run of a slot. While the promoted master has no replica, its
 *   jobs' writes are refused for want of one (and kept: applied on it, copied by its new replica).
 */
import { randomBytes } from 'node:crypto';
import type { ClaimOutcome, Lease, SlotClaim } from '@tickwork/core/store';
import { scheduleInput } from '@tickwork/store-conformance';
import { createRedisStore } from '@tickwork/store-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';

const T0 = Date.parse('2031-01-01T00:00:00.000Z');
const JOBS = Array.from({ length: 24 }, (_, i) => `job-${i}`);
const at = (round: number) => new Date(T0 + round * 1_000);

let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs: 2_000 });
});

afterAll(async () => {
  await cluster?.stop();
});

function claim(code: string, round: number): SlotClaim {
  return { code, key: '', slotAt: at(round), attempt: 1, trigger: 'schedule', overlap: 'allowAll', leaseMs: 600_000 };
}

/** The master port each job's keys live on (found by its state key's slot, read back from the nodes). */
async function mastersOfJobs(prefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const node of cluster.nodes) {
    if (!node.running) continue;
    const conn = cluster.node(node.port);
    const role = String(await conn.role().then((r) => (r as unknown[])[0]));
    if (role !== 'master') continue;
    let cursor = '0';
    do {
      const [next, keys] = await conn.scan(cursor, 'MATCH', `${prefix}:*:states`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const code = /:([^:]+):states$/.exec(key)?.[1];
        if (code) out.set(decodeURIComponent(code), node.port);
      }
    } while (cursor !== '0');
  }
  return out;
}

describe('a Redis Cluster master killed mid-run', () => {
  it('keeps every write whose call answered (replicas: { count: 1 }); only failed calls are in doubt, and none runs a slot twice', {
    timeout: 240_000,
  }, async () => {
    const prefix = `twfailover-${randomBytes(6).toString('hex')}`;
    const client = cluster.client({
      redisOptions: { autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 1, commandTimeout: 10_000 },
    });
    // WAIT blocks the node's one connection for up to timeoutMs per shard call while a master lacks
    // its replica (the README's "Redis Cluster"): a short timeout keeps a batch's calls there within the command timeout.
    const store = createRedisStore({ redis: client, prefix, replicas: { count: 1, timeoutMs: 500 } });
    // The set-up waits as long as a busy machine's replica needs to acknowledge (WAIT answers at the ack):
    // with 500 ms, a loaded run's first write was refused before anything was killed.
    const setup = createRedisStore({ redis: client, prefix, replicas: { count: 1, timeoutMs: 60_000 } });
    const schedules = await setup.upsertSchedules(
      JOBS.map((code) => scheduleInput({ code, key: 'tenant' })),
      at(0),
    );
    await setup.ensureStates(
      JOBS.map((code) => ({ code, key: '' })),
      at(0),
    );
    const masters = await mastersOfJobs(prefix);
    expect(masters.size).toBe(JOBS.length);
    const perMaster = new Map<number, string[]>();
    for (const [code, port] of masters) perMaster.set(port, [...(perMaster.get(port) ?? []), code]);
    expect(perMaster.size).toBe(3); // the jobs span every master
    const [victim, victimJobs] = [...perMaster.entries()].sort((a, b) => b[1].length - a[1].length)[0] as [number, string[]];

    const claimed = new Map<string, { id: string; round: number }>(); // `${code}@${round}` -> acknowledged run
    const completed = new Map<string, string>(); // run id -> acknowledged status
    const inDoubt = new Map<string, { code: string; round: number }>(); // `${code}@${round}` of the failed claim calls
    const failures: string[] = [];
    const started = Date.now();
    /** Progress on stdout, so a run that times out shows where it stood. */
    const phase = (what: string) => console.log(`failover +${((Date.now() - started) / 1_000).toFixed(1)} s: ${what}`);
    /**
     * One round: claim every job's slot, complete the claimed runs; a failed call leaves its slots in doubt.
     * Answers the claim's error, or null.
     */
    const round = async (n: number, during?: () => Promise<void>): Promise<string | null> => {
      const claiming = store.claimSlots(
        JOBS.map((code) => claim(code, n)),
        { runnerId: 'runner-a', now: at(n) },
      );
      const side = during?.();
      let outcomes: ClaimOutcome[];
      try {
        outcomes = await claiming;
      } catch (error) {
        failures.push(`round ${n} claim: ${(error as Error).message}`);
        for (const code of JOBS) if (!claimed.has(`${code}@${n}`)) inDoubt.set(`${code}@${n}`, { code, round: n });
        await side;
        return (error as Error).message;
      }
      await side;
      const leases: Lease[] = [];
      outcomes.forEach((outcome, i) => {
        expect(outcome.status).toBe('claimed');
        if (outcome.status === 'claimed') {
          claimed.set(`${JOBS[i]}@${n}`, { id: outcome.run.id, round: n });
          inDoubt.delete(`${JOBS[i]}@${n}`);
          leases.push(outcome.lease);
        }
      });
      try {
        const done = await store.completeRuns(
          leases.map((lease) => ({ lease, status: 'succeeded', finishedAt: new Date(at(n).getTime() + 10) })),
        );
        done.forEach((outcome, i) => {
          expect(outcome.status).toBe('completed');
          completed.set((leases[i] as Lease).runId, 'succeeded');
        });
      } catch (error) {
        failures.push(`round ${n} completion: ${(error as Error).message}`);
      }
      return null;
    };
    /** Repeats round n (a runner's next tick) until `done` says so, at most 40 times, 250 ms apart. */
    const until = async (n: number, done: (error: string | null) => boolean, what: string) => {
      for (let attempt = 0; attempt < 40; attempt += 1) {
        const error = await round(n);
        if (done(error)) return;
        phase(`round ${n} again after: ${error}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`round ${n}: ${what} not seen in 40 attempts; failures:\n${failures.join('\n')}`);
    };

    // Before the kill a round may still miss the 500 ms WAIT on a loaded machine: it is repeated (the same
    // runner's claims are idempotent) until it answers, as rounds 6-8 are.
    for (let n = 1; n <= 3; n += 1) await until(n, (error) => error === null, 'a claimed round');
    // Round 4: the victim is SIGKILLed while the batch is in flight (it may or may not land, and answer).
    const killRound = 4;
    phase(`rounds 1-3 claimed; killing master ${victim} during round ${killRound}`);
    const killError = await round(killRound, () => cluster.kill(victim));
    phase(`round ${killRound}: ${killError ?? 'claimed'}`);
    // Its replica takes over after the node timeout.
    await cluster.healthy(60_000);
    phase('replica promoted: cluster_state ok');
    // The promoted master has no replica yet: WAIT 1 cannot be satisfied there, so a batch touching its
    // jobs is refused (their writes applied on it, unacknowledged), the other masters' part applied.
    // (Until the client has the new slot map, calls may also time out or be redirected.)
    await until(
      5,
      (error) => error?.includes('0 of the 1 replica(s) the replicas option requires') === true,
      'the refusal for want of a replica',
    );
    // The killed node restarts empty, rejoins as the new master's replica and copies its data.
    phase('round 5 refused for want of a replica; restarting the killed node');
    await cluster.restart(victim);
    await cluster.replicated(60_000);
    phase("the restarted node is the new master's replica");
    for (let n = 6; n <= 8; n += 1) await until(n, (error) => error === null, 'a claimed round');
    await store.close();

    // A fresh client and store, as a restarted runner would have.
    const verifier = createRedisStore({ redis: cluster.client(), prefix });
    // The victim's replica now serves its slots.
    const after = await mastersOfJobs(prefix);
    for (const code of victimJobs) expect(after.get(code)).not.toBe(victim);
    const failedCalls = failures.length;
    const killAt = killRound;

    // Kept: every acknowledged claim, with its runner, and every acknowledged completion.
    for (const [slot, { id }] of claimed) {
      const run = await verifier.getRun(id);
      expect(run, `claimed run ${id} (${slot})`).not.toBeNull();
      expect(run?.runnerId).toBe('runner-a');
      if (completed.has(id)) expect(run?.status).toBe('succeeded');
      else expect(['running', 'succeeded']).toContain(run?.status);
    }
    // A new runner finds every acknowledged slot taken.
    const recheck = [...claimed.keys()].map((slot) => {
      const [code, round] = slot.split('@') as [string, string];
      return claim(code, Number(round));
    });
    for (const outcome of await verifier.claimSlots(recheck, { runnerId: 'runner-b', now: at(1_000) }))
      expect(outcome.status).toBe('taken');
    // In doubt: each slot of a failed batch either kept (taken) or not there (claimed now, once).
    const doubtOutcomes =
      inDoubt.size === 0
        ? []
        : await verifier.claimSlots(
            [...inDoubt.values()].map(({ code, round }) => claim(code, round)),
            { runnerId: 'runner-b', now: at(1_000) },
          );
    const doubted = [...inDoubt.values()];
    doubtOutcomes.forEach((outcome, i) => {
      const { code, round: n } = doubted[i] as { code: string; round: number };
      // Lost can only be a write to the killed master in flight at the kill: everything else of a failed
      // call is kept — the other masters' parts, and the writes the promoted master applied before
      // WAIT found no replica (its replica, the restarted node, copied them).
      if (n === killRound && victimJobs.includes(code)) expect(['taken', 'claimed']).toContain(outcome.status);
      else expect(outcome.status, `${code}@${n}`).toBe('taken');
    });
    // Never a second run of a slot: each job's log holds one run per slot claimed.
    for (const code of JOBS) {
      const page = await verifier.queryRuns({ code, limit: 1_000 });
      const slots = page.runs.map((run) => run.slotAt.getTime());
      expect(new Set(slots).size, `runs of ${code}`).toBe(slots.length);
      const acknowledged = [...claimed.keys()].filter((slot) => slot.startsWith(`${code}@`)).length;
      const doubted = [...inDoubt.values()].filter((d) => d.code === code).length;
      expect(slots.length).toBeGreaterThanOrEqual(acknowledged);
      expect(slots.length).toBe(acknowledged + doubted); // each doubted slot now has exactly one run (kept, or runner-b's)
    }
    // Runtime schedules and states kept.
    const listed = await verifier.listSchedules({ limit: 1_000 });
    expect(listed.schedules.map((s) => [s.code, s.version])).toEqual(
      [...schedules].sort((a, b) => (a.code < b.code ? -1 : 1)).map((s) => [s.code, s.version]),
    );
    const states = await verifier.getStates(JOBS.map((code) => ({ code, key: '' })));
    for (const state of states) {
      const lastAcked = Math.max(...[...claimed.entries()].filter(([slot]) => slot.startsWith(`${state.code}@`)).map(([, c]) => c.round));
      expect(state.lastSlotAt?.getTime() ?? 0).toBeGreaterThanOrEqual(at(lastAcked).getTime());
    }
    await verifier.close();
    console.log(
      `failover: killed master ${victim} (${victimJobs.length} of ${JOBS.length} jobs) in round ${killAt}; ${claimed.size} claims and ${completed.size} completions acknowledged and kept; ` +
        `${failedCalls} failed calls; ${inDoubt.size} slots in doubt, of which ${doubtOutcomes.filter((o) => o.status === 'taken').length} kept and ${doubtOutcomes.filter((o) => o.status === 'claimed').length} not there`,
    );
  });
});
