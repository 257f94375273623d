import { DEFAULT_SCHEDULE_KEY, parseDuration, type RunRecord, type RunStatus, type SkipReason } from '@tickwork/core';
import { assertScheduleKey, RUN_STATUSES, SKIP_REASONS, type RunQuery } from '@tickwork/core/store';
import { CliUsageError } from '../errors.js';
import { statusColour } from '../output/colour.js';
import { formatDuration, formatInstant, relativeTime } from '../output/relative-time.js';
import { renderTable } from '../output/table.js';
import type { Session } from '../session.js';

/** Flags of `tickwork logs`. */
export interface LogsFlags {
  status?: string;
  reason?: string;
  since?: string;
  key?: string;
  limit: number;
  follow?: boolean;
  json?: boolean;
}

/** One run in `tickwork logs --json` (instants as ISO strings). */
export interface RunJson {
  id: string;
  code: string;
  key: string;
  slotAt: string;
  attempt: number;
  trigger: RunRecord['trigger'];
  status: RunStatus;
  runnerId: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  message: string | null;
  error: string | null;
  stack: string | null;
  /** Why the slot(s) did not run (skipped records only). */
  skipReason: SkipReason | null;
  /** Slots the record stands for: 1, or a skipped range's count. */
  slotCount: number;
  /** The last slot of a skipped range, else null. */
  rangeLastSlotAt: string | null;
}

/** The document `tickwork logs --json` prints (without --follow): runs newest first, as the store returns them. */
export interface LogsJson {
  runs: RunJson[];
}

const FOLLOW_POLL_MS = 1_000;

/** Parses `--since`: an ISO instant, or a duration ("2h", "30m", "7d") meaning that long before `now`. */
export function parseSince(text: string, now: Date): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const instant = new Date(text);
    if (Number.isNaN(instant.getTime())) throw new CliUsageError(`--since: "${text}" is not a valid ISO instant`);
    return instant;
  }
  try {
    return new Date(now.getTime() - parseDuration(text, '--since'));
  } catch {
    throw new CliUsageError(`--since: "${text}" is neither an ISO instant (2026-01-05T10:00:00Z) nor a duration (2h, 30m, 7d)`);
  }
}

function parseStatuses(text: string): RunStatus[] {
  const statuses = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const status of statuses) {
    if (!RUN_STATUSES.includes(status as RunStatus)) {
      throw new CliUsageError(`--status: "${status}" is not a run status; known: ${RUN_STATUSES.join(', ')}`);
    }
  }
  if (statuses.length === 0) throw new CliUsageError(`--status: expected one of ${RUN_STATUSES.join(', ')}`);
  return statuses as RunStatus[];
}

/** A run as JSON. */
export function runToJson(run: RunRecord): RunJson {
  return {
    id: run.id,
    code: run.code,
    key: run.key,
    slotAt: run.slotAt.toISOString(),
    attempt: run.attempt,
    trigger: run.trigger,
    status: run.status,
    runnerId: run.runnerId,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    durationMs: run.durationMs,
    message: run.message,
    error: run.error,
    stack: run.stack,
    skipReason: run.skipReason,
    slotCount: run.slotCount,
    rangeLastSlotAt: run.rangeLastSlotAt?.toISOString() ?? null,
  };
}

function parseReasons(text: string): SkipReason[] {
  const reasons = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const reason of reasons) {
    if (!SKIP_REASONS.includes(reason as SkipReason)) {
      throw new CliUsageError(`--reason: "${reason}" is not a skip reason; known: ${SKIP_REASONS.join(', ')}`);
    }
  }
  if (reasons.length === 0) throw new CliUsageError(`--reason: expected one of ${SKIP_REASONS.join(', ')}`);
  return reasons as SkipReason[];
}

/**
 * `tickwork logs [code]`: the run history through store.queryRuns (`--key`: one runtime schedule's);
 * `--follow` polls for new and finished runs.
 */
