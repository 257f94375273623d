import {
  describeThrown,
  DEFAULT_SCHEDULE_KEY,
  resolveStore,
  type ClaimOutcome,
  type Logger,
  type RunRecord,
  type SlotClaim,
  type Store,
} from '@tickwork/core';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { startHealthServer, type DaemonHealth, type HealthServer } from './http.js';
import { batchRunWrites } from './batching-store.js';
import { createDaemonMetrics, type DaemonMetrics } from './metrics.js';
import { observeStore } from './observed-store.js';
import { resolveDaemonOptions, type DaemonOptions, type DaemonSource, type ResolvedDaemonOptions } from './options.js';
import { applyFreshState, createEntry, dueAtOf, planEntry, scheduleId, ScheduleCompiler, type ScheduleEntry } from './schedule-entry.js';
import { SlotQueue } from './slot-queue.js';
import { repeatEvery, retryUntilStored } from './repeat.js';
import { ChangeWatcher, type WatcherHost } from './change-watcher.js';
import { RunLauncher } from './run-launcher.js';
import { StoreHealth } from './store-health.js';
import { callAt, WakeTimer } from './wake-timer.js';

/** A started daemon (graphile-worker's runner shape). */
export interface DaemonHandle {
  readonly runnerId: string;
  /** Resolves once states are loaded and timers armed; rejects when the daemon cannot start. */
  readonly ready: Promise<void>;
  /** Resolves after `stop()` drained; rejects when the daemon cannot start (port in use, store factory threw). */
  readonly done: Promise<void>;
  /** The HTTP endpoint's bound address once listening (port 0 picks a free one), else null. */
  readonly address: { host: string; port: number } | null;
  /** This daemon's Prometheus registry (what `/metrics` serves). */
  readonly metrics: Registry;
  /** Health as `/healthz` reports it (pings the store). */
  health(): Promise<DaemonHealth>;
  /** Stops claiming, lets running handlers finish within `shutdownGraceMs`, then aborts them (`interrupted`). */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const STATE_BATCH = 5_000;
const MAX_ADAPTIVE_PRECLAIM_MS = 5_000;

/**
 * Starts a resident runner: one timer over a priority queue of next slots, claims of each
 * instant in one store round trip shortly before it, handlers through core's executeRun.
 * Throws synchronously on invalid options; later failures reject `ready` and `done`.
 */
export function createDaemon(source: DaemonSource & DaemonOptions, options: DaemonOptions = {}): DaemonHandle {
  return new Daemon(resolveDaemonOptions(source, options)).handle;
}

class Daemon {
  readonly handle: DaemonHandle;
  private readonly o: ResolvedDaemonOptions;
  private readonly logger: Logger;
  private readonly m: DaemonMetrics;
  private readonly entries = new Map<string, ScheduleEntry>();
  private readonly queue = new SlotQueue<ScheduleEntry>();
  private readonly compiler: ScheduleCompiler;
  private readonly timer: WakeTimer;
  private readonly launcher: RunLauncher;
  private readonly deferrals = new Map<ScheduleEntry, () => void>();
  private store: Store | null = null;
  private watcher: ChangeWatcher | null = null;
  private closeStore: (() => Promise<void>) | null = null;
  private server: HealthServer | null = null;
  private loops: Array<() => void> = [];
  private started = false;
  private stopping: Promise<void> | null = null;
  private claiming = false;
  private claimInFlight: Promise<void> | null = null;
  /** Slots whose claim is in flight (scheduled or run-now): counted against maxConcurrentRuns. */
  private reserved = 0;
  /** Duration of the last claim round trip plus arming (at start: of ensuring all states, a fair proxy). */
  private claimLatencyMs = 0;
  private readonly storeHealth: StoreHealth;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;

  constructor(options: ResolvedDaemonOptions) {
    this.o = options;
    const base = options.logger ?? (pino({ name: 'tickwork-daemon' }) as unknown as Logger);
    this.logger = base.child({ runner: options.runnerId });
    this.m = createDaemonMetrics(options.runnerId);
    this.compiler = new ScheduleCompiler(options.timezone);
    this.timer = new WakeTimer(options.clock, () => void this.wake());
    this.storeHealth = new StoreHealth(options.clock, this.logger, () => this.armNext());
    this.launcher = new RunLauncher({
      store: () => this.store as Store,
      clock: options.clock,
      logger: this.logger,
      metrics: this.m,
      events: { finished: (entry, record) => this.runFinished(entry, record), freed: () => this.armNext() },
    });
    const done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    const ready = this.start();
    // Callers await one of the two; the other must not crash the process as an unhandled rejection.
    done.catch(() => undefined);
    ready.catch((error: unknown) => {
      this.logger.error({ err: describeThrown(error).message }, 'daemon failed to start');
      this.rejectDone(error);
      void this.teardown();
    });
    const self = this;
    this.handle = {
      runnerId: options.runnerId,
      ready,
      done,
      get address() {
        return self.server?.address ?? null;
      },
      metrics: this.m.registry,
      health: () => this.health(),
      stop: () => this.stop(),
      [Symbol.asyncDispose]: () => this.stop(),
    };
  }

