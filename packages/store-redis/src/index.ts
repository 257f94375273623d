export { createRedisStore } from './create-redis-store.js';
export type { RedisStoreOptions, ReplicasOption } from './options.js';
export type { RedisStore } from './store.js';
export { reconnectDelay } from './connection.js';
