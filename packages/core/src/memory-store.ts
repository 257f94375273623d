// STUB — replaced by the memory-store work. Signatures are the contract.
import type { Store } from './store.js';

/** The shared data behind one or more memory stores (one "server"). */
export interface MemoryBackend {
  readonly kind: 'memory-backend';
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Share data with other memory stores created on the same backend (races in tests). Default: a new one. */
  backend?: MemoryBackend;
}

/** Creates the data behind memory stores. */
export function createMemoryBackend(): MemoryBackend {
  throw new Error('not implemented');
}

/** The reference store: complete, in-process, no persistence. */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  void options;
  throw new Error('not implemented');
}
