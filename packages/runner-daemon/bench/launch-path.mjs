// Per-run memory and CPU of the daemon's run path (RunLauncher → core's executeRun), as a burst
// meets it: N slots claimed on core's memory store (not measured), then all N launched armed ahead
// of one instant (`startAt` 3 s on), as the daemon launches a pre-claimed burst; the heap after a
// GC with every run armed, less the heap before, is what one armed run holds. At the instant every
// handler (returns at once) is released; CPU from the launches to the last recorded completion (less the GC
// made for the heap figure), per run, through the daemon's batching store. pino at `warn`.
// --cpu-prof FILE: a CPU profile of the last round's launches, instant and completions (its GC for the heap
// figure included; read it with bench/cpu-profile-top.mjs), and beside it FILE.heapprofile, a sampling
// allocation profile of the same (collected objects included; bench/heap-profile-top.mjs).
// Usage: node --expose-gc bench/launch-path.mjs [--runs 20000] [--rounds 5] [--cpu-prof FILE]   (build first: npx tsc -p tsconfig.build.json)
import { parseArgs } from 'node:util';
import { createMemoryStore, defineJob, systemClock } from '@tickwork/core';
import { pino } from 'pino';
import { batchRunWrites } from '../dist/batching-store.js';
import { createDaemonMetrics } from '../dist/metrics.js';
import { RunLauncher } from '../dist/run-launcher.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' }, 'cpu-prof': { type: 'string' } },
});
const N = Number(values.runs);
const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: false }));
const jobs = Array.from({ length: N }, (_, i) => defineJob({ code: `j${i}`, schedule: '* * * * *', run: () => undefined }));
const gc = () => {
  global.gc?.();
  global.gc?.();
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const perRun = [];
const bytes = [];
for (let round = 0; round < Number(values.rounds); round++) {
  const store = createMemoryStore();
  const now = new Date();
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
  const writes = batchRunWrites(store);
  const entries = claimed.map(() => ({ key: '', handlerMs: null }));
  const metrics = createDaemonMetrics('bench');
  let finished = 0;
  const launcher = new RunLauncher({
    store: () => writes,
    clock: systemClock,
    logger,
    metrics,
    events: { finished: () => finished++, freed: () => undefined },
    maxConcurrentRuns: N + 100,
    notRun: () => null,
    tracer: null,
  });
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  if (process.env.LAUNCH_PATH_SNAPSHOT && round === 0)
    (await import('node:v8')).writeHeapSnapshot(`${process.env.LAUNCH_PATH_SNAPSHOT}.before`);
  const profiling = values['cpu-prof'] && round === Number(values.rounds) - 1 ? await startProfile() : null;
  const startAt = Date.now() + 3_000;
  const cpu0 = process.cpuUsage();
  for (const [i, { job, run, lease }] of claimed.entries())
    launcher.launch(entries[i], { job, payload: undefined }, run, lease, startAt, 0);
  const cpuArm = process.cpuUsage(cpu0);
  gc();
  const held = (process.memoryUsage().heapUsed - heap0) / claimed.length;
  if (process.env.LAUNCH_PATH_SNAPSHOT && round === 0) (await import('node:v8')).writeHeapSnapshot(process.env.LAUNCH_PATH_SNAPSHOT);
  const cpuGc = process.cpuUsage(cpu0);
  const gcUs = cpuGc.user + cpuGc.system - cpuArm.user - cpuArm.system;
  await sleep(Math.max(0, startAt - Date.now()));
  await launcher.settled();
  const cpu = process.cpuUsage(cpu0);
  if (profiling) await profiling.stop(values['cpu-prof']);
  const us = (cpu.user + cpu.system - gcUs) / claimed.length;
  perRun.push(us);
  bytes.push(held);
  console.log(
    `round ${round + 1}: ${claimed.length} runs (${finished} finished), ${held.toFixed(0)} bytes of heap per armed run, CPU ${us.toFixed(1)} µs per run (arming ${((cpuArm.user + cpuArm.system) / claimed.length).toFixed(1)}, GC for the heap figure ${(gcUs / 1000).toFixed(0)} ms not counted)`,
  );
}
async function startProfile() {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  // Allocations too, the ones a GC collected included (what the run path churns, not only what it holds).
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return {
    async stop(file) {
      const { profile } = await post('Profiler.stop');
      const { profile: heap } = await post('HeapProfiler.stopSampling');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, JSON.stringify(profile));
      writeFileSync(file.replace(/(\.cpuprofile)?$/, '.heapprofile'), JSON.stringify(heap));
      session.disconnect();
    },
  };
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log(
  `median: ${median(bytes).toFixed(0)} bytes per armed run, CPU ${median(perRun).toFixed(1)} µs per run (N=${N}, ${perRun.length} rounds, Node ${process.version})`,
);
process.exit(0);
