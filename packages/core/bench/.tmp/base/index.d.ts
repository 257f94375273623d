export * from './errors.js';
export * from './clock.js';
export * from './store-clock.js';
export * from './logger.js';
export * from './duration.js';
export * from './schedule/spec.js';
export * from './schedule/engine.js';
export * from './store.js';
export * from './runtime-schedule.js';
export * from './scheduler.js';
export * from './job.js';
export * from './job-state.js';
export * from './config.js';
export * from './plan.js';
export * from './run.js';
export * from './executor.js';
export * from './memory-store.js';
//# sourceMappingURL=index.d.ts.map