  // — lifecycle —

  private async start(): Promise<void> {
    const raw = await resolveStore(this.o.store);
    if (typeof this.o.store === 'function') this.closeStore = () => raw.close();
    // stop() may have run while we awaited: it tore down what existed then; release what came since.
    if (this.stopping) return this.teardown();
    this.store = batchRunWrites(
      observeStore(raw, this.m, {
        succeeded: () => this.storeHealth.answered(),
        failed: (operation, message) => this.storeHealth.failed(operation, message),
      }),
    );
    if (this.o.http) this.server = await startHealthServer({ health: () => this.health(), registry: this.m.registry }, this.o.http);
    if (this.stopping) return this.teardown();
    await this.untilStored('load job states', () => this.load());
    if (this.stopping) return this.teardown();
    const watcher = new ChangeWatcher(this.watcherHost());
    this.watcher = watcher;
    await watcher.subscribe();
    this.loops.push(repeatEvery(this.o.pollIntervalMs, () => watcher.poll(), this.logger));
    if (this.o.retentionMs !== null) this.loops.push(repeatEvery(this.o.pruneIntervalMs, () => watcher.prune(), this.logger));
    this.started = true;
    this.logger.info({ schedules: this.entries.size, store: raw.name, http: this.server?.address ?? null }, 'daemon started');
    this.armNext();
  }

  private async load(): Promise<void> {
    const store = this.store as Store;
    const jobs = this.o.registry.jobs.filter((job) => job.enabled);
    const now = this.o.clock.now();
    this.claimLatencyMs = 0;
    const unarmed = new Set<string>();
    for (let i = 0; i < jobs.length; i += STATE_BATCH) {
      const chunk = jobs.slice(i, i + STATE_BATCH);
      const began = performance.now();
      const states = await store.ensureStates(chunk.map((job) => ({ code: job.code, key: DEFAULT_SCHEDULE_KEY })), now);
      this.claimLatencyMs += performance.now() - began;
      chunk.forEach((job, index) => {
        const state = states[index] as NonNullable<(typeof states)[number]>;
        let entry: ScheduleEntry;
        try {
          entry = createEntry(job, state, this.compiler);
        } catch (error) {
          // One bad stored override must not keep every other job from starting (nor read as a store outage).
          this.logger.error({ job: job.code, key: state.key, err: describeThrown(error).message }, 'stored schedule override is invalid; schedule not armed');
          entry = createEntry(job, { ...state, scheduleOverride: null }, this.compiler);
          unarmed.add(entry.id);
        }
        this.entries.set(entry.id, entry);
      });
    }
    const nowMs = this.o.clock.now().getTime();
    for (const entry of this.entries.values()) if (!unarmed.has(entry.id)) this.requeue(entry, nowMs, true);
  }

  private async stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    this.timer.disarm();
    this.logger.info({ running: this.launcher.active, graceMs: this.o.shutdownGraceMs }, 'daemon stopping: no new claims');
    const grace = setTimeout(() => {
      if (this.launcher.active > 0) this.logger.warn({ running: this.launcher.active }, 'shutdown grace over: aborting running handlers');
      this.launcher.abortAll();
    }, this.o.shutdownGraceMs);
    // A claim answered after stop() still launches its runs: wait for it, so they are run (or
    // aborted at the grace) and recorded like every other, never left `running` for the reaper.
    await this.claimInFlight?.catch(() => undefined);
    await this.launcher.settled();
    clearTimeout(grace);
    await this.teardown();
    this.logger.info({}, 'daemon stopped');
    this.resolveDone();
  }

  private async teardown(): Promise<void> {
    this.timer.disarm();
    for (const cancel of this.deferrals.values()) cancel();
    this.deferrals.clear();
    for (const cancel of this.loops) cancel();
    this.loops = [];
    const { watcher, server, closeStore } = this;
    this.watcher = null;
    this.server = null;
    this.closeStore = null;
    await watcher?.close();
    await server?.close();
    await closeStore?.().catch(() => undefined);
  }

  // — the timer: claim what falls due within preClaimMs, in one round trip —

  private armNext(): void {
    if (this.stopping || !this.started || this.claiming) return;
    const top = this.queue.peek();
    if (!top || this.launcher.active >= this.o.maxConcurrentRuns) {
      this.timer.arm(null);
      return;
    }
    let at = (top.dueAt as number) - this.preClaimMs();
    if (this.storeHealth.retryAfter !== null) at = Math.max(at, this.storeHealth.retryAfter);
    this.timer.arm(at);
  }

