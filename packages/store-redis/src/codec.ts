/**
 * Turns the JSON the scripts store (instants as epoch milliseconds) into core's records.
 * Lua's cjson drops fields set to nil, so every optional field defaults to null here.
 */
import { StoreSchemaError } from '@tickwork/core';
import { runtimeScheduleOf } from '@tickwork/core/store';
import { corruptValueError, MESSAGE_PREFIX } from './errors.js';
import type { JobState, RunRecord, RunStatus, RuntimeSchedule, ScheduleSpec, SkipReason } from '@tickwork/core';
import type { ClaimOutcome, Lease, ReapedRun, RunnerRecord, RunRequest, RunTrigger } from '@tickwork/core/store';

/** A run as stored: the RunRecord fields plus the script's bookkeeping. */
export interface StoredRun {
  id: string;
  n: number;
  ce: string;
  code: string;
  key: string;
  slotAt: number;
  attempt: number;
  trigger: RunTrigger;
  status: RunStatus;
  runnerId: string;
  token: number;
  /** Absent in runs written before run-now requests were claimed by id (read as null). */
  requestId?: string | null;
  /** Absent in runs written before overlap policies (read as false). */
  cancelRequested?: boolean;
  startedAt: number;
  finishedAt?: number | null;
  durationMs?: number | null;
  leaseExpiresAt?: number | null;
  message?: string | null;
  error?: string | null;
  stack?: string | null;
  /** Absent in runs written before skip reasons (a skipped one is an overlap skip). */
  skipReason?: SkipReason | null;
  slotCount?: number;
  rangeLastSlotAt?: number | null;
}

/** A job state as stored; the override is kept as JSON text so it round-trips exactly. */
export interface StoredState {
  code: string;
  key: string;
  paused: boolean;
  pausedNote?: string | null;
  resumedAt?: number | null;
  scheduleOverride?: string | null;
  lastSlotAt?: number | null;
  lastStatus?: RunStatus | null;
  lastFinishedAt?: number | null;
  lastAttempt?: number | null;
  lastFinishedSlotAt?: number | null;
  /** Absent in states written before overlap policies (read as null). */
  waitingSlotAt?: number | null;
  /** Absent in states written before skip reasons (read as null). */
  lastSkipReason?: SkipReason | null;
  lastSkippedSlotAt?: number | null;
  consecutiveFailures: number;
  /** The streak and dead-man fields: absent in states written before them (read as null / 0). */
  failingSince?: number | null;
  lastSucceededAt?: number | null;
  endedStreak?: number;
  endedStreakStartedAt?: number | null;
  expectSuccessWithinMs?: number | null;
  overdueAlertedAt?: number | null;
  endedOverdueAlertedAt?: number | null;
  totalRuns: number;
  /** Absent in states written before limited runs (read as 0). */
  scheduledRuns?: number;
  createdAt: number;
  updatedAt: number;
}

/** A run-now request as stored. */
export interface StoredRequest {
  id: string;
  code: string;
  key: string;
  requestedAt: number;
  requestedBy?: string | null;
}

/** A runtime schedule as the schedules script answers it (its hash, checked well-formed by the script), or an index member without one. */
export type StoredScheduleRow =
  | { code: string; key: string; k: string; def: string; en: '0' | '1'; v: number; c: number; u: number; missing?: undefined }
  | { k: string; missing: true };

const date = (ms: number | null | undefined): Date | null => (typeof ms === 'number' ? new Date(ms) : null);
const orNull = <T>(value: T | null | undefined): T | null => (value === undefined ? null : value);

/** A stored run as core's RunRecord. */
export function toRun(stored: StoredRun): RunRecord {
  return {
    id: stored.id,
    code: stored.code,
    key: stored.key,
    slotAt: new Date(stored.slotAt),
    attempt: stored.attempt,
    trigger: stored.trigger,
    status: stored.status,
    runnerId: stored.runnerId,
    token: stored.token,
    requestId: orNull(stored.requestId),
    cancelRequested: stored.cancelRequested === true,
    startedAt: new Date(stored.startedAt),
    finishedAt: date(stored.finishedAt),
    durationMs: orNull(stored.durationMs),
    leaseExpiresAt: date(stored.leaseExpiresAt),
    message: orNull(stored.message),
    error: orNull(stored.error),
    stack: orNull(stored.stack),
    skipReason: stored.status === 'skipped' ? (stored.skipReason ?? 'overlap') : null,
    slotCount: typeof stored.slotCount === 'number' ? stored.slotCount : 1,
    rangeLastSlotAt: date(stored.rangeLastSlotAt),
  };
}

/** The lease a runner holds for a stored running run. */
export function toLease(stored: StoredRun): Lease {
  return {
    code: stored.code,
    key: stored.key,
    runId: stored.id,
    token: stored.token,
    runnerId: stored.runnerId,
    expiresAt: new Date(stored.leaseExpiresAt ?? stored.startedAt),
    cancelRequested: stored.cancelRequested === true,
  };
}

/** A run a script interrupted because its lease expired, with its schedule's state after that (null: runtime schedule removed). */
export interface StoredReaped {
  run: StoredRun;
  state?: StoredState | null;
}

