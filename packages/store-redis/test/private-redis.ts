/**
 * A private redis-server for fault tests: its own port and temp dir, no persistence (like the
 * shared development Redis), so `restart()` loses every key exactly as `SHUTDOWN NOSAVE` and
 * a start do in production without AOF. The shared server on 6379 is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A free TCP port on 127.0.0.1 (bound once, then released). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One private server; `stop()` shuts it down and removes its directory. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** `SHUTDOWN NOSAVE` (the server's own command); resolves once the process has exited. */
  shutdown(): Promise<void>;
  /** SIGKILL, as a crash: nothing is flushed to replicas; resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (empty: nothing was saved) unless it runs; resolves once it answers PING. */
  start(): Promise<void>;
  /** An admin connection (closed by `stop()`). */
  admin(): Promise<Redis>;
  stop(): Promise<void>;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`private redis-server: ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Options of {@link startPrivateRedis}. */
export interface PrivateRedisOptions {
  /** Start as a replica of the primary on this loopback port (`--replicaof 127.0.0.1 <port>`); resolves once `master_link_status:up`. */
  replicaOf?: number;
}

/** Starts a private redis-server (the `redis-server` binary must be on PATH). */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const admins: Redis[] = [];
  const answers = async () => {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  };
  const start = async () => {
    if (child && child.exitCode === null) return;
    const replica = options.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(options.replicaOf)];
    const spawned = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--repl-diskless-sync-delay',
        '0',
        ...replica,
      ],
      {
        stdio: 'ignore',
      },
    );
    let failed: Error | null = null;
    spawned.once('error', (error) => {
      failed = new Error(`cannot start redis-server (${error.message}); install it (apt-get install -y redis-server) and put it on PATH`);
    });
    child = spawned;
    await until(async () => {
      if (failed) throw failed;
      return answers();
    }, 'did not answer PING');
    if (options.replicaOf !== undefined)
      await until(async () => /master_link_status:up/.test(await info('replication')), 'replica link did not come up');
  };
  const info = async (section: string) => {
    const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      await client.connect();
      return await client.info(section);
    } catch {
      return '';
    } finally {
      client.disconnect();
    }
  };
  const shutdown = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    await client.connect();
    await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    client.disconnect();
    await exited;
    child = null;
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
    child = null;
  };
  await start();
  return {
    port,
    url,
    shutdown,
    kill,
    start,
    async admin() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      admins.push(client);
      return client;
    },
    async stop() {
      for (const client of admins) client.disconnect();
      await shutdown().catch(() => kill());
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
