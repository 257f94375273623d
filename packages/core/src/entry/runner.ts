/**
 * `@tickwork/core/runner`: for runner authors (the `tickwork` command, the daemon, the
 * dashboard) — the pieces of the tick that `runDue` composes: planning, claiming, executing one
 * run, runner presence, the store's clock, and jobs and configuration as a runner resolves them.
 */

// Planning
export {
  claimAt,
  DEFAULT_MISSED_GRACE_MS,
  jitterMs,
  MAX_BACKFILL_SLOTS,
  nextDueAt,
  planDue,
  type PlanInput,
  remainingRuns,
  requestClaim,
} from '../plan.js';
export { MAX_COUNTED_PASSED_SLOTS, type PassedInput, passedSlots, type StoreOutage } from '../passed.js';
export { DEFAULT_MAX_CONCURRENT_RUNS, defaultRunnerId, ScheduleCache, toRegistry } from '../executor.js';
export { findPendingRequests, type PendingRequestsQuery, RUN_REQUEST_PEEK_LIMIT } from '../pending-requests.js';

// Running
export {
  alertInterrupted,
  checkOverdue,
  type ExecutedRun,
  executeRun,
  type ExecuteRunInput,
  type NotRun,
  type OverdueCheck,
  reapInterrupted,
  type StopSignal,
} from '../run.js';
export { LeaseRenewals, MAX_RENEWAL_BATCH, type RenewalTicker, type RenewedRun } from '../lease-renewals.js';
export { runSpanAttributes, SPAN_STATUS_ERROR, SPAN_STATUS_OK } from '../tracing.js';

// Runner presence and the store's clock
export {
  DEFAULT_HEARTBEAT_ONLY_TTL_MS,
  DEFAULT_RUNNER_TTL_MS,
  type RunnerPresenceHandle,
  type RunnerPresenceOptions,
  startRunnerPresence,
} from '../presence.js';
export { createStoreClock, type StoreClock, type StoreClockOptions } from '../store-clock.js';

// Jobs, schedules and configuration as a runner resolves them
export {
  assertJobCode,
  checkMaxRuns,
  CronJob,
  DEFAULT_INTERRUPTED_RETRIES,
  DEFAULT_LEASE_TTL_MS,
  JOB_CODE_PATTERN,
  resolveMissedRunPolicy,
  resolveOverlapPolicy,
  toJob,
} from '../job.js';
export { runtimeJob, type RuntimeScheduleDefinition } from '../runtime-schedule.js';
export { normaliseSchedule } from '../scheduler.js';
export { DEFAULT_RETENTION, resolveStore, retentionMs } from '../config.js';
export { MAX_TIMER_MS } from '../duration.js';
