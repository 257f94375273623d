import { InvalidArgumentError, type RunRecord, type Store } from '@tickwork/core';
import type { FinalRunStatus, RunQuery } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { expectClaimed, expectRunShape } from '../outcomes.js';

interface Seed {
  code: string;
  key: string;
  /** Slot and start, ms after the base instant. */
  startMs: number;
  /** Final status, or null to leave it running. */
  status: FinalRunStatus | null;
}

/** Claims (and completes) one run per seed; each finishes 100 ms after it started. */
async function seedRuns(store: Store, seeds: readonly Seed[]): Promise<RunRecord[]> {
  await prepareSchedules(
    store,
    seeds.map(({ code, key }) => ({ code, key })),
    instantAt(0),
  );
  const runs: RunRecord[] = [];
  for (const seed of seeds) {
    const [outcome] = await store.claimSlots([claimFor(seed, instantAt(seed.startMs), { overlap: 'allowAll', leaseMs: 3_600_000 })], {
      runnerId: 'seeder',
      now: instantAt(0),
    });
    const { run, lease } = expectClaimed(outcome);
    if (seed.status) {
      await store.completeRuns([{ lease, status: seed.status, finishedAt: instantAt(seed.startMs + 100) }]);
    }
    runs.push((await store.getRun(run.id)) as RunRecord);
  }
  return runs;
}

/** Reads every page of a query, asserting the page size bound. */
async function readAll(store: Store, query: RunQuery): Promise<RunRecord[]> {
  const all: RunRecord[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1_000; pages += 1) {
    const page = await store.queryRuns(cursor === null ? query : { ...query, cursor });
    expect(page.runs.length).toBeLessThanOrEqual(query.limit ?? 50);
    all.push(...page.runs);
    cursor = page.nextCursor;
    if (cursor === null) return all;
  }
  throw new Error('pagination did not end');
}

const ids = (runs: readonly RunRecord[]) => runs.map((run) => run.id);

