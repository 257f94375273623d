import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { burstRank, runnerSeed, scheduleId } from '../src/schedule-entry.js';
import { SlotQueue, type Queued } from '../src/slot-queue.js';

interface Item extends Queued {
  id: number;
}

describe('SlotQueue', () => {
  it('pops entries in due order whatever the sequence of inserts, moves and removals', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('set' as const), id: fc.nat(30), due: fc.option(fc.integer({ min: 0, max: 1000 })) }),
            fc.record({ op: fc.constant('pop' as const) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const queue = new SlotQueue<Item>();
          const items = new Map<number, Item>();
          const model = new Map<number, number>();
          for (const step of ops) {
            if (step.op === 'set') {
              const item = items.get(step.id) ?? { id: step.id, dueAt: null, queueIndex: -1 };
              items.set(step.id, item);
              item.dueAt = step.due;
              queue.update(item);
              if (step.due === null) model.delete(step.id);
              else model.set(step.id, step.due);
            } else {
              const popped = queue.pop();
              const min = Math.min(...model.values());
              if (model.size === 0) expect(popped).toBeUndefined();
              else {
                expect(popped?.dueAt).toBe(min);
                model.delete((popped as Item).id);
              }
            }
            expect(queue.size).toBe(model.size);
          }
          const drained: number[] = [];
          for (let item = queue.pop(); item; item = queue.pop()) drained.push(item.dueAt as number);
          expect(drained).toEqual([...model.values()].sort((a, b) => a - b));
          for (const item of items.values()) expect(item.queueIndex).toBe(-1);
        },
      ),
    );
  });

  it('removing an entry that is not queued changes nothing', () => {
    const queue = new SlotQueue<Item>();
    const a: Item = { id: 1, dueAt: 5, queueIndex: -1 };
    const b: Item = { id: 2, dueAt: 3, queueIndex: -1 };
    queue.update(a);
    queue.remove(b);
    expect(queue.size).toBe(1);
    expect(queue.peek()).toBe(a);
  });

  it('pops entries due at the same instant by rank, whatever order they came in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(1_000), { minLength: 1, maxLength: 50 }), fc.nat(3), (ranks, due) => {
        const queue = new SlotQueue<Item>();
        for (const [id, rank] of ranks.entries()) queue.update({ id, dueAt: due, queueIndex: -1, rank });
        const popped: number[] = [];
        for (let item = queue.pop(); item; item = queue.pop()) popped.push(item.rank as number);
        expect(popped).toEqual([...ranks].sort((a, b) => a - b));
      }),
    );
  });
});

describe('burstRank', () => {
  const ids = Array.from({ length: 1_000 }, (_, i) => scheduleId(`job-${i}`, ''));
  const orderOf = (runnerId: string) => {
    const seed = runnerSeed(runnerId);
    return [...ids].sort((a, b) => burstRank(a, seed) - burstRank(b, seed));
  };

  it("orders one instant's schedules as the same circle for every runner, each from its own point", () => {
    const a = orderOf('host-a-1234');
    const b = orderOf('host-b-5678');
    expect(b).not.toEqual(a);
    // b is a rotated: the same cyclic sequence, started elsewhere.
    const at = a.indexOf(b[0] as string);
    expect(at).toBeGreaterThan(0);
    expect([...a.slice(at), ...a.slice(0, at)]).toEqual(b);
  });

  it('is a 32-bit unsigned rank, the same for the same schedule and runner', () => {
    const seed = runnerSeed('runner');
    for (const id of ids.slice(0, 20)) {
      const rank = burstRank(id, seed);
      expect(Number.isInteger(rank) && rank >= 0 && rank < 2 ** 32).toBe(true);
      expect(burstRank(id, seed)).toBe(rank);
    }
  });
});
