// Lateness of N cron jobs on K daemons sharing one store (build first: npx tsc -p tsconfig.build.json).
// Usage: node bench/lateness.mjs --store pg|redis|memory [--jobs 1000] [--daemons 2] [--seconds 180]
//   [--schedule "* * * * *"] [--max-concurrent N] [--cpu-prof DIR]
// --cpu-prof DIR runs the first daemon under node --cpu-prof, writing its profile into DIR (summarise it with
// node bench/cpu-profile-top.mjs DIR/*.cpuprofile); the other daemons run unprofiled, their CPU figures unaffected.
// Without --max-concurrent each daemon runs with the defaults (maxConcurrentRuns 100), as a user would configure it.
// --trace FILE times every store call of each daemon (a proxy around its store) and its event loop delay, prints per
// instant the calls from 5 s before it to its last run, and writes every call to FILE (JSON).
// Prints lateness (handler start − slot instant) p50/p99/max, duplicates, misses, CPU seconds and RSS per daemon.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileSchedule, slotsBetween } from '@tickwork/core/schedule';
import { dropRedisPrefix } from './drop-redis-prefix.mjs';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'pg' },
    jobs: { type: 'string', default: '1000' },
    daemons: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '180' },
    warmup: { type: 'string', default: '0' },
    schedule: { type: 'string', default: '* * * * *' },
    'max-concurrent': { type: 'string' },
    'cpu-prof': { type: 'string' },
    trace: { type: 'string' },
  },
});
const jobs = Number(values.jobs);
const daemons = values.store === 'memory' ? 1 : Number(values.daemons);
const seconds = Number(values.seconds);
const pgUrl = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.TICKWORK_REDIS_URL ?? 'redis://127.0.0.1:6379';
const id = `${process.pid}_${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-'));

let store;
if (values.store === 'pg') {
  store = { kind: 'postgresql', url: pgUrl, schema: `tw_bench_${id}` };
  const { migrate } = await import('@tickwork/store-sql');
  await migrate({ driver: 'postgresql', clientUrl: pgUrl, schema: store.schema });
} else if (values.store === 'redis') {
  store = { kind: 'redis', url: redisUrl, prefix: `tw-bench-${id}` };
} else {
  store = { kind: 'memory' };
}

const script = fileURLToPath(new URL('./lateness-daemon.mjs', import.meta.url));
const children = Array.from({ length: daemons }, (_, i) => {
  const out = join(dir, `d${i + 1}.json`);
  const env = {
    ...process.env,
    TW_BENCH: JSON.stringify({
      store,
      jobs,
      schedule: values.schedule,
      runnerId: `bench-d${i + 1}`,
      out,
      ...(values['max-concurrent'] ? { maxConcurrentRuns: Number(values['max-concurrent']) } : {}),
      ...(values.trace ? { trace: true } : {}),
    }),
  };
  const profile = i === 0 && values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
  const child = spawn(process.execPath, [...profile, script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const line = text.split('\n').find((l) => l.startsWith('ready '));
      if (line) resolve(JSON.parse(line.slice(6)));
    });
    child.once('exit', (code) => reject(new Error(`daemon ${i + 1} exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, out, ready, exited };
});
const load0 = loadavg();
const readies = await Promise.all(children.map((c) => c.ready));
// Slots of the warm-up (start-up catch-up, the first bursts) are run but not judged.
const from = Date.now() + Number(values.warmup) * 1000;
await new Promise((resolve) => setTimeout(resolve, Number(values.warmup) * 1000 + seconds * 1000));
const to = Date.now() - 15_000; // an instant judged only with 15 s to run it before the stop (a loaded machine starts bursts seconds late)
for (const c of children) c.child.kill('SIGTERM');
await Promise.all(children.map((c) => c.exited));
const summaries = children.map((c) => JSON.parse(readFileSync(c.out, 'utf8')));