  private async wake(): Promise<void> {
    if (this.stopping || this.claiming) return;
    const nowMs = this.o.clock.now().getTime();
    const horizon = nowMs + this.preClaimMs();
    const free = this.freeCapacity();
    const batch: ScheduleEntry[] = [];
    for (let top = this.queue.peek(); top && (top.dueAt as number) <= horizon && batch.length < free; top = this.queue.peek()) {
      const entry = this.queue.pop() as ScheduleEntry;
      // Pre-claiming while this daemon's own run of a non-parallel schedule is still going would
      // turn the next slot into an overlap skip; wait for that run to end or the instant to come.
      if (entry.running > 0 && !entry.job.allowParallelRuns && (entry.dueAt as number) > nowMs) this.defer(entry);
      else batch.push(entry);
    }
    if (batch.length > 0) {
      this.claiming = true;
      const release = this.reserve(batch.length);
      this.claimInFlight = this.claimBatch(batch, nowMs).finally(release);
      try {
        await this.claimInFlight;
      } catch (error) {
        this.logger.error({ err: describeThrown(error).message }, 'claim batch failed unexpectedly');
      } finally {
        this.claiming = false;
        this.claimInFlight = null;
      }
    }
    this.armNext();
  }

  /** Runs this daemon may still start: its capacity less running handlers and claims in flight. */
  private freeCapacity(): number {
    return this.o.maxConcurrentRuns - this.launcher.active - this.reserved;
  }

