/**
 * MikroORM entity schemas of the Tickwork tables, for hosts that pass `{ orm }` and want
 * to read job state and run logs through their ORM (dashboards, reports). Importing this
 * module loads MikroORM; the store itself never needs it. The tables are created by
 * `migrate()`, not by the ORM's schema generator.
 */
import { BigIntType, EntitySchema, Type, type Platform } from '@mikro-orm/core';

function isSqlite(platform: Platform): boolean {
  return /sqlite/i.test(platform.constructor.name);
}

/** An instant: `timestamptz` on PostgreSQL, epoch milliseconds (INTEGER) on SQLite, a Date in JS. */
export class TickworkInstantType extends Type<Date | null | undefined, Date | number | null | undefined> {
  override convertToDatabaseValue(value: Date | null | undefined, platform: Platform): Date | number | null | undefined {
    if (value === null || value === undefined) return value;
    return isSqlite(platform) ? value.getTime() : value;
  }

  override convertToJSValue(value: Date | number | null | undefined): Date | null | undefined {
    if (value === null || value === undefined) return value;
    return value instanceof Date ? value : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
  }

  override getColumnType(_prop: unknown, platform: Platform): string {
    return isSqlite(platform) ? 'integer' : 'timestamptz';
  }
}

const instant = (nullable: boolean) => ({ type: TickworkInstantType, nullable }) as const;
// pg returns bigint as a string; these counters always fit a JS number.
const count = (nullable: boolean) => ({ type: new BigIntType('number'), nullable }) as const;

/** Runtime state of one schedule (`tickwork_job_state`). */
export interface TickworkJobStateRow {
  code: string;
  key: string;
  paused: boolean;
  pausedNote: string | null;
  resumedAt: Date | null;
  scheduleOverride: unknown;
  lastSlotAt: Date | null;
  lastStatus: string | null;
  lastFinishedAt: Date | null;
  lastAttempt: number | null;
  lastFinishedSlotAt: Date | null;
  consecutiveFailures: number;
  failingSince: Date | null;
  lastSucceededAt: Date | null;
  endedStreak: number;
  endedStreakStartedAt: Date | null;
  expectSuccessWithinMs: number | null;
  overdueAlertedAt: Date | null;
  endedOverdueAlertedAt: Date | null;
  lastSkipReason: string | null;
  lastSkippedSlotAt: Date | null;
  totalRuns: number;
  scheduledRuns: number;
  token: number;
  waitingSlotAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One run (`tickwork_run`). */
export interface TickworkRunRow {
  id: string;
  code: string;
  key: string;
  slotAt: Date;
  attempt: number;
  trigger: string;
  status: string;
  runnerId: string;
  token: number;
  requestId: string | null;
  cancelRequested: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  leaseExpiresAt: Date | null;
  message: string | null;
  error: string | null;
  stack: string | null;
  /** Null on runs; on `skipped` records the reason (null on overlap skips written before the ninth migration: read as `overlap`). */
  skipReason: string | null;
  slotCount: number;
  rangeLastSlotAt: Date | null;
}

/** One "run now" request (`tickwork_run_request`). */
export interface TickworkRunRequestRow {
  id: string;
  code: string;
  key: string;
  requestedAt: Date;
  requestedBy: string | null;
  consumedAt: Date | null;
}

/** One runtime schedule (`tickwork_schedule`); `definition` is core's canonical JSON text (`decodeScheduleDefinition` reads it). */
export interface TickworkScheduleRow {
  code: string;
  key: string;
  definition: string;
  enabled: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** `tickwork_job_state` as an entity. */
export const TickworkJobState = new EntitySchema<TickworkJobStateRow>({
  name: 'TickworkJobState',
  tableName: 'tickwork_job_state',
  properties: {
    code: { type: 'string', columnType: 'text', primary: true },
    key: { type: 'string', columnType: 'text', primary: true },
    paused: { type: 'boolean' },
    pausedNote: { type: 'string', columnType: 'text', nullable: true },
    resumedAt: instant(true),
    scheduleOverride: { type: 'json', nullable: true },
    lastSlotAt: instant(true),
    lastStatus: { type: 'string', columnType: 'text', nullable: true },
    lastFinishedAt: instant(true),
    lastAttempt: { type: 'integer', nullable: true },
    lastFinishedSlotAt: instant(true),
    consecutiveFailures: { type: 'integer' },
    failingSince: instant(true),
    lastSucceededAt: instant(true),
    endedStreak: { type: 'integer' },
    endedStreakStartedAt: instant(true),
    expectSuccessWithinMs: count(true),
    overdueAlertedAt: instant(true),
    endedOverdueAlertedAt: instant(true),
    lastSkipReason: { type: 'string', columnType: 'text', nullable: true },
    lastSkippedSlotAt: instant(true),
    totalRuns: count(false),
    scheduledRuns: count(false),
    token: count(false),
    waitingSlotAt: instant(true),
    createdAt: instant(false),
    updatedAt: instant(false),
  },
});

/** `tickwork_run` as an entity. */
export const TickworkRun = new EntitySchema<TickworkRunRow>({
  name: 'TickworkRun',
  tableName: 'tickwork_run',
  properties: {
    id: { type: 'bigint', primary: true },
    code: { type: 'string', columnType: 'text' },
    key: { type: 'string', columnType: 'text' },
    slotAt: instant(false),
    attempt: { type: 'integer' },
    trigger: { type: 'string', columnType: 'text' },
    status: { type: 'string', columnType: 'text' },
    runnerId: { type: 'string', columnType: 'text' },
    token: count(false),
    requestId: { type: 'bigint', nullable: true },
    cancelRequested: { type: 'boolean' },
    startedAt: instant(false),
    finishedAt: instant(true),
    durationMs: count(true),
    leaseExpiresAt: instant(true),
    message: { type: 'string', columnType: 'text', nullable: true },
    error: { type: 'string', columnType: 'text', nullable: true },
    stack: { type: 'string', columnType: 'text', nullable: true },
    skipReason: { type: 'string', columnType: 'text', nullable: true },
    slotCount: { type: 'integer' },
    rangeLastSlotAt: instant(true),
  },
});

/** `tickwork_run_request` as an entity. */
export const TickworkRunRequest = new EntitySchema<TickworkRunRequestRow>({
  name: 'TickworkRunRequest',
  tableName: 'tickwork_run_request',
  properties: {
    id: { type: 'bigint', primary: true },
    code: { type: 'string', columnType: 'text' },
    key: { type: 'string', columnType: 'text' },
    requestedAt: instant(false),
    requestedBy: { type: 'string', columnType: 'text', nullable: true },
    consumedAt: instant(true),
  },
});

/**
 * `tickwork_schedule` as an entity. Read it through the ORM; change schedules through the store
 * (`upsertSchedules`), which keeps versions, states and change events right.
 */
export const TickworkSchedule = new EntitySchema<TickworkScheduleRow>({
  name: 'TickworkSchedule',
  tableName: 'tickwork_schedule',
  properties: {
    code: { type: 'string', columnType: 'text', primary: true },
    key: { type: 'string', columnType: 'text', primary: true },
    definition: { type: 'string', columnType: 'text' },
    enabled: { type: 'boolean' },
    version: count(false),
    createdAt: instant(false),
    updatedAt: instant(false),
  },
});

/** Every Tickwork entity, to add to the host's `entities`. */
export const tickworkEntities = [TickworkJobState, TickworkRun, TickworkRunRequest, TickworkSchedule] as const;
