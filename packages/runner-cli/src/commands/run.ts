import { createStoreClock, DEFAULT_SCHEDULE_KEY, runDue, systemClock, type TickReport, type TickResult } from '@tickwork/core';
import { EXIT } from '../errors.js';
import { statusColour } from '../output/colour.js';
import { formatDuration, formatInstant, relativeTime } from '../output/relative-time.js';
import { renderTable } from '../output/table.js';
import type { Session } from '../session.js';
import { createStderrLogger } from '../stderr-logger.js';

/** Flags of `tickwork run`. */
export interface RunFlags {
  force?: boolean;
  dryRun?: boolean;
  silent?: boolean;
  json?: boolean;
}

/** One result of `tickwork run --json`. */
export interface RunResultJson {
  code: string;
  key: string;
  outcome: TickResult['outcome'];
  slotAt: string | null;
  attempt: number | null;
  runId: string | null;
  durationMs: number | null;
  reason: string | null;
  nextSlotAt: string | null;
}

/** The document `tickwork run --json` prints. */
export interface RunReportJson {
  ok: boolean;
  exitCode: number;
  dryRun: boolean;
  interruptedBy: 'SIGINT' | 'SIGTERM' | null;
  startedAt: string;
  finishedAt: string;
  results: RunResultJson[];
}

const FAILED = new Set(['failed', 'timed_out', 'interrupted']);
/**
 * Outcomes of a runtime schedule that ran nothing and logged nothing. A job may have thousands
 * of runtime schedules, so these are counted per job instead of printed one a line.
 */
const FOLDED = new Set<string>(['not-due', 'paused', 'disabled', 'taken', 'unscheduled']);

/** `tickwork run [codes…]`: one tick through core's runDue; the exit code says how it went. */
export async function runCommand(session: Session, codes: readonly string[], flags: RunFlags): Promise<number> {
  const config = await session.config();
  const registry = await session.registry();
  for (const code of codes) registry.get(code); // unknown code: exit 2 listing the known ones, before touching the store
  const store = await session.store();

  const controller = new AbortController();
  let signalled: 'SIGINT' | 'SIGTERM' | null = null;
  const unsubscribe = session.io.onSignal?.((signal) => {
    if (signalled) {
      // Second signal: the user means it. Fall back to the default handler (immediate exit).
      unsubscribe?.();
      process.kill(process.pid, signal);
      return;
    }
    signalled = signal;
    session.err(`[tickwork] ${signal}: interrupting running jobs (their runs are recorded as interrupted); send again to exit at once\n`);
    controller.abort();
  });

  // On the store's time, not this machine's: a crontab host whose clock is off by seconds still
  // claims each slot at the instant every other runner does (one ping; TICKWORK_NOW bypasses it).
  let clock = session.clock;
  if (clock === systemClock) {
    const storeClock = createStoreClock(store, { samples: 1 });
    await storeClock.sync();
    clock = storeClock;
  }
  let report: TickReport;
  try {
    report = await runDue({
      jobs: registry,
      store,
      clock,
      timezone: config.timezone ?? 'UTC',
      logger: config.logger ?? createStderrLogger(session.io.stderr),
      signal: controller.signal,
      ...(config.runnerId !== undefined ? { runnerId: config.runnerId } : {}),
      ...(codes.length > 0 ? { only: codes } : {}),
      ...(flags.force ? { force: true } : {}),
      ...(flags.dryRun ? { dryRun: true } : {}),
    });
  } finally {
    unsubscribe?.();
  }

  const exitCode = signalled === 'SIGINT' ? EXIT.sigint : signalled === 'SIGTERM' ? EXIT.sigterm : report.ok ? EXIT.ok : EXIT.jobFailed;
  if (flags.json) {
    const json: RunReportJson = {
      ok: report.ok && !signalled,
      exitCode,
      dryRun: flags.dryRun === true,
      interruptedBy: signalled,
      startedAt: report.startedAt.toISOString(),
      finishedAt: report.finishedAt.toISOString(),
      results: report.results.map(toJson),
    };
    session.out(`${JSON.stringify(json, null, 2)}\n`);
    return exitCode;
  }
  const runtimeOnly = new Set(registry.jobs.filter((job) => job.schedule === null).map((job) => job.code));
  if (flags.silent) {
    const failed = report.results.filter((r) => FAILED.has(r.outcome));
    if (failed.length > 0) session.out(renderResults(session, failed, runtimeOnly));
    return exitCode;
  }
  const folded = (r: TickResult) => r.key !== DEFAULT_SCHEDULE_KEY && FOLDED.has(r.outcome);
  const shown = report.results.filter((r) => !folded(r));
  if (shown.length > 0) session.out(renderResults(session, shown, runtimeOnly));
  session.out(foldedLines(report.results.filter(folded)));
  session.out(`${summary(report, flags.dryRun === true)}\n`);
  return exitCode;
}

