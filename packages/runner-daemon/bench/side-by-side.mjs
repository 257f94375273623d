// Tickwork's daemons on Redis and on PostgreSQL and BullMQ's job schedulers, one after another in
// one call, with the same load: N `* * * * *` jobs, 2 processes each, handlers that return at once,
// the defaults (Tickwork: maxConcurrentRuns 100; BullMQ: concurrency 100 per worker). Runs
// bench/lateness.mjs --store redis, bench/lateness.mjs --store pg and bench/bullmq-schedulers.mjs
// with the same --jobs/--seconds/--warmup, then prints one table: lateness p50/p99/max, duplicates,
// misses, the CPU seconds of both processes and that CPU as a fraction of BullMQ's workers'.
// Usage: node bench/side-by-side.mjs [--jobs 1000] [--seconds 190] [--warmup 0] [--only redis,pg,bullmq]
//        (build first; PostgreSQL and Redis as in the other benches: TICKWORK_PG_URL, TICKWORK_REDIS_URL)
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '190' },
    warmup: { type: 'string', default: '0' },
    only: { type: 'string', default: 'redis,pg,bullmq' },
  },
});
const here = fileURLToPath(new URL('.', import.meta.url));
const shared = ['--jobs', values.jobs, '--seconds', values.seconds, '--warmup', values.warmup];
const contenders = {
  redis: { label: 'Tickwork, Redis, defaults', args: ['lateness.mjs', '--store', 'redis', ...shared] },
  pg: { label: 'Tickwork, PostgreSQL, defaults', args: ['lateness.mjs', '--store', 'pg', ...shared] },
  bullmq: { label: 'BullMQ job schedulers, concurrency 100', args: ['bullmq-schedulers.mjs', ...shared] },
};
const wanted = values.only.split(',');
for (const name of wanted) if (!(name in contenders)) throw new Error(`--only: "${name}" is none of ${Object.keys(contenders).join(', ')}`);

/** Runs one bench script, echoing its output; returns what the table needs from it. */
function run(name) {
  const { args } = contenders[name];
  const load = loadavg()[0];
  const started = new Date().toISOString().slice(11, 19);
  const child = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(child.stdout);
  if (child.status !== 0) throw new Error(`${args[0]} (${name}) exited with ${child.status}`);
  const lateness = /lateness ms: p50 ([\d.]+)\s+p99 ([\d.]+)\s+max ([\d.]+)/.exec(child.stdout);
  const counts = /duplicates: (\d+); misses: (\d+)/.exec(child.stdout);
  const cpu = [...child.stdout.matchAll(/CPU ([\d.]+) s/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  if (!lateness || !counts) throw new Error(`${args[0]} (${name}): no lateness or duplicate/miss line in its output`);
  return { name, started, load, p50: +lateness[1], p99: +lateness[2], max: +lateness[3], dup: +counts[1], miss: +counts[2], cpu };
}

const rows = wanted.map(run);
const bull = rows.find((r) => r.name === 'bullmq');
console.log(`\nside by side: ${values.jobs} jobs, ${values.seconds} s judged after ${values.warmup} s warm-up, 2 processes each`);
console.log('| contender | started (UTC), load | lateness p50 / p99 / max ms | dup / miss | CPU s (both) | CPU ÷ BullMQ |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const ratio = bull && bull.cpu > 0 ? (r.cpu / bull.cpu).toFixed(2) : '—';
  console.log(
    `| ${contenders[r.name].label} | ${r.started}, ${r.load.toFixed(1)} | ${r.p50} / ${r.p99} / ${r.max} | ${r.dup} / ${r.miss} | ${r.cpu.toFixed(2)} | ${ratio} |`,
  );
}
