/**
 * `@tickwork/core/schedule`: the pure schedule engine — a schedule compiled for its zone and DST
 * policy, the slots it yields and its description. Schedules are built with `every`,
 * `dailyAt`, `cron` and `once` from `@tickwork/core`.
 */

// Compiling
export { type CompiledSchedule, type CompileOptions, compileSchedule, type DstRule, resolveDstPolicy } from '../schedule/engine.js';
export { jobSchedule } from '../job.js';

// Slots
export { describeSchedule, nextSlot, previousSlot, slotsBetween } from '../schedule/engine.js';
