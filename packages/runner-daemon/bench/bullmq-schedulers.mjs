// BullMQ job schedulers beside bench/lateness.mjs: N `* * * * *` job schedulers, K worker
// processes (concurrency 100 each, as a user would start them), handlers that return at once, on
// its own key prefix of the shared Redis. Prints lateness (processing start − the scheduled
// instant, read from the job id `repeat:<scheduler>:<millis>`) p50/p99/max, duplicates, misses,
// and CPU seconds and max RSS per worker process.
// Usage: node bench/bullmq-schedulers.mjs [--jobs 1000] [--workers 2] [--seconds 180] [--warmup 0] [--concurrency 100]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';

const redisUrl = new URL(process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379), maxRetriesPerRequest: null };
const QUEUE = 'bench';

if (process.env.TW_BULLMQ_WORKER) {
  // One worker process: records [scheduler, millis, lateness] per job, writes them on SIGTERM.
  const spec = JSON.parse(process.env.TW_BULLMQ_WORKER);
  const runs = [];
  const nowMs = () => performance.timeOrigin + performance.now();
  let maxRss = 0;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 250);
  const worker = new Worker(
    QUEUE,
    async (job) => {
      const at = nowMs();
      const parts = String(job.id).split(':');
      runs.push([parts[1], Number(parts[2]), at - Number(parts[2])]);
    },
    { connection, prefix: spec.prefix, concurrency: spec.concurrency },
  );
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  process.on('SIGTERM', async () => {
    await worker.close();
    clearInterval(sampler);
    const cpu = process.cpuUsage();
    writeFileSync(spec.out, JSON.stringify({ cpuS: (cpu.user + cpu.system) / 1e6, maxRss, runs }));
    process.exit(0);
  });
} else {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '1000' },
      workers: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '180' },
      warmup: { type: 'string', default: '0' },
      concurrency: { type: 'string', default: '100' },
    },
  });
  const jobs = Number(values.jobs);
  const seconds = Number(values.seconds);
  const prefix = `tw-bench-bullmq-${process.pid}_${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bullmq-'));
  const queue = new Queue(QUEUE, { connection, prefix });
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: Number(values.workers) }, (_, i) => {
    const out = join(dir, `w${i + 1}.json`);
    const env = { ...process.env, TW_BULLMQ_WORKER: JSON.stringify({ prefix, out, concurrency: Number(values.concurrency) }) };
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => String(chunk).includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`worker ${i + 1} exited with ${code}`)));
    });
    return { child, out, ready, exited: new Promise((resolve) => child.once('exit', resolve)) };
  });
  await Promise.all(children.map((c) => c.ready));
  for (let i = 0; i < jobs; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, jobs - i) }, (_, j) =>
        queue.upsertJobScheduler(`s${i + j}`, { pattern: '* * * * *' }, { name: 'tick', data: {} }),
      ),
    );
  }
  const load0 = loadavg();
  // Slots of the warm-up (start-up catch-up, the first bursts) are run but not judged.
  const from = Date.now() + Number(values.warmup) * 1000;
  await new Promise((resolve) => setTimeout(resolve, Number(values.warmup) * 1000 + seconds * 1000));
  const to = Date.now() - 15_000; // an instant judged only with 15 s to run it before the stop (a loaded machine starts bursts seconds late)
  for (const c of children) c.child.kill('SIGTERM');
  await Promise.all(children.map((c) => c.exited));
  const summaries = children.map((c) => JSON.parse(readFileSync(c.out, 'utf8')));
  const instants = [];
  for (let t = Math.ceil(from / 60_000) * 60_000; t <= to; t += 60_000) instants.push(t);
  const seen = new Map();
  const lateness = [];
  for (const s of summaries) {
    for (const [scheduler, millis, late] of s.runs) {
      if (millis <= from || millis > to) continue;
      const key = `${scheduler}@${millis}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      lateness.push(late);
    }
  }
  const duplicates = [...seen.values()].reduce((n, count) => n + (count - 1), 0);
  let misses = 0;
  for (const t of instants) for (let j = 0; j < jobs; j++) if (!seen.has(`s${j}@${t}`)) misses++;
  lateness.sort((a, b) => a - b);
  const pct = (p) => (lateness.length ? lateness[Math.min(lateness.length - 1, Math.floor((p / 100) * lateness.length))] : NaN);
  console.log(
    `bullmq bench: jobs=${jobs} workers=${children.length} concurrency=${values.concurrency} window=${seconds}s after ${values.warmup}s warm-up, load average ${load0[0].toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end, ${cpus().length} cores, Node ${process.version}`,
  );
  console.log(
    `  slot instants in window: ${instants.length}; runs timed: ${lateness.length}; duplicates: ${duplicates}; misses: ${misses}`,
  );
  console.log(`  lateness ms: p50 ${pct(50).toFixed(2)}  p99 ${pct(99).toFixed(2)}  max ${(lateness.at(-1) ?? NaN).toFixed(2)}`);
  summaries.forEach(
    (s, i) =>
      void console.log(
        `  worker ${i + 1}: runs ${s.runs.length}, CPU ${s.cpuS.toFixed(2)} s, max RSS ${(s.maxRss / 1048576).toFixed(0)} MB`,
      ),
  );
  await queue.obliterate({ force: true });
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
}
