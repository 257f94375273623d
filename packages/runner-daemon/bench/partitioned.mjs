// Partitioned schedules (#23): N runtime schedules spread over the hour (schedule i fires once an
// hour at minute ⌊i / 60⌋ mod 60, second i mod 60: about N / 3600 slots a second), D daemon processes
// with `partitions: true` on PostgreSQL (own schema). Once the daemons hold every partition and every
// schedule between them, judges a window of --seconds: per daemon its partitions, loaded runtime
// schedules, RSS at ready and max, CPU; overall lateness (handler start − slot) p50/p99/max, and
// duplicates / misses of every slot in the window, counted from the daemons' own records.
// Usage: node bench/partitioned.mjs [--schedules 100000] [--daemons 4] [--jobs 10] [--seconds 120]
//        (build first: npx tsc -p tsconfig.build.json)
// Per daemon also: bytes read at ready (/proc/self/io rchar: the store's answers and the files loaded), and the
// runtime schedules the store listed to it (rows, JSON size) at ready and in all.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createScheduler, defineJob } from '@tickwork/core';

const pgUrl = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const cronOf = (i) => `${i % 60} ${Math.floor(i / 60) % 60} * * * *`;
const nowMs = () => performance.timeOrigin + performance.now();

if (process.env.TW_BENCH_PART) {
  // — one daemon process: records [schedule index, slot, lateness] per scheduled run —
  const spec = JSON.parse(process.env.TW_BENCH_PART);
  const { pino } = await import('pino');
  const { createDaemon } = await import('../dist/index.js');
  const { createSqlStore } = await import('@tickwork/store-sql');
  const runs = [];
  const jobs = Array.from({ length: spec.jobs }, (_, j) =>
    defineJob({
      code: `pt-${j}`,
      schedule: null,
      run: (ctx) => {
        if (ctx.trigger === 'schedule') runs.push([Number(ctx.key.slice(2)), ctx.slot.getTime(), nowMs() - ctx.slot.getTime()]);
      },
    }),
  );
  // Runtime schedules the store listed to this daemon (rows and their JSON size), until ready and in all.
  const listed = { rows: 0, bytes: 0 };
  const counted = (store) =>
    new Proxy(store, {
      get(target, name) {
        const value = target[name];
        if (typeof value !== 'function') return value;
        if (name !== 'listSchedules') return value.bind(target);
        return async (...args) => {
          const page = await value.apply(target, args);
          listed.rows += page.schedules.length;
          listed.bytes += JSON.stringify(page.schedules).length;
          return page;
        };
      },
    });
  // Bytes this process read through read(2) (sockets included: the store's answers), from /proc/self/io.
  const rchar = () => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
  let maxRss = 0;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 250);
  const daemon = createDaemon({
    config: {
      jobs,
      store: () => counted(createSqlStore({ driver: 'postgresql', clientUrl: spec.url, schema: spec.schema, poolSize: 10 })),
      runnerId: spec.runnerId,
      logger: pino({ level: 'warn' }, pino.destination(2)),
      daemon: { partitions: true, partitionTtlMs: spec.ttlMs },
    },
  });
  daemon.done.catch((error) => {
    console.error(String(error));
    process.exit(2);
  });
  const started = performance.now();
  await daemon.ready;
  const readyMs = performance.now() - started;
  const rssReady = process.memoryUsage().rss;
  const readReady = rchar();
  const listedReady = { ...listed };
  const status = async () => {
    const health = await daemon.health();
    process.stdout.write(`status ${JSON.stringify({ partitions: health.partitions, runtime: health.schedules.runtime })}\n`);
  };
  const ticker = setInterval(() => void status().catch(() => undefined), 1_000);
  process.stdout.write('ready\n');
  process.on('SIGTERM', async () => {
    clearInterval(ticker);
    const health = await daemon.health();
    await daemon.stop();
    clearInterval(sampler);
    const cpu = process.cpuUsage();
    writeFileSync(
      spec.out,
      JSON.stringify({
        readyMs,
        rssReady,
        maxRss,
        readReady,
        listedReady,
        listed,
        cpuS: (cpu.user + cpu.system) / 1e6,
        partitions: health.partitions,
        runtime: health.schedules.runtime,
        runs,
      }),
    );
    process.exit(0);
  });
} else {
  const { values } = parseArgs({
    options: {
      schedules: { type: 'string', default: '100000' },
      daemons: { type: 'string', default: '4' },
      jobs: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '120' },
      ttl: { type: 'string', default: '15000' },
    },
  });
  const n = Number(values.schedules);
  const d = Number(values.daemons);
  const jobCount = Number(values.jobs);
  const seconds = Number(values.seconds);
  const id = `${process.pid}_${Date.now().toString(36)}`;
  const schema = `tw_bench_part_${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-part-'));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const { migrate, createSqlStore } = await import('@tickwork/store-sql');
  await migrate({ driver: 'postgresql', clientUrl: pgUrl, schema });
  const store = createSqlStore({ driver: 'postgresql', clientUrl: pgUrl, schema });
  const children = [];
  try {
    // — the schedules: i belongs to job i % J, upserted 1,000 per call —
    const jobs = Array.from({ length: jobCount }, (_, j) => defineJob({ code: `pt-${j}`, schedule: null, run: () => undefined }));
    const scheduler = createScheduler({ jobs, store });
    const seedStarted = performance.now();
    for (let j = 0; j < jobCount; j++) {
      const keys = [];
      for (let i = j; i < n; i += jobCount) keys.push(i);
      for (let k = 0; k < keys.length; k += 1000) {
        await scheduler.schedules(`pt-${j}`).upsert(keys.slice(k, k + 1000).map((i) => ({ key: `s-${i}`, schedule: cronOf(i) })));
      }
    }
    const seedS = (performance.now() - seedStarted) / 1000;
    console.log(`seeded ${n} schedules in ${seedS.toFixed(1)} s`);

    // — D daemon processes —
    const script = fileURLToPath(import.meta.url);
    const latest = new Map();
    for (let i = 1; i <= d; i++) {
      const out = join(dir, `d${i}.json`);
      const spec = { url: pgUrl, schema, jobs: jobCount, runnerId: `bench-p${i}`, out, ttlMs: Number(values.ttl) };
      const child = spawn(process.execPath, [script], {
        env: { ...process.env, TW_BENCH_PART: JSON.stringify(spec) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const member = { runnerId: spec.runnerId, out, child, exited: new Promise((resolve) => child.once('exit', resolve)), ready: null };
      let text = '';
      member.ready = new Promise((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          text += chunk.toString();
          const lines = text.split('\n');
          text = lines.pop() ?? '';
          for (const line of lines) {
            if (line === 'ready') resolve();
            if (line.startsWith('status ')) latest.set(spec.runnerId, JSON.parse(line.slice(7)));
          }
        });
        void member.exited.then((code) => reject(new Error(`${spec.runnerId} exited with ${code}`)));
      });
      children.push(member);
    }
    const spawnedAt = Date.now();
    await Promise.all(children.map((c) => c.ready));
    // Balanced: every partition and every schedule held, each daemon at its settled share.
    for (;;) {
      const statuses = children.map((c) => latest.get(c.runnerId));
      const held = statuses.reduce((sum, s) => sum + (s?.partitions ?? 0), 0);
      const loaded = statuses.reduce((sum, s) => sum + (s?.runtime ?? 0), 0);
      const settled = statuses.every((s) => (s?.partitions ?? 0) >= Math.floor(256 / d) - 2);
      if (held === 256 && loaded === n && settled) break;
      if (Date.now() - spawnedAt > 600_000) throw new Error(`not balanced within 600 s: ${JSON.stringify(statuses)}`);
      await sleep(500);
    }
    const balancedS = (Date.now() - spawnedAt) / 1000;
    const from = Math.ceil((Date.now() + 2_000) / 1000) * 1000;
    const to = from + seconds * 1000;
    await sleep(to - Date.now() + 3_000);
    const load = loadavg()[0];
    for (const c of children) c.child.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    const results = children.map((c) => ({ runnerId: c.runnerId, ...JSON.parse(readFileSync(c.out, 'utf8')) }));

    // — judge the window —
    const seen = new Map();
    const lateness = [];
    for (const r of results) {
      for (const [i, slot, late] of r.runs) {
        if (slot < from || slot >= to) continue;
        const k = `${i} ${slot}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
        lateness.push(late);
      }
    }
    let expected = 0;
    let misses = 0;
    for (let slot = from; slot < to; slot += 1000) {
      const at = new Date(slot);
      const second = at.getUTCSeconds();
      const minute = at.getUTCMinutes();
      // Schedules firing at this minute:second: i ≡ second (mod 60), ⌊i / 60⌋ ≡ minute (mod 60).
      for (let i = minute * 60 + second; i < n; i += 3600) {
        expected += 1;
        if (!seen.has(`${i} ${slot}`)) misses += 1;
      }
    }
    const duplicates = [...seen.values()].reduce((sum, count) => sum + (count - 1), 0);
    lateness.sort((a, b) => a - b);
    const pct = (p) => (lateness.length === 0 ? Number.NaN : lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))]);
    const mb = (bytes) => `${(bytes / 1048576).toFixed(0)} MB`;
    console.log(
      `${n} schedules, ${d} daemons on PostgreSQL (${cpus().length} cores, load ${load.toFixed(1)}); balanced ${balancedS.toFixed(1)} s after spawn`,
    );
    for (const r of results) {
      console.log(
        `  ${r.runnerId}: partitions ${r.partitions}, runtime schedules loaded ${r.runtime}, ready ${(r.readyMs / 1000).toFixed(1)} s, RSS ready ${mb(r.rssReady)}, max ${mb(r.maxRss)}, CPU ${r.cpuS.toFixed(1)} s, runs ${r.runs.length}`,
      );
      console.log(
        `    read at ready ${mb(r.readReady)}; listed by the store at ready ${r.listedReady.rows} schedules (${mb(r.listedReady.bytes)} JSON), in all ${r.listed.rows} (${mb(r.listed.bytes)})`,
      );
    }
    console.log(
      `window ${seconds} s: ${expected} slots expected, ${lateness.length} ran; duplicates ${duplicates}, misses ${misses}; lateness p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${lateness.at(-1)?.toFixed(1)} ms`,
    );
  } finally {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await store.close();
    const { execFileSync } = await import('node:child_process');
    execFileSync('psql', [pgUrl, '-q', '-c', `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}
