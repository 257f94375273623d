import { InvalidArgumentError, type Store } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { instantAt } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';

const HOUR = 3_600_000;

function claimOf(store: Store): NonNullable<Store['claimMaintenance']> {
  const { claimMaintenance } = store;
  if (!claimMaintenance) throw new Error('unreachable: the store has no claimMaintenance');
  return claimMaintenance.bind(store);
}

/** Maintenance claims: one winner per period, across instances. Skipped by stores without `claimMaintenance`. */
export function describeMaintenance(h: StoreHarness): void {
  describe('maintenance claims', () => {
    it('the first claim wins; later ones lose until the period has passed since the last win', async () => {
      if (!h.store.claimMaintenance) return;
      const claim = claimOf(h.store);
      expect(await claim('retention', { now: instantAt(0), everyMs: HOUR })).toBe(true);
      expect(await claim('retention', { now: instantAt(1), everyMs: HOUR })).toBe(false);
      expect(await claim('retention', { now: instantAt(HOUR - 1), everyMs: HOUR })).toBe(false);
      expect(await claim('retention', { now: instantAt(HOUR), everyMs: HOUR })).toBe(true);
      // The period counts from the last win, not from the first.
      expect(await claim('retention', { now: instantAt(2 * HOUR - 1), everyMs: HOUR })).toBe(false);
      expect(await claim('retention', { now: instantAt(2 * HOUR), everyMs: HOUR })).toBe(true);
    });

    it("names are independent, and a second instance sees the first one's win", async () => {
      if (!h.store.claimMaintenance) return;
      const other = claimOf(await h.open());
      const claim = claimOf(h.store);
      expect(await claim('retention', { now: instantAt(0), everyMs: HOUR })).toBe(true);
      expect(await other('retention', { now: instantAt(10), everyMs: HOUR })).toBe(false);
      expect(await other('audit', { now: instantAt(10), everyMs: HOUR })).toBe(true);
      expect(await claim('audit', { now: instantAt(20), everyMs: HOUR })).toBe(false);
    });

    it('exactly one of many racing instances wins a period', async () => {
      if (!h.store.claimMaintenance) return;
      const racers = await h.openMany(h.raceInstances);
      for (const period of [0, 1, 2]) {
        const now = instantAt(period * HOUR + 5);
        const results = await Promise.all(racers.map((store) => claimOf(store)('retention', { now, everyMs: HOUR })));
        expect(results.filter((won) => won)).toHaveLength(1);
        expect(results.filter((won) => !won)).toHaveLength(racers.length - 1);
      }
    });

    it('bad input is refused with InvalidArgumentError naming the field, and claims nothing', async () => {
      if (!h.store.claimMaintenance) return;
      const claim = claimOf(h.store);
      await expect(claim('', { now: instantAt(0), everyMs: HOUR })).rejects.toThrow(InvalidArgumentError);
      await expect(claim('x'.repeat(101), { now: instantAt(0), everyMs: HOUR })).rejects.toThrow(/name/);
      await expect(claim('retention', { now: new Date(Number.NaN), everyMs: HOUR })).rejects.toThrow(/now/);
      await expect(claim('retention', { now: instantAt(0), everyMs: 999 })).rejects.toThrow(/everyMs/);
      await expect(claim('retention', { now: instantAt(0), everyMs: 1.5 })).rejects.toThrow(InvalidArgumentError);
      expect(await claim('retention', { now: instantAt(0), everyMs: HOUR })).toBe(true);
    });
  });
}
