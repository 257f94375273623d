// Partitioned schedules (#23): N runtime schedules spread over the hour (schedule i fires once an
// hour at minute ⌊i / 60⌋ mod 60, second i mod 60: about N / 3600 slots a second), D daemon processes
// with `partitions: true` on PostgreSQL (own schema) or on a private Redis Cluster (3 masters + 3
// replicas on free loopback ports, started here and removed at the end). Daemons start --stagger-ms
// apart. Once the daemons hold every partition and every schedule between them, judges a window of
// --seconds: per daemon its partitions, loaded runtime schedules, RSS at ready and max, CPU; overall
// lateness (handler start − slot) p50/p99/max, and duplicates / misses of every slot in the window,
// counted from the daemons' own records.
// With --kill K --join J, after that window: SIGKILLs K daemons (p1…pK, p1 the one that started
// alone with every partition), waits until the survivors hold all 256 partitions and all N
// schedules again (time from the kill), then starts J new daemons and waits until each holds its
// share (time from the join); then --settle seconds more. That whole fault window (from the first
// slot after the kill to its end) is judged like the first: every (schedule, slot) counted exactly,
// a duplicate never offsetting a miss. Each daemon writes its runs to a file as they start (one
// write(2) a run), so a SIGKILLed daemon's runs count too. A run counts for its slot whether it is the
// schedule's or a retry of it (attempt + 1: how an interrupted run of a killed daemon comes back).
// Usage: node bench/partitioned.mjs [--store pg|redis-cluster] [--schedules 100000] [--daemons 4]
//          [--jobs 10] [--seconds 120] [--ttl 15000] [--stagger-ms 3000] [--kill 0] [--join 0] [--settle 10]
//          [--pool 10] (PostgreSQL connections per daemon)
//        (build first: npx tsc -p tsconfig.build.json)
// Per daemon also: bytes read at ready (/proc/self/io rchar: the store's answers and the files loaded), and the
// runtime schedules the store listed to it (rows, JSON size) at ready and in all.
// The schedules are stored through the store API (scheduler.schedules(code).upsert, 1,000 a call,
// 4 calls in flight).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createScheduler, defineJob } from '@tickwork/core';

const pgUrl = process.env.TICKWORK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const cronOf = (i) => `${i % 60} ${Math.floor(i / 60) % 60} * * * *`;
const nowMs = () => performance.timeOrigin + performance.now();
const PARTITIONS = 256;

/** The store of one process: PostgreSQL (own schema) or the private Redis Cluster (own client). */
async function openStore(spec, poolSize) {
  if (spec.store === 'pg') {
    const { createSqlStore } = await import('@tickwork/store-sql');
    return {
      store: createSqlStore({ driver: 'postgresql', clientUrl: spec.url, schema: spec.schema, poolSize }),
      close: async () => undefined,
    };
  }
  const { Cluster } = await import('ioredis');
  const { createRedisStore } = await import('@tickwork/store-redis');
  // Timeouts as safety nets (as test/cluster's conformance run: at high load a cluster client's slots refresh outlasts 5 s).
  const redis = new Cluster(spec.startupNodes, { retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, slotsRefreshTimeout: 20_000 });
  redis.on('error', () => {});
  return { store: createRedisStore({ redis, prefix: spec.prefix, commandTimeoutMs: 60_000 }), close: async () => redis.disconnect() };
}