/** The run log: queryRuns (order, pagination, filters, limits), getRun, pruneRuns. */
export function describeRunLog(h: StoreHarness): void {
  describe('run log', () => {
    const seeds: Seed[] = [
      { code: 'alpha', key: '', startMs: 1_000, status: 'succeeded' },
      { code: 'alpha', key: '', startMs: 2_000, status: 'failed' },
      { code: 'alpha', key: 't1', startMs: 3_000, status: 'timed_out' },
      { code: 'beta', key: '', startMs: 4_000, status: 'succeeded' },
      { code: 'beta', key: 't1', startMs: 5_000, status: null },
      { code: 'alpha', key: 't1', startMs: 6_000, status: 'interrupted' },
      { code: 'beta', key: '', startMs: 7_000, status: 'failed' },
    ];

    it('queryRuns returns runs newest first and getRun finds each by id', async () => {
      const runs = await seedRuns(h.store, seeds);
      const page = await h.store.queryRuns();
      expect(page.nextCursor).toBeNull();
      expect(ids(page.runs)).toEqual(ids([...runs].reverse()));
      page.runs.forEach(expectRunShape);
      for (const run of runs) expect(await h.store.getRun(run.id)).toEqual(run);
      expect(await h.store.getRun('987654321')).toBeNull();
      expect(await h.store.getRun('not-a-run-id')).toBeNull();
    });

    it('pagination yields every run exactly once, also among runs started at the same instant', async () => {
      const refs = Array.from({ length: 23 }, (_, i) => ({ code: 'page', key: `k${i % 3}` }));
      await prepareSchedules(h.store, refs, instantAt(0));
      // Slots in the past: every run starts at `now`, so order falls back to the id tie-break.
      const tied = await h.store.claimSlots(
        refs.map((r, i) => claimFor(r, instantAt(i), { overlap: 'allowAll' })),
        {
          runnerId: 'r',
          now: instantAt(10_000),
        },
      );
      const later = await seedRuns(
        h.store,
        Array.from({ length: 9 }, (_, i) => ({ code: 'page', key: 'x', startMs: 20_000 + i * 10, status: null })),
      );
      const all = await readAll(h.store, { limit: 4 });
      expect(all).toHaveLength(32);
      expect(new Set(ids(all)).size).toBe(32);
      expect(new Set(ids(all))).toEqual(new Set([...tied.map((o) => expectClaimed(o).run.id), ...ids(later)]));
      for (let i = 1; i < all.length; i += 1) {
        expect(all[i - 1]!.startedAt.getTime()).toBeGreaterThanOrEqual(all[i]!.startedAt.getTime());
      }
      const single = await readAll(h.store, { limit: 1, code: 'page', key: 'x' });
      expect(ids(single)).toEqual(ids([...later].reverse()));
    });

    it('filters by code, key, status (one or a list), since (inclusive) and until (exclusive)', async () => {
      const runs = await seedRuns(h.store, seeds);
      const expectIds = async (query: RunQuery, predicate: (run: RunRecord) => boolean) => {
        expect(ids((await h.store.queryRuns(query)).runs)).toEqual(ids(runs.filter(predicate).reverse()));
      };
      await expectIds({ code: 'alpha' }, (r) => r.code === 'alpha');
      await expectIds({ code: 'alpha', key: 't1' }, (r) => r.code === 'alpha' && r.key === 't1');
      await expectIds({ key: '' }, (r) => r.key === '');
      await expectIds({ status: 'failed' }, (r) => r.status === 'failed');
      await expectIds({ status: ['succeeded', 'running'] }, (r) => r.status === 'succeeded' || r.status === 'running');
      await expectIds({ status: [] }, () => false);
      await expectIds({ since: instantAt(3_000) }, (r) => r.startedAt >= instantAt(3_000));
      await expectIds({ until: instantAt(3_000) }, (r) => r.startedAt < instantAt(3_000));
      await expectIds(
        { code: 'beta', since: instantAt(4_000), until: instantAt(7_000), status: ['succeeded', 'running', 'failed'] },
        (r) => r.code === 'beta' && r.startedAt >= instantAt(4_000) && r.startedAt < instantAt(7_000),
      );
      await expectIds({ code: 'nobody' }, () => false);
    });

    it('limit defaults to 50 and must lie within 1 … 1000', async () => {
      const refs = Array.from({ length: 55 }, (_, i) => ({ code: 'many', key: `k${i}` }));
      await prepareSchedules(h.store, refs, instantAt(0));
      await h.store.claimSlots(
        refs.map((r) => claimFor(r, instantAt(0))),
        { runnerId: 'r', now: instantAt(0) },
      );
      const first = await h.store.queryRuns({});
      expect(first.runs).toHaveLength(50);
      expect(first.nextCursor).toEqual(expect.any(String));
      const rest = await h.store.queryRuns({ cursor: first.nextCursor as string });
      expect(rest.runs).toHaveLength(5);
      expect((await h.store.queryRuns({ limit: 1000 })).runs).toHaveLength(55);
      for (const limit of [0, 1001, -1, 2.5]) {
        await expect(h.store.queryRuns({ limit })).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      await expect(h.store.queryRuns({ cursor: '%%not a cursor%%' })).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('pruneRuns deletes only finished runs that finished before olderThan, never running ones', async () => {
      const runs = await seedRuns(h.store, [
        { code: 'old', key: '', startMs: 0, status: 'succeeded' }, // finished at 100
        { code: 'old', key: 'a', startMs: 200, status: 'failed' }, // finished at 300
        { code: 'old', key: 'b', startMs: 300, status: null }, // running, started long ago
        { code: 'old', key: 'c', startMs: 400, status: 'succeeded' }, // finished at 500: not before olderThan
        { code: 'old', key: 'd', startMs: 900, status: 'interrupted' }, // finished at 1000
      ]);
      const deleted = await h.store.pruneRuns({ olderThan: instantAt(500) });
      expect(deleted).toBe(2);
      const left = ids((await h.store.queryRuns()).runs).sort();
      expect(left).toEqual([runs[2]!.id, runs[3]!.id, runs[4]!.id].sort());
      expect(await h.store.getRun(runs[0]!.id)).toBeNull();
      expect(await h.store.pruneRuns({ olderThan: instantAt(500) })).toBe(0);
      expect(await h.store.pruneRuns({ olderThan: instantAt(10_000_000) })).toBe(2);
      expect((await h.store.queryRuns()).runs.map((r) => r.status)).toEqual(['running']);
    });

    it('pruneRuns works through many small batches, skipped runs included', async () => {
      const refs = Array.from({ length: 11 }, (_, i) => ({ code: 'prune', key: `k${i}` }));
      await prepareSchedules(h.store, refs, instantAt(0));
      const outcomes = await h.store.claimSlots(
        refs.map((r) => claimFor(r, instantAt(0))),
        { runnerId: 'r', now: instantAt(0) },
      );
      await h.store.completeRuns(
        outcomes.map((o) => ({ lease: expectClaimed(o).lease, status: 'succeeded' as const, finishedAt: instantAt(10) })),
      );
      // Two overlap skips: claims of a later slot while a fresh run holds the lease.
      const holder = expectClaimed(
        (await h.store.claimSlots([claimFor(refs[0]!, instantAt(20))], { runnerId: 'r', now: instantAt(20) }))[0],
      );
      const skips = await h.store.claimSlots([claimFor(refs[0]!, instantAt(30)), claimFor(refs[0]!, instantAt(40))], {
        runnerId: 'r',
        now: instantAt(40),
      });
      expect(skips.map((s) => s.status)).toEqual(['overlap', 'overlap']);
      const deleted = await h.store.pruneRuns({ olderThan: instantAt(1_000), batchSize: 2 });
      expect(deleted).toBe(13);
      expect(ids((await h.store.queryRuns()).runs)).toEqual([holder.run.id]);
    });
  });
}
