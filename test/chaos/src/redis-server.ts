/**
 * A redis-server of the harness's own, for scenarios that stop the store with its own command:
 * no persistence (like this machine's shared Redis), so a restart loses every key. The shared
 * server is never stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { DisruptOutcome } from './chaos-harness.js';
import { tempDir } from './fixtures.js';

/** A server a scenario can shut down (`SHUTDOWN NOSAVE`) and start again on the same port. */
export interface ChaosRedis {
  readonly url: string;
  /** Starts it (again), resolving once it answers PING. */
  start(): Promise<void>;
  /** `SHUTDOWN NOSAVE`, resolving once the process has exited. */
  shutdownNoSave(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `scenario` with a private redis-server (in a temp dir), stopped and removed afterwards whatever happens. */
export async function withChaosRedis<T>(scenario: (redis: ChaosRedis) => Promise<T>): Promise<T> {
  const dir = tempDir('redis-server');
  const port = await unusedPort();
  const url = `redis://127.0.0.1:${port}`;
  let server: ChildProcess | null = null;
  const pong = async () => {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    const answered = await probe
      .connect()
      .then(() => probe.ping())
      .catch(() => null);
    probe.disconnect();
    return answered === 'PONG';
  };
  const redis: ChaosRedis = {
    url,
    async start() {
      let failed: Error | null = null;
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdio: 'ignore',
      });
      server.once('error', (error) => {
        failed = new Error(`[tickwork] [chaos] cannot start redis-server (${error.message}): install it (apt-get install -y redis-server)`);
      });
      for (let tries = 0; !(await pong()); tries++) {
        if (failed) throw failed;
        if (tries > 400) throw new Error(`[tickwork] [chaos] the private redis-server on port ${port} did not answer within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async shutdownNoSave() {
      const running = server;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      const admin = new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
      admin.on('error', () => {});
      await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      admin.disconnect();
      await exited;
    },
  };
  try {
    await redis.start();
    return await scenario(redis);
  } finally {
    await redis.shutdownNoSave().catch(() => (server as ChildProcess | null)?.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The disruption of the Redis-restart scenarios: `SHUTDOWN NOSAVE`, the server down for
 * `outageMs`, started again empty. Slots from `settleMs` after the restart (runners reconnect
 * with a backoff of at most 2 s) are judged as `recovered`: all of them must run.
 */
export function restartWithoutSaving(redis: ChaosRedis, outageMs = 3_000, settleMs = 3_000): () => Promise<DisruptOutcome> {
  return async () => {
    await redis.shutdownNoSave();
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    await redis.start();
    return { recoveredAt: Date.now() + settleMs, dataLost: true };
  };
}
