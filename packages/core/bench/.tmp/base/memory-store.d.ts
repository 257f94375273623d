import { type MemoryBackend } from './memory/backend.js';
import type { Store } from './store.js';
export { createMemoryBackend, type MemoryBackend } from './memory/backend.js';
/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
    /** Share data with other memory stores created on the same backend (races in tests). Default: a new one. */
    backend?: MemoryBackend;
    /** Offer `subscribe()` (default true); false makes the store behave like one without push, for testing the polling fallback. */
    changeSubscription?: boolean;
}
/** The reference store: complete, in-process, no persistence. */
export declare function createMemoryStore(options?: MemoryStoreOptions): Store;
//# sourceMappingURL=memory-store.d.ts.map