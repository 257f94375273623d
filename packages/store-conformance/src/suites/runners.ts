import { InvalidArgumentError, type Store } from '@tickwork/core';
import type { ReapedRun, RunnerHeartbeat } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { countBy, expectClaimed } from '../outcomes.js';

const ref = { code: 'runner-job', key: '' };

function beat(runnerId: string, nowMs: number, overrides: Partial<RunnerHeartbeat> = {}): RunnerHeartbeat {
  return { runnerId, now: instantAt(nowMs), ttlMs: 3_000, startedAt: instantAt(-60_000), clockOffsetMs: 12, ...overrides };
}

function presenceOf(store: Store) {
  const { heartbeat, listRunners } = store;
  if (!store.capabilities.runnerPresence || !heartbeat || !listRunners) throw new Error('unreachable: the store has no runner presence');
  return { heartbeat: heartbeat.bind(store), listRunners: listRunners.bind(store), kind: store.capabilities.runnerPresence };
}

/** Claims one slot of `key` as `runnerId` with a lease far longer than any heartbeat TTL here. */
async function claimAs(store: Store, runnerId: string, key = '') {
  const [outcome] = await store.claimSlots([claimFor({ code: ref.code, key }, instantAt(0), { leaseMs: 600_000 })], {
    runnerId,
    now: instantAt(0),
  });
  return expectClaimed(outcome);
}

/**
 * Reaps with `runners: true` at `nowMs` until something comes back or 10 s pass: a closed
 * connection's presence (a session lock, a subscription) leaves the server shortly after the
 * client closed it, not at once.
 */
