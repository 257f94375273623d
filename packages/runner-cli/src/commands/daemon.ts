import { dirname } from 'node:path';
import type { TickworkConfig } from '@tickwork/core';
import { CliUsageError } from '../errors.js';
import { importFromProject } from '../project-import.js';
import type { Session } from '../session.js';
import { startDashboardBeside, type RunningDashboard } from './dashboard.js';

/** The part of `@tickwork/runner-daemon` the CLI uses. */
export interface DaemonModule {
  createDaemon(options: { config: TickworkConfig; http?: { port: number } }): DaemonHandle | Promise<DaemonHandle>;
}

/** A started daemon. */
export interface DaemonHandle {
  /** Settles when the daemon has stopped. */
  done: Promise<unknown>;
  stop(): Promise<unknown>;
}

const PACKAGE = '@tickwork/runner-daemon';

/** `tickwork daemon`: starts `@tickwork/runner-daemon` with this config; SIGTERM/SIGINT stop it gracefully. */
export async function daemonCommand(
  session: Session,
  flags: { port?: number; dashboard?: number; dashboardHost?: string },
): Promise<number> {
  const path = session.configPath();
  const daemon = await importFromProject<DaemonModule>(path ? dirname(path) : session.io.cwd, PACKAGE);
  if (!daemon || typeof daemon.createDaemon !== 'function') {
    throw new CliUsageError(
      `${PACKAGE} is not installed in this project: install it (pnpm add ${PACKAGE} / npm install ${PACKAGE}) ` +
        'or run `tickwork run` from cron every minute instead (see `tickwork crontab`)',
    );
  }
  const config = await session.config();
  // The daemon keeps the real clock: TICKWORK_NOW fixes time, and a resident runner needs it to move.
  const handle = await daemon.createDaemon({ config, ...(flags.port !== undefined ? { http: { port: flags.port } } : {}) });
  // Opt-in: the web dashboard on its own port, in this process, over the same config and store.
  let dashboard: RunningDashboard | null = null;
  if (flags.dashboard !== undefined) {
    try {
      dashboard = await startDashboardBeside(session, {
        port: flags.dashboard,
        ...(flags.dashboardHost !== undefined ? { host: flags.dashboardHost } : {}),
      });
    } catch (error) {
      await handle.stop();
      throw error;
    }
  }
  let stopping: string | null = null;
  const unsubscribe = session.io.onSignal?.((signal) => {
    if (stopping) return;
    stopping = signal;
    session.err(`[tickwork] ${signal}: stopping the daemon (running handlers get their grace period)\n`);
    void handle.stop();
  });
  try {
    await handle.done;
  } finally {
    unsubscribe?.();
    await dashboard?.close();
  }
  return 0;
}
