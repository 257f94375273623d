// Per-run CPU of core's executeRun as the daemon drives it: N slots claimed on core's memory store
// (claims not timed), then every run executed at once with a handler that returns at once, through
// a store whose completions are batched per event-loop turn (as the daemon's are), pino at `warn`.
// Prints CPU µs per run and the heap after; with --cpu-prof (node's flag) it also writes a profile.
// Usage: node [--cpu-prof] bench/run-path.mjs [--runs 20000] [--rounds 5]
import { parseArgs } from 'node:util';
import { createMemoryStore, defineJob } from '@tickwork/core';
import { executeRun } from '@tickwork/core/runner';
import { pino } from 'pino';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } });
const N = Number(values.runs);
const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: false }));
const jobs = Array.from({ length: N }, (_, i) => defineJob({ code: `j${i}`, schedule: '* * * * *', run: () => undefined }));

// Completions and renewals of one turn in one store call, like the daemon's batching store.
function batched(store) {
  let queue = [];
  const flush = () => {
    const taken = queue;
    queue = [];
    store.completeRuns(taken.flatMap((p) => p.items)).then((outcomes) => {
      let at = 0;
      for (const p of taken) {
        p.resolve(outcomes.slice(at, at + p.items.length));
        at += p.items.length;
      }
    });
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'completeRuns') {
        return (items) =>
          new Promise((resolve) => {
            if (queue.length === 0) setImmediate(flush);
            queue.push({ items, resolve });
          });
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

let minute = Date.parse('2026-03-02T10:00:00Z');
const perRun = [];
for (let round = 0; round < Number(values.rounds); round++) {
  const store = createMemoryStore();
  minute += 60_000;
  const now = new Date(minute);
  const clock = { now: () => new Date(minute) };
  const claimed = [];
  for (let i = 0; i < N; i += 1000) {
    const claims = jobs
      .slice(i, i + 1000)
      .map((job) => ({ code: job.code, key: '', slotAt: now, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: job.leaseTtlMs }));
    const outcomes = await store.claimSlots(claims, { runnerId: 'bench', now });
    outcomes.forEach((o, j) => {
      if (o.status === 'claimed') claimed.push({ job: jobs[i + j], run: o.run, lease: o.lease });
    });
  }
  const writes = batched(store);
  global.gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    claimed.map(({ job, run, lease }) =>
      executeRun({ job, run, lease, store: writes, clock, logger, signal: new AbortController().signal }),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / claimed.length;
  perRun.push(us);
  console.log(
    `round ${round + 1}: ${claimed.length} runs in ${(performance.now() - t0).toFixed(0)} ms, CPU ${us.toFixed(1)} µs per run (incl. the memory store's completions), heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB`,
  );
}
perRun.sort((a, b) => a - b);
console.log(
  `median CPU per run: ${perRun[Math.floor(perRun.length / 2)].toFixed(1)} µs (N=${N}, ${perRun.length} rounds, Node ${process.version})`,
);