export async function logsCommand(session: Session, code: string | undefined, flags: LogsFlags): Promise<number> {
  const query: RunQuery = { limit: Math.min(flags.limit, 1000) };
  if (code !== undefined) query.code = code;
  if (flags.key !== undefined) {
    if (flags.key !== DEFAULT_SCHEDULE_KEY) assertScheduleKey(flags.key, '--key');
    query.key = flags.key;
  }
  if (flags.status !== undefined) query.status = parseStatuses(flags.status);
  if (flags.reason !== undefined) query.reason = parseReasons(flags.reason);
  if (flags.since !== undefined) parseSince(flags.since, session.clock.now()); // bad input exits 2 before the store is opened
  const store = await session.store();
  if (flags.since !== undefined) query.since = parseSince(flags.since, session.clock.now()); // `2h` back from the store's now
  const { runs } = await store.queryRuns(query);

  if (flags.json && !flags.follow) {
    const json: LogsJson = { runs: runs.map(runToJson) };
    session.out(`${JSON.stringify(json, null, 2)}\n`);
    return 0;
  }
  // Humans read a log top to bottom, oldest first, like `tail`; new lines then append.
  const print = (batch: readonly RunRecord[]) => {
    if (batch.length === 0) return;
    if (flags.json) for (const run of batch) session.out(`${JSON.stringify(runToJson(run))}\n`);
    else session.out(renderRuns(session, batch, !flags.follow || printedHeader === false));
    printedHeader = true;
  };
  let printedHeader = false;
  const chronological = [...runs].reverse();
  if (chronological.length === 0 && !flags.follow) {
    session.out('no runs match\n');
    return 0;
  }
  print(chronological);
  if (!flags.follow) return 0;

  // Follow: new runs appear by startedAt; runs seen `running` are re-read until they finish.
  // With --status, every run is watched and only matching ones printed: a run that was
  // `running` when first seen may finish into the filter later.
  const { status: wanted, reason: reasons, ...unfiltered } = query;
  const matches = (run: RunRecord) =>
    (wanted === undefined || (typeof wanted === 'string' ? run.status === wanted : wanted.includes(run.status))) &&
    (reasons === undefined || (run.skipReason !== null && (reasons as readonly SkipReason[]).includes(run.skipReason)));
  const seen = new Map(chronological.map((run) => [run.id, run.status]));
  if (wanted !== undefined || reasons !== undefined) {
    for (const run of (await store.queryRuns({ ...unfiltered, status: 'running', limit: 1000 })).runs) {
      if (!seen.has(run.id)) seen.set(run.id, 'running');
    }
  }
  let since = chronological.at(-1)?.startedAt ?? query.since ?? session.clock.now();
  let stopped = false;
  let wake: () => void = () => undefined;
  const unsubscribe = session.io.onSignal?.(() => {
    stopped = true;
    wake();
  });
  try {
    while (!stopped) {
      // A ref'd timer: it is what keeps `logs --follow` alive (the store's pool may let the process exit).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FOLLOW_POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) break;
      const fresh = (await store.queryRuns({ ...unfiltered, since, limit: 1000 })).runs.filter((run) => !seen.has(run.id)).reverse();
      const finished: RunRecord[] = [];
      for (const [id, status] of seen) {
        if (status !== 'running') continue;
        const run = await store.getRun(id);
        if (run && run.status !== 'running') finished.push(run);
      }
      const batch = [...finished, ...fresh];
      for (const run of batch) seen.set(run.id, run.status);
      const latest = fresh.at(-1);
      if (latest && latest.startedAt.getTime() > since.getTime()) since = latest.startedAt;
      print(batch.filter(matches));
      // Keep memory bounded on a long follow: forget finished runs, keep the running ones.
      if (seen.size > 5_000) for (const [id, status] of seen) if (status !== 'running') seen.delete(id);
    }
  } finally {
    unsubscribe?.();
  }
  return 0;
}

function renderRuns(session: Session, runs: readonly RunRecord[], header: boolean): string {
  const now = session.clock.now();
  const rows = runs.map((run) => [
    `${formatInstant(run.startedAt)} (${relativeTime(run.startedAt, now)})`,
    run.code + (run.key ? `[${run.key}]` : ''),
    statusColour(session.palette, run.status)(run.status),
    run.rangeLastSlotAt
      ? `${formatInstant(run.slotAt)} … ${formatInstant(run.rangeLastSlotAt)} (${run.slotCount} slots)`
      : formatInstant(run.slotAt),
    String(run.attempt),
    run.trigger,
    run.durationMs !== null ? formatDuration(run.durationMs) : '',
    run.runnerId,
    (run.skipReason ? `[${run.skipReason}] ` : '') + ((run.error ?? run.message ?? '').split('\n')[0] ?? ''),
  ]);
  const table = renderTable(
    [
      { header: 'STARTED (UTC)' },
      { header: 'JOB' },
      { header: 'STATUS' },
      { header: 'SLOT (UTC)' },
      { header: 'ATTEMPT', align: 'right' },
      { header: 'TRIGGER' },
      { header: 'DURATION', align: 'right' },
      { header: 'RUNNER' },
      { header: 'MESSAGE' },
    ],
    rows,
  );
  return header ? table : table.slice(table.indexOf('\n') + 1);
}
