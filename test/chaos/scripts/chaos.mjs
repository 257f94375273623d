#!/usr/bin/env node
// Full chaos runs: real daemon and `tickwork run` processes on a real store; prints the verdict table.
// Usage: node test/chaos/scripts/chaos.mjs [--store sqlite|pg|redis] [--seconds 30] [--jobs 10] [--daemons 4] [--only 4]
// (--store redis adds scenario 6: the Redis server restarted without saving.)
// Build first: cd test/chaos && npx tsc -p tsconfig.build.json
import { parseArgs } from 'node:util';
import { runScenario } from '../dist/chaos-harness.js';
import { restartWithoutSaving, withChaosRedis } from '../dist/redis-server.js';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    seconds: { type: 'string', default: '30' },
    jobs: { type: 'string', default: '10' },
    daemons: { type: 'string', default: '4' },
    only: { type: 'string' },
  },
});
const base = { store: values.store, daemons: Number(values.daemons), jobs: Number(values.jobs), seconds: Number(values.seconds) };
const scenarios = [
  ['1 daemons + cli loop', { ...base, cliLoop: true }],
  ['2 + SIGKILL every 3 s', { ...base, cliLoop: true, killEveryMs: 3000 }],
  ['4 daemon 0 clock +2 s', { ...base, cliLoop: false, skewMs: 2000 }],
  ['5 overlap off (2.5 s job)', { ...base, jobs: 1, cliLoop: false, jobMs: 2500 }],
  ['5 overlap on (2.5 s job)', { ...base, jobs: 1, cliLoop: false, jobMs: 2500, allowParallelRuns: true }],
];
console.log(`chaos: store=${values.store} daemons=${values.daemons} jobs=${values.jobs} seconds=${values.seconds}`);
console.log('| scenario | slots | starts | duplicates | misses | unaccounted misses | interrupted | skipped | kills | max parallel | late p50 ms | late p99 ms | late max ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
let bad = 0;
for (const [name, scenario] of scenarios.filter(([name]) => !values.only || name.startsWith(values.only))) {
  const r = await runScenario(scenario);
  if (r.duplicates > 0 || r.unlogged > 0 || r.leftRunning > 0 || r.unaccountedMisses > 0) bad++;
  console.log(`| ${name} | ${r.slots} | ${r.starts} | ${r.duplicates} | ${r.misses} | ${r.unaccountedMisses} | ${r.interrupted} | ${r.skipped} | ${r.kills} | ${r.maxConcurrentPerJob} | ${r.lateP50} | ${r.lateP99} | ${r.lateMax} |`);
}
// Redis only: its server stopped with SHUTDOWN NOSAVE and started empty 3 s later (a private
// redis-server; the shared one is never stopped). Judged from 3 s after the restart.
if (values.store === 'redis' && (!values.only || '6'.startsWith(values.only))) {
  console.log('\n| scenario | recovered slots | starts | misses | skipped | duplicates (whole run) | unlogged | process warnings |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  const r = await withChaosRedis((redis) => runScenario({ ...base, store: 'redis', storeUrl: redis.url, cliLoop: false, jobMs: 100, disrupt: restartWithoutSaving(redis) }));
  const after = r.recovered;
  if (r.duplicates > 0 || r.unlogged > 0 || r.warnings > 0 || after.misses > 0 || after.skipped > 0) bad++;
  console.log(`| 6 Redis SHUTDOWN NOSAVE, back after 3 s | ${after.slots} | ${after.starts} | ${after.misses} | ${after.skipped} | ${r.duplicates} | ${r.unlogged} | ${r.warnings} |`);
}
process.exitCode = bad === 0 ? 0 : 1;
