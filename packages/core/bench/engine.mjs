// Next-slot computations per second: Tickwork's engine beside croner and node-schedule's
// cron-parser, on the same expressions and start instants. Run after building core:
//   node bench/engine.mjs             (BENCH_ONLY=Paris or a schedule's text: only matching rows)
import { createRequire } from 'node:module';
import { Cron } from 'croner';
// BENCH_DIST: another build of core's dist/index.js to compare against (e.g. a copy of dist from before a change);
// builds from before the subpath exports have the engine in index.js, later ones in entry/schedule.js.
const mainUrl = new URL(process.env.BENCH_DIST ?? '../dist/index.js', import.meta.url);
const main = await import(mainUrl.href);
const { cron, dailyAt, every } = main;
const { compileSchedule, nextSlot } = main.compileSchedule ? main : await import(new URL('entry/schedule.js', mainUrl).href);

const require = createRequire(import.meta.url);
const nodeScheduleRequire = createRequire(require.resolve('node-schedule'));
const cronParser = nodeScheduleRequire('cron-parser');

const STARTS = [];
let seed = 42;
for (let i = 0; i < 2_000; i++) {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  STARTS.push(new Date(Date.UTC(2026, 0, 1) + (seed % (4 * 365 * 86_400)) * 1000));
}

/** CPU time this process used, in milliseconds: unlike wall time, other processes on a shared machine barely move it. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Calls `next(start)` over the start instants for about `ms` of CPU time, `rounds` times, and
 * returns the best round's calls per CPU second (the round least disturbed by other processes).
 * The CPU clock (a system call, tens of microseconds on a loaded machine) is read once per batch
 * of calls, and the batch is sized during the warm-up to take at least 5 ms, so reading it costs
 * every library under 1 % (with a fixed 1,000-call batch it cost the fastest engine ~10-20 %).
 * BENCH_FIXED_BATCH=1 measures with the fixed 1,000-call batch, for comparison.
 */
function measure(next, ms = 250, rounds = 3) {
  let batch = 1_000;
  for (let i = 0; i < 2_000; i++) next(STARTS[i % STARTS.length]); // warm-up
  if (!process.env.BENCH_FIXED_BATCH) {
    for (;;) {
      const begin = cpuMs();
      for (let i = 0; i < batch; i++) next(STARTS[i % STARTS.length]);
      if (cpuMs() - begin >= 5 || batch >= 1_000_000) break;
      batch *= 2;
    }
  }
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    let calls = 0;
    const begin = cpuMs();
    let elapsed = 0;
    while (elapsed < ms) {
      for (let i = 0; i < batch; i++) next(STARTS[(calls + i) % STARTS.length]);
      calls += batch;
      elapsed = cpuMs() - begin;
    }
    best = Math.max(best, Math.round(calls / (elapsed / 1000)));
  }
  return best;
}

const cases = [
  ['cron */5 * * * *', cron('*/5 * * * *'), '*/5 * * * *'],
  ['cron 0 9 * * 1-5', cron('0 9 * * 1-5'), '0 9 * * 1-5'],
  ['cron 15 1,2,3 * * *', cron('15 1,2,3 * * *'), '15 1,2,3 * * *'],
  ['cron 0 12 15W * *', cron('0 12 15W * *'), '0 12 15W * *'],
  ['cron 0 0 L * *', cron('0 0 L * *'), '0 0 L * *'],
  ['cron 0 0 * * FRI#L', cron('0 0 * * FRI#L'), '0 0 * * FRI#L'],
  ['cron 0 9 ? * TUE#2', cron('0 9 ? * TUE#2'), '0 9 ? * TUE#2'],
  ['cron 0 0 13 * +FRI', cron('0 0 13 * +FRI'), '0 0 13 * +FRI'],
  ['cron 0 30 9 * * 1-5 2026-2035', cron('0 30 9 * * 1-5 2026-2035'), '0 30 9 * * 1-5 2026-2035'],
  ['daily 06:00, 18:30', dailyAt(['06:00', '18:30']), null],
  ['every 5m', every('5m'), null],
];

const rows = [];
for (const zone of ['UTC', 'Europe/Paris']) {
  for (const [name, spec, expression] of cases) {
    if (process.env.BENCH_ONLY && !`${zone} ${name}`.includes(process.env.BENCH_ONLY)) continue;
    const schedule = compileSchedule(spec, { timezone: zone });
    const ours = measure((d) => nextSlot(schedule, d));
    let croner = null;
    let parser = null;
    if (expression) {
      // cron-parser 4 has no year field, no `+` and no `W`; where it refuses, its column says n/a.
      const job = new Cron(expression, { timezone: zone });
      croner = measure((d) => job.nextRun(d));
      let interval = null;
      try {
        interval = cronParser.parseExpression(expression, { currentDate: STARTS[0], tz: zone });
      } catch {}
      if (interval) {
        parser = measure((d) => {
          interval.reset(d);
          return interval.next();
        });
      }
    }
    rows.push({
      zone,
      schedule: name,
      tickwork: ours,
      croner,
      'cron-parser (node-schedule)': parser,
      ratio: croner ? ours / croner : null,
    });
  }
}

const fmt = (n) => (n === null ? 'n/a' : n.toLocaleString('en-US'));
console.log(
  `node ${process.version}, ${(await import('node:os')).cpus().length} cpus — next-slot computations per CPU second (best of 3 rounds)`,
);
console.log('| zone | schedule | tickwork | croner 11 | tickwork ÷ croner | cron-parser 4 (node-schedule) |');
console.log('|---|---|---:|---:|---:|---:|');
for (const r of rows) {
  const ratio = r.ratio === null ? 'n/a' : `${Math.round(r.ratio)}×`;
  console.log(
    `| ${r.zone} | ${r.schedule} | ${fmt(r.tickwork)} | ${fmt(r.croner)} | ${ratio} | ${fmt(r['cron-parser (node-schedule)'])} |`,
  );
}