function toJson(result: TickResult): RunResultJson {
  return {
    code: result.code,
    key: result.key,
    outcome: result.outcome,
    slotAt: result.slotAt?.toISOString() ?? null,
    attempt: result.attempt,
    runId: result.run?.id ?? null,
    durationMs: result.run?.durationMs ?? null,
    reason: result.reason,
    nextSlotAt: result.nextSlotAt?.toISOString() ?? null,
  };
}

/** `runtimeOnly`: codes of jobs without a schedule of their own (`schedule: null`). */
function renderResults(session: Session, results: readonly TickResult[], runtimeOnly: ReadonlySet<string>): string {
  const now = session.clock.now();
  const rows = results.map((r) => {
    const colour = statusColour(session.palette, r.outcome);
    let detail = r.reason ?? '';
    if (r.outcome === 'not-due' || r.outcome === 'paused') {
      detail = [r.outcome === 'paused' ? detail : '', r.nextSlotAt ? `next ${relativeTime(r.nextSlotAt, now)}` : r.key === DEFAULT_SCHEDULE_KEY && runtimeOnly.has(r.code) ? 'runtime schedules only' : 'no further slot']
        .filter(Boolean)
        .join('; ');
    }
    return [
      r.code + (r.key ? `[${r.key}]` : ''),
      colour(r.outcome),
      r.slotAt ? formatInstant(r.slotAt) : '',
      r.attempt !== null ? String(r.attempt) : '',
      r.run?.durationMs !== null && r.run?.durationMs !== undefined ? formatDuration(r.run.durationMs) : '',
      detail.split('\n')[0] ?? '',
    ];
  });
  return renderTable(
    [{ header: 'JOB' }, { header: 'OUTCOME' }, { header: 'SLOT (UTC)' }, { header: 'ATTEMPT', align: 'right' }, { header: 'DURATION', align: 'right' }, { header: 'DETAIL' }],
    rows,
  );
}

/** One line per job: "reports: 1998 runtime schedules not shown: 1990 not-due, 8 paused (tickwork schedules reports)". */
function foldedLines(results: readonly TickResult[]): string {
  const byCode = new Map<string, Map<string, number>>();
  for (const r of results) {
    const counts = byCode.get(r.code) ?? new Map<string, number>();
    counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
    byCode.set(r.code, counts);
  }
  return [...byCode]
    .map(([code, counts]) => {
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([outcome, n]) => `${n} ${outcome}`).join(', ');
      return `${code}: ${total} runtime schedule${total === 1 ? '' : 's'} not shown: ${parts} (tickwork schedules ${code})\n`;
    })
    .join('');
}

function summary(report: TickReport, dryRun: boolean): string {
  const counts = new Map<string, number>();
  for (const r of report.results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const parts = [...counts].map(([outcome, n]) => `${n} ${outcome}`);
  const verdict = dryRun ? 'dry run: nothing was claimed or changed' : report.ok ? 'ok' : 'FAILED';
  return `${verdict} — ${parts.length ? parts.join(', ') : 'no jobs configured'}`;
}
