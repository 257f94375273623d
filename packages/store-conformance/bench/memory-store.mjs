// Throughput of core's memory store (the reference store the suite runs against).
// Run: node bench/memory-store.mjs   (after building @tickwork/core)
import { performance } from 'node:perf_hooks';
import { createMemoryBackend, createMemoryStore } from '@tickwork/core';

const SCHEDULES = Number(process.env.SCHEDULES ?? 10_000);
const BATCH = 1000;
const t0 = new Date('2030-01-07T00:00:00.000Z');

const backend = createMemoryBackend();
const store = createMemoryStore({ backend });
const refs = Array.from({ length: SCHEDULES }, (_, i) => ({ code: `job-${i % 100}`, key: `k${i}` }));

function time(label, count, fn) {
  return async () => {
    const start = performance.now();
    const result = await fn();
    const ms = performance.now() - start;
    console.log(
      `${label.padEnd(44)} ${String(count).padStart(6)} in ${ms.toFixed(1).padStart(7)} ms  ${Math.round((count / ms) * 1000)
        .toLocaleString('en')
        .padStart(9)} /s`,
    );
    return result;
  };
}

await time('ensureStates', SCHEDULES, () => store.ensureStates(refs, t0))();
const outcomes = await time(`claimSlots (batches of ${BATCH})`, SCHEDULES, async () => {
  const all = [];
  for (let i = 0; i < refs.length; i += BATCH) {
    const batch = refs
      .slice(i, i + BATCH)
      .map((r) => ({ ...r, slotAt: t0, attempt: 1, trigger: 'schedule', allowParallel: false, leaseMs: 60_000 }));
    all.push(...(await store.claimSlots(batch, { runnerId: 'bench', now: t0 })));
  }
  return all;
})();
await time('claimSlots again (all taken)', SCHEDULES, async () => {
  for (let i = 0; i < refs.length; i += BATCH) {
    const batch = refs
      .slice(i, i + BATCH)
      .map((r) => ({ ...r, slotAt: t0, attempt: 1, trigger: 'schedule', allowParallel: false, leaseMs: 60_000 }));
    await store.claimSlots(batch, { runnerId: 'bench', now: t0 });
  }
})();
await time('renewLeases (batches of 1000)', SCHEDULES, async () => {
  const leases = outcomes.map((o) => o.lease);
  for (let i = 0; i < leases.length; i += BATCH)
    await store.renewLeases(leases.slice(i, i + BATCH), { now: new Date(t0.getTime() + 20_000), leaseMs: 60_000 });
})();
await time('completeRuns (batches of 1000)', SCHEDULES, async () => {
  const leases = outcomes.map((o) => o.lease);
  for (let i = 0; i < leases.length; i += BATCH) {
    await store.completeRuns(
      leases.slice(i, i + BATCH).map((lease) => ({ lease, status: 'succeeded', finishedAt: new Date(t0.getTime() + 30_000) })),
    );
  }
})();
await time('queryRuns, every page of 100', SCHEDULES, async () => {
  let cursor;
  do {
    const page = await store.queryRuns(cursor ? { limit: 100, cursor } : { limit: 100 });
    cursor = page.nextCursor;
  } while (cursor);
})();
const racers = Array.from({ length: 16 }, () => createMemoryStore({ backend }));
const slot2 = new Date(t0.getTime() + 60_000);
await time('16 instances race for the same 1000 slots', 16 * BATCH, () =>
  Promise.all(
    racers.map((s, n) =>
      s.claimSlots(
        refs.slice(0, BATCH).map((r) => ({ ...r, slotAt: slot2, attempt: 1, trigger: 'schedule', allowParallel: false, leaseMs: 60_000 })),
        { runnerId: `r${n}`, now: slot2 },
      ),
    ),
  ),
)();
await time('pruneRuns (batchSize 1000)', SCHEDULES, () => store.pruneRuns({ olderThan: new Date(t0.getTime() + 3_600_000) }))();
console.log(`node ${process.version}, ${SCHEDULES} schedules`);
