// Minute bursts on PostgreSQL as two daemons make them, without the daemons: JOBS states, then BURSTS
// instants one minute apart, each claimed by two store instances (their own pools) in calls of CHUNK
// claims with two calls in flight each (both walk every job, so half their claims come back taken),
// then every claimed run completed in calls of 1,000. Prints, per instant, each claimant's claim-call
// and completion-call times. Run after `npx tsc -p tsconfig.build.json`:
//   node bench/minute-bursts.mjs
// Env: TICKWORK_PG_URL (default postgres://postgres@127.0.0.1:5432/test), JOBS (10000), BURSTS (4), CHUNK (100),
// FRESH=1 (new store instances, so new connections, at each instant, as a pool that idles its connections out has),
// PGOPTIONS (e.g. "-c plan_cache_mode=force_custom_plan").
import { execFileSync } from 'node:child_process';
import { createSqlStore, migrate } from '../dist/index.js';

const PG_URL = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const JOBS = Number(process.env.JOBS ?? 10_000);
const BURSTS = Number(process.env.BURSTS ?? 4);
const CHUNK = Number(process.env.CHUNK ?? 100);
const FRESH = process.env.FRESH === '1';
const schema = `tw_pg10k_bursts_${process.pid}_${Date.now().toString(36)}`;

await migrate({ driver: 'postgresql', clientUrl: PG_URL, schema });
const drop = () => execFileSync('psql', [PG_URL, '-q', '-c', `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], { stdio: 'ignore' });
process.on('uncaughtException', (error) => {
  console.error(error);
  drop();
  process.exit(1);
});
const open = () => createSqlStore({ driver: 'postgresql', clientUrl: PG_URL, schema, poolSize: 4 });
let stores = [open(), open()];
const refs = Array.from({ length: JOBS }, (_, i) => ({ code: `bench-${i}`, key: '' }));
await Promise.all(stores.map((s) => s.ensureStates(refs, new Date())));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const base = Math.ceil(Date.now() / 60_000) * 60_000;
for (let b = 0; b < BURSTS; b++) {
  if (FRESH && b > 0) {
    await Promise.all(stores.map((s) => s.close()));
    stores = [open(), open()];
  }
  const slotAt = new Date(base + b * 60_000);
  const figures = await Promise.all(
    stores.map(async (store, d) => {
      // Each claimant walks the jobs from its own end, as the daemons' spread orders make them meet halfway.
      const order = d === 0 ? refs : [...refs].reverse();
      const claimMs = [];
      const leases = [];
      let next = 0;
      let taken = 0;
      const lane = async () => {
        while (next < order.length) {
          const chunk = order.slice(next, next + CHUNK);
          next += CHUNK;
          const t0 = performance.now();
          const outcomes = await store.claimSlots(
            chunk.map((r) => ({ ...r, slotAt, attempt: 1, trigger: 'schedule', overlap: 'skip', leaseMs: 60_000 })),
            { runnerId: `burst-d${d + 1}`, now: new Date() },
          );
          claimMs.push(performance.now() - t0);
          for (const o of outcomes) {
            if (o.status === 'claimed') leases.push(o.lease);
            else taken++;
          }
        }
      };
      const started = performance.now();
      await Promise.all([lane(), lane()]);
      const claimWall = performance.now() - started;
      const completeMs = [];
      const t1 = performance.now();
      const batches = [];
      for (let i = 0; i < leases.length; i += 1000) batches.push(leases.slice(i, i + 1000));
      await Promise.all(
        batches.map(async (batch) => {
          const t0 = performance.now();
          await store.completeRuns(batch.map((lease) => ({ lease, status: 'succeeded', finishedAt: new Date() })));
          completeMs.push(performance.now() - t0);
        }),
      );
      const completeWall = performance.now() - t1;
      return { claimMs, claimWall, claimed: leases.length, taken, completeMs, completeWall };
    }),
  );
  figures.forEach((f, d) => {
    console.log(
      `burst ${b + 1} claimant ${d + 1}: ${f.claimed} claimed, ${f.taken} taken; claim calls ${f.claimMs.length}, p50 ${pct(f.claimMs, 50).toFixed(1)} ms, p90 ${pct(f.claimMs, 90).toFixed(1)} ms, all ${f.claimWall.toFixed(0)} ms; completions ${f.completeMs.length} calls, p50 ${pct(f.completeMs, 50).toFixed(0)} ms, all ${f.completeWall.toFixed(0)} ms`,
    );
  });
}
await Promise.all(stores.map((s) => s.close()));
if (process.env.KEEP !== '1') drop();
else console.log(`kept schema ${schema}`);
