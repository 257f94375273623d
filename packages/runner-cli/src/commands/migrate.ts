import type { Store } from '@tickwork/core';
import type { Session } from '../session.js';

/**
 * The optional hook `tickwork migrate` calls: a store with tables exposes `migrate()`,
 * which creates or upgrades them and may say what it did.
 */
export interface MigratableStore extends Store {
  migrate(): Promise<unknown>;
}

/** True when the store has a {@link MigratableStore.migrate} hook. */
export function isMigratable(store: Store): store is MigratableStore {
  return typeof (store as Partial<MigratableStore>).migrate === 'function';
}

/** `tickwork migrate`: calls the store's `migrate()` when it has one. */
export async function migrateCommand(session: Session): Promise<number> {
  // Not synced to the store's clock: migrate reads no time, and before it the tables the ping checks may not exist.
  const store = await session.store({ syncClock: false });
  if (!isMigratable(store)) {
    session.out(`the ${store.name} store has no migrations: nothing to do\n`);
    return 0;
  }
  const result = await store.migrate();
  const detail = describeResult(result);
  session.out(`migrated the ${store.name} store${detail ? `: ${detail}` : ''}\n`);
  return 0;
}

function describeResult(result: unknown): string {
  if (result === undefined || result === null) return '';
  if (typeof result === 'string') return result;
  if (Array.isArray(result)) return result.length === 0 ? 'already up to date' : `applied ${result.map(String).join(', ')}`;
  if (typeof result === 'object') {
    const applied = (result as { applied?: unknown }).applied;
    if (Array.isArray(applied)) return applied.length === 0 ? 'already up to date' : `applied ${applied.map(String).join(', ')}`;
  }
  return '';
}
