import type { StoreChange } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { instantAt } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { waitUntil } from '../outcomes.js';

const matches = (change: StoreChange, type: StoreChange['type'], code: string, key: string) =>
  change.type === type && change.code === code && change.key === key;

/** Change propagation between instances: pushed when the store can subscribe, visible on the next read otherwise. */
export function describeChanges(h: StoreHarness): void {
  describe('changes between instances', () => {
    it('declares its capabilities, and subscribe exists exactly when changeSubscription is set', async () => {
      expect(typeof h.store.name).toBe('string');
      expect(h.store.name.length).toBeGreaterThan(0);
      expect(typeof h.store.capabilities.changeSubscription).toBe('boolean');
      expect(typeof h.store.subscribe === 'function').toBe(h.store.capabilities.changeSubscription);
      const { latencyMs, serverTime } = await h.store.ping();
      expect(latencyMs).toBeGreaterThanOrEqual(0);
      if (serverTime !== null) expect(serverTime).toBeInstanceOf(Date);
    });

    it('a change made through one instance reaches another: pushed to subscribers, or on the next read', async () => {
      const writer = h.store;
      const reader = await h.open();
      const received: StoreChange[] = [];
      const unsubscribe = reader.subscribe ? await reader.subscribe((change) => received.push(change)) : null;

      await writer.setPaused({ code: 'report', key: 'tenant-1' }, true, { note: 'x', now: instantAt(0) });
      await writer.setScheduleOverride({ code: 'report', key: '' }, { kind: 'every', everyMs: 60_000 }, instantAt(1));
      await writer.requestRun({ code: 'digest', key: '' }, { now: instantAt(2) });

      if (unsubscribe) {
        const delivered = await waitUntil(
          () =>
            received.some((c) => matches(c, 'state', 'report', 'tenant-1')) &&
            received.some((c) => matches(c, 'state', 'report', '')) &&
            received.some((c) => matches(c, 'run-request', 'digest', '')),
        );
        expect(
          delivered,
          `expected state report/tenant-1 and report/'' (pause, override) and run-request digest/''; received ${JSON.stringify(received)}`,
        ).toBe(true);
        await unsubscribe();
      }
      const [state] = await reader.getStates([{ code: 'report', key: 'tenant-1' }]);
      expect(state?.paused).toBe(true);
      const [override] = await reader.getStates([{ code: 'report', key: '' }]);
      expect(override?.scheduleOverride).toEqual({ kind: 'every', everyMs: 60_000 });
      expect((await reader.pendingRunRequests()).map((r) => r.code)).toEqual(['digest']);
    });

    it('unsubscribe stops delivery to that listener only', async () => {
      if (!h.store.subscribe) {
        expect(h.store.capabilities.changeSubscription).toBe(false);
        return;
      }
      const reader = await h.open();
      const stopped: StoreChange[] = [];
      const still: StoreChange[] = [];
      const stop = await (reader.subscribe as NonNullable<typeof reader.subscribe>)((change) => stopped.push(change));
      const keep = await (reader.subscribe as NonNullable<typeof reader.subscribe>)((change) => still.push(change));
      await h.store.setPaused({ code: 'first', key: '' }, true, { now: instantAt(0) });
      expect(await waitUntil(() => stopped.some((c) => matches(c, 'state', 'first', '')))).toBe(true);
      await stop();
      await h.store.setPaused({ code: 'second', key: '' }, true, { now: instantAt(1) });
      // The surviving listener getting "second" proves delivery happened; the stopped one must not have it.
      expect(await waitUntil(() => still.some((c) => matches(c, 'state', 'second', '')))).toBe(true);
      expect(stopped.some((c) => c.code === 'second')).toBe(false);
      await keep();
    });
  });
}