// Slots that fell due while every daemon was up: each job must run each exactly once.
const expected = slotsBetween(compileSchedule(values.schedule), new Date(from), new Date(to)).map((d) => d.getTime());
const seen = new Map();
const lateness = [];
/** Per judged instant: lateness of its runs, and runs per daemon. */
const instants = new Map();
summaries.forEach((s, d) => {
  for (const [job, slot, late] of s.runs) {
    if (slot <= from || slot > to) continue; // start-up catch-up, or an instant too close to the stop to judge
    const key = `${job}@${slot}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    lateness.push(late);
    const instant = instants.get(slot) ?? { late: [], byDaemon: summaries.map(() => 0) };
    instant.late.push(late);
    instant.byDaemon[d]++;
    instants.set(slot, instant);
  }
});
const duplicates = [...seen.values()].reduce((n, count) => n + (count - 1), 0);
let misses = 0;
for (const slot of expected) for (let j = 0; j < jobs; j++) if (!seen.has(`${j}@${slot}`)) misses++;
lateness.sort((a, b) => a - b);
const pct = (p) => (lateness.length ? lateness[Math.min(lateness.length - 1, Math.floor((p / 100) * lateness.length))] : NaN);

console.log(
  `lateness bench: store=${values.store} jobs=${jobs} daemons=${daemons} schedule="${values.schedule}" maxConcurrentRuns=${values['max-concurrent'] ?? 'default'} window=${seconds}s after ${values.warmup}s warm-up, load average ${load0[0].toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end, ${cpus().length} cores, Node ${process.version}`,
);
console.log(`  slot instants in window: ${expected.length}; runs timed: ${lateness.length}; duplicates: ${duplicates}; misses: ${misses}`);
console.log(`  lateness ms: p50 ${pct(50).toFixed(2)}  p99 ${pct(99).toFixed(2)}  max ${(lateness.at(-1) ?? NaN).toFixed(2)}`);
for (const [slot, { late, byDaemon }] of [...instants].sort(([a], [b]) => a - b)) {
  late.sort((a, b) => a - b);
  const at = (p) => late[Math.min(late.length - 1, Math.floor((p / 100) * late.length))];
  console.log(
    `  instant ${new Date(slot).toISOString().slice(11, 19)}: p50 ${at(50).toFixed(2)}  p99 ${at(99).toFixed(2)}  runs per daemon ${byDaemon.join(' / ')}`,
  );
}
summaries.forEach((s, i) => {
  const on = s.runs.filter(([, slot]) => slot > from).length;
  console.log(
    `  ${s.runnerId}: ready in ${readies[i].readyMs.toFixed(0)} ms, runs ${on}, CPU ${s.cpuS.toFixed(2)} s, max RSS ${(s.maxRss / 1048576).toFixed(0)} MB`,
  );
});

if (values.trace) {
  // Every instant with runs (warm-up ones too): per daemon, its store calls from 5 s before the instant to its last run.
  const allInstants = [...new Set(summaries.flatMap((s) => s.runs.map(([, slot]) => slot)))].sort((a, b) => a - b);
  for (const slot of allInstants) {
    const last = Math.max(...summaries.flatMap((s) => s.runs.filter(([, at]) => at === slot).map(([, at, late]) => at + late)));
    console.log(`  trace, instant ${new Date(slot).toISOString().slice(11, 19)} (last run +${(last - slot).toFixed(0)} ms):`);
    summaries.forEach((s) => {
      const inWindow = s.calls.filter(([, t0, dur]) => t0 + dur >= slot - 5000 && t0 <= last);
      const byMethod = new Map();
      for (const [name, , dur, items] of inWindow) {
        const m = byMethod.get(name) ?? { n: 0, ms: 0, max: 0, items: 0 };
        m.n++;
        m.ms += dur;
        m.max = Math.max(m.max, dur);
        m.items += Math.max(items, 0);
        byMethod.set(name, m);
      }
      const loop = s.loopDelay.filter(([t]) => t >= slot - 5000 && t <= last + 250).reduce((m, [, d]) => Math.max(m, d), 0);
      const parts = [...byMethod].map(([name, m]) => `${name} ${m.n}× (${m.items} items) ${m.ms.toFixed(0)} ms, max ${m.max.toFixed(0)}`);
      console.log(`    ${s.runnerId}: loop delay max ${loop.toFixed(0)} ms; ${parts.join('; ')}`);
      for (const [name, t0, dur, items, outcomes] of inWindow.filter(([, , dur]) => dur >= 250))
        console.log(`      slow: ${name} at ${(t0 - slot).toFixed(0)} ms, ${dur.toFixed(0)} ms, ${items} items ${outcomes}`);
    });
  }
  const { writeFileSync } = await import('node:fs');
  writeFileSync(values.trace, JSON.stringify(summaries.map((s) => ({ runnerId: s.runnerId, calls: s.calls, loopDelay: s.loopDelay }))));
}

if (values.store === 'pg')
  execFileSync('psql', [pgUrl, '-q', '-c', `DROP SCHEMA IF EXISTS "${store.schema}" CASCADE`], { stdio: 'ignore' });
if (values.store === 'redis') {
  dropRedisPrefix(redisUrl, store.prefix);
}
rmSync(dir, { recursive: true, force: true });
