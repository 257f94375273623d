/**
 * Rows → contract records. One mapper serves every source: pg rows (Date, bigint as
 * string), `to_jsonb` rows (ISO strings, numbers) and SQLite rows (epoch milliseconds).
 */
import type { JobState, RunRecord, RunStatus, RuntimeSchedule, ScheduleRef, ScheduleSpec, SkipReason } from '@tickwork/core';
import {
  leaseOf,
  runtimeScheduleOf,
  type ClaimOutcome,
  type ReapedRun,
  type RunnerRecord,
  type RunRequest,
  type RunTrigger,
} from '@tickwork/core/store';
import { PREFIX } from './errors.js';
import { isStoreId } from './validate.js';

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** An instant column (Date, ISO string or epoch ms) as a Date. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return new Date(Number(value));
  return new Date(value as string | number);
}

function optDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

function optNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function optString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** A run row as a {@link RunRecord}. */
export function toRun(row: Row): RunRecord {
  return {
    id: String(row.id),
    code: String(row.code),
    key: String(row.key),
    slotAt: toDate(row.slot_at),
    attempt: Number(row.attempt),
    trigger: row.trigger as RunTrigger,
    status: row.status as RunStatus,
    runnerId: String(row.runner_id),
    token: Number(row.token),
    requestId: optString(row.request_id),
    cancelRequested: row.cancel_requested === true || row.cancel_requested === 1,
    startedAt: toDate(row.started_at),
    finishedAt: optDate(row.finished_at),
    durationMs: optNumber(row.duration_ms),
    leaseExpiresAt: optDate(row.lease_expires_at),
    message: optString(row.message),
    error: optString(row.error),
    stack: optString(row.stack),
    // Overlap skips carry no reason column of their own (older releases write them too): a skipped run's reason is overlap.
    skipReason: row.status === 'skipped' ? ((row.skip_reason ?? 'overlap') as SkipReason) : null,
    slotCount: row.slot_count === null || row.slot_count === undefined ? 1 : Number(row.slot_count),
    rangeLastSlotAt: optDate(row.range_last_slot_at),
  };
}

/** A job-state row as a {@link JobState}. */
export function toState(row: Row): JobState {
  const override = row.schedule_override;
  return {
    code: String(row.code),
    key: String(row.key),
    paused: row.paused === true || row.paused === 1,
    pausedNote: optString(row.paused_note),
    resumedAt: optDate(row.resumed_at),
    scheduleOverride:
      override === null || override === undefined
        ? null
        : ((typeof override === 'string' ? JSON.parse(override) : override) as ScheduleSpec),
    lastSlotAt: optDate(row.last_slot_at),
    lastStatus: (row.last_status ?? null) as RunStatus | null,
    lastFinishedAt: optDate(row.last_finished_at),
    lastAttempt: optNumber(row.last_attempt),
    lastFinishedSlotAt: optDate(row.last_finished_slot_at),
    consecutiveFailures: Number(row.consecutive_failures),
    failingSince: optDate(row.failing_since),
    lastSucceededAt: optDate(row.last_succeeded_at),
    endedStreak: Number(row.ended_streak ?? 0),
    endedStreakStartedAt: optDate(row.ended_streak_started_at),
    expectSuccessWithinMs: optNumber(row.expect_success_within_ms),
    overdueAlertedAt: optDate(row.overdue_alerted_at),
    endedOverdueAlertedAt: optDate(row.ended_overdue_alerted_at),
    lastSkipReason: (row.last_skip_reason ?? null) as SkipReason | null,
    lastSkippedSlotAt: optDate(row.last_skipped_slot_at),
    totalRuns: Number(row.total_runs),
    scheduledRuns: Number(row.scheduled_runs),
    waitingSlotAt: optDate(row.waiting_slot_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** A run-request row as a {@link RunRequest}. */
export function toRequest(row: Row): RunRequest {
  return {
    id: String(row.id),
    code: String(row.code),
    key: String(row.key),
    requestedAt: toDate(row.requested_at),
    requestedBy: optString(row.requested_by),
  };
}

/** A runtime-schedule row as a {@link RuntimeSchedule}; an unreadable definition is a StoreSchemaError naming it. */
export function toSchedule(row: Row): RuntimeSchedule {
  const ref = { code: String(row.code), key: String(row.key) };
  return runtimeScheduleOf(
    ref,
    String(row.definition),
    { version: Number(row.version), createdAt: toDate(row.created_at), updatedAt: toDate(row.updated_at) },
    `${PREFIX} schedule of job "${ref.code}" key "${ref.key}"`,
  );
}

/** A reaped run and its state as a store function returns them (jsonb rows or SQLite rows). */
export function toReaped(item: { run: Row; state: Row | null }): ReapedRun {
  return { run: toRun(item.run), state: item.state ? toState(item.state) : null };
}

/** One answer of a claim batch as the dialects return it: the outcome, its run (if any) and the runs it reaped. */
export interface ClaimRow {
  ord: number;
  outcome: string;
  run: Row | null;
  reaped: { run: Row; state: Row | null }[] | null;
}

/** A {@link ClaimRow} as the contract's {@link ClaimOutcome}. */
export function claimOutcome(row: ClaimRow): ClaimOutcome {
  const reaped = row.reaped && row.reaped.length > 0 ? { reaped: row.reaped.map(toReaped) } : {};
  const status = row.outcome as ClaimOutcome['status'];
  if (status === 'claimed') {
    const run = toRun(row.run!);
    return { status, run, lease: leaseOf(run), ...reaped };
  }
  if (status === 'overlap' || status === 'waiting') return { status, run: toRun(row.run!), ...reaped };
  return { status, ...reaped };
}

/**
 * A claim's `requestId` as the id column holds it: ids this store never hands out (not a
 * positive integer) become 0, which names no request, so the claim answers `taken`.
 */
export function requestIdParam(requestId: string | undefined): string | null {
  if (requestId === undefined) return null;
  return isStoreId(requestId) ? requestId : '0';
}

/** Orders states or schedules like the refs asked for them (missing ones left out). */
export function inRefOrder<T extends ScheduleRef>(items: T[], refs: readonly ScheduleRef[]): T[] {
  const byRef = new Map(items.map((s) => [`${s.code}\u0000${s.key}`, s]));
  const out: T[] = [];
  for (const ref of refs) {
    const item = byRef.get(`${ref.code}\u0000${ref.key}`);
    if (item) out.push(item);
  }
  return out;
}

/** Per ref, whether this call removed it: true for the first mention of each removed ref, false otherwise. */
export function removedFlags(refs: readonly ScheduleRef[], removed: readonly ScheduleRef[]): boolean[] {
  const left = new Set(removed.map((r) => `${r.code}\u0000${r.key}`));
  return refs.map((ref) => left.delete(`${ref.code}\u0000${ref.key}`));
}

/** A runner row (with `connected` where the store checks a connection) as core's RunnerRecord, `alive` as of `now`. */
export function toRunner(row: Row, now: Date, connected: boolean | null): RunnerRecord {
  const expiresAt = toDate(row.expires_at);
  return {
    runnerId: String(row.runner_id),
    startedAt: toDate(row.started_at),
    lastHeartbeatAt: toDate(row.last_heartbeat_at),
    expiresAt,
    clockOffsetMs: row.clock_offset_ms === null || row.clock_offset_ms === undefined ? null : Number(row.clock_offset_ms),
    connected,
    alive: expiresAt.getTime() > now.getTime() || connected === true,
  };
}