async function reapDead(store: Store, nowMs: number): Promise<ReapedRun[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reaped = await store.reapExpired({ now: instantAt(nowMs), runners: true });
    if (reaped.length > 0 || Date.now() > deadline) return reaped;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runner presence: heartbeats, the runner listing, and reaping of a dead runner's runs before their leases expire. */
export function describeRunners(h: StoreHarness): void {
  describe('runners', () => {
    it('heartbeat and listRunners exist exactly when runnerPresence is declared', () => {
      const kind = h.store.capabilities.runnerPresence;
      expect(kind === undefined || kind === 'connection' || kind === 'heartbeat').toBe(true);
      expect(typeof h.store.heartbeat === 'function').toBe(kind !== undefined);
      expect(typeof h.store.listRunners === 'function').toBe(kind !== undefined);
    });

    it('without runnerPresence a runner-less store ignores runners: true and reaps expired leases only', async () => {
      if (h.store.capabilities.runnerPresence) return;
      await prepareSchedules(h.store, [ref], instantAt(0));
      const { run } = await claimAs(h.store, 'gone');
      expect(await h.store.reapExpired({ now: instantAt(60_000), runners: true })).toEqual([]);
      expect((await h.store.getRun(run.id))?.status).toBe('running');
    });

    it('a heartbeat records the runner; listRunners lists it with its fields, ordered by id', async () => {
      if (!h.store.capabilities.runnerPresence) return;
      const p = presenceOf(h.store);
      const first = await p.heartbeat(beat('runner-b', 0));
      expect(first).toMatchObject({ runnerId: 'runner-b', clockOffsetMs: 12, alive: true });
      expect(first.startedAt.getTime()).toBe(instantAt(-60_000).getTime());
      expect(first.lastHeartbeatAt.getTime()).toBe(instantAt(0).getTime());
      expect(first.expiresAt.getTime()).toBe(instantAt(3_000).getTime());
      expect(first.connected).toBe(p.kind === 'connection' ? true : null);
      await p.heartbeat(beat('runner-a', 500, { clockOffsetMs: null, ttlMs: 10_000 }));
      const again = await p.heartbeat(beat('runner-b', 1_000, { clockOffsetMs: -4 }));
      expect(again.expiresAt.getTime()).toBe(instantAt(4_000).getTime());
      const listed = await p.listRunners({ now: instantAt(1_500) });
      expect(listed.map((r) => [r.runnerId, r.clockOffsetMs, r.alive])).toEqual([
        ['runner-a', null, true],
        ['runner-b', -4, true],
      ]);
      expect(listed[1]?.lastHeartbeatAt).toBeInstanceOf(Date);
      expect(listed[1]?.lastHeartbeatAt.getTime()).toBe(instantAt(1_000).getTime());
      expect(listed[0]?.expiresAt.getTime()).toBe(instantAt(10_500).getTime());
      // Another instance sees the same runners.
      const other = presenceOf(await h.open());
      expect((await other.listRunners({ now: instantAt(1_500) })).map((r) => r.runnerId)).toEqual(['runner-a', 'runner-b']);
    });

    it('refuses bad heartbeats with InvalidArgumentError naming the field, recording nothing', async () => {
      if (!h.store.capabilities.runnerPresence) return;
      const p = presenceOf(h.store);
      const bad: [Partial<RunnerHeartbeat>, RegExp][] = [
        [{ runnerId: '' }, /runnerId/],
        [{ ttlMs: 0 }, /ttlMs/],
        [{ ttlMs: Number.NaN }, /ttlMs/],
        [{ now: new Date(Number.NaN) }, /now/],
        [{ startedAt: 'yesterday' as unknown as Date }, /startedAt/],
        [{ clockOffsetMs: Number.POSITIVE_INFINITY }, /clockOffsetMs/],
      ];
      for (const [override, field] of bad) {
        const attempt = p.heartbeat(beat('bad-runner', 0, override));
        await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(attempt).rejects.toThrow(field);
      }
      await expect(p.listRunners({ now: new Date(Number.NaN) })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await p.listRunners({ now: instantAt(0) })).toEqual([]);
    });

    it("a dead runner's running runs are interrupted by reapExpired({ runners: true }) before their leases expire, once", async () => {
      if (!h.store.capabilities.runnerPresence) return;
      await prepareSchedules(h.store, [ref, { code: ref.code, key: 'k' }, { code: ref.code, key: 'other' }], instantAt(0));
      const doomed = await h.open();
      await presenceOf(doomed).heartbeat(beat('doomed', 0));
      const a = await claimAs(doomed, 'doomed');
      const b = await claimAs(doomed, 'doomed', 'k');
      const bystander = await claimAs(h.store, 'never-beat', 'other');
      await h.close(doomed);

      // Without `runners` only expired leases are reaped, and these leases live for 10 minutes.
      expect(await h.store.reapExpired({ now: instantAt(5_000) })).toEqual([]);
      const reaped = await reapDead(h.store, 5_000);
      expect(reaped.map(({ run }) => run.id).sort()).toEqual([a.run.id, b.run.id].sort());
      for (const { run, state } of reaped) {
        expect(run).toMatchObject({ status: 'interrupted', leaseExpiresAt: null, runnerId: 'doomed' });
        expect(run.finishedAt?.getTime()).toBe(instantAt(5_000).getTime());
        expect(run.message).toMatch(/doomed/);
        expect(state).toMatchObject({ code: run.code, key: run.key, lastStatus: 'interrupted', consecutiveFailures: 1 });
      }
      expect(await h.store.reapExpired({ now: instantAt(6_000), runners: true })).toEqual([]);
      expect(await h.store.renewLeases([a.lease], { now: instantAt(6_001), leaseMs: 1_000 })).toEqual([null]);
      expect((await h.store.completeRuns([{ lease: b.lease, status: 'succeeded', finishedAt: instantAt(6_002) }]))[0]?.status).toBe(
        'stale',
      );
      // A runner id that never sent a heartbeat (the CLI, an older release) keeps its run until its lease expires.
      expect((await h.store.getRun(bystander.run.id))?.status).toBe('running');
      const [listed] = await presenceOf(h.store).listRunners({ now: instantAt(6_000) });
      expect(listed).toMatchObject({ runnerId: 'doomed', alive: false });
      if (presenceOf(h.store).kind === 'connection') expect(listed?.connected).toBe(false);
    });

    it('a runner within its heartbeat TTL keeps its runs; on connection stores an open connection keeps them past the TTL', async () => {
      if (!h.store.capabilities.runnerPresence) return;
      await prepareSchedules(h.store, [ref], instantAt(0));
      const slow = await h.open();
      const p = presenceOf(slow);
      await p.heartbeat(beat('slow', 0));
      const { run } = await claimAs(slow, 'slow');
      expect(await h.store.reapExpired({ now: instantAt(2_999), runners: true })).toEqual([]);
      const late = await h.store.reapExpired({ now: instantAt(3_000), runners: true });
      if (p.kind === 'connection') {
        // Alive but slow (a stall, a GC pause): its connection is open, so it is never declared dead.
        expect(late).toEqual([]);
        expect(await h.store.reapExpired({ now: instantAt(120_000), runners: true })).toEqual([]);
        expect((await h.store.getRun(run.id))?.status).toBe('running');
        const [listed] = await p.listRunners({ now: instantAt(120_000) });
        expect(listed).toMatchObject({ runnerId: 'slow', connected: true, alive: true });
      } else {
        expect(late.map(({ run: r }) => r.id)).toEqual([run.id]);
      }
    });

    it('a runner that beats again after its TTL is alive again and its new runs are kept', async () => {
      if (!h.store.capabilities.runnerPresence) return;
      await prepareSchedules(h.store, [ref], instantAt(0));
      const p = presenceOf(h.store);
      await p.heartbeat(beat('back', 0));
      await p.heartbeat(beat('back', 20_000));
      const { run } = await claimAs(h.store, 'back');
      expect(await h.store.reapExpired({ now: instantAt(22_000), runners: true })).toEqual([]);
      expect((await h.store.getRun(run.id))?.status).toBe('running');
      expect((await p.listRunners({ now: instantAt(22_000) }))[0]).toMatchObject({ runnerId: 'back', alive: true });
    });

    it('a heartbeat deletes the records of runners expired more than an hour before', async () => {
      if (!h.store.capabilities.runnerPresence) return;
      const gone = await h.open();
      await presenceOf(gone).heartbeat(beat('old', 0));
      await h.close(gone);
      const p = presenceOf(h.store);
      await p.heartbeat(beat('fresh', 3_000 + 3_600_000));
      expect((await p.listRunners({ now: instantAt(3_000 + 3_600_000) })).map((r) => r.runnerId)).toEqual(['fresh', 'old']);
      await p.heartbeat(beat('fresh', 3_000 + 3_600_001));
      expect((await p.listRunners({ now: instantAt(3_000 + 3_600_001) })).map((r) => r.runnerId)).toEqual(['fresh']);
    });

    it("each dead runner's run is reaped by exactly one of N racing instances", async () => {
      if (!h.store.capabilities.runnerPresence) return;
      const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
      await prepareSchedules(
        h.store,
        keys.map((key) => ({ code: ref.code, key })),
        instantAt(0),
      );
      const doomed = await h.open();
      await presenceOf(doomed).heartbeat(beat('doomed', 0));
      const ids = [];
      for (const key of keys) ids.push((await claimAs(doomed, 'doomed', key)).run.id);
      await h.close(doomed);
      const racers = await h.openMany(h.raceInstances);
      // Wait until the server dropped the closed connection's presence, without reaping yet.
      const deadline = Date.now() + 10_000;
      while ((await presenceOf(h.store).listRunners({ now: instantAt(5_000) }))[0]?.alive !== false && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const results = await Promise.all(racers.map((store) => store.reapExpired({ now: instantAt(5_000), runners: true })));
      const reaped = results.flat().map(({ run }) => run.id);
      expect([...countBy(reaped).values()].every((n) => n === 1)).toBe(true);
      expect(reaped.sort()).toEqual(ids.sort());
    });
  });
}
