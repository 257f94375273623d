import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runnerSeed, scheduleId, scheduleRank } from '../src/schedule-entry.js';
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

describe('SlotQueue offset', () => {
  it('pops the entries of one instant from its offset around the circle of ranks, also after the offset moved', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(2 ** 32 - 1), { minLength: 1, maxLength: 60 }),
        fc.nat(2 ** 32 - 1),
        fc.nat(2 ** 32 - 1),
        (ranks, first, then) => {
          const queue = new SlotQueue<Item>();
          queue.setOffset(first);
          for (const [id, rank] of ranks.entries()) queue.update({ id, dueAt: 7, queueIndex: -1, rank });
          queue.setOffset(then);
          const popped: number[] = [];
          for (let item = queue.pop(); item; item = queue.pop()) popped.push(item.rank as number);
          expect(popped).toEqual([...ranks].sort((a, b) => ((a - then) >>> 0) - ((b - then) >>> 0)));
        },
      ),
    );
  });

  it('two runners at opposite points walk the same circle, each starting where the other is half-way', () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => scheduleId(`job-${i}`, ''));
    const walk = (offset: number) => {
      const queue = new SlotQueue<Item & { name: string }>();
      queue.setOffset(offset);
      for (const [id, name] of ids.entries()) queue.update({ id, name, dueAt: 0, queueIndex: -1, rank: scheduleRank(name) });
      const order: string[] = [];
      for (let item = queue.pop(); item; item = queue.pop()) order.push(item.name);
      return order;
    };
    const a = walk(runnerSeed('host-a'));
    const b = walk(runnerSeed('host-b'));
    expect(b).not.toEqual(a);
    const at = a.indexOf(b[0] as string);
    expect([...a.slice(at), ...a.slice(0, at)]).toEqual(b);
  });
});
