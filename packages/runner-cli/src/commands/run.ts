import { setMaxListeners } from 'node:events';
import { describeThrown, runDue, type TickReport, type TickResult } from '@tickwork/core';
import { retentionMs } from '@tickwork/core/runner';
import { EXIT } from '../errors.js';
import { renderFailures, renderTickReport, type TickReportView } from '../output/tick-report.js';
import type { Session } from '../session.js';
import { createStderrLogger } from '../stderr-logger.js';
import { pruneHourly } from '../retention.js';

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

/**
 * How far behind this machine's clock the store's may be for `run` to wait for it. A crontab
 * host running ahead starts `run` at its :00, when the store still says :59.x of the minute
 * before; waiting the difference ticks at the store's :00, so the slot cron meant runs now
 * instead of a period late. Beyond this the clock is broken (`doctor` fails from the same 10 s)
 * and a wait would only stretch every tick.
 */
export const MAX_CLOCK_WAIT_MS = 10_000;

/** `tickwork run [codes…]`: one tick through core's runDue; the exit code says how it went. */
export async function runCommand(session: Session, codes: readonly string[], flags: RunFlags): Promise<number> {
  const config = await session.config();
  const registry = await session.registry();
  for (const code of codes) registry.get(code); // unknown code: exit 2 listing the known ones, before touching the store
  const store = await session.store();

  const controller = new AbortController();
  // Every handler of the tick listens on this one signal (up to maxConcurrentRuns at once): not a
  // leak, so no MaxListenersExceededWarning in the crontab's mail.
  setMaxListeners(0, controller.signal);
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

  let report: TickReport;
  try {
    // session.store() has set session.clock to the store's time; on a host running ahead, wait
    // until the store's clock reaches the instant this tick was started at (see MAX_CLOCK_WAIT_MS).
    const behind = -session.clock.offsetMs;
    if (behind > 0 && behind <= MAX_CLOCK_WAIT_MS) await wait(behind, controller.signal);
    report = await runDue({
      jobs: registry,
      store,
      clock: session.clock,
      timezone: config.timezone ?? 'UTC',
      logger: config.logger ?? createStderrLogger(session.io.stderr),
      signal: controller.signal,
      ...(config.runnerId !== undefined ? { runnerId: config.runnerId } : {}),
      // The config's cap on handlers at once (core's default otherwise): the rest are claimed in later waves.
      ...(config.maxConcurrentRuns !== undefined ? { maxConcurrentRuns: config.maxConcurrentRuns } : {}),
      ...(codes.length > 0 ? { only: codes } : {}),
      ...(flags.force ? { force: true } : {}),
      ...(flags.dryRun ? { dryRun: true } : {}),
      ...(config.onOverdue ? { onOverdue: config.onOverdue } : {}),
    });
  } finally {
    unsubscribe?.();
  }

  // Retention without a daemon: at most once an hour across every runner (decided in the store). A
  // failure is logged and leaves the tick's exit code alone: a later run tries again.
  const keepMs = retentionMs(config);
  if (!flags.dryRun && !signalled && keepMs !== null) {
    const logger = config.logger ?? createStderrLogger(session.io.stderr);
    try {
      const deleted = await pruneHourly(store, session.clock, keepMs);
      if (deleted !== null && deleted > 0) logger.info({ deleted }, 'pruned old runs');
    } catch (error) {
      logger.warn({ err: describeThrown(error).message }, 'retention: pruning old runs failed; a later run tries again');
    }
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
  const view: TickReportView = {
    palette: session.palette,
    now: session.clock.now(),
    dryRun: flags.dryRun === true,
    runtimeOnly: new Set(registry.jobs.filter((job) => job.schedule === null).map((job) => job.code)),
  };
  session.out(flags.silent ? renderFailures(report, view) : renderTickReport(report, view));
  return exitCode;
}

/** Resolves after `ms`, or at once when `signal` aborts (a signal during the wait then interrupts an empty tick). */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
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
