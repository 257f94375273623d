/**
 * `@tickwork/core/store`: for store authors — the `Store` contract's types, the values and
 * limits it fixes, and the checks and conversions every store shares so that they refuse the
 * same input with the same message.
 */

// The contract
export type {
  ClaimContext,
  ClaimOutcome,
  CompletionOutcome,
  CompletionStatus,
  FinalRunStatus,
  JobState,
  Lease,
  NotRunReason,
  OverdueWindow,
  PassedSlots,
  ReapedRun,
  RunCompletion,
  RunnerHeartbeat,
  RunnerPresence,
  RunnerRecord,
  RunPage,
  RunQuery,
  RunRecord,
  RunRequest,
  RunStatus,
  RunTrigger,
  ScheduleRef,
  SkippedSlots,
  SkipReason,
  SlotClaim,
  Store,
  StoreCapabilities,
  StoreChange,
  Unsubscribe,
} from '../store.js';
export type {
  AccessTokenRecord,
  AuditActor,
  AuditInput,
  AuditPage,
  AuditQuery,
  AuditRecord,
  AuditTarget,
} from '../store-access.js';
export type { RuntimeScheduleInput, SchedulePage, ScheduleQuery } from '../runtime-schedule.js';
export type {
  CheckedPartitionLease,
  PartitionLease,
  PartitionLeaseRequest,
  PartitionLeases,
  PartitionPlan,
  PartitionSlot,
} from '../partitions.js';

// Values and limits
export {
  DEFAULT_OVERDUE_LIMIT,
  MAX_OVERDUE_WINDOWS,
  MAX_PASSED_RANGES,
  NOT_RUN_REASONS,
  OVERLAP_POLICIES,
  RUN_STATUSES,
  RUNNER_PRESENCES,
  RUNNER_RECORD_RETENTION_MS,
  SKIP_REASONS,
} from '../store.js';
export { MAX_ACCESS_TOKENS, MAX_AUDIT_ENTRY_BYTES } from '../store-access.js';
export { MAX_PAYLOAD_BYTES, MAX_SCHEDULES_PER_CALL, SCHEDULE_KEY_PATTERN } from '../runtime-schedule.js';

// Checks and conversions every store shares
export {
  auditPageOf,
  auditRecordOf,
  checkAccessToken,
  checkAuditInput,
  checkAuditQuery,
  duplicateTokenError,
  isAccessTokenId,
  tooManyTokensError,
} from '../store-access.js';
export {
  assertScheduleKey,
  checkPayload,
  checkScheduleInputs,
  decodeScheduleDefinition,
  earliest,
  encodeScheduleDefinition,
  latest,
  runtimeScheduleOf,
} from '../runtime-schedule.js';
export { passedSlotsProblem } from '../passed-check.js';
export { completionStatusProblem, leaseOf } from '../store.js';
export { type CheckedOverdueOptions, checkOverdueOptions } from '../overdue-check.js';
export {
  argumentChecksFor,
  checkStoreArguments,
  checkUpsertArguments,
  EARLIEST_INSTANT,
  MAX_ATTEMPT,
  MAX_BATCH,
  MAX_LEASE_MS,
  MAX_PAGE,
  noRuntimeScheduleMessage,
  notACursorMessage,
  type StoreArgumentChecks,
  type StoreArgumentFail,
} from '../store-arguments.js';
export { initialJobState } from '../job-state.js';
export {
  checkPartitionLease,
  checkPartitionRelease,
  freePartitionSlots,
  MAX_PARTITION_TTL_MS,
  MIN_PARTITION_TTL_MS,
  PARTITION_COUNT,
  partitionListPlan,
  partitionOf,
  planPartitionLease,
  planPartitionRelease,
} from '../partitions.js';
export { storable } from '../run.js';

// Forwarding the audit-log and access-token methods
export { AuditAndTokenForwarding, type AuditAndTokenMethods } from '../audit-and-tokens.js';

// Decorating a store
export {
  decorateStore,
  STORE_OPERATIONS,
  type StoreAnswer,
  type StoreArguments,
  type StoreHooks,
  type StoreOperation,
  type StoreResult,
} from '../decorate-store.js';
