import { DEFAULT_SCHEDULE_KEY, type TickReport, type TickResult } from '@tickwork/core';
import { statusColour, type Palette } from './colour.js';
import { formatDuration, formatInstant, relativeTime } from './relative-time.js';
import { renderTable } from './table.js';

/** Outcomes that make `run` exit 1; `--silent` prints only these. */
export const FAILED: ReadonlySet<TickResult['outcome']> = new Set(['failed', 'timed_out', 'interrupted', 'error']);
/**
 * Outcomes of a runtime schedule worth a row of their own: the ones someone must look at. A
 * `skipped` run (the previous one still holds the lease) is logged as such, so it is shown too.
 */
const PROBLEMS: ReadonlySet<TickResult['outcome']> = new Set([...FAILED, 'skipped', 'waiting']);
/** Outcomes recorded in the run log: `tickwork logs` has them. */
const LOGGED: ReadonlySet<TickResult['outcome']> = new Set(['failed', 'timed_out', 'interrupted', 'skipped', 'waiting', 'succeeded']);

/**
 * Rows for runtime schedules in one tick's output, across all jobs. A job may have 100,000
 * runtime schedules; past this many rows the rest are counted per job with the command that
 * lists them, so a tick prints a screenful whatever happens.
 */
export const RUNTIME_ROWS = 20;

/** What the text output of `tickwork run` needs beside the report. */
export interface TickReportView {
  palette: Palette;
  now: Date;
  dryRun: boolean;
  /** Codes of jobs without a schedule of their own (`schedule: null`). */
  runtimeOnly: ReadonlySet<string>;
}

const count = (n: number) => n.toLocaleString('en-US');
const isRuntime = (r: TickResult) => r.key !== DEFAULT_SCHEDULE_KEY;

/**
 * `tickwork run`'s text output: a row per job's own schedule; for runtime schedules a row only
 * for a problem (or, in a dry run, what would run), at most {@link RUNTIME_ROWS} in all; then one
 * line per job counting its runtime schedules' outcomes; then the verdict.
 */
export function renderTickReport(report: TickReport, view: TickReportView): string {
  const notable = (r: TickResult) => (view.dryRun ? r.outcome === 'would-run' : PROBLEMS.has(r.outcome));
  const { shown, hidden } = pick(report.results, notable);
  let text = shown.length > 0 ? renderResults(shown, view) : '';
  for (const [code, results] of groupByCode(report.results.filter(isRuntime))) {
    const ran = results.some((r) => LOGGED.has(r.outcome));
    text +=
      `${code}: ${count(results.length)} runtime schedule${results.length === 1 ? '' : 's'}: ${countOutcomes(results)} ` +
      `(tickwork ${ran ? 'logs' : 'schedules'} ${code})\n`;
    text += moreLine(code, hidden.get(code), view.dryRun);
  }
  return `${text}${verdict(report, view.dryRun)}\n`;
}

/** `--silent`: nothing unless something failed; then the failures, runtime ones capped like {@link renderTickReport}. */
export function renderFailures(report: TickReport, view: TickReportView): string {
  const failed = report.results.filter((r) => FAILED.has(r.outcome));
  if (failed.length === 0) return '';
  const { shown, hidden } = pick(failed, () => true);
  return renderResults(shown, view) + [...hidden.keys()].map((code) => moreLine(code, hidden.get(code), false)).join('');
}

/** Every own-schedule result; runtime ones only when `notable`, the first {@link RUNTIME_ROWS}. The rest, by job. */
function pick(results: readonly TickResult[], notable: (r: TickResult) => boolean) {
  const shown: TickResult[] = [];
  const hidden = new Map<string, TickResult[]>();
  let runtimeRows = 0;
  for (const r of results) {
    if (!isRuntime(r)) shown.push(r);
    else if (!notable(r)) continue;
    else if (runtimeRows < RUNTIME_ROWS) {
      shown.push(r);
      runtimeRows += 1;
    } else {
      const more = hidden.get(r.code);
      if (more) more.push(r);
      else hidden.set(r.code, [r]);
    }
  }
  return { shown, hidden };
}

/** "  … and 25 more: 20 failed, 5 timed_out (tickwork logs reports --status failed,timed_out)". */
function moreLine(code: string, hidden: readonly TickResult[] | undefined, dryRun: boolean): string {
  if (!hidden || hidden.length === 0) return '';
  const outcomes = [...new Set(hidden.map((r) => r.outcome))];
  const where = dryRun ? `tickwork run ${code} --dry-run --json` : `tickwork logs ${code} --status ${outcomes.join(',')}`;
  return `  … and ${count(hidden.length)} more: ${countOutcomes(hidden)} (${where})\n`;
}

function groupByCode(results: readonly TickResult[]): Map<string, TickResult[]> {
  const byCode = new Map<string, TickResult[]>();
  for (const r of results) {
    const group = byCode.get(r.code);
    if (group) group.push(r);
    else byCode.set(r.code, [r]);
  }
  return byCode;
}

/** "49,985 succeeded, 5 not-due": most frequent first. */
function countOutcomes(results: readonly TickResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${count(n)} ${outcome}`)
    .join(', ');
}

function renderResults(results: readonly TickResult[], view: TickReportView): string {
  const rows = results.map((r) => {
    let detail = r.reason ?? '';
    if (r.outcome === 'not-due' || r.outcome === 'paused') {
      const next = r.nextSlotAt
        ? `next ${relativeTime(r.nextSlotAt, view.now)}`
        : r.key === DEFAULT_SCHEDULE_KEY && view.runtimeOnly.has(r.code)
          ? 'runtime schedules only'
          : 'no further slot';
      detail = [r.outcome === 'paused' ? detail : '', next].filter(Boolean).join('; ');
    }
    return [
      r.code + (r.key ? `[${r.key}]` : ''),
      statusColour(view.palette, r.outcome)(r.outcome),
      r.slotAt ? formatInstant(r.slotAt) : '',
      r.attempt !== null ? String(r.attempt) : '',
      r.run?.durationMs !== null && r.run?.durationMs !== undefined ? formatDuration(r.run.durationMs) : '',
      detail.split('\n')[0] ?? '',
    ];
  });
  return renderTable(
    [
      { header: 'JOB' },
      { header: 'OUTCOME' },
      { header: 'SLOT (UTC)' },
      { header: 'ATTEMPT', align: 'right' },
      { header: 'DURATION', align: 'right' },
      { header: 'DETAIL' },
    ],
    rows,
  );
}

/** "ok — 1 succeeded, 1,994 not-due": every result counted, in the order they first appear. */
function verdict(report: TickReport, dryRun: boolean): string {
  const counts = new Map<string, number>();
  for (const r of report.results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const parts = [...counts].map(([outcome, n]) => `${count(n)} ${outcome}`);
  const word = dryRun ? 'dry run: nothing was claimed or changed' : report.ok ? 'ok' : 'FAILED';
  return `${word} — ${parts.length ? parts.join(', ') : 'no jobs configured'}`;
}
