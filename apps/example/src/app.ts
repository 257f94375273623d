import type { AddressInfo } from 'node:net';
import { createRegistry, systemClock, type Clock, type Logger } from '@tickwork/core';
import { createDashboard, createStoreAccess } from '@tickwork/dashboard';
import { createDaemon, type DaemonHandle } from '@tickwork/runner-daemon';
import { createConsoleLogger } from './console-logger.js';
import { createAppDatabase } from './database.js';
import { buildHttpApi } from './http/api.js';
import { seedDemoData, type SeededDemo } from './seed.js';
import type { ExampleSettings } from './settings.js';
import { openExampleStore } from './store.js';
import { createTickworkConfig } from './tickwork.js';

/** A running example: HTTP API plus (unless EXAMPLE_DAEMON=0) the Tickwork daemon, in one process. */
export interface ExampleApp {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:3000. */
  readonly url: string;
  /** What the seed created, or null (database not empty, or EXAMPLE_SEED=0). */
  readonly seeded: SeededDemo | null;
  /** Migrations applied at this start. */
  readonly migrated: string[];
  /** The web dashboard, e.g. http://127.0.0.1:3000/dashboard/. */
  readonly dashboardUrl: string;
  /** An admin token created at this start (valid 24 h; only its hash is stored): sign in to the dashboard with it. */
  readonly adminToken: string;
  /** Stops taking requests, lets running jobs finish (daemon grace period), closes the database. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startExample}. */
export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** How long running jobs may finish on stop before they are aborted. Default 10 s. */
  shutdownGraceMs?: number;
}

/** Migrates, seeds, starts the daemon and the HTTP API — what `npm start` runs. */
export async function startExample(settings: ExampleSettings, options: StartOptions = {}): Promise<ExampleApp> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createConsoleLogger(settings.logLevel);
  const database = createAppDatabase(settings);
  const cleanups: Array<() => Promise<void>> = [() => database.close()];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse())
      await cleanup().catch((error: unknown) => logger.error({ err: String(error) }, 'shutdown step failed'));
  };
  try {
    logger.info({ database: settings.database, store: settings.store }, 'opening the database');
    const orm = await database.orm();
    const store = await openExampleStore(settings, database, { ownsDatabase: false });
    cleanups.push(() => store.close());
    let migrated: string[] = [];
    if (settings.migrate) {
      logger.info({}, 'migrating');
      migrated = (await store.migrate()).applied;
    }
    // Fail now, with the store's message, rather than let the daemon retry an unreachable store forever.
    await store.ping();
    const seeded = settings.seed ? await seedDemoData(orm, clock) : null;
    const config = createTickworkConfig(settings, database, store);

    let daemon: DaemonHandle | null = null;
    if (settings.daemon) {
      daemon = createDaemon({ config, clock, logger, http: null, shutdownGraceMs: options.shutdownGraceMs ?? 10_000 });
      const started = daemon;
      cleanups.push(() => started.stop());
      await daemon.ready;
    }
    const running = daemon;
    const jobs = createRegistry(config.jobs);
    const access = createStoreAccess(store);
    const dashboard = createDashboard({ store, jobs, clock, timezone: settings.timezone });
    cleanups.push(() => dashboard.close());
    // One-time admin token for this start, so the quick start needs no extra command; it expires in a day.
    const now = clock.now();
    for (const old of await access.listTokens()) {
      if (old.name.startsWith('npm start ') && old.expiresAt && old.expiresAt.getTime() <= now.getTime()) await access.revokeToken(old.id);
    }
    const admin = await access.createToken({
      name: `npm start ${now.toISOString()}`,
      role: 'admin',
      expiresAt: new Date(now.getTime() + 86_400_000),
      now,
    });
    const http = buildHttpApi({
      orm,
      store,
      jobs,
      clock,
      dashboard,
      health: async () =>
        running
          ? { ...(await running.health()) }
          : { ok: true, store: (await store.ping(), 'reachable'), daemon: 'off (EXAMPLE_DAEMON=0)' },
      metrics: running ? async () => ({ contentType: running.metrics.contentType, text: await running.metrics.metrics() }) : null,
      logLevel: settings.logLevel === 'debug' ? 'info' : 'warn',
      timezone: settings.timezone,
    });
    cleanups.push(() => http.close());
    await http.listen({ host: settings.host, port: settings.port });
    const address = http.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    let stopping: Promise<void> | null = null;
    return {
      url: `http://${host}:${address.port}`,
      dashboardUrl: `http://${host}:${address.port}${dashboard.basePath}/`,
      adminToken: admin.secret,
      seeded,
      migrated,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
