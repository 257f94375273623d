import { InvalidArgumentError, type Store } from '@tickwork/core';
import { PARTITION_COUNT, type PartitionLeaseRequest, type PartitionLeases } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { instantAt } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';

const TTL = 30_000;

function leaseOf(store: Store): (request: PartitionLeaseRequest) => Promise<PartitionLeases> {
  const { leasePartitions } = store;
  if (!leasePartitions) throw new Error('unreachable: the store has no leasePartitions');
  return leasePartitions.bind(store);
}

function releaseOf(store: Store): (request: { runnerId: string }) => Promise<number> {
  const { releasePartitions } = store;
  if (!releasePartitions) throw new Error('unreachable: the store has no releasePartitions');
  return releasePartitions.bind(store);
}

const numbers = (leases: PartitionLeases): number[] => leases.partitions.map((p) => p.partition);

/** Every partition in the answers, each exactly once (fails on a partition two runners hold). */
function expectDisjoint(answers: readonly PartitionLeases[]): number {
  const all = answers.flatMap(numbers);
  expect(new Set(all).size).toBe(all.length);
  return all.length;
}

/**
 * Partition leases: each partition held by one runner, fair shares, takeover after the TTL. Skipped by stores
 * without `leasePartitions`.
 */
export function describePartitions(h: StoreHarness): void {
  describe('partition leases', () => {
    it('a lone runner takes every partition, renews them with the same tokens, and releases them on stop', async () => {
      if (!h.store.leasePartitions) return;
      const lease = leaseOf(h.store);
      const first = await lease({ runnerId: 'a', now: instantAt(0), ttlMs: TTL });
      expect(numbers(first)).toEqual(Array.from({ length: PARTITION_COUNT }, (_, i) => i));
      expect(first.runners).toBe(1);
      expect(first.share).toBe(PARTITION_COUNT);
      expect(first.expiresAt.getTime()).toBe(instantAt(TTL).getTime());
      expect(first.partitions.every((p) => p.token === 1)).toBe(true);
      const renewed = await lease({ runnerId: 'a', now: instantAt(10_000), ttlMs: TTL });
      expect(renewed.partitions).toEqual(first.partitions);
      expect(renewed.expiresAt.getTime()).toBe(instantAt(10_000 + TTL).getTime());
      expect(await releaseOf(h.store)({ runnerId: 'a' })).toBe(PARTITION_COUNT);
      expect(await releaseOf(h.store)({ runnerId: 'a' })).toBe(0);
      // Released, not lapsed: another runner takes them at once, each with the next token.
      const b = await leaseOf(await h.open())({ runnerId: 'b', now: instantAt(10_001), ttlMs: TTL });
      expect(b.runners).toBe(1);
      expect(b.partitions).toEqual(first.partitions.map(({ partition }) => ({ partition, token: 2 })));
    });

    it('a joining runner gets its fair share: the holder releases above its share, the joiner takes them on its next call', async () => {
      if (!h.store.leasePartitions) return;
      const a = leaseOf(h.store);
      const b = leaseOf(await h.open());
      expect(numbers(await a({ runnerId: 'a', now: instantAt(0), ttlMs: TTL }))).toHaveLength(PARTITION_COUNT);
      const joined = await b({ runnerId: 'b', now: instantAt(1_000), ttlMs: TTL });
      expect(joined.runners).toBe(2);
      expect(joined.partitions).toEqual([]);
      const shrunk = await a({ runnerId: 'a', now: instantAt(2_000), ttlMs: TTL });
      expect(shrunk.share).toBe(PARTITION_COUNT / 2);
      expect(numbers(shrunk)).toEqual(Array.from({ length: PARTITION_COUNT / 2 }, (_, i) => i));
      const grown = await b({ runnerId: 'b', now: instantAt(3_000), ttlMs: TTL });
      expect(numbers(grown)).toEqual(Array.from({ length: PARTITION_COUNT / 2 }, (_, i) => PARTITION_COUNT / 2 + i));
      expect(grown.partitions.every((p) => p.token === 2)).toBe(true);
      // A third runner: shares of ceil(256 / 3) = 86; together they cover every partition again.
      const c = leaseOf(await h.open());
      await c({ runnerId: 'c', now: instantAt(4_000), ttlMs: TTL });
      const answers = [
        await a({ runnerId: 'a', now: instantAt(5_000), ttlMs: TTL }),
        await b({ runnerId: 'b', now: instantAt(5_000), ttlMs: TTL }),
        await c({ runnerId: 'c', now: instantAt(6_000), ttlMs: TTL }),
      ];
      expect(answers.map((answer) => answer.partitions.length)).toEqual([86, 86, 84]);
      expect(expectDisjoint(answers)).toBe(PARTITION_COUNT);
    });

    it('a limit caps the share: a lone runner takes only that many, frees what is above a lower one, and takes the rest without it', async () => {
      if (!h.store.leasePartitions) return;
      const a = leaseOf(h.store);
      const first = await a({ runnerId: 'a', now: instantAt(0), ttlMs: TTL, limit: 64 });
      expect(first.runners).toBe(1);
      expect(first.share).toBe(64);
      expect(numbers(first)).toEqual(Array.from({ length: 64 }, (_, i) => i));
      // Another runner, also limited: free partitions only, lowest first.
      const b = leaseOf(await h.open());
      const joined = await b({ runnerId: 'b', now: instantAt(1_000), ttlMs: TTL, limit: 100 });
      expect([joined.runners, joined.share]).toEqual([2, 100]);
      expect(numbers(joined)).toEqual(Array.from({ length: 100 }, (_, i) => 64 + i));
      // A lower limit frees the highest-numbered held ones.
      const lowered = await a({ runnerId: 'a', now: instantAt(2_000), ttlMs: TTL, limit: 10 });
      expect(numbers(lowered)).toEqual(Array.from({ length: 10 }, (_, i) => i));
      // Without a limit the fair share (128 of 2 runners) counts: a takes free ones up to it.
      const grown = await a({ runnerId: 'a', now: instantAt(3_000), ttlMs: TTL });
      expect(grown.share).toBe(PARTITION_COUNT / 2);
      expect(numbers(grown)).toHaveLength(PARTITION_COUNT / 2);
      expect(expectDisjoint([grown, joined])).toBe(PARTITION_COUNT / 2 + 100);
      // A limit above the fair share changes nothing.
      expect((await b({ runnerId: 'b', now: instantAt(4_000), ttlMs: TTL, limit: PARTITION_COUNT })).share).toBe(PARTITION_COUNT / 2);
    });

    it('a dead runner keeps its partitions until its TTL has passed, then the next call takes them over with a new token', async () => {
      if (!h.store.leasePartitions) return;
      const a = leaseOf(h.store);
      const b = leaseOf(await h.open());
      await a({ runnerId: 'a', now: instantAt(0), ttlMs: TTL });
      await b({ runnerId: 'b', now: instantAt(1), ttlMs: TTL });
      const held = await a({ runnerId: 'a', now: instantAt(2), ttlMs: TTL });
      expect(numbers(held)).toHaveLength(PARTITION_COUNT / 2);
      expect(numbers(await b({ runnerId: 'b', now: instantAt(3), ttlMs: TTL }))).toHaveLength(PARTITION_COUNT / 2);
      // a dies (no more calls). Until its lease ends at 2 + TTL, b may not take a's half.
      const before = await b({ runnerId: 'b', now: instantAt(TTL + 1), ttlMs: TTL });
      expect(before.runners).toBe(2);
      expect(numbers(before)).toHaveLength(PARTITION_COUNT / 2);
      const after = await b({ runnerId: 'b', now: instantAt(TTL + 2), ttlMs: TTL });
      expect(after.runners).toBe(1);
      expect(numbers(after)).toHaveLength(PARTITION_COUNT);
      const taken = after.partitions.filter((p) => numbers(held).includes(p.partition));
      expect(taken).toEqual(held.partitions.map(({ partition, token }) => ({ partition, token: token + 1 })));
      // a comes back: a member again, it gets its share once b has released it.
      expect(numbers(await a({ runnerId: 'a', now: instantAt(TTL + 3), ttlMs: TTL }))).toEqual([]);
      await b({ runnerId: 'b', now: instantAt(TTL + 4), ttlMs: TTL });
      expect(numbers(await a({ runnerId: 'a', now: instantAt(TTL + 5), ttlMs: TTL }))).toHaveLength(PARTITION_COUNT / 2);
    });

    it('racing runners never hold a partition twice, and after three rounds each holds exactly its share', async () => {
      if (!h.store.leasePartitions) return;
      const racers = await h.openMany(h.raceInstances);
      const share = Math.ceil(PARTITION_COUNT / racers.length);
      let answers: PartitionLeases[] = [];
      for (const round of [0, 1, 2]) {
        const now = instantAt(round * 1_000);
        answers = await Promise.all(racers.map((store, i) => leaseOf(store)({ runnerId: `r${i}`, now, ttlMs: TTL })));
        expectDisjoint(answers);
        for (const answer of answers) expect(answer.partitions.length).toBeLessThanOrEqual(round === 0 ? PARTITION_COUNT : share);
      }
      for (const answer of answers) expect(answer.runners).toBe(racers.length);
      expect(expectDisjoint(answers)).toBe(Math.min(PARTITION_COUNT, share * racers.length));
      // With P divisible by the racers (16 of 256), each holds exactly its share.
      if (PARTITION_COUNT % racers.length === 0) for (const answer of answers) expect(answer.partitions).toHaveLength(share);
    });

    it('bad input is refused with InvalidArgumentError naming the field, and changes nothing', async () => {
      if (!h.store.leasePartitions) return;
      const lease = leaseOf(h.store);
      const bad: [unknown, RegExp][] = [
        [{ runnerId: '', now: instantAt(0), ttlMs: TTL }, /runnerId/],
        [{ runnerId: 'x'.repeat(201), now: instantAt(0), ttlMs: TTL }, /runnerId/],
        [{ runnerId: 'a\u0000b', now: instantAt(0), ttlMs: TTL }, /runnerId/],
        [{ runnerId: 7, now: instantAt(0), ttlMs: TTL }, /runnerId/],
        [{ runnerId: 'a', now: new Date(Number.NaN), ttlMs: TTL }, /now/],
        [{ runnerId: 'a', now: '2026-01-01', ttlMs: TTL }, /now/],
        [{ runnerId: 'a', now: instantAt(0), ttlMs: 999 }, /ttlMs/],
        [{ runnerId: 'a', now: instantAt(0), ttlMs: 1.5 }, /ttlMs/],
        [{ runnerId: 'a', now: instantAt(0), ttlMs: 3_600_001 }, /ttlMs/],
        [{ runnerId: 'a', now: instantAt(0), ttlMs: TTL, limit: 0 }, /limit/],
        [{ runnerId: 'a', now: instantAt(0), ttlMs: TTL, limit: PARTITION_COUNT + 1 }, /limit/],
        [{ runnerId: 'a', now: instantAt(0), ttlMs: TTL, limit: 2.5 }, /limit/],
        [{ runnerId: 'a', now: instantAt(0), ttlMs: TTL, limit: '8' }, /limit/],
        [null, /runnerId/],
      ];
      for (const [request, field] of bad) {
        const call = lease(request as PartitionLeaseRequest);
        await expect(call).rejects.toThrow(InvalidArgumentError);
        await expect(lease(request as PartitionLeaseRequest)).rejects.toThrow(field);
      }
      await expect(releaseOf(h.store)({ runnerId: '' })).rejects.toThrow(/runnerId/);
      await expect(releaseOf(h.store)(null as unknown as { runnerId: string })).rejects.toThrow(InvalidArgumentError);
      // Nothing was recorded: a runner's first call is alone and takes every partition with token 1.
      const first = await lease({ runnerId: 'b', now: instantAt(0), ttlMs: TTL });
      expect(first.runners).toBe(1);
      expect(first.partitions).toHaveLength(PARTITION_COUNT);
      expect(first.partitions.every((p) => p.token === 1)).toBe(true);
    });
  });
}
