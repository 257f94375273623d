import { describeThrown, type Clock, type Logger, type RunRecord, type RunTracer, type Store } from '@tickwork/core';
import type { Lease } from '@tickwork/core/store';
import { type ExecutedRun, type ExecuteRunInput, executeRun, jitterMs, LeaseRenewals, type NotRun } from '@tickwork/core/runner';
import type { DaemonMetrics, ScheduleLabels } from './metrics.js';
import type { RunTarget, ScheduleEntry } from './schedule-entry.js';
import { SharedStop } from './shared-stop.js';
import { callAt } from './wake-timer.js';

/** What the daemon learns from the launcher. */
export interface LauncherEvents {
  /**
   * A run ended: what was recorded (with the schedule's state after it), or null when the store refused the
   * result outright (its state is then unknown).
   */
  finished(entry: ScheduleEntry, executed: ExecutedRun | null): void;
  /** A run's capacity is free again: its handler settled (its result may still be being recorded). */
  freed(): void;
}

/**
 * Runs claimed slots through core's executeRun: arms them ahead of their instant, releases every
 * handler of one instant from one timer callback, counts capacity, and aborts on shutdown.
 *
 * Capacity is held from the claim until the handler settles, not until its result is stored. At
 * most `maxConcurrentRuns` handlers run at once; runs claimed beyond that (quick handlers claimed
 * ahead, see the daemon's claim budget) wait in claim order for a handler to settle. Each run
 * launched carries what it costs of that budget until its handler settles.
 */
export class RunLauncher {
  /** The runs launched and not finished, by run id. */
  private readonly launched = new Map<string, LaunchedRun>();
  /** Aborts every run's handler (shutdown); shared by all runs, listeners in a Set (see SharedStop). */
  readonly shutdown = new SharedStop();
  /** Stops waiting for a handler that ignores its aborted signal, as the daemon exits. */
  readonly abandon = new SharedStop();
  /** At the shutdown grace, stops retrying a completion the store does not answer (a reaper records the run later). */
  readonly recording = new SharedStop();
  /** Renews every run's lease: one timer per lease length, not one per run (core's LeaseRenewals). */
  readonly renewals = new LeaseRenewals();
  /** One promise per distinct instant: a thousand runs of `:00` start from one timer callback. */
  private readonly instants = new Map<number, Promise<void>>();
  /** Runs past their instant waiting for a handler to settle, in claim order. */
  private readonly waiting: Array<() => void> = [];
  private waitingFrom = 0;
  private lateness: { labels: ScheduleLabels; seconds: number }[] = [];
  private aborting = false;
  /** Runs launched whose handler has not settled: they hold capacity. */
  private holdingCount = 0;
  /** What those runs cost of the daemon's claim budget (ms of expected handler time, see `launch`). */
  private holdingCost = 0;
  /** Handlers running now (past their start gate). */
  startedCount = 0;

  constructor(
    readonly deps: {
      store: () => Store;
      clock: Clock;
      logger: Logger;
      metrics: DaemonMetrics;
      events: LauncherEvents;
      maxConcurrentRuns: number;
      /**
       * Asked at the run's instant, before its handler is called: why it must not start (its schedule
       * was paused, disabled or removed since the claim), or null. The run is then recorded `skipped`.
       */
      notRun: (entry: ScheduleEntry, run: RunRecord) => NotRun | null;
      /** OpenTelemetry: a span per attempt (core's executeRun). */
      tracer: RunTracer | null;
    },
  ) {}

  /** Runs claimed or armed and not yet finished (their result recorded). */
  get active(): number {
    return this.launched.size;
  }

  /** Runs holding capacity: launched, handler not yet settled. */
  get holding(): number {
    return this.holdingCount;
  }

  /** What the runs holding capacity cost of the claim budget, in ms of expected handler time. */
  get holdingCostMs(): number {
    return this.holdingCost;
  }

