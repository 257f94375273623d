/**
 * Runtime schedules: the checks and requests the store sends the schedules script
 * (scripts/schedules.ts), and the list cursor. Everything here runs before any Redis call.
 */
import { notACursorMessage, partitionListPlan, storable, type RuntimeScheduleInput, type ScheduleQuery } from '@tickwork/core/store';
import { randomUUID } from 'node:crypto';
import { encodeCode } from './keys.js';
import { check, checkStorable, checkUpsert, fail } from './validate.js';

const DEFAULT_LIST_LIMIT = 100;

/** One upsert item as the script takes it. */
export interface UpsertItem {
  ce: string;
  code: string;
  key: string;
  def: string;
  enabled: boolean;
}

/**
 * The upsert request: core checks the inputs and gives each one's canonical definition text
 * (what the script stores and compares), this store adds its own ref rules (no NUL, no lone surrogate).
 */
export function upsertRequest(inputs: readonly RuntimeScheduleInput[], now: Date): { now: number; epoch: string; items: UpsertItem[] } {
  const checked = checkUpsert(inputs, now);
  const items = checked.inputs.map((input, i) => {
    checkStorable(input, `upsertSchedules: schedules[${i}]`);
    return { ce: encodeCode(input.code), code: input.code, key: input.key, def: checked.definitions[i] as string, enabled: input.enabled };
  });
  return { now: now.getTime(), epoch: revisionEpoch(), items };
}

/**
 * A candidate for the revision's epoch: the script keeps the first one it sees, so a Redis that
 * lost its data (restart without persistence) starts a revision no runner saw before.
 */
export function revisionEpoch(): string {
  return randomUUID();
}

/**
 * The code filter, the schedule to continue after and the page size of a list query; null when
 * its cursor lies past every schedule of the code asked for. (The script builds the lex bounds:
 * request text cannot carry the NUL separator, which `scriptJson` would replace.)
 */
export function listRange(query: ScheduleQuery): { code: string | null; after: [string, string] | null; limit: number } | null {
  check('listSchedules', query);
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  const code = query.code ?? null;
  if (code !== null) checkStorable({ code, key: '' }, 'listSchedules: query.code');
  const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
  if (!cursor) return { code, after: null, limit };
  // Redis orders members by their bytes, so the cursor's code is compared with the one asked for the same way.
  const order = code === null ? 0 : Buffer.compare(Buffer.from(cursor.code), Buffer.from(code));
  if (order > 0) return null;
  return { code, after: order === 0 ? [cursor.code, cursor.key] : null, limit };
}

/**
 * A partitioned list (`query.partitions`, checked): the partitions to read, ascending, the code filter, the
 * ref to continue after in the first.
 */
export function partitionListRange(query: ScheduleQuery & { partitions: readonly number[] }): {
  partitions: number[];
  code: string | null;
  after: { code: string; key: string } | null;
  limit: number;
} {
  check('listSchedules', query);
  const code = query.code ?? null;
  if (code !== null) checkStorable({ code, key: '' }, 'listSchedules: query.code');
  const plan = partitionListPlan(query.partitions, query.cursor === undefined ? null : decodeCursor(query.cursor));
  return { ...plan, code, limit: query.limit ?? DEFAULT_LIST_LIMIT };
}

/** A partition as the first three characters of its `schedparts` members. */
export function partPrefix(partition: number): string {
  return String(partition).padStart(3, '0');
}

/** The cursor that continues a list after this schedule. */
export function encodeCursor(code: string, key: string): string {
  return Buffer.from(JSON.stringify([code, key]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown): { code: string; key: string } {
  if (typeof cursor === 'string') {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
        const ref = { code: parsed[0], key: parsed[1] };
        if (storable(ref.code) === ref.code && storable(ref.key) === ref.key) return ref;
      }
    } catch {
      // reported below
    }
  }
  return fail(notACursorMessage('listSchedules', cursor));
}