if (process.env.TW_BENCH_PART) {
  // — one daemon process: writes "schedule index, slot, lateness" per scheduled run as it starts —
  const spec = JSON.parse(process.env.TW_BENCH_PART);
  const { pino } = await import('pino');
  const { createDaemon } = await import('../dist/index.js');
  const runsFd = openSync(spec.runsFile, 'a');
  let runCount = 0;
  const jobs = Array.from({ length: spec.jobs }, (_, j) =>
    defineJob({
      code: `pt-${j}`,
      schedule: null,
      run: (ctx) => {
        // A retry runs its slot again (attempt + 1): an interrupted run of a SIGKILLed daemon comes back as one.
        if (ctx.trigger !== 'schedule' && ctx.trigger !== 'retry') return;
        runCount += 1;
        const retry = ctx.trigger === 'retry' ? 1 : 0;
        writeSync(runsFd, `${ctx.key.slice(2)} ${ctx.slot.getTime()} ${(nowMs() - ctx.slot.getTime()).toFixed(1)} ${retry}\n`);
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
  const opened = await openStore(spec, spec.pool);
  const daemon = createDaemon({
    config: {
      jobs,
      store: () => counted(opened.store),
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
  // Each second: partitions held and schedules loaded (the parent judges coverage on them), RSS so far
  // (all that is left of a daemon SIGKILLed).
  const status = async () => {
    const health = await daemon.health();
    const line = { partitions: health.partitions, runtime: health.schedules.runtime, readyMs, rssReady, maxRss, runs: runCount };
    process.stdout.write(`status ${JSON.stringify(line)}\n`);
  };
  const ticker = setInterval(() => void status().catch(() => undefined), 1_000);
  process.stdout.write('ready\n');
  process.on('SIGTERM', async () => {
    clearInterval(ticker);
    const health = await daemon.health();
    await daemon.stop();
    await opened.close();
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
      }),
    );
    process.exit(0);
  });
} else {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'pg' },
      schedules: { type: 'string', default: '100000' },
      daemons: { type: 'string', default: '4' },
      jobs: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '120' },
      ttl: { type: 'string', default: '15000' },
      'stagger-ms': { type: 'string', default: '3000' },
      kill: { type: 'string', default: '0' },
      join: { type: 'string', default: '0' },
      settle: { type: 'string', default: '10' },
      pool: { type: 'string', default: '10' },
    },
  });
  const storeKind = values.store;
  if (storeKind !== 'pg' && storeKind !== 'redis-cluster') throw new Error(`--store: "${storeKind}" is neither pg nor redis-cluster`);
  const n = Number(values.schedules);
  const d = Number(values.daemons);
  const jobCount = Number(values.jobs);
  const seconds = Number(values.seconds);
  const staggerMs = Number(values['stagger-ms']);
  const killCount = Number(values.kill);
  const joinCount = Number(values.join);
  const settleS = Number(values.settle);
  if (!(killCount >= 0 && killCount < d)) throw new Error(`--kill: ${values.kill} must be from 0 to --daemons − 1 (${d - 1})`);
  const storeName = storeKind === 'pg' ? 'PostgreSQL' : 'Redis Cluster (3 masters + 3 replicas, loopback)';
  const id = `${process.pid}_${Date.now().toString(36)}`;
  const schema = `tw_bench_part_${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-part-'));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const uptime = async () => {
    const { execFileSync } = await import('node:child_process');
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  };
  console.log(`start: ${await uptime()}`);
  let cluster = null;
  const base = { store: storeKind, url: pgUrl, schema, prefix: `twbench-${id}` };
  if (storeKind === 'pg') {
    const { migrate } = await import('@tickwork/store-sql');
    await migrate({ driver: 'postgresql', clientUrl: pgUrl, schema });
  } else {
    const { startRedisCluster } = await import('./redis-cluster.mjs');
    cluster = await startRedisCluster();
    base.startupNodes = cluster.startupNodes;
    console.log(`redis cluster on ports ${cluster.ports.join(', ')}`);
  }
  const opened = await openStore(base, 4);
  const store = opened.store;
  const members = [];
  const latest = new Map();
  try {
    // — the schedules: i belongs to job i % J, upserted 1,000 per call, 4 calls in flight —
    const jobs = Array.from({ length: jobCount }, (_, j) => defineJob({ code: `pt-${j}`, schedule: null, run: () => undefined }));
    const scheduler = createScheduler({ jobs, store });
    const seedStarted = performance.now();
    const batches = [];
    for (let j = 0; j < jobCount; j++) {
      const keys = [];
      for (let i = j; i < n; i += jobCount) keys.push(i);
      for (let k = 0; k < keys.length; k += 1000) batches.push([j, keys.slice(k, k + 1000)]);
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < batches.length) {
          const [j, keys] = batches[next++];
          await scheduler.schedules(`pt-${j}`).upsert(keys.map((i) => ({ key: `s-${i}`, schedule: cronOf(i) })));
        }
      }),
    );
    const seedS = (performance.now() - seedStarted) / 1000;
    console.log(`stored ${n} schedules through the store API (upsert, 1,000 a call, 4 in flight) in ${seedS.toFixed(1)} s`);

    // — daemon processes —
    const script = fileURLToPath(import.meta.url);
    const spawnDaemon = (index) => {
      const runnerId = `bench-p${index}`;
      const out = join(dir, `d${index}.json`);
      const runsFile = join(dir, `d${index}.runs`);
      const spec = { ...base, jobs: jobCount, runnerId, out, runsFile, ttlMs: Number(values.ttl), pool: Number(values.pool) };
      const child = spawn(process.execPath, [script], {
        env: { ...process.env, TW_BENCH_PART: JSON.stringify(spec) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const member = {
        runnerId,
        out,
        runsFile,
        child,
        killed: false,
        exited: new Promise((resolve) => child.once('exit', resolve)),
        ready: null,
      };
      let text = '';
      member.ready = new Promise((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          text += chunk.toString();
          const lines = text.split('\n');
          text = lines.pop() ?? '';
          for (const line of lines) {
            if (line === 'ready') resolve();
            if (line.startsWith('status ')) latest.set(runnerId, JSON.parse(line.slice(7)));
          }
        });
        void member.exited.then((code) => reject(new Error(`${runnerId} exited with ${code}`)));
      });
      member.ready.catch(() => undefined);
      members.push(member);
      return member;
    };
    const live = () => members.filter((m) => !m.killed);
    const coverage = () => {
      const statuses = live().map((m) => latest.get(m.runnerId));
      return {
        statuses,
        held: statuses.reduce((sum, s) => sum + (s?.partitions ?? 0), 0),
        loaded: statuses.reduce((sum, s) => sum + (s?.runtime ?? 0), 0),
      };
    };
    /** Waits for `done(coverage)`, checking every 250 ms; fails after `limitS`. */
    const waitFor = async (what, done, limitS) => {
      const since = Date.now();
      for (;;) {
        const c = coverage();
        if (done(c)) return (Date.now() - since) / 1000;
        if (Date.now() - since > limitS * 1000) throw new Error(`${what}: not within ${limitS} s: ${JSON.stringify(c.statuses)}`);
        await sleep(250);
      }
    };
    const spawnedAt = Date.now();
    for (let i = 1; i <= d; i++) {
      if (i > 1) await sleep(staggerMs);
      spawnDaemon(i);
    }
    await Promise.all(members.map((m) => m.ready));
    // Balanced: every partition and every schedule held, each daemon at its settled share.
    const share = (count) => Math.floor(PARTITIONS / count) - 2;
    await waitFor(
      'balanced',
      (c) => c.held === PARTITIONS && c.loaded === n && c.statuses.every((s) => (s?.partitions ?? 0) >= share(d)),
      1_200,
    );
    const balancedS = (Date.now() - spawnedAt) / 1000;
    const from = Math.ceil((Date.now() + 2_000) / 1000) * 1000;
    const to = from + seconds * 1000;
    await sleep(to - Date.now() + 3_000);
    const steadyLoad = await uptime();

    // — the fault: SIGKILL K daemons, wait for full coverage, start J, wait for their share —
    let fault = null;
    if (killCount > 0 || joinCount > 0) {
      const killedAt = Date.now();
      const victims = members.slice(0, killCount);
      for (const m of victims) {
        m.killed = true;
        m.child.kill('SIGKILL');
      }
      await Promise.all(victims.map((m) => m.exited));
      // The killed daemons' leases stand in the store until their TTL runs out; the survivors take them then.
      await waitFor('every partition held again after the kill', (c) => c.held === PARTITIONS, 600);
      const heldS = (Date.now() - killedAt) / 1000;
      await waitFor('every schedule loaded again after the kill', (c) => c.held === PARTITIONS && c.loaded === n, 600);
      const loadedS = (Date.now() - killedAt) / 1000;
      await sleep(5_000);
      const joinedAt = Date.now();
      const newcomers = Array.from({ length: joinCount }, (_, k) => spawnDaemon(d + 1 + k));
      await Promise.all(newcomers.map((m) => m.ready));
      const liveCount = d - killCount + joinCount;
      await waitFor(
        'the newcomers holding their share',
        (c) =>
          c.held === PARTITIONS && c.loaded === n && newcomers.every((m) => (latest.get(m.runnerId)?.partitions ?? 0) >= share(liveCount)),
        600,
      );
      const shareS = (Date.now() - joinedAt) / 1000;
      await sleep(settleS * 1000);
      fault = {
        from: Math.ceil(killedAt / 1000) * 1000,
        to: Math.floor(Date.now() / 1000) * 1000,
        heldS,
        loadedS,
        shareS,
        victims: victims.map((m) => m.runnerId),
        newcomers: newcomers.map((m) => m.runnerId),
      };
      // The last slots' runs start (slots up to `to` have fallen due a few seconds ago).
      await sleep(3_000);
    }
    const endLoad = await uptime();
    const statusAtEnd = new Map(latest);
    for (const m of live()) m.child.kill('SIGTERM');
    await Promise.all(live().map((m) => m.exited));

    // — every daemon's runs, the SIGKILLed ones' included —
    const runs = [];
    for (const m of members) {
      if (!existsSync(m.runsFile)) continue;
      for (const line of readFileSync(m.runsFile, 'utf8').split('\n')) {
        const [i, slot, late, retry] = line.split(' ').map(Number);
        if (line !== '' && Number.isFinite(late)) runs.push([i, slot, late, retry === 1]);
      }
    }
    // Every (schedule, slot) of [lo, hi): expected, run how often, lateness of the runs.
    const judge = (lo, hi) => {
      const seen = new Map();
      const lateness = [];
      let retries = 0;
      for (const [i, slot, late, retry] of runs) {
        if (slot < lo || slot >= hi) continue;
        if (retry) retries += 1;
        const k = `${i} ${slot}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
        lateness.push(late);
      }
      let expected = 0;
      let misses = 0;
      let duplicates = 0;
      let matched = 0;
      const missed = [];
      for (let slot = lo; slot < hi; slot += 1000) {
        const at = new Date(slot);
        // Schedules firing at this minute:second: i ≡ second (mod 60), ⌊i / 60⌋ ≡ minute (mod 60).
        for (let i = at.getUTCMinutes() * 60 + at.getUTCSeconds(); i < n; i += 3600) {
          expected += 1;
          const count = seen.get(`${i} ${slot}`) ?? 0;
          if (count === 0) {
            misses += 1;
            missed.push([i, slot]);
          } else {
            matched += 1;
            duplicates += count - 1;
          }
        }
      }
      // Runs of a (schedule, slot) not due at all (none expected).
      const stray = seen.size - matched;
      lateness.sort((a, b) => a - b);
      const pct = (p) => (lateness.length === 0 ? Number.NaN : lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))]);
      judged.missed = missed;
      return `${expected} slots expected, ${lateness.length} runs (${retries} of them retries); duplicates ${duplicates}, misses ${misses}, stray ${stray}; lateness p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${(lateness.at(-1) ?? Number.NaN).toFixed(1)} ms`;
    };
    const judged = { missed: [] };
    /** PostgreSQL: the run records of the missed slots, by status and runner (none: never claimed). */
    const missedRecords = async () => {
      if (storeKind !== 'pg' || judged.missed.length === 0) return '';
      const { execFileSync } = await import('node:child_process');
      const rows = judged.missed.map(([i, slot]) => ({ code: `pt-${i % jobCount}`, key: `s-${i}`, slot: new Date(slot).toISOString() }));
      const sql = `SELECT count(*), r.status || coalesce(' (' || r.skip_reason || ')', ''), r.runner_id FROM jsonb_to_recordset('${JSON.stringify(rows)}'::jsonb) AS m(code text, key text, slot timestamptz)
        JOIN "${schema}".tickwork_run r ON r.code = m.code AND r.key = m.key AND r.slot_at = m.slot GROUP BY 2, 3 ORDER BY 1 DESC`;
      const found = execFileSync('psql', [pgUrl, '-At', '-F', '\t'], { input: sql, encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\t'));
      const recorded = found.reduce((sum, [count]) => sum + Number(count), 0);
      const never = recorded < rows.length ? `, ${rows.length - recorded} without one` : '';
      return `; the misses' run records: ${found.map(([count, status, runner]) => `${count} ${status} by ${runner}`).join(', ') || 'none'}${never}`;
    };
    const mb = (bytes) => `${(bytes / 1048576).toFixed(0)} MB`;
    console.log(
      `${n} schedules, ${d} daemons on ${storeName} (${cpus().length} cores); staggered ${staggerMs} ms; balanced ${balancedS.toFixed(1)} s after the first spawn`,
    );
    for (const m of members) {
      if (m.killed) {
        const s = statusAtEnd.get(m.runnerId);
        console.log(
          `  ${m.runnerId}: SIGKILLed; last status: partitions ${s?.partitions}, runtime schedules loaded ${s?.runtime}, ready ${((s?.readyMs ?? Number.NaN) / 1000).toFixed(1)} s, RSS ready ${mb(s?.rssReady ?? Number.NaN)}, max ${mb(s?.maxRss ?? Number.NaN)}, runs ${s?.runs}`,
        );
        continue;
      }
      const r = JSON.parse(readFileSync(m.out, 'utf8'));
      console.log(
        `  ${m.runnerId}: partitions ${r.partitions}, runtime schedules loaded ${r.runtime}, ready ${(r.readyMs / 1000).toFixed(1)} s, RSS ready ${mb(r.rssReady)}, max ${mb(r.maxRss)}, CPU ${r.cpuS.toFixed(1)} s`,
      );
      console.log(
        `    read at ready ${mb(r.readReady)}; listed by the store at ready ${r.listedReady.rows} schedules (${mb(r.listedReady.bytes)} JSON), in all ${r.listed.rows} (${mb(r.listed.bytes)})`,
      );
    }
    console.log(`steady window ${seconds} s: ${judge(from, to)}`);
    console.log(`  load at its end: ${steadyLoad}`);
    if (fault) {
      console.log(
        `fault: SIGKILL ${fault.victims.join(', ')}; every partition held again ${fault.heldS.toFixed(1)} s after the kill, every schedule loaded again ${fault.loadedS.toFixed(1)} s after it; join ${fault.newcomers.join(', ')}: holding its share (≥ ${share(d - killCount + joinCount)} partitions, all held, all loaded) ${fault.shareS.toFixed(1)} s after its spawn`,
      );
      console.log(
        `fault window ${(fault.to - fault.from) / 1000} s (from the first slot after the kill to ${settleS} s after the share): ${judge(fault.from, fault.to)}${await missedRecords()}`,
      );
    }
    console.log(`end: ${endLoad}`);
  } finally {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(members.map((m) => m.exited));
    await opened.close();
    if (storeKind === 'pg') {
      await store.close();
      const { execFileSync } = await import('node:child_process');
      execFileSync('psql', [pgUrl, '-q', '-c', `DROP SCHEMA IF EXISTS "${schema}" CASCADE`], { stdio: 'ignore' });
    }
    if (cluster) await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
