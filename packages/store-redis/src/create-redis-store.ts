import { resolveOptions, type RedisStoreOptions } from './options.js';
import { RedisStore } from './store.js';

/**
 * Creates the Store on Redis. Nothing connects until the first call, and ioredis itself is
 * only loaded then, so creating a store in a CLI that may have nothing due is cheap.
 */
export function createRedisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(resolveOptions(options));
}