/** A runner record as the runners script answers it. */
export interface StoredRunner {
  runnerId: string;
  startedAt: number;
  lastHeartbeatAt: number;
  expiresAt: number;
  clockOffsetMs: number | null;
  /** null on a Cluster (heartbeat-only presence). */
  connected: boolean | null;
  alive: boolean;
}

/** A runner record as core's RunnerRecord. */
export function toRunner(stored: StoredRunner): RunnerRecord {
  return {
    runnerId: stored.runnerId,
    startedAt: new Date(stored.startedAt),
    lastHeartbeatAt: new Date(stored.lastHeartbeatAt),
    expiresAt: new Date(stored.expiresAt),
    clockOffsetMs: typeof stored.clockOffsetMs === 'number' ? stored.clockOffsetMs : null,
    connected: typeof stored.connected === 'boolean' ? stored.connected : null,
    alive: stored.alive === true,
  };
}

/** A reaped run as core's ReapedRun. */
export function toReaped(stored: StoredReaped): ReapedRun {
  return { run: toRun(stored.run), state: stored.state ? toState(stored.state) : null };
}

/** One claim answer of the claim script (without its `reaped`) as core's ClaimOutcome. */
export function claimOutcome(answer: { s: string; run?: StoredRun }): ClaimOutcome {
  const run = answer.run;
  if (answer.s === 'claimed' && run) return { status: 'claimed', run: toRun(run), lease: toLease(run) };
  if (answer.s === 'overlap' && run) return { status: 'overlap', run: toRun(run) };
  if (answer.s === 'waiting' && run) return { status: 'waiting', run: toRun(run) };
  if (answer.s === 'busy' || answer.s === 'paused' || answer.s === 'unscheduled' || answer.s === 'ended') return { status: answer.s };
  return { status: 'taken' };
}

/** A stored state as core's JobState. */
export function toState(stored: StoredState): JobState {
  return {
    code: stored.code,
    key: stored.key,
    paused: stored.paused === true,
    pausedNote: orNull(stored.pausedNote),
    resumedAt: date(stored.resumedAt),
    scheduleOverride: typeof stored.scheduleOverride === 'string' ? (JSON.parse(stored.scheduleOverride) as ScheduleSpec) : null,
    lastSlotAt: date(stored.lastSlotAt),
    lastStatus: orNull(stored.lastStatus),
    lastFinishedAt: date(stored.lastFinishedAt),
    lastAttempt: orNull(stored.lastAttempt),
    lastFinishedSlotAt: date(stored.lastFinishedSlotAt),
    waitingSlotAt: date(stored.waitingSlotAt),
    consecutiveFailures: stored.consecutiveFailures,
    failingSince: date(stored.failingSince),
    lastSucceededAt: date(stored.lastSucceededAt),
    endedStreak: stored.endedStreak ?? 0,
    endedStreakStartedAt: date(stored.endedStreakStartedAt),
    expectSuccessWithinMs: typeof stored.expectSuccessWithinMs === 'number' ? stored.expectSuccessWithinMs : null,
    overdueAlertedAt: date(stored.overdueAlertedAt),
    endedOverdueAlertedAt: date(stored.endedOverdueAlertedAt),
    lastSkipReason: orNull(stored.lastSkipReason),
    lastSkippedSlotAt: date(stored.lastSkippedSlotAt),
    totalRuns: stored.totalRuns,
    scheduledRuns: stored.scheduledRuns ?? 0,
    createdAt: new Date(stored.createdAt),
    updatedAt: new Date(stored.updatedAt),
  };
}

/** A stored request as core's RunRequest. */
export function toRequest(stored: StoredRequest): RunRequest {
  return {
    id: stored.id,
    code: stored.code,
    key: stored.key,
    requestedAt: new Date(stored.requestedAt),
    requestedBy: orNull(stored.requestedBy),
  };
}

/** A stored runtime schedule as core's RuntimeSchedule; an unreadable one is a StoreSchemaError naming its key. */
export function toSchedule(row: StoredScheduleRow): RuntimeSchedule {
  if (row.missing) throw corruptValueError(row.k, 'the schedule index names a schedule whose hash is missing');
  const schedule = runtimeScheduleOf(
    row,
    row.def,
    { version: row.v, createdAt: new Date(row.c), updatedAt: new Date(row.u) },
    `${MESSAGE_PREFIX} key "${row.k}"`,
  );
  if (schedule.enabled !== (row.en === '1')) throw corruptValueError(row.k, `its enabled field "${row.en}" contradicts its definition`);
  return schedule;
}

/** A JSON array answer; cjson encodes an empty Lua table as `{}`, which means an empty list here. */
export function asArray<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

/**
 * Parses and converts one stored JSON value; anything unreadable is a StoreSchemaError naming
 * the key (another application's data under the prefix, or an incompatible version), never an outage.
 */
export function decodeStored<S, T>(raw: string, key: string, decode: (stored: S) => T): T {
  try {
    return decode(JSON.parse(raw) as S);
  } catch (error) {
    throw new StoreSchemaError(
      `${MESSAGE_PREFIX} key "${key}" holds a value that is not the JSON this version writes (${error instanceof Error ? error.message : String(error)}); nothing was changed (choose another prefix or remove the key)`,
      { cause: error },
    );
  }
}
