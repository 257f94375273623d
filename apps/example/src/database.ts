import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MikroORM, Options } from '@mikro-orm/core';
import type { ExampleSettings } from './settings.js';

/** The application database, opened on first use and shared by the HTTP API, the jobs and the SQL store. */
export interface AppDatabase {
  /** The MikroORM instance (opened on the first call, then the same one). */
  orm(): Promise<MikroORM>;
  /** Closes the ORM if it was opened. */
  close(): Promise<void>;
}

/**
 * Creates the lazy database handle. MikroORM and its driver load only when something needs
 * them, so `tickwork list --help` stays fast.
 */
export function createAppDatabase(settings: ExampleSettings): AppDatabase {
  let opened: Promise<MikroORM> | undefined;
  return {
    orm() {
      opened ??= openOrm(settings);
      // A failed open (server down) may be retried by the next caller.
      opened.catch(() => {
        opened = undefined;
      });
      return opened;
    },
    async close() {
      const orm = await opened?.catch(() => undefined);
      opened = undefined;
      await orm?.close(true);
    },
  };
}

async function openOrm(settings: ExampleSettings): Promise<MikroORM> {
  const [{ MikroORM }, { attendanceEntities }] = await Promise.all([import('@mikro-orm/core'), import('@tickwork/attendance')]);
  const common = {
    entities: [...attendanceEntities],
    discovery: { warnWhenNoEntities: false },
    debug: false,
    // Every request and every run forks its own EntityManager; the global one is never used for work.
    allowGlobalContext: false,
  };
  if (settings.database === 'sqlite') {
    mkdirSync(dirname(settings.sqliteFile), { recursive: true });
    const { LibSqlDriver } = await import('@mikro-orm/libsql');
    // libsql's busy timeout is 0: without one, a write meeting the daemon's (or a CLI's) write lock fails at once.
    return MikroORM.init({
      ...common,
      driver: LibSqlDriver,
      dbName: settings.sqliteFile,
      driverOptions: { connection: { timeout: 5000 } },
    } as Options);
  }
  const { PostgreSqlDriver } = await import('@mikro-orm/postgresql');
  return MikroORM.init({
    ...common,
    driver: PostgreSqlDriver,
    clientUrl: settings.pgUrl,
    schema: settings.pgSchema,
    pool: { min: 0, max: 10 },
  } as Options);
}
