/**
 * A private Redis Cluster for tests: 3 masters and 3 replicas on loopback, on free ports, in a
 * temp dir, without persistence (`--save "" --appendonly no`). `stop()` kills every server it
 * started and deletes the dir; so does the process's exit if a test run ends without it. The
 * shared Redis on 6379 is never touched.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';

const run = promisify(execFile);

const HOW_TO_INSTALL = 'the redis-server and redis-cli binaries (Redis ≥ 7) must be on PATH: apt-get install redis-server';

/** Whether a TCP port on 127.0.0.1 can be bound now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
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

async function until<T>(probe: () => Promise<T | null | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`redis cluster: ${what} within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One node of the cluster. */
export interface ClusterNode {
  readonly port: number;
  /** Whether its process runs. */
  readonly running: boolean;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** `cluster-node-timeout` in ms: how long a master may be unreachable before its replica takes over. Default 5000. */
  nodeTimeoutMs?: number;
}

/** A running cluster. */
export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** The startup nodes for an ioredis Cluster. */
  readonly startupNodes: { host: string; port: number }[];
  /** A new ioredis Cluster client (closed by `stop()` unless closed before). */
  client(options?: ClusterOptions): Cluster;
  /** A plain connection to one node (closed by `stop()`). */
  node(port: number): Redis;
  /** The port of the master serving a key's slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs one node's server, as a crash; resolves once its process has exited. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again (empty: nothing was saved); it rejoins as a replica. Resolves once it answers PING. */
  restart(port: number): Promise<void>;
  /** Resolves once every slot's master has its replica online. */
  replicated(timeoutMs?: number): Promise<void>;
  /** Resolves once every live node reports cluster_state:ok and every slot's master is a live node. */
  healthy(timeoutMs?: number): Promise<void>;
  /** Kills every server, closes every client, deletes the dir. Idempotent. */
  stop(): Promise<void>;
}

interface Server {
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
  running: boolean;
}

