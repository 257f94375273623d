import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { DaemonStartError } from './errors.js';

/** What `/healthz` reports. */
export interface DaemonHealth {
  /** True when the store answered and the timers are armed. */
  ok: boolean;
  /** Why it is not ok, or null. */
  reason: string | null;
  store: 'reachable' | 'unreachable' | 'unknown';
  timersArmed: boolean;
  /** Handlers running or claimed and about to start. */
  running: number;
  /** Schedules with an armed next slot. */
  scheduled: number;
  /** Schedules this daemon holds: the jobs' own (`code`) and those stored in the store (`runtime`). */
  schedules: { code: number; runtime: number };
  /** Partitions this daemon holds (`partitions: true`), else null. */
  partitions: number | null;
  lastStoreError: string | null;
  /** The correction applied to this machine's clock to match the store's, in ms (0 without `storeClock`). */
  clockOffsetMs: number;
}

/** The daemon as the HTTP endpoint sees it. */
export interface HttpTarget {
  health(): Promise<DaemonHealth>;
  registry: Registry;
}

/** A listening health/metrics endpoint. */
export interface HealthServer {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Serves `/healthz` and `/metrics`; rejects with DaemonStartError when the port cannot be bound. */
export async function startHealthServer(target: HttpTarget, options: { port: number; host: string }): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      target.health().then(
        (health) => {
          response.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health));
        },
        (error: unknown) => {
          response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, reason: String(error) }));
        },
      );
      return;
    }
    if (path === '/metrics') {
      target.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': target.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE' ? 'is already in use' : error.code === 'EACCES' ? 'needs more privileges' : `failed (${error.message})`;
      reject(
        new DaemonStartError(`http: port ${options.port} on ${options.host} ${why}; pick another http.port (tickwork daemon --port)`, {
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: options.host, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
