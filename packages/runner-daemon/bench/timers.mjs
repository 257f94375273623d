// Arming N future timers: node-schedule (one Job + one timer per schedule) vs the daemon's
// SlotQueue (one binary heap, one timer). Each mode runs in its own process so RSS is its own.
// Usage: node bench/timers.mjs [N=100000]   (build first: npx tsc -p tsconfig.build.json)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const n = Number(process.argv[2] ?? 100_000);
const mode = process.argv[3];

if (!mode) {
  console.log(`arming ${n} future timers (Node ${process.version}, ${(await import('node:os')).cpus().length} cores)`);
  for (const m of ['node-schedule', 'slot-queue']) {
    process.stdout.write(
      execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(n), m], { encoding: 'utf8' }),
    );
  }
  process.exit(0);
}

global.gc?.();
const rss0 = process.memoryUsage().rss;
const base = Date.now() + 3_600_000;
const t0 = performance.now();
let cleanup;
if (mode === 'node-schedule') {
  const schedule = (await import('node-schedule')).default;
  const jobs = [];
  for (let i = 0; i < n; i++) jobs.push(schedule.scheduleJob(new Date(base + (i % 60) * 1000 + i), () => undefined));
  cleanup = () => schedule.gracefulShutdown();
} else {
  const { SlotQueue } = await import('../dist/slot-queue.js');
  const queue = new SlotQueue();
  for (let i = 0; i < n; i++) queue.update({ dueAt: base + (i % 60) * 1000 + i, queueIndex: -1 });
  const timer = setTimeout(() => undefined, queue.peek().dueAt - Date.now());
  // Re-planning: pop the earliest 1% and push each back one minute later (what a minute tick does).
  const t1 = performance.now();
  for (let i = 0; i < n / 100; i++) {
    const top = queue.pop();
    top.dueAt += 60_000;
    queue.update(top);
  }
  console.log(`  slot-queue: re-plan of ${n / 100} entries ${(performance.now() - t1).toFixed(1)} ms`);
  cleanup = () => clearTimeout(timer);
}
const ms = performance.now() - t0;
global.gc?.();
const rss = process.memoryUsage().rss;
console.log(
  `  ${mode}: armed ${n} in ${ms.toFixed(0)} ms, RSS +${((rss - rss0) / 1048576).toFixed(1)} MB (total ${(rss / 1048576).toFixed(0)} MB)`,
);
await cleanup();
process.exit(0);