/** Starts 3 masters + 3 replicas and waits for cluster_state:ok. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0)
    throw new Error(`redis cluster: cannot run redis-server (${version.error?.message ?? version.stderr}); ${HOW_TO_INSTALL}`);
  const nodeTimeout = options.nodeTimeoutMs ?? 5_000;
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-cluster-'));
  const servers: Server[] = [];
  const clients: (Cluster | Redis)[] = [];
  let stopped = false;

  const killAll = () => {
    for (const server of servers) if (server.running) server.child.kill('SIGKILL');
  };
  // A run that ends without stop() (a crash of the test process) still takes its servers down.
  const onExit = () => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const client of clients) client.disconnect();
    killAll();
    await Promise.all(servers.map((server) => server.exited));
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  };

  /** Starts (or restarts) one node's server in its own dir; a restarted node keeps its nodes.conf, so it rejoins. */
  const launch = (server: Server) => {
    const home = join(dir, String(server.port));
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(server.port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(nodeTimeout),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        home,
        '--logfile',
        join(home, 'redis.log'),
        // A replica promoted after its master died must not wait for data it can never get.
        '--cluster-replica-validity-factor',
        '0',
      ],
      { stdio: 'ignore' },
    );
    server.child = child;
    server.running = true;
    server.exited = new Promise((resolve) => {
      child.once('exit', () => {
        server.running = false;
        resolve();
      });
      child.once('error', () => {
        server.running = false;
        resolve();
      });
    });
  };

  try {
    const taken = new Set<number>();
    for (let i = 0; i < 6; i += 1) {
      const port = await freeClusterPort(taken);
      mkdirSync(join(dir, String(port)));
      const server: Server = { port, child: null as unknown as ChildProcess, running: false, exited: Promise.resolve() };
      launch(server);
      servers.push(server);
    }
    const node = (port: number): Redis => {
      const client = new Redis({
        host: '127.0.0.1',
        port,
        lazyConnect: false,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
        connectTimeout: 2_000,
      });
      client.on('error', () => {});
      clients.push(client);
      return client;
    };
    const admins = new Map<number, Redis>();
    const admin = (port: number) => {
      const open = admins.get(port);
      if (open && open.status !== 'end') return open;
      const client = node(port);
      admins.set(port, client);
      return client;
    };
    for (const server of servers) {
      await until(
        async () => (await admin(server.port).ping()) === 'PONG',
        `node ${server.port} answering PING (log: ${join(dir, String(server.port), 'redis.log')})`,
        15_000,
      );
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    try {
      await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 });
    } catch (error) {
      throw new Error(
        `redis cluster: redis-cli --cluster create failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}; ${HOW_TO_INSTALL}`,
      );
    }

    const healthy = async (timeoutMs = 30_000) => {
      const live = servers.filter((server) => server.running);
      await until(
        async () => {
          for (const server of live) {
            const info = await admin(server.port).cluster('INFO');
            if (!/cluster_state:ok/.test(String(info))) return false;
          }
          // Every slot range served by a live master, which has its replica attached (WAIT counts on it).
          const slots = (await admin((live[0] as Server).port).cluster('SLOTS')) as unknown as [number, number, [string, number]][];
          const covered = slots.reduce((sum, [from, to]) => sum + (to - from + 1), 0);
          if (covered !== 16_384) return false;
          const livePorts = new Set(live.map((server) => server.port));
          return slots.every(([, , master]) => livePorts.has(Number(master[1])));
        },
        'every live node reporting cluster_state:ok with all 16384 slots on live masters',
        timeoutMs,
      );
    };
    await healthy(60_000);
    // Each master has its replica connected, so a write acknowledged by WAIT 1 is on two servers.
    const replicated = async (timeoutMs = 30_000) => {
      await until(
        async () => {
          const live = servers.find((server) => server.running) as Server;
          const slots = (await admin(live.port).cluster('SLOTS')) as unknown as [number, number, [string, number]][];
          for (const [, , master] of slots) {
            const info = String(await admin(Number(master[1])).info('replication'));
            if (!/connected_slaves:1/.test(info) || !/slave0:.*state=online/.test(info)) return false;
          }
          return true;
        },
        'every master with its replica online',
        timeoutMs,
      );
    };
    await replicated();

    const startupNodes = servers.map((server) => ({ host: '127.0.0.1', port: server.port }));
    return {
      get nodes() {
        return servers.map((server) => ({ port: server.port, running: server.running }));
      },
      startupNodes,
      client(clusterOptions?: ClusterOptions): Cluster {
        const client = new Cluster(
          startupNodes.filter((n) => servers.find((s) => s.port === n.port)?.running),
          { retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, slotsRefreshTimeout: 2_000, ...(clusterOptions ?? {}) } as never,
        );
        client.on('error', () => {});
        clients.push(client);
        return client;
      },
      node,
      async masterOf(key: string): Promise<number> {
        const live = servers.find((server) => server.running);
        if (!live) throw new Error('redis cluster: no node runs');
        const slot = Number(await admin(live.port).cluster('KEYSLOT', key));
        const slots = (await admin(live.port).cluster('SLOTS')) as unknown as [number, number, [string, number]][];
        const range = slots.find(([from, to]) => slot >= from && slot <= to);
        if (!range) throw new Error(`redis cluster: slot ${slot} is not served`);
        return Number(range[2][1]);
      },
      async kill(port: number): Promise<void> {
        const server = servers.find((s) => s.port === port);
        if (!server) throw new Error(`redis cluster: no node on port ${port}`);
        admins.get(port)?.disconnect();
        admins.delete(port);
        server.child.kill('SIGKILL');
        await server.exited;
      },
      async restart(port: number): Promise<void> {
        const server = servers.find((s) => s.port === port);
        if (!server) throw new Error(`redis cluster: no node on port ${port}`);
        if (server.running) return;
        launch(server);
        await until(async () => (await admin(port).ping()) === 'PONG', `node ${port} answering PING again`, 15_000);
      },
      replicated,
      healthy,
      stop,
    };
  } catch (error) {
    // Keep the first node's log in the message: the dir goes with stop().
    let log = '';
    try {
      if (servers[0])
        log = readFileSync(join(dir, String(servers[0].port), 'redis.log'), 'utf8')
          .split('\n')
          .slice(-10)
          .join('\n');
    } catch {
      // no log
    }
    await stop();
    throw log ? new Error(`${(error as Error).message}\nlast lines of a node's log:\n${log}`) : error;
  }
}