  /**
   * Starts a claimed run of `target` (the job and payload it was planned with) at `startAt` (now if
   * past). Claims are idempotent per runner — a repeated claim answers with the run this daemon
   * already runs — so a run already launched is not launched again (false). `costMs`: what it holds
   * of the claim budget until its handler settles.
   */
  launch(entry: ScheduleEntry, target: RunTarget, run: RunRecord, lease: Lease, startAt: number, costMs: number): boolean {
    if (this.launched.has(run.id)) return false;
    this.holdingCount++;
    this.holdingCost += costMs;
    const launched = new LaunchedRun(this, entry, target, run, lease, startAt, costMs);
    this.launched.set(run.id, launched);
    launched.done = executeRun(launched).then(
      (executed) => launched.finished(executed),
      (error: unknown) => launched.failed(error),
    );
    this.deps.metrics.running.set(this.holdingCount);
    return true;
  }

  /** A run's handler settled (or was not called): its capacity is free. Once per run. */
  release(launched: LaunchedRun): void {
    if (launched.released) return;
    launched.released = true;
    this.holdingCount--;
    // Back to exactly 0 when nothing is held: sums of fractional costs must not drift.
    this.holdingCost = this.holdingCount === 0 ? 0 : this.holdingCost - launched.costMs;
    this.deps.metrics.running.set(this.holdingCount);
    this.deps.events.freed();
  }

  /** A run ended (its result recorded, or given up). */
  ended(launched: LaunchedRun): void {
    this.release(launched);
    this.launched.delete(launched.run.id);
  }

  /** Resolves when every launched run has finished (including runs launched meanwhile). */
  async settled(): Promise<void> {
    while (this.launched.size > 0) await Promise.allSettled(Array.from(this.launched.values(), (launched) => launched.done));
  }

  /** Aborts every run (and any launched later): executeRun records them `interrupted`. */
  abortAll(): void {
    this.aborting = true;
    this.shutdown.abort();
    this.recording.abort();
    // Runs waiting for capacity go through their gate now and are recorded without being called.
    this.admitWaiting(Number.POSITIVE_INFINITY);
  }

  /** As the daemon exits: stops waiting for aborted handlers that ignore their signal; their runs are recorded `interrupted`. */
  abandonAll(): void {
    this.abandon.abort();
  }

  /** Resolves at `atMs`; one timer per distinct instant, so a thousand runs of `:00` start from one callback. */
  whenAt(atMs: number): Promise<void> {
    let at = this.instants.get(atMs);
    if (!at) {
      at = new Promise<void>((resolve) => {
        callAt(this.deps.clock, atMs, () => {
          this.instants.delete(atMs);
          resolve();
        });
      });
      this.instants.set(atMs, at);
    }
    return at;
  }

