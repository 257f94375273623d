import { describeThrown, executeRun, jitterMs, type Clock, type ExecutedRun, type Job, type Lease, type Logger, type RunRecord, type Store } from '@tickwork/core';
import type { DaemonMetrics, ScheduleLabels } from './metrics.js';
import type { RunTarget, ScheduleEntry } from './schedule-entry.js';
import { callAt } from './wake-timer.js';

/** What the daemon learns from the launcher. */
export interface LauncherEvents {
  /** A run ended: what was recorded (with the schedule's state after it), or null when the store refused the result outright (its state is then unknown). */
  finished(entry: ScheduleEntry, executed: ExecutedRun | null): void;
  /** A run's capacity is free again. */
  freed(): void;
}

/**
 * Runs claimed slots through core's executeRun: arms them ahead of their instant, releases every
 * handler of one instant from one timer callback, counts capacity, and aborts on shutdown.
 */
export class RunLauncher {
  private readonly runs = new Set<Promise<void>>();
  /** Ids of the runs launched and not finished. */
  private readonly launched = new Set<string>();
  /** One controller per run: a shared signal with thousands of listeners makes each addEventListener O(n). */
  private readonly aborts = new Set<AbortController>();
  /** Per run too: stops waiting for a handler that ignores its aborted signal, as the daemon exits. */
  private readonly abandons = new Set<AbortController>();
  private readonly startGroups = new Map<number, Array<() => void>>();
  private lateness: { labels: ScheduleLabels; seconds: number }[] = [];
  private aborting = false;

  constructor(
    private readonly deps: { store: () => Store; clock: Clock; logger: Logger; metrics: DaemonMetrics; events: LauncherEvents },
  ) {}

  /** Runs claimed or armed and not yet finished. */
  get active(): number {
    return this.runs.size;
  }

  /**
   * Starts a claimed run of `target` (the job and payload it was planned with) at `startAt` (now if
   * past). Claims are idempotent per runner — a repeated claim answers with the run this daemon
   * already runs — so a run already launched is not launched again (false).
   */
  launch(entry: ScheduleEntry, target: RunTarget, run: RunRecord, lease: Lease, startAt: number): boolean {
    if (this.launched.has(run.id)) return false;
    this.launched.add(run.id);
    const promise = this.execute(entry, target, run, lease, startAt).finally(() => {
      this.runs.delete(promise);
      this.launched.delete(run.id);
      this.deps.metrics.running.set(this.runs.size);
      this.deps.events.freed();
    });
    this.runs.add(promise);
    this.deps.metrics.running.set(this.runs.size);
    return true;
  }

  /** Resolves when every launched run has finished (including runs launched meanwhile). */
  async settled(): Promise<void> {
    while (this.runs.size > 0) await Promise.allSettled([...this.runs]);
  }

  /** Aborts every run (and any launched later): executeRun records them `interrupted`. */
  abortAll(): void {
    this.aborting = true;
    for (const controller of this.aborts) controller.abort();
  }

  /** As the daemon exits: stops waiting for aborted handlers that ignore their signal; their runs are recorded `interrupted`. */
  abandonAll(): void {
    for (const controller of this.abandons) controller.abort();
  }

  /** Resolves at `atMs`; one timer per distinct instant, so a thousand runs of `:00` start from one callback. */
  private whenAt(atMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const group = this.startGroups.get(atMs);
      if (group) {
        group.push(resolve);
        return;
      }
      this.startGroups.set(atMs, [resolve]);
      callAt(this.deps.clock, atMs, () => {
        const waiting = this.startGroups.get(atMs) ?? [];
        this.startGroups.delete(atMs);
        for (const go of waiting) go();
      });
    });
  }

  private async execute(entry: ScheduleEntry, target: RunTarget, run: RunRecord, lease: Lease, startAt: number): Promise<void> {
    const { job, payload } = target;
    const { clock, metrics, logger } = this.deps;
    const now = () => clock.now().getTime();
    const wait = Math.max(0, startAt - now());
    const gate = wait > 0 ? this.whenAt(startAt) : null;
    let startedMs = now();
    // Armed ahead: executeRun's per-run setup (abort wiring, lease renewal, logger) happens when the
    // slot is pre-claimed, so at the instant only the handlers remain to be called. The timeout
    // counts from the instant, not from arming.
    const armed: Job = {
      ...job,
      timeoutMs: job.timeoutMs === null ? null : job.timeoutMs + wait,
      run: async (ctx) => {
        if (gate) await gate;
        if (ctx.signal.aborted) return undefined;
        startedMs = now();
        if (run.trigger === 'schedule') this.observeLateness(job.code, entry.key, startedMs - run.slotAt.getTime() - jitterMs(job, entry.key, run.slotAt));
        return job.run(ctx);
      },
    };
    const abort = new AbortController();
    if (this.aborting) abort.abort();
    this.aborts.add(abort);
    const abandon = new AbortController();
    this.abandons.add(abandon);
    let executed: ExecutedRun;
    try {
      executed = await executeRun({
        job: armed,
        run,
        lease,
        store: this.deps.store(),
        clock,
        logger,
        signal: abort.signal,
        abandon: abandon.signal,
        ...(payload !== undefined ? { payload } : {}),
      });
    } catch (error) {
      // The store refused the result as input (not an outage: those are retried until they land).
      logger.error({ job: job.code, key: entry.key, runId: run.id, err: describeThrown(error).message }, 'could not record the run');
      this.deps.events.finished(entry, null);
      return;
    } finally {
      this.aborts.delete(abort);
      this.abandons.delete(abandon);
    }
    const { run: finished } = executed;
    const status = finished.status === 'running' || finished.status === 'waiting' ? 'interrupted' : finished.status;
    const labels = metrics.labels(job.code, entry.key);
    metrics.runs.inc({ ...labels, status });
    metrics.duration.observe(labels, (now() - startedMs) / 1000);
    if (executed.state) metrics.streak(job.code, entry.key, executed.state.consecutiveFailures);
    this.deps.events.finished(entry, executed);
  }

  /** Batched: observing a histogram per start would delay the next of a thousand handlers due at the same instant. */
  private observeLateness(code: string, key: string, ms: number): void {
    if (this.lateness.push({ labels: this.deps.metrics.labels(code, key), seconds: Math.max(0, ms) / 1000 }) > 1) return;
    setImmediate(() => {
      for (const { labels, seconds } of this.lateness) this.deps.metrics.lateness.observe(labels, seconds);
      this.lateness = [];
    });
  }
}
