import type { RunPage, RunQuery, RunRecord, RunStatus, SkipReason } from '../store.js';
import { refKey, slotKey, type MemoryData } from './backend.js';
import { notACursorMessage } from '../store-arguments.js';
import { check, fail } from './validate.js';

const DEFAULT_LIMIT = 50;

interface Cursor {
  startedAt: number;
  id: number;
}

function encodeCursor(run: RunRecord): string {
  return Buffer.from(JSON.stringify([run.startedAt.getTime(), Number(run.id)])).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((n) => Number.isSafeInteger(n))) {
      return { startedAt: parsed[0] as number, id: parsed[1] as number };
    }
  } catch {
    // fall through to the error below
  }
  return fail(notACursorMessage('queryRuns', cursor));
}

/** Newest first: startedAt desc, then id desc (ids increase, so later claims win ties). */
function newerFirst(a: RunRecord, b: RunRecord): number {
  return b.startedAt.getTime() - a.startedAt.getTime() || Number(b.id) - Number(a.id);
}

/** One page of the run log; a linear scan is fine for an in-process store. */
export function queryRuns(data: MemoryData, query: RunQuery): RunPage {
  check('queryRuns', query);
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  const statuses = query.status === undefined ? null : new Set<RunStatus>(typeof query.status === 'string' ? [query.status] : query.status);
  const reasons = query.reason === undefined ? null : new Set<SkipReason>(typeof query.reason === 'string' ? [query.reason] : query.reason);
  const matching = [...data.runs.values()].filter((run) => {
    if (reasons && (run.skipReason === null || !reasons.has(run.skipReason))) return false;
    if (query.code !== undefined && run.code !== query.code) return false;
    if (query.key !== undefined && run.key !== query.key) return false;
    if (statuses && !statuses.has(run.status)) return false;
    if (query.since && run.startedAt.getTime() < query.since.getTime()) return false;
    if (query.until && run.startedAt.getTime() >= query.until.getTime()) return false;
    if (after) {
      const started = run.startedAt.getTime();
      if (started > after.startedAt || (started === after.startedAt && Number(run.id) >= after.id)) return false;
    }
    return true;
  });
  matching.sort(newerFirst);
  const runs = matching.slice(0, limit);
  const last = runs[runs.length - 1];
  return { runs, nextCursor: matching.length > limit && last ? encodeCursor(last) : null };
}

/** Deletes finished runs that finished before `olderThan`, `batchSize` at a time; frees their slots too, as a deleted SQL row would. */
export function pruneRuns(data: MemoryData, olderThan: Date, batchSize: number): number {
  let deleted = 0;
  for (;;) {
    const batch: RunRecord[] = [];
    for (const run of data.runs.values()) {
      if (run.status !== 'running' && run.status !== 'waiting' && run.finishedAt && run.finishedAt.getTime() < olderThan.getTime())
        batch.push(run);
      if (batch.length >= batchSize) break;
    }
    for (const run of batch) {
      data.runs.delete(run.id);
      if (run.requestId !== null) data.requestRuns.delete(run.requestId);
      else data.slots.delete(slotKey(run, run.slotAt, run.attempt));
      data.running.get(refKey(run))?.delete(run.id);
    }
    deleted += batch.length;
    if (batch.length < batchSize) return deleted;
  }
}
