import type { ScheduleRef } from '@tickwork/core';
import type { ClaimOutcome } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { countBy, expectClaimed } from '../outcomes.js';

/** Deterministic shuffle so racers hit slots in different orders (a seeded LCG, not Math.random: reproducible failures). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed + 1;
  for (let i = out.length - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Exactly-once and no-overlap under separate store instances racing concurrently. */
export function describeClaimRaces(h: StoreHarness): void {
  describe('claim races between separate instances', () => {
    it('N instances ensuring the same new states at once each get every state back, in order, created once', async () => {
      const refs: ScheduleRef[] = Array.from({ length: 20 }, (_, i) => ({ code: `fresh-${i % 5}`, key: i < 5 ? '' : `k${i}` }));
      const racers = await h.openMany(h.raceInstances);
      const results = await Promise.all(racers.map((store, i) => store.ensureStates(refs, instantAt(i))));
      for (const states of results) {
        expect(states.map((s) => [s.code, s.key])).toEqual(refs.map((r) => [r.code, r.key]));
      }
      const created = new Set(results.flatMap((states) => states.map((s) => s.createdAt.getTime())));
      const stored = await h.store.getStates(refs);
      expect(stored).toHaveLength(refs.length);
      for (const state of stored) expect(created.has(state.createdAt.getTime())).toBe(true);
      // Every instance saw the one row that won, not its own attempt.
      for (const states of results) {
        states.forEach((state, i) => {
          expect(state.createdAt.getTime()).toBe(
            stored.find((s) => s.code === refs[i]?.code && s.key === refs[i]?.key)?.createdAt.getTime(),
          );
        });
      }
    });

    it('exactly one of N racing instances claims a slot; the others see it taken', async () => {
      const ref = { code: 'race', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const racers = await h.openMany(h.raceInstances);
      const outcomes = await Promise.all(
        racers.map((store, i) => store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: `runner-${i}`, now: instantAt(i) })),
      );
      const statuses = outcomes.map(([o]) => o?.status);
      expect(countBy(statuses).get('claimed')).toBe(1);
      expect(countBy(statuses).get('taken')).toBe(h.raceInstances - 1);
      const winner = outcomes.findIndex(([o]) => o?.status === 'claimed');
      const { run } = expectClaimed(outcomes[winner]?.[0]);
      expect(run.runnerId).toBe(`runner-${winner}`);
      const runs = await h.store.queryRuns({ code: 'race' });
      expect(runs.runs.map((r) => r.id)).toEqual([run.id]);
      const [state] = await h.store.getStates([ref]);
      expect(state?.totalRuns).toBe(1);
    });

    it('each of 200 slots claimed in batches by N racing instances is won exactly once overall', async () => {
      const refs: ScheduleRef[] = Array.from({ length: 200 }, (_, i) => ({ code: `burst-${i % 7}`, key: `k${i}` }));
      await prepareSchedules(h.store, refs, instantAt(0));
      const racers = await h.openMany(h.raceInstances);
      const outcomes = await Promise.all(
        racers.map(async (store, i) => {
          const order = shuffled(refs, i);
          const answers = await store.claimSlots(
            order.map((r) => claimFor(r, instantAt(0))),
            { runnerId: `runner-${i}`, now: instantAt(0) },
          );
          return answers.map((outcome, j): [ScheduleRef, ClaimOutcome | undefined] => [order[j] as ScheduleRef, outcome]);
        }),
      );
      const wins = outcomes.flat().filter(([, o]) => o?.status === 'claimed');
      const refKey = (r: ScheduleRef) => `${r.code}/${r.key}`;
      expect(wins).toHaveLength(200);
      expect(new Set(wins.map(([r]) => refKey(r))).size).toBe(200);
      for (const [r, o] of wins) expect(refKey(expectClaimed(o).run)).toBe(refKey(r));
      expect(outcomes.flat().filter(([, o]) => o?.status !== 'claimed' && o?.status !== 'taken')).toEqual([]);
      const states = await h.store.getStates();
      expect(states.every((s) => s.totalRuns === 1)).toBe(true);
      const logged = await h.store.queryRuns({ status: 'running', limit: 1000 });
      expect(logged.runs).toHaveLength(200);
    });

    it('racing claims of a second slot during a live lease log exactly one overlap skip', async () => {
      const ref = { code: 'no-overlap', key: 'tenant' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const [held] = await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'holder', now: instantAt(0) });
      expectClaimed(held);
      const racers = await h.openMany(h.raceInstances);
      const outcomes = await Promise.all(
        racers.map((store, i) => store.claimSlots([claimFor(ref, instantAt(30_000))], { runnerId: `runner-${i}`, now: instantAt(30_000) })),
      );
      const statuses = countBy(outcomes.map(([o]) => o?.status));
      expect(statuses.get('overlap')).toBe(1);
      expect(statuses.get('taken')).toBe(h.raceInstances - 1);
      expect((await h.store.queryRuns({ status: 'skipped' })).runs).toHaveLength(1);
      expect((await h.store.queryRuns({ status: 'running' })).runs).toHaveLength(1);
    });

    it('racing claims of a second slot after the lease expired: one winner, the old run interrupted once', async () => {
      const ref = { code: 'takeover', key: '' };
      await prepareSchedules(h.store, [ref], instantAt(0));
      const [held] = await h.store.claimSlots([claimFor(ref, instantAt(0), { leaseMs: 1_000 })], {
        runnerId: 'crashed',
        now: instantAt(0),
      });
      const old = expectClaimed(held);
      const racers = await h.openMany(h.raceInstances);
      const outcomes = await Promise.all(
        racers.map((store, i) => store.claimSlots([claimFor(ref, instantAt(60_000))], { runnerId: `runner-${i}`, now: instantAt(60_000) })),
      );
      const statuses = countBy(outcomes.map(([o]) => o?.status));
      expect(statuses.get('claimed')).toBe(1);
      expect(statuses.get('taken')).toBe(h.raceInstances - 1);
      expect((await h.store.getRun(old.run.id))?.status).toBe('interrupted');
      expect((await h.store.queryRuns({ status: 'interrupted' })).runs).toHaveLength(1);
    });
  });
}
