import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TickworkConfig } from '@tickwork/core';
import { CliUsageError } from '../errors.js';
import type { Session } from '../session.js';

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

/**
 * Finds `@tickwork/runner-daemon` as the host project sees it (its node_modules, from the
 * project directory upward), so it works with pnpm's strict layout where the CLI's own
 * resolution would not see it; falls back to the CLI's own resolution.
 */
async function importDaemon(projectDir: string): Promise<DaemonModule | null> {
  for (let dir = resolve(projectDir); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', PACKAGE, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; main?: string };
      const entry = entryOf(pkg);
      return (await import(pathToFileURL(join(dirname(manifest), entry)).href)) as DaemonModule;
    }
    if (dirname(dir) === dir) break;
  }
  try {
    return (await import(PACKAGE)) as DaemonModule;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw error;
  }
}

function entryOf(pkg: { exports?: unknown; main?: string }): string {
  const root = typeof pkg.exports === 'object' && pkg.exports !== null ? ((pkg.exports as Record<string, unknown>)['.'] ?? pkg.exports) : pkg.exports;
  if (typeof root === 'string') return root;
  if (typeof root === 'object' && root !== null) {
    const conditions = root as Record<string, unknown>;
    for (const condition of ['import', 'node', 'default']) if (typeof conditions[condition] === 'string') return conditions[condition] as string;
  }
  return pkg.main ?? 'index.js';
}

/** `tickwork daemon`: starts `@tickwork/runner-daemon` with this config; SIGTERM/SIGINT stop it gracefully. */
export async function daemonCommand(session: Session, flags: { port?: number }): Promise<number> {
  const path = session.configPath();
  const daemon = await importDaemon(path ? dirname(path) : session.io.cwd);
  if (!daemon || typeof daemon.createDaemon !== 'function') {
    throw new CliUsageError(
      `${PACKAGE} is not installed in this project: install it (pnpm add ${PACKAGE} / npm install ${PACKAGE}) ` +
        'or run `tickwork run` from cron every minute instead (see `tickwork crontab`)',
    );
  }
  const config = await session.config();
  // The daemon keeps the real clock: TICKWORK_NOW fixes time, and a resident runner needs it to move.
  const handle = await daemon.createDaemon({ config, ...(flags.port !== undefined ? { http: { port: flags.port } } : {}) });
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
  }
  return 0;
}
