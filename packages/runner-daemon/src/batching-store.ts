import type { Store } from '@tickwork/core';
import { type CompletionOutcome, decorateStore, type Lease, type RunCompletion } from '@tickwork/core/store';

/** Most items one coalesced store call carries. */
const MAX_BATCH = 1_000;

interface Pending<I, O> {
  items: readonly I[];
  resolve: (outcomes: O[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces the calls that arrive in the same turn of the event loop into one store call (up to
 * MAX_BATCH items), and hands each caller its own slice of the answer. If a coalesced call fails,
 * each caller's items are sent again on their own, so only a caller whose own items fail sees it.
 */
function coalesce<I, O>(call: (items: I[]) => Promise<O[]>): (items: readonly I[]) => Promise<O[]> {
  let queue: Array<Pending<I, O>> = [];
  const flush = () => {
    const taken = queue;
    queue = [];
    for (let start = 0; start < taken.length; ) {
      const group: Array<Pending<I, O>> = [];
      let size = 0;
      while (start < taken.length && (group.length === 0 || size + (taken[start] as Pending<I, O>).items.length <= MAX_BATCH)) {
        const next = taken[start++] as Pending<I, O>;
        group.push(next);
        size += next.items.length;
      }
      call(group.flatMap((p) => [...p.items])).then(
        (outcomes) => {
          let offset = 0;
          for (const p of group) {
            p.resolve(outcomes.slice(offset, offset + p.items.length));
            offset += p.items.length;
          }
        },
        (error: unknown) => {
          if (group.length === 1) {
            (group[0] as Pending<I, O>).reject(error);
            return;
          }
          // One caller's bad item must not sink the others' results: each retries its own items alone.
          for (const p of group) call([...p.items]).then(p.resolve, p.reject);
        },
      );
    }
  };
  return (items) =>
    new Promise<O[]>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ items, resolve, reject });
    });
}

/**
 * A store whose lease renewals and run completions — made per run by core's executeRun — go to
 * the backend in batches: a thousand handlers finishing together cost a few round trips, not a
 * thousand (DESIGN: "run-log writes are batched the same way").
 */
export function batchRunWrites(store: Store): Store {
  const complete = coalesce<RunCompletion, CompletionOutcome>((items) => store.completeRuns(items));
  const renewals = new Map<number, (items: readonly { lease: Lease; now: Date }[]) => Promise<(Lease | null)[]>>();
  const renewFor = (leaseMs: number) => {
    let renew = renewals.get(leaseMs);
    if (!renew) {
      // The batch renews at the latest `now` among its callers: never shorter than any asked for.
      renew = coalesce((items: { lease: Lease; now: Date }[]) =>
        store.renewLeases(
          items.map((i) => i.lease),
          { now: new Date(Math.max(...items.map((i) => i.now.getTime()))), leaseMs },
        ),
      );
      renewals.set(leaseMs, renew);
    }
    return renew;
  };
  const completeRuns = (completions: readonly RunCompletion[]) => complete(completions);
  const renewLeases = (leases: readonly Lease[], options: { now: Date; leaseMs: number }) =>
    renewFor(options.leaseMs)(leases.map((lease) => ({ lease, now: options.now })));
  return decorateStore(store, { replace: { completeRuns, renewLeases } });
}