  /** A handler may start now (fewer than maxConcurrentRuns running), or once one settles (in claim order). */
  admit(): Promise<void> | null {
    if (this.startedCount < this.deps.maxConcurrentRuns || this.aborting) {
      this.startedCount++;
      return null;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  admitWaiting(limit: number): void {
    while (this.waitingFrom < this.waiting.length && this.startedCount < limit) {
      const go = this.waiting[this.waitingFrom] as () => void;
      this.waiting[this.waitingFrom++] = noop;
      this.startedCount++;
      go();
    }
    if (this.waitingFrom === this.waiting.length) {
      this.waiting.length = 0;
      this.waitingFrom = 0;
    }
  }

  /** Batched: observing a histogram per start would delay the next of a thousand handlers due at the same instant. */
  observeLateness(code: string, key: string, ms: number): void {
    if (this.lateness.push({ labels: this.deps.metrics.labels(code, key), seconds: Math.max(0, ms) / 1000 }) > 1) return;
    setImmediate(() => {
      for (const { labels, seconds } of this.lateness) this.deps.metrics.lateness.observe(labels, seconds);
      this.lateness = [];
    });
  }
}

function noop(): void {}

/**
 * One launched run, in one object that is also its executeRun input: the launcher's pieces every
 * run shares are getters of the prototype, the run's own state is fields, and `onHandlerSettled` a
 * method (executeRun calls it on its input) — instead of an input literal and five closures over
 * the locals of an async function, per run armed ahead of its instant (bench/launch-path.mjs).
 */
class LaunchedRun implements ExecuteRunInput {
  /** Settles when the run ended (its result recorded or given up). */
  done!: Promise<void>;
  readonly start: Promise<NotRun | undefined>;
  released = false;
  private admitted = false;
  private startedMs: number;
  private handlerMs = 0;

  constructor(
    private readonly launcher: RunLauncher,
    readonly entry: ScheduleEntry,
    readonly target: RunTarget,
    readonly run: RunRecord,
    readonly lease: Lease,
    readonly startAt: number,
    readonly costMs: number,
  ) {
    this.startedMs = launcher.deps.clock.now().getTime();
    // Armed ahead: executeRun's per-run setup (abort wiring, lease renewal, logger) happens when the
    // slot is pre-claimed, so at the instant only the handlers remain to be called. The timeout
    // counts from the start (executeRun's `start`), not from arming.
    this.start = this.gateIn();
  }

  get job(): RunTarget['job'] {
    return this.target.job;
  }
  get payload(): unknown {
    return this.target.payload;
  }
  get store(): Store {
    return this.launcher.deps.store();
  }
  get clock(): Clock {
    return this.launcher.deps.clock;
  }
  get logger(): Logger {
    return this.launcher.deps.logger;
  }
  get tracer(): RunTracer | undefined {
    return this.launcher.deps.tracer ?? undefined;
  }
  get signal(): SharedStop {
    return this.launcher.shutdown;
  }
  get abandon(): SharedStop {
    return this.launcher.abandon;
  }
  get stopRecording(): SharedStop {
    return this.launcher.recording;
  }
  get renewals(): LeaseRenewals {
    return this.launcher.renewals;
  }

  /**
   * The claim was made ahead of the instant: what it was made for may have changed since (paused,
   * disabled, removed). Checked at the instant, and again after waiting for capacity.
   */
  private async gateIn(): Promise<NotRun | undefined> {
    const { launcher, entry, run } = this;
    const { clock, notRun } = launcher.deps;
    if (this.startAt > clock.now().getTime()) await launcher.whenAt(this.startAt);
    const before = notRun(entry, run);
    if (before) return before;
    const turn = launcher.admit();
    this.admitted = true;
    if (turn) await turn;
    const after = notRun(entry, run);
    if (after) return after;
    this.startedMs = clock.now().getTime();
    if (run.trigger === 'schedule') {
      const { job } = this.target;
      launcher.observeLateness(job.code, entry.key, this.startedMs - run.slotAt.getTime() - jitterMs(job, entry.key, run.slotAt));
    }
  }

  onHandlerSettled(): void {
    const { launcher } = this;
    if (this.admitted) {
      launcher.startedCount--;
      launcher.admitWaiting(launcher.deps.maxConcurrentRuns);
    }
    this.handlerMs = launcher.deps.clock.now().getTime() - this.startedMs;
    this.entry.handlerMs = this.handlerMs;
    launcher.release(this);
  }

  /** What executeRun recorded: metrics, then the daemon is told. */
  finished(executed: ExecutedRun): void {
    const { launcher, entry, target } = this;
    const { metrics, events } = launcher.deps;
    try {
      const { run: finished } = executed;
      const status = finished.status === 'running' || finished.status === 'waiting' ? 'interrupted' : finished.status;
      const labels = metrics.labels(target.job.code, entry.key);
      metrics.runs.inc({ ...labels, status });
      if (status === 'skipped') metrics.skipped.inc({ ...labels, reason: finished.skipReason ?? 'paused' });
      else metrics.duration.observe(labels, this.handlerMs / 1000);
      if (executed.state) metrics.streak(target.job.code, entry.key, executed.state.consecutiveFailures);
      events.finished(entry, executed);
    } finally {
      launcher.ended(this);
    }
  }

  /**
   * The store refused the result as input, or (past the shutdown grace) did not answer: outages are
   * retried until they land while the daemon runs; at shutdown the run is left to a reaper (`interrupted`).
   */
  failed(error: unknown): void {
    const { launcher, entry, target, run } = this;
    const { logger, events } = launcher.deps;
    try {
      logger.error({ job: target.job.code, key: entry.key, runId: run.id, err: describeThrown(error).message }, 'could not record the run');
      events.finished(entry, null);
    } finally {
      launcher.ended(this);
    }
  }
}
