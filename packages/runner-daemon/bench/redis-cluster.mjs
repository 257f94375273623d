// A private Redis Cluster for the benches: 3 masters + 3 replicas on free loopback ports, in a temp
// dir, without persistence — the start/stop of test/cluster/test/redis-cluster.ts (the tests'
// helper, TypeScript, so not importable from a bench). `stop()` SIGKILLs every server it started and
// deletes the dir; so does the process's exit without it. The shared Redis on 6379 is never touched.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

const portFree = (port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
  throw new Error('redis cluster: no free port pair (port, port + 10000) found on 127.0.0.1');
}

async function until(probe, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`redis cluster: ${what} within ${timeoutMs} ms${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts 3 masters + 3 replicas; resolves once every node reports cluster_state:ok with all 16384 slots served. */
export async function startRedisCluster({ nodeTimeoutMs = 5_000 } = {}) {
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) throw new Error('redis cluster: cannot run redis-server (Redis ≥ 7 must be on PATH)');
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-bench-cluster-'));
  const servers = [];
  const admins = [];
  const killAll = () => {
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  };
  const onExit = () => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const admin of admins) admin.disconnect();
    killAll();
    await Promise.all(servers.map((server) => server.exited));
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set();
    for (let i = 0; i < 6; i += 1) {
      const port = await freeClusterPort(taken);
      const home = join(dir, String(port));
      mkdirSync(home);
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          home,
          '--logfile',
          join(home, 'redis.log'),
        ],
        { stdio: 'ignore' },
      );
      servers.push({ port, child, exited: new Promise((resolve) => child.once('exit', resolve)) });
    }
    for (const server of servers) {
      const admin = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
      admin.on('error', () => {});
      admins.push(admin);
      await until(async () => (await admin.ping()) === 'PONG', `node ${server.port} answering PING`, 15_000);
    }
    await run(
      'redis-cli',
      ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      {
        timeout: 60_000,
      },
    );
    await until(
      async () => {
        for (const admin of admins) if (!/cluster_state:ok/.test(String(await admin.cluster('INFO')))) return false;
        const slots = await admins[0].cluster('SLOTS');
        return slots.reduce((sum, [from, to]) => sum + (to - from + 1), 0) === 16_384;
      },
      'every node reporting cluster_state:ok with all 16384 slots served',
      60_000,
    );
    return { startupNodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), ports: servers.map((s) => s.port), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
