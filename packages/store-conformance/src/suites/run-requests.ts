import { InvalidArgumentError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { instantAt, prepareSchedules } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { countBy } from '../outcomes.js';

/** "Run now" requests: filing, listing, consuming exactly once. */
export function describeRunRequests(h: StoreHarness): void {
  describe('run requests', () => {
    it('requestRun files a request that pendingRunRequests lists, oldest first', async () => {
      await prepareSchedules(h.store, [{ code: 'digest', key: 'tenant-1' }], instantAt(0));
      const a = await h.store.requestRun({ code: 'report', key: '' }, { now: instantAt(2_000), requestedBy: 'alice' });
      const b = await h.store.requestRun({ code: 'digest', key: 'tenant-1' }, { now: instantAt(1_000) });
      const c = await h.store.requestRun({ code: 'report', key: '' }, { now: instantAt(3_000), requestedBy: null });
      expect(typeof a.id).toBe('string');
      expect(a.requestedAt).toBeInstanceOf(Date);
      expect(a).toMatchObject({ code: 'report', key: '', requestedBy: 'alice' });
      expect(b.requestedBy).toBeNull();
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
      const pending = await h.store.pendingRunRequests();
      expect(pending).toEqual([b, a, c]);
      expect(await h.store.pendingRunRequests({ codes: ['report'] })).toEqual([a, c]);
      expect(await h.store.pendingRunRequests({ codes: ['report', 'digest'] })).toEqual([b, a, c]);
      expect(await h.store.pendingRunRequests({ codes: ['nobody'] })).toEqual([]);
      expect(await h.store.pendingRunRequests()).toEqual([b, a, c]);
    });

    it('consumeRunRequests takes the oldest first, within limit and codes, and each only once', async () => {
      const made = [];
      for (let i = 0; i < 6; i += 1) {
        made.push(await h.store.requestRun({ code: i % 2 === 0 ? 'even' : 'odd', key: '' }, { now: instantAt(i * 1_000) }));
      }
      const firstTwo = await h.store.consumeRunRequests({ limit: 2, now: instantAt(10_000) });
      expect(firstTwo).toEqual([made[0], made[1]]);
      const evens = await h.store.consumeRunRequests({ codes: ['even'], now: instantAt(10_000) });
      expect(evens).toEqual([made[2], made[4]]);
      expect(await h.store.pendingRunRequests()).toEqual([made[3], made[5]]);
      expect(await h.store.consumeRunRequests({ now: instantAt(10_000) })).toEqual([made[3], made[5]]);
      expect(await h.store.consumeRunRequests({ now: instantAt(10_000) })).toEqual([]);
      expect(await h.store.pendingRunRequests()).toEqual([]);
    });

    it('rejects a limit below 1 with InvalidArgumentError and consumes nothing', async () => {
      await h.store.requestRun({ code: 'job', key: '' }, { now: instantAt(0) });
      await expect(h.store.consumeRunRequests({ limit: 0, now: instantAt(1) })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await h.store.pendingRunRequests()).toHaveLength(1);
    });

    it('each request is consumed by exactly one of N racing instances', async () => {
      const made = [];
      await prepareSchedules(h.store, Array.from({ length: 40 }, (_, i) => ({ code: `c${i % 4}`, key: `k${i}` })), instantAt(0));
      for (let i = 0; i < 40; i += 1) made.push(await h.store.requestRun({ code: `c${i % 4}`, key: `k${i}` }, { now: instantAt(i) }));
      const racers = await h.openMany(h.raceInstances);
      const taken = await Promise.all(racers.map((store) => store.consumeRunRequests({ limit: 7, now: instantAt(1_000) })));
      const more = await Promise.all(racers.map((store) => store.consumeRunRequests({ now: instantAt(1_001) })));
      const consumed = [...taken, ...more].flat().map((request) => request.id);
      expect([...countBy(consumed).values()].every((n) => n === 1)).toBe(true);
      expect(consumed.sort()).toEqual(made.map((request) => request.id).sort());
      for (const batch of taken) {
        const times = batch.map((request) => request.requestedAt.getTime());
        expect(times).toEqual([...times].sort((x, y) => x - y));
      }
    });
  });
}
