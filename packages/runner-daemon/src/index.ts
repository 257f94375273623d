export { createDaemon, type DaemonHandle } from './daemon.js';
export type { LoadedSchedule } from './loaded-schedules.js';
export type { DaemonOptions, DaemonHttpOptions, DaemonSource } from './options.js';
export type { DaemonHealth } from './http.js';
export { DaemonOptionError, DaemonStartError } from './errors.js';
export { SlotQueue, type Queued } from './slot-queue.js';