  /** Holds capacity for `count` slots while their claim is in flight; returns the release. */
  private reserve(count: number): () => void {
    this.reserved += count;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= count;
    };
  }

  /**
   * How far ahead to claim: the configured lead, or twice the last claim round trip when that is
   * longer (ten thousand slots at one instant take a while), so handlers still start on the instant.
   */
  private preClaimMs(): number {
    return Math.max(this.o.preClaimMs, Math.min(MAX_ADAPTIVE_PRECLAIM_MS, 2 * this.claimLatencyMs));
  }

  private async claimBatch(batch: ScheduleEntry[], nowMs: number): Promise<void> {
    const plans: Array<{ entry: ScheduleEntry; claim: SlotClaim; startAt: number }> = [];
    for (const entry of batch) {
      const startAt = Math.max(nowMs, entry.dueAt as number);
      const claims = planEntry(entry, startAt, this.o);
      if (claims.length === 0) {
        this.requeue(entry, startAt, false);
        continue;
      }
      entry.busy = true;
      entry.backlog = claims.length > 1;
      plans.push({ entry, claim: claims[0] as SlotClaim, startAt });
    }
    if (plans.length === 0) return;
    let outcomes: ClaimOutcome[];
    const claimStarted = performance.now();
    try {
      outcomes = await (this.store as Store).claimSlots(
        plans.map((p) => p.claim),
        { runnerId: this.o.runnerId, now: this.o.clock.now() },
      );
    } catch {
      // Nothing was claimed (or all of it was, and the retry will read `taken` and the reaper will
      // recover those runs); the entries stay due and are re-planned per their policy when the store is back.
      for (const { entry } of plans) {
        entry.busy = false;
        this.queue.update(entry);
      }
      this.storeHealth.backOff();
      return;
    }
    plans.forEach(({ entry, claim, startAt }, index) => {
      entry.busy = false;
      const outcome = outcomes[index] as ClaimOutcome;
      const slotKnown = () => {
        if (claim.trigger !== 'schedule') return;
        const last = entry.state.lastSlotAt;
        if (!last || last.getTime() < claim.slotAt.getTime()) entry.state = { ...entry.state, lastSlotAt: claim.slotAt };
      };
      switch (outcome.status) {
        case 'claimed':
          slotKnown();
          entry.running++;
          this.launcher.launch(entry, outcome.run, outcome.lease, startAt);
          break;
        case 'taken':
          this.m.claimsLost.inc();
          slotKnown();
          if (claim.trigger !== 'schedule') this.watcher?.refreshSoon(entry.id);
          break;
        case 'overlap':
          slotKnown();
          this.m.runs.inc({ job: entry.job.code, status: 'skipped' });
          this.logger.info({ job: entry.job.code, key: entry.key, slot: claim.slotAt.toISOString() }, 'slot skipped: previous run still holds the lease');
          break;
        case 'paused':
          entry.state = { ...entry.state, paused: true };
          this.watcher?.refreshSoon(entry.id);
          break;
      }
      // An `all`-policy backlog continues after this run ends, so its slots never overlap.
      if (outcome.status === 'claimed' && entry.backlog) return;
      this.requeue(entry, startAt, entry.backlog);
    });
    // Round trip plus arming the runs; slow decay, so small claims between big bursts (every-second
    // jobs beside minute crons) do not hide the burst's cost.
    this.claimLatencyMs = Math.max(performance.now() - claimStarted, this.claimLatencyMs * 0.98);
  }

  // — runs —

  private defer(entry: ScheduleEntry): void {
    entry.deferred = true;
    this.deferrals.set(entry, callAt(this.o.clock, entry.dueAt as number, () => this.undefer(entry)));
  }

  private undefer(entry: ScheduleEntry): void {
    this.deferrals.get(entry)?.();
    this.deferrals.delete(entry);
    if (!entry.deferred) return;
    entry.deferred = false;
    if (entry.busy || this.stopping) return;
    this.queue.update(entry);
    this.armNext();
  }

  private runFinished(entry: ScheduleEntry, finished: RunRecord | null): void {
    entry.running--;
    this.undefer(entry);
    if (!finished) {
      this.watcher?.refreshSoon(entry.id);
      return;
    }
    if (finished.status !== 'running' && finished.status !== 'skipped') {
      const failed = finished.status !== 'succeeded';
      entry.state = {
        ...entry.state,
        lastStatus: finished.status,
        lastFinishedAt: finished.finishedAt,
        lastAttempt: finished.attempt,
        lastFinishedSlotAt: finished.slotAt,
        consecutiveFailures: failed ? entry.state.consecutiveFailures + 1 : 0,
      };
    }
    const retry = entry.job.retryAfterFailureMs !== null && finished.status !== 'succeeded';
    if ((retry || entry.backlog) && !entry.busy && !this.stopping) this.requeue(entry, this.o.clock.now().getTime(), true);
  }

  // — runtime changes —

  private applyState(state: Parameters<typeof applyFreshState>[1]): void {
    const entry = this.entries.get(scheduleId(state.code, state.key));
    if (!entry) return;
    try {
      applyFreshState(entry, state, this.compiler);
    } catch (error) {
      this.logger.error({ job: entry.job.code, key: entry.key, err: describeThrown(error).message }, 'stored schedule override is invalid; schedule not armed');
      entry.dueAt = null;
      this.queue.update(entry);
      return;
    }
    if (!entry.busy) this.requeue(entry, this.o.clock.now().getTime(), true);
  }

  // — plumbing —

  private watcherHost(): WatcherHost {
    return {
      store: this.store as Store,
      clock: this.o.clock,
      logger: this.logger,
      runnerId: this.o.runnerId,
      codes: this.o.registry.codes(),
      retentionMs: this.o.retentionMs,
      live: () => this.started && this.stopping === null,
      entry: (id) => this.entries.get(id),
      applyState: (state) => this.applyState(state),
      freeCapacity: () => this.freeCapacity(),
      reserve: (count) => this.reserve(count),
      launch: (entry, run, lease, startAt) => {
        entry.running++;
        this.launcher.launch(entry, run, lease, startAt);
      },
      retryDelayMs: () => this.storeHealth.delayMs,
      untilStored: (what, body) => this.untilStored(what, body),
      rearm: () => {
        if (this.storeHealth.retryAfter !== null) this.armNext();
      },
    };
  }

  private untilStored<T>(what: string, body: () => Promise<T>): Promise<T> {
    return retryUntilStored(what, body, { logger: this.logger, stopped: () => this.stopping !== null });
  }

  private requeue(entry: ScheduleEntry, nowMs: number, catchUp: boolean): void {
    if (entry.deferred) this.undefer(entry);
    entry.dueAt = dueAtOf(entry, nowMs, { missedGraceMs: this.o.missedGraceMs, catchUp });
    this.queue.update(entry);
    this.m.scheduled.set(this.queue.size);
    this.armNext();
  }











  private async health(): Promise<DaemonHealth> {
    if (this.store && !this.stopping) await this.store.ping().catch(() => undefined);
    const timersArmed =
      this.started && !this.stopping && (this.timer.armedAt !== null || this.claiming || this.queue.size === 0 || this.launcher.active >= this.o.maxConcurrentRuns);
    const reason = this.stopping
      ? 'stopping'
      : !this.started
        ? `starting (store ${this.storeHealth.status})`
        : this.storeHealth.status !== 'reachable'
          ? `store unreachable: ${this.storeHealth.lastError ?? 'no answer yet'}`
          : !timersArmed
            ? 'timers not armed'
            : null;
    const health: DaemonHealth = {
      ok: reason === null,
      reason,
      store: this.storeHealth.status,
      timersArmed,
      running: this.launcher.active,
      scheduled: this.queue.size,
      lastStoreError: this.storeHealth.lastError,
    };
    this.m.healthy.set(health.ok ? 1 : 0);
    return health;
  }
}
