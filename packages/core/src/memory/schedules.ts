import {
  runtimeScheduleOf,
  type RuntimeScheduleInput,
  type RuntimeSchedule,
  type ScheduleQuery,
  type SchedulePage,
} from '../runtime-schedule.js';
import { initialJobState } from '../job-state.js';
import type { ScheduleRef } from '../store.js';
import { refKey, slotKey, type MemoryData, type StoredSchedule } from './backend.js';
import { notACursorMessage } from '../store-arguments.js';
import { partitionListPlan, partitionOf } from '../partitions.js';
import { check, fail } from './validate.js';

const DEFAULT_LIST_LIMIT = 100;

/** The record a caller receives for a stored schedule. */
export function scheduleRecord(stored: StoredSchedule): RuntimeSchedule {
  return runtimeScheduleOf(stored, stored.definition, stored, `memory-store: schedule of job "${stored.code}" key "${stored.key}"`);
}

/** Upserts checked inputs (core's `checkUpsertArguments`), all or nothing; returns the records and the refs that changed. */
export function upsertSchedules(
  data: MemoryData,
  checked: { inputs: readonly RuntimeScheduleInput[]; definitions: string[] },
  now: Date,
): { records: RuntimeSchedule[]; changed: ScheduleRef[] } {
  const { inputs: list, definitions } = checked;
  const changed: ScheduleRef[] = [];
  const records = list.map((input, i) => {
    const definition = definitions[i] as string;
    const id = refKey(input);
    const existing = data.schedules.get(id);
    if (existing && existing.definition === definition) return scheduleRecord(existing);
    const stored: StoredSchedule = {
      code: input.code,
      key: input.key,
      definition,
      enabled: input.enabled,
      version: ++data.scheduleSeq,
      createdAt: existing ? existing.createdAt : new Date(now),
      updatedAt: new Date(now),
    };
    if (!existing) {
      data.states.set(id, initialJobState(input, now));
    } else if (!existing.enabled && input.enabled) {
      const state = data.states.get(id);
      if (state) {
        state.resumedAt = new Date(now);
        state.updatedAt = new Date(now);
      }
    }
    data.schedules.set(id, stored);
    data.scheduleOrder = null;
    changed.push({ code: input.code, key: input.key });
    return scheduleRecord(stored);
  });
  return { records, changed };
}

/** Removes schedules with their states and pending requests; running runs stay. */
export function removeSchedules(data: MemoryData, refs: readonly ScheduleRef[]): boolean[] {
  return refs.map((ref) => {
    const id = refKey(ref);
    if (!data.schedules.delete(id)) return false;
    data.states.delete(id);
    data.scheduleRemovals += 1;
    data.scheduleOrder = null;
    data.requests = data.requests.filter((request) => refKey(request) !== id);
    for (const runId of data.waiting.get(id) ?? []) {
      const run = data.runs.get(runId);
      if (run) data.slots.delete(slotKey(run, run.slotAt, run.attempt));
      data.runs.delete(runId);
    }
    data.waiting.delete(id);
    return true;
  });
}

/** One page of schedules ordered by code, then key. */
export function listSchedules(data: MemoryData, query: ScheduleQuery): SchedulePage {
  check('listSchedules', query);
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  // Sorted once per change of the set, then each page is a binary search: listing n schedules is O(n log n), not O(n²).
  data.scheduleOrder ??= [...data.schedules.values()].sort(compare);
  if (query.partitions !== undefined) return listPartitions(data, data.scheduleOrder, query, query.partitions, after, limit);
  const order = data.scheduleOrder;
  const start = after ? firstAfter(order, after) : query.code !== undefined ? firstAfter(order, { code: query.code, key: '' }, true) : 0;
  const page: StoredSchedule[] = [];
  let more = false;
  for (let i = start; i < order.length; i++) {
    const s = order[i] as StoredSchedule;
    if (query.code !== undefined && s.code !== query.code) {
      if (s.code > query.code) break;
      continue;
    }
    if (page.length === limit) {
      more = true;
      break;
    }
    // The entry may be stale (changed since sorting): read the current one.
    page.push(data.schedules.get(refKey(s)) ?? s);
  }
  return pageOf(page, more);
}

/** A listing's answer: the records of `page`, and when more follow a cursor after its last one. */
function pageOf(page: StoredSchedule[], more: boolean): SchedulePage {
  const last = page[page.length - 1];
  return {
    schedules: page.map(scheduleRecord),
    nextCursor: more && last ? Buffer.from(JSON.stringify([last.code, last.key])).toString('base64url') : null,
  };
}

/** Each (code, key) order sorted by partition first, built once per order (which is rebuilt on every change of the set). */
const byPartition = new WeakMap<StoredSchedule[], { part: number; s: StoredSchedule }[]>();

/** One page of the schedules of some partitions, ordered by partition, then code, then key. */
function listPartitions(
  data: MemoryData,
  order: StoredSchedule[],
  query: ScheduleQuery,
  partitions: readonly number[],
  after: ScheduleRef | null,
  limit: number,
): SchedulePage {
  let sorted = byPartition.get(order);
  if (!sorted) {
    // A stable sort of the (code, key) order: within a partition, entries stay in (code, key) order.
    sorted = order.map((s) => ({ part: partitionOf(s.code, s.key), s })).sort((a, b) => a.part - b.part);
    byPartition.set(order, sorted);
  }
  const plan = partitionListPlan(partitions, after);
  const wanted = new Set(plan.partitions);
  const page: StoredSchedule[] = [];
  let more = false;
  for (const { part, s } of sorted) {
    if (!wanted.has(part) || (query.code !== undefined && s.code !== query.code)) continue;
    if (plan.after && part === plan.partitions[0] && compare(s, plan.after) <= 0) continue;
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(data.schedules.get(refKey(s)) ?? s);
  }
  return pageOf(page, more);
}

/** Changes with every create, change and removal: the last version handed out and the removal count. */
export function schedulesRevision(data: MemoryData): string {
  return `${data.scheduleSeq}:${data.scheduleRemovals}`;
}

/** Index of the first entry after `ref` (or at it, with `inclusive`). */
function firstAfter(order: readonly ScheduleRef[], ref: ScheduleRef, inclusive = false): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const c = compare(order[mid] as ScheduleRef, ref);
    if (c < 0 || (c === 0 && !inclusive)) low = mid + 1;
    else high = mid;
  }
  return low;
}

function compare(a: ScheduleRef, b: ScheduleRef): number {
  if (a.code !== b.code) return a.code < b.code ? -1 : 1;
  if (a.key === b.key) return 0;
  return a.key < b.key ? -1 : 1;
}

function decodeCursor(cursor: unknown): ScheduleRef {
  if (typeof cursor === 'string') {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
        return { code: parsed[0], key: parsed[1] };
      }
    } catch {
      // reported below
    }
  }
  return fail(notACursorMessage('listSchedules', cursor));
}
