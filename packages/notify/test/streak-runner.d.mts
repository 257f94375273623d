import type { Clock, Store } from '@tickwork/core';
import type { notify } from '../src/index.js';

/** A runner whose tick runs what is due and reports failures through `notify` (src or dist). */
export function streakRunner(options: { notify: typeof notify; store: Store; clock: Clock; hookUrl: string; runnerId: string }): {
  tick(): Promise<string[]>;
  close(): Promise<void>;
};

/** Opens the shared store both processes use: a PostgreSQL schema or a Redis key prefix named `name`. */
export function openStore(target: { kind: 'postgresql' | 'redis'; url: string; name: string }): Promise<Store>;
