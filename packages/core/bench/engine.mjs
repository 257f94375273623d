// Next-slot computations per second: Tickwork's engine beside croner and node-schedule's
// cron-parser, on the same expressions and start instants. Run after building core:
//   node bench/engine.mjs
import { createRequire } from 'node:module';
import { Cron } from 'croner';
import { compileSchedule, cron, dailyAt, every, nextSlot } from '../dist/index.js';

const require = createRequire(import.meta.url);
const nodeScheduleRequire = createRequire(require.resolve('node-schedule'));
const cronParser = nodeScheduleRequire('cron-parser');

const STARTS = [];
let seed = 42;
for (let i = 0; i < 2_000; i++) {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  STARTS.push(new Date(Date.UTC(2026, 0, 1) + (seed % (4 * 365 * 86_400)) * 1000));
}

/** Calls `next(start)` over the start instants for about `ms` and returns calls per second. */
function measure(next, ms = 400) {
  for (let i = 0; i < 2_000; i++) next(STARTS[i % STARTS.length]); // warm-up
  let calls = 0;
  const begin = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 1_000; i++) next(STARTS[(calls + i) % STARTS.length]);
    calls += 1_000;
    elapsed = Number(process.hrtime.bigint() - begin) / 1e6;
  }
  return Math.round(calls / (elapsed / 1000));
}

const cases = [
  ['cron */5 * * * *', cron('*/5 * * * *'), '*/5 * * * *'],
  ['cron 0 9 * * 1-5', cron('0 9 * * 1-5'), '0 9 * * 1-5'],
  ['cron 15 1,2,3 * * *', cron('15 1,2,3 * * *'), '15 1,2,3 * * *'],
  ['daily 06:00, 18:30', dailyAt(['06:00', '18:30']), null],
  ['every 5m', every('5m'), null],
];

const rows = [];
for (const zone of ['UTC', 'Europe/Paris']) {
  for (const [name, spec, expression] of cases) {
    const schedule = compileSchedule(spec, { timezone: zone });
    const ours = measure((d) => nextSlot(schedule, d));
    let croner = null;
    let parser = null;
    if (expression) {
      const job = new Cron(expression, { timezone: zone });
      croner = measure((d) => job.nextRun(d));
      const interval = cronParser.parseExpression(expression, { currentDate: STARTS[0], tz: zone });
      parser = measure((d) => {
        interval.reset(d);
        return interval.next();
      });
    }
    rows.push({ zone, schedule: name, tickwork: ours, croner, 'cron-parser (node-schedule)': parser });
  }
}

const fmt = (n) => (n === null ? 'n/a' : n.toLocaleString('en-US'));
console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cpus — next-slot computations per second`);
console.log('| zone | schedule | tickwork | croner 11 | cron-parser 4 (node-schedule) |');
console.log('|---|---|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.zone} | ${r.schedule} | ${fmt(r.tickwork)} | ${fmt(r.croner)} | ${fmt(r['cron-parser (node-schedule)'])} |`);
}
