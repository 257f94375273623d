import { DEFAULT_SCHEDULE_KEY, describeThrown, type Job, type Logger, type ScheduleRef, type Store } from '@tickwork/core';
import { type ClaimOutcome, partitionOf, type RunRecord, type SlotClaim } from '@tickwork/core/store';
import {
  alertInterrupted,
  checkOverdue,
  createStoreClock,
  jitterMs,
  resolveStore,
  startRunnerPresence,
  type RunnerPresenceHandle,
  type StoreClock,
  type ExecutedRun,
  type NotRun,
} from '@tickwork/core/runner';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { startHealthServer, type DaemonHealth, type HealthServer } from './http.js';
import { batchRunWrites } from './batching-store.js';
import { createDaemonMetrics, type DaemonMetrics } from './metrics.js';
import { observeStore } from './observed-store.js';
import { resolveDaemonOptions, type DaemonOptions, type DaemonSource, type ResolvedDaemonOptions } from './options.js';
import { LoadedSchedules, type LoadedSchedule } from './loaded-schedules.js';
import {
  endClaim,
  endWait,
  planEntry,
  runnable,
  runnerSeed,
  startClaim,
  startWait,
  type RunTarget,
  type ScheduleEntry,
} from './schedule-entry.js';
import { type CancelRepeat, repeatEvery, retryUntilStored, settledWithin } from './repeat.js';
import { ChangeWatcher, RESYNC_MS, type WatcherHost } from './change-watcher.js';
import { DaemonStartError } from './errors.js';
import { PartitionShare } from './partitions.js';

/** After the shutdown grace aborts the handlers, how long stop() still waits for one that ignores its signal. */
export const ABANDON_AFTER_ABORT_MS = 5_000;

/**
 * How long teardown waits for the periodic store work in flight (a poll, prune, dead-man check,
 * partition renewal or load, clock sync, heartbeat) before it closes the store. On a store that
 * answers, a round ends in milliseconds; one still going after this waits on a store that does not
 * answer, whose own bound (PostgreSQL's `queryTimeoutMs`, 20 s by default; Redis' `commandTimeoutMs`,
 * 5 s) would only end it in failure, so the store is closed under it rather than holding stop() longer.
 */
export const ROUNDS_SETTLE_MS = 5_000;

/** How often a daemon with `storeClock` re-measures its offset to the store's clock. */
const CLOCK_SYNC_MS = 60_000;
import { RunRequests } from './run-requests.js';
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
  /** One schedule as this daemon holds it right now (a job's own, key '', or a runtime one), or null when it holds none. */
  loadedSchedule(ref: ScheduleRef): LoadedSchedule | null;
  /** Stops claiming, lets running handlers finish within `shutdownGraceMs`, then aborts them (`interrupted`). */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_ADAPTIVE_PRECLAIM_MS = 5_000;
/** The least a run is counted for in the claim budget: a handler that returns at once measures 0 ms. */
const MIN_RUN_COST_MS = 1;
/** Most runs one daemon holds claimed ahead, whatever its budget (bounds the memory of a burst of quick handlers). */
const MAX_HELD_AHEAD = 10_000;
/** Most claims one store call carries. */
const CLAIM_CHUNK = 1_000;
/** How often a daemon re-reads the live runners to space its point among theirs (see spreadBursts). */
const SPREAD_EVERY_MS = 15_000;
/** Claim calls of one batch in flight at once. */
const CLAIMS_IN_FLIGHT = 2;

/** One slot planned for a claim: what it runs and when. */
interface Plan {
  entry: ScheduleEntry;
  target: RunTarget;
  claim: SlotClaim;
  startAt: number;
  /** This claim is of the slot waiting in the store, and the entry's next slot is claimed right after it in the same call. */
  followed?: boolean;
}

/**
 * Where the daemon is in its life (Temporal's worker states): `initialized` until the store is
 * resolved, the schedules loaded and the timers armed; `running`; `draining` from `stop()` (no new
 * claims, running handlers given the shutdown grace); `stopped` once drained and torn down;
 * `failed` when it could not start. `drained` is what every `stop()` call returns.
 */
type Lifecycle =
  | { readonly phase: 'initialized' }
  | { readonly phase: 'running' }
  | { readonly phase: 'draining'; readonly drained: Promise<void> }
  | { readonly phase: 'stopped'; readonly drained: Promise<void> }
  | { readonly phase: 'failed'; readonly error: unknown };

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
  /** The resolved options, with `clock` on the store's time when `storeClock` is on. */
  private readonly options: ResolvedDaemonOptions;
  private readonly storeClock: StoreClock | null;
  private readonly logger: Logger;
  private readonly metrics: DaemonMetrics;
  /** Enabled jobs by code: every schedule this daemon runs is one of theirs. */
  private readonly jobs: ReadonlyMap<string, Job>;
  private readonly schedules: LoadedSchedules;
  private readonly timer: WakeTimer;
  private readonly launcher: RunLauncher;
  private store: Store | null = null;
  private watcher: ChangeWatcher | null = null;
  /** Heartbeats into the store (null: the store has no runner presence); kept until teardown, so a draining daemon stays alive. */
  private presence: RunnerPresenceHandle | null = null;
  /** With `partitions: true`, this daemon's share of the runtime schedules (null: it loads them all). */
  private share: PartitionShare | null = null;
  private readonly startedAt: Date;
  private closeStore: (() => Promise<void>) | null = null;
  private server: HealthServer | null = null;
  private loops: CancelRepeat[] = [];
  private lifecycle: Lifecycle = { phase: 'initialized' };
  /** The scheduled claim in flight (one at a time); a draining daemon waits for it, so what it claimed runs. */
  private claimInFlight: Promise<void> | null = null;
  /** Slots whose claim is in flight (scheduled or run-now): counted against maxConcurrentRuns. */
  private reserved = 0;
  /** How long claiming the last burst took, its waves' round trips plus arming (at start: loading the states, a fair proxy). */
  private claimLatencyMs = 0;
  /** The instant whose slots the last wakes claimed wave after wave, and when its first wave began. */
  private burst: { at: number; began: number } | null = null;
  private readonly storeHealth: StoreHealth;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;

  constructor(options: ResolvedDaemonOptions) {
    // One clock object for every part of the daemon; with `storeClock` it carries the offset to the store's.
    // Read at each sync: the store is resolved in start(), after the parts below took the clock.
    this.storeClock = options.storeClock ? createStoreClock(() => this.store as Store, { base: options.clock, samples: 5 }) : null;
    this.options = this.storeClock ? { ...options, clock: this.storeClock } : options;
    this.startedAt = options.clock.now();
    const base = options.logger ?? (pino({ name: 'tickwork-daemon' }) as unknown as Logger);
    this.logger = base.child({ runner: options.runnerId });
    this.metrics = createDaemonMetrics(options.runnerId, { perKey: options.metricsPerKey });
    this.jobs = new Map(options.registry.jobs.filter((job) => job.enabled).map((job) => [job.code, job]));
    this.schedules = new LoadedSchedules({
      jobs: this.jobs,
      timezone: options.timezone,
      clock: this.options.clock,
      logger: this.logger,
      metrics: this.metrics,
      plan: { missedGraceMs: options.missedGraceMs },
      changed: (entry) => {
        this.stopWaiting(entry);
        this.armNext();
      },
    });
    this.schedules.queue.setOffset(runnerSeed(options.runnerId));
    this.timer = new WakeTimer(this.options.clock, () => void this.wake());
    this.storeHealth = new StoreHealth(this.options.clock, this.logger, () => this.armNext());
    this.launcher = new RunLauncher({
      store: () => this.store as Store,
      clock: this.options.clock,
      logger: this.logger,
      metrics: this.metrics,
      maxConcurrentRuns: options.maxConcurrentRuns,
      events: { finished: (entry, record) => this.runFinished(entry, record), freed: () => this.armNext() },
      notRun: (entry, run) => this.notRun(entry, run),
      tracer: options.tracer,
    });
    const done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    const ready = this.start();
    // Callers await one of the two; the other must not crash the process as an unhandled rejection.
    done.catch(() => undefined);
    ready.catch((error: unknown) => {
      if (!this.stopRequested) this.lifecycle = { phase: 'failed', error };
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
      metrics: this.metrics.registry,
      health: () => this.health(),
      loadedSchedule: (ref) => this.schedules.inspect(ref),
      stop: () => this.stop(),
      [Symbol.asyncDispose]: () => this.stop(),
    };
  }

  // — lifecycle —

  private async start(): Promise<void> {
    const raw = await resolveStore(this.options.store);
    if (typeof this.options.store === 'function') this.closeStore = () => raw.close();
    // stop() may have run while we awaited: it tore down what existed then; release what came since.
    if (this.stopRequested) return this.teardown();
    this.store = batchRunWrites(
      observeStore(raw, this.metrics, {
        succeeded: () => this.storeHealth.answered(),
        failed: (operation, message) => this.storeHealth.failed(operation, message),
      }),
    );
    if (this.storeClock) {
      // Before anything is planned: every slot instant and lease is on the store's time.
      await this.untilStored('read the store clock', () => this.syncClock());
      this.loops.push(repeatEvery(CLOCK_SYNC_MS, () => this.syncClock(), this.logger));
    }
    // Beating from here on (on the store's clock), so the others see this runner before it claims anything.
    this.presence = startRunnerPresence({
      store: this.store,
      runnerId: this.options.runnerId,
      clock: this.options.clock,
      startedAt: this.startedAt,
      clockOffsetMs: () => (this.storeClock ? this.storeClock.offsetMs : null),
      logger: this.logger,
      ...(this.options.runnerTtlMs === null ? {} : { ttlMs: this.options.runnerTtlMs }),
    });
    if (this.options.partitions) {
      if (!this.store.leasePartitions || !this.store.releasePartitions)
        throw new DaemonStartError(`partitions: true needs a store with leasePartitions; the ${raw.name} store has none`);
      this.share = new PartitionShare({
        store: this.store,
        runnerId: this.options.runnerId,
        clock: this.options.clock,
        logger: this.logger,
        ttlMs: this.options.partitionTtlMs,
        counted: (held) => this.metrics.partitions.set(held),
      });
    }
    if (this.options.http)
      this.server = await startHealthServer({ health: () => this.health(), registry: this.metrics.registry }, this.options.http);
    if (this.stopRequested) return this.teardown();
    const host = this.watcherHost();
    const watcher = new ChangeWatcher(host, new RunRequests(host));
    this.watcher = watcher;
    // Subscribed before loading, so a change made while the schedules load is re-read after.
    await watcher.subscribe();
    if (this.stopRequested) return this.teardown();
    const share = this.share;
    let renewing = false;
    await this.untilStored('load schedules', async () => {
      // Before listing: a change made during the load moves the revision past this one, so the first look sees it.
      await watcher.markRevision();
      const began = this.options.clock.now().getTime();
      // The first share before the first listing: the load keeps only its partitions' runtime schedules.
      // Renewals go on during the load (a long one must not let the lease lapse), and what they
      // gain or lose meanwhile is applied like later changes.
      if (share && !renewing) {
        await share.renew();
        share.listen({
          gained: (partitions) => watcher.loadPartitions(partitions),
          lost: (partitions) => {
            const dropped = this.schedules.drop((entry) => partitions.has(partitionOf(entry.job.code, entry.key)));
            this.logger.info({ partitions: partitions.size, dropped }, 'runtime schedules of partitions given up dropped');
          },
        });
        renewing = true;
        this.loops.push(repeatEvery(Math.max(1, Math.floor(this.options.partitionTtlMs / 3)), () => share.renew(), this.logger));
      }
      await this.schedules.load(this.store as Store, (code, key) => this.owns(code, key), share?.partitions());
      // The first estimate of a claim round trip: loading takes about as long as claiming as many slots.
      this.claimLatencyMs = this.sinceMs(began);
    });
    if (this.stopRequested) return this.teardown();
    this.loops.push(repeatEvery(this.options.pollIntervalMs, () => watcher.poll(), this.logger));
    if (watcher.pushed) this.loops.push(repeatEvery(RESYNC_MS, () => watcher.resync(), this.logger));
    if (this.options.retentionMs !== null) this.loops.push(repeatEvery(this.options.pruneIntervalMs, () => watcher.prune(), this.logger));
    this.loops.push(repeatEvery(this.options.overdueIntervalMs, () => this.checkOverdue(), this.logger));
    if (this.store.listRunners) {
      // The first listing at once, and waited for at teardown like the loops' rounds.
      const first = this.spreadBursts().catch((error: unknown) =>
        this.logger.warn({ err: describeThrown(error).message }, 'listing the live runners failed; retrying'),
      );
      this.loops.push(() => first);
      this.loops.push(repeatEvery(SPREAD_EVERY_MS, () => this.spreadBursts(), this.logger));
    }
    this.lifecycle = { phase: 'running' };
    watcher.start();
    this.logger.info(
      { schedules: this.schedules.counts, store: raw.name, push: watcher.pushed, http: this.server?.address ?? null },
      'daemon started',
    );
    this.armNext();
  }

  /**
   * The dead-man check (core's `checkOverdue`): this daemon's windows — its jobs' and its loaded
   * runtime schedules' — and the alerts the store hands it, each to exactly one runner.
   */
  private async checkOverdue(): Promise<void> {
    if (this.stopRequested || !this.store) return;
    const windows = [...this.schedules.values()]
      .filter((entry) => entry.key !== DEFAULT_SCHEDULE_KEY)
      .map((entry) => ({
        code: entry.job.code,
        key: entry.key,
        expectSuccessWithinMs: entry.job.enabled ? entry.job.expectSuccessWithinMs : null,
      }));
    await checkOverdue({
      store: this.store,
      now: this.options.clock.now(),
      jobs: this.options.registry.jobs,
      windows,
      fallback: this.options.onOverdue,
      logger: this.logger,
    });
  }

  /**
   * Spaces the live runners' points evenly on the circle that orders an instant's schedules: the
   * i-th of K live runners (by id, as the store lists them) starts at i/K of it. So K daemons claiming
   * one burst walk K equal arcs first (before that, and for a runner not listed, its id's hash).
   */
  private async spreadBursts(): Promise<void> {
    const store = this.store as Store;
    if (!store.listRunners || this.stopRequested) return;
    const live = (await store.listRunners({ now: this.options.clock.now() })).filter((runner) => runner.alive);
    const index = live.findIndex((runner) => runner.runnerId === this.options.runnerId);
    if (index < 0 || this.stopRequested) return;
    this.schedules.queue.setOffset(Math.floor((index * 2 ** 32) / live.length));
  }

  /** Re-measures the offset to the store's clock (a store without a clock leaves it 0); a notable one is logged. */
  private async syncClock(): Promise<void> {
    const clock = this.storeClock as StoreClock;
    const before = clock.offsetMs;
    const offset = await clock.sync();
    if (Math.abs(offset - before) >= 100 || Math.abs(offset) >= 1_000) {
      this.logger[Math.abs(offset) >= 1_000 ? 'warn' : 'info']({ offsetMs: offset }, 'clock corrected to the store clock');
    }
  }

  /** Whether this daemon runs a schedule: always without `partitions`, else a job's own one or one of its partitions'. */
  private owns(code: string, key: string): boolean {
    return this.share === null || this.share.owns(code, key);
  }

  /** True from `stop()` on: draining or stopped. */
  private get stopRequested(): boolean {
    return this.lifecycle.phase === 'draining' || this.lifecycle.phase === 'stopped';
  }

  private stop(): Promise<void> {
    const { lifecycle } = this;
    if (lifecycle.phase === 'draining' || lifecycle.phase === 'stopped') return lifecycle.drained;
    // A daemon that failed to start was torn down then; stopping it only waits for that.
    if (lifecycle.phase === 'failed') return this.teardown();
    const draining: { phase: 'draining'; drained: Promise<void> } = { phase: 'draining', drained: Promise.resolve() };
    this.lifecycle = draining;
    draining.drained = this.drain();
    return draining.drained;
  }

  private async drain(): Promise<void> {
    this.timer.disarm();
    this.logger.info({ running: this.launcher.active, graceMs: this.options.shutdownGraceMs }, 'daemon stopping: no new claims');
    let abandon: ReturnType<typeof setTimeout> | null = null;
    const grace = setTimeout(() => {
      if (this.launcher.active > 0) this.logger.warn({ running: this.launcher.active }, 'shutdown grace over: aborting running handlers');
      this.launcher.abortAll();
      // A handler that ignores its aborted signal keeps its lease a while longer, then is given up as the process exits.
      abandon = setTimeout(() => {
        if (this.launcher.active > 0)
          this.logger.warn({ running: this.launcher.active }, 'handlers ignored their abort: recorded interrupted, abandoned');
        this.launcher.abandonAll();
      }, ABANDON_AFTER_ABORT_MS);
    }, this.options.shutdownGraceMs);
    // A claim answered after stop() still launches its runs: wait for it, so they are run (or
    // aborted at the grace) and recorded like every other, never left `running` for the reaper.
    await this.claimInFlight?.catch(() => undefined);
    // Claiming nothing from here on: its partitions go to the others now (their next renewal, every
    // TTL / 3), not after the grace; the runs it claimed are per-slot claims, so they still run here.
    await this.share?.release();
    await this.launcher.settled();
    clearTimeout(grace);
    if (abandon) clearTimeout(abandon);
    await this.teardown();
    this.lifecycle = { phase: 'stopped', drained: (this.lifecycle as { drained: Promise<void> }).drained };
    this.logger.info({}, 'daemon stopped');
    this.resolveDone();
  }

  private async teardown(): Promise<void> {
    this.timer.disarm();
    // A removed entry's wait ended with its removal: the waits left are the held entries'.
    for (const entry of this.schedules.values()) if (entry.phase.name === 'waiting') entry.phase.cancel?.();
    // No round starts from here on; the ones in flight end before the store closes under them.
    const rounds: Promise<unknown>[] = this.loops.map((cancel) => cancel());
    this.loops = [];
    if (this.presence) rounds.push(this.presence.stop());
    this.presence = null;
    if (this.share) rounds.push(this.share.loaded());
    if (rounds.length > 0) {
      this.logger.debug({ rounds: rounds.length, boundMs: ROUNDS_SETTLE_MS }, 'stopping: waiting for periodic store work in flight');
      if (!(await settledWithin(rounds, ROUNDS_SETTLE_MS)))
        this.logger.warn({ boundMs: ROUNDS_SETTLE_MS }, 'periodic store work still in flight at shutdown: closing the store under it');
    }
    // Freed before the store closes, so the other daemons take this one's partitions at once.
    await this.share?.release();
    const { watcher, server, closeStore } = this;
    this.watcher = null;
    this.server = null;
    this.closeStore = null;
    await watcher?.close();
    await server?.close();
    await closeStore?.().catch(() => undefined);
  }

  // — the timer: claim what falls due within preClaimMs, in one round trip —

  /** `nextWave`: the wake continues a burst (see {@link WakeTimer.arm}'s `afterTimers`). */
  private armNext(nextWave = false): void {
    if (this.lifecycle.phase !== 'running' || this.claimInFlight) return;
    const top = this.schedules.queue.peek();
    if (!top || !this.mayClaim(top)) {
      this.timer.arm(null);
      return;
    }
    let at = (top.dueAt as number) - this.preClaimMs();
    if (this.storeHealth.retryAfter !== null) at = Math.max(at, this.storeHealth.retryAfter);
    this.timer.arm(at, nextWave);
  }

  private async wake(): Promise<void> {
    if (this.stopRequested || this.claimInFlight) return;
    const nowMs = this.options.clock.now().getTime();
    const horizon = nowMs + this.preClaimMs();
    let budget = this.claimAllowance();
    // One wave: at most maxConcurrentRuns slots per wake (see claimAllowance).
    const slots = Math.min(this.options.maxConcurrentRuns, this.heldAheadLeft());
    const batch: ScheduleEntry[] = [];
    const { queue } = this.schedules;
    for (let top = queue.peek(); top && (top.dueAt as number) <= horizon && batch.length < slots; top = queue.peek()) {
      const cost = this.runCostMs(top);
      if (cost > budget) break;
      const entry = queue.pop() as ScheduleEntry;
      // Pre-claiming while this daemon's own run of a non-parallel schedule is still going would
      // turn the next slot into an overlap skip; wait for that run to end or the instant to come.
      if (entry.running > 0 && !entry.job.allowParallelRuns && (entry.dueAt as number) > nowMs) this.waitUntilDue(entry);
      else {
        batch.push(entry);
        budget -= cost;
      }
    }
    if (batch.length > 0) {
      const at = batch[0]?.dueAt as number;
      if (this.burst?.at !== at) this.burst = { at, began: this.options.clock.now().getTime() };
      const release = this.reserve(batch.length);
      // In flight before claimBatch runs: what it re-queues synchronously must not arm the timer under it.
      let begin!: (claim: Promise<void>) => void;
      this.claimInFlight = new Promise<void>((resolve) => {
        begin = resolve;
      });
      begin(this.claimBatch(batch, nowMs, release).finally(() => release()));
      try {
        await this.claimInFlight;
      } catch (error) {
        this.logger.error({ err: describeThrown(error).message }, 'claim batch failed unexpectedly');
      } finally {
        this.claimInFlight = null;
      }
      // The burst's claiming goes on only while the next wave can follow at once. That wave waits
      // behind the timers due now: in one process, another daemon's wake at this instant claims its
      // first wave before this one's second (in separate processes the round trip does the same).
      const top = queue.peek();
      if (batch.length < slots || !top || (top.dueAt as number) > horizon || !this.mayClaim(top)) this.endBurst();
      else {
        this.armNext(true);
        return;
      }
    }
    this.armNext();
  }

  /**
   * The waves of one instant were claimed: their whole time (round trips plus arming) is the
   * adaptive lead's measure. Slow decay, so small claims between big bursts (every-second jobs
   * beside minute crons) do not hide the burst's cost.
   */
  private endBurst(): void {
    if (!this.burst) return;
    this.claimLatencyMs = Math.max(this.sinceMs(this.burst.began), this.claimLatencyMs * 0.98);
    this.burst = null;
  }

  /**
   * Ms since `began` on the daemon's clock, as the adaptive lead measures claims (like handlers'
   * times): never negative, and no more than the lead can use, so a step of the clock cannot stretch it.
   */
  private sinceMs(began: number): number {
    return Math.min(MAX_ADAPTIVE_PRECLAIM_MS / 2, Math.max(0, this.options.clock.now().getTime() - began));
  }

  /** Runs this daemon may still start: its capacity less handlers not yet settled and claims in flight. */
  private freeCapacity(): number {
    return this.options.maxConcurrentRuns - this.launcher.holding - this.reserved;
  }

  /**
   * What the next scheduled claim may still take, in ms of expected handler time: the daemon's
   * capacity over the claim lead (`maxConcurrentRuns` places, each for the lead) less what the runs
   * it holds (armed, waiting or running) and the claims in flight cost. A run costs its schedule's
   * last handler time here ({@link runCostMs}). A wake claims one wave, at most `maxConcurrentRuns`
   * slots, and the next wave follows as soon as it is answered while the budget lasts. So a burst
   * of handlers that settle at once is claimed ahead wave after wave — armed before its instant,
   * started through the `maxConcurrentRuns` places in claim order — and daemons claiming it at the
   * same time share it wave by wave (each from its own point, see spreadBursts); handlers not run
   * here yet, or longer than the lead, cost a whole place: then one daemon holds no more than its
   * capacity, and the rest of the burst is left to the other daemons or to the next claim.
   */
  private claimAllowance(): number {
    const lead = this.costLeadMs();
    return this.options.maxConcurrentRuns * lead - this.launcher.holdingCostMs - this.reserved * lead;
  }

  /** Whether a claim may take this entry now (within the budget and the held-ahead bound); a wake takes entries while it may. */
  private mayClaim(entry: ScheduleEntry): boolean {
    return this.heldAheadLeft() > 0 && this.runCostMs(entry) <= this.claimAllowance();
  }

  /** Runs the next scheduled claim may still take, whatever its budget: at most {@link MAX_HELD_AHEAD} (or the capacity) held at once. */
  private heldAheadLeft(): number {
    return Math.max(this.options.maxConcurrentRuns, MAX_HELD_AHEAD) - this.launcher.holding - this.reserved;
  }

  /**
   * What a run of this schedule holds of the claim budget until its handler settles: its last
   * handler's time here (at least {@link MIN_RUN_COST_MS}) — before its first run here, what its
   * state says of its last run anywhere ({@link storedRunMs}) — or the whole lead when neither is
   * known or it took longer.
   */
  private runCostMs(entry: ScheduleEntry): number {
    const lead = this.costLeadMs();
    const last = entry.handlerMs ?? storedRunMs(entry);
    return last === null || last >= lead ? lead : Math.max(MIN_RUN_COST_MS, last);
  }

  /** The claim lead as the budget counts it: never under one run's least cost (a `preClaimMs` of 0 claims at the instant, a place per run). */
  private costLeadMs(): number {
    return Math.max(MIN_RUN_COST_MS, this.preClaimMs());
  }

  /** Holds capacity for `count` slots while their claim is in flight; returns the release (of `some`, by default all still held). */
  private reserve(count: number): (some?: number) => void {
    this.reserved += count;
    let held = count;
    return (some = held) => {
      const released = Math.min(some, held);
      held -= released;
      this.reserved -= released;
    };
  }

  /**
   * How far ahead to claim: the configured lead, or twice the last claim round trip when that is
   * longer (ten thousand slots at one instant take a while), so handlers still start on the instant.
   */
  private preClaimMs(): number {
    return Math.max(this.options.preClaimMs, Math.min(MAX_ADAPTIVE_PRECLAIM_MS, 2 * this.claimLatencyMs));
  }

  /**
   * Plans each entry's slot and claims them, at most {@link CLAIM_CHUNK} per store call with
   * {@link CLAIMS_IN_FLIGHT} calls at once: each call stays short (under a store's command timeout,
   * with other calls interleaving), and the first runs are armed while the rest are being claimed.
   * Capacity is released as each call returns. After a failed call the rest wait for the store.
   */
  private async claimBatch(batch: ScheduleEntry[], nowMs: number, release: (some: number) => void): Promise<void> {
    const plans: Plan[] = [];
    for (const entry of batch) {
      const startAt = Math.max(nowMs, entry.dueAt as number);
      const claims = planEntry(entry, startAt, this.options, this.storeHealth.outages(this.options.clock.now()));
      if (claims.length === 0) {
        this.schedules.requeue(entry, startAt, false);
        continue;
      }
      startClaim(entry);
      entry.backlog = claims.length > 1;
      const target = { job: entry.job, payload: entry.payload };
      // A slot waits in the store (bufferOne/bufferAll/cancelOther): claim it, and the slot due now
      // right after it in the same call (claims apply in order), so that one is judged at its instant.
      const waiting = entry.state.waitingSlotAt !== null && claims.length > 1;
      plans.push({ entry, target, claim: claims[0] as SlotClaim, startAt, ...(waiting ? { followed: true } : {}) });
      if (waiting) plans.push({ entry, target, claim: claims[1] as SlotClaim, startAt });
    }
    release(batch.length - plans.length);
    let next = 0;
    let failed = false;
    const lane = async () => {
      while (next < plans.length && !failed) {
        const chunk = plans.slice(next, next + CLAIM_CHUNK);
        next += CLAIM_CHUNK;
        if (!(await this.claimChunk(chunk))) failed = true;
        release(chunk.length);
      }
    };
    await Promise.all(Array.from({ length: CLAIMS_IN_FLIGHT }, lane));
    if (failed) this.unclaimed(plans.slice(next));
  }

  /** One store call's worth of claims; false when the store failed (the entries stay due). */
  private async claimChunk(plans: Plan[]): Promise<boolean> {
    let outcomes: ClaimOutcome[];
    try {
      outcomes = await (this.store as Store).claimSlots(
        plans.map((p) => p.claim),
        { runnerId: this.options.runnerId, now: this.options.clock.now() },
      );
    } catch {
      // Nothing was claimed (or all of it was, and the retry will read `taken` and the reaper will
      // recover those runs); the entries stay due and are re-planned per their policy when the store is back.
      this.unclaimed(plans);
      this.storeHealth.backOff();
      return false;
    }
    const claimedAt = this.options.clock.now().getTime();
    plans.forEach(({ entry, target, claim, startAt, followed }, index) => {
      // A followed claim's entry stays claiming until the claim after it is answered (or given up).
      if (!followed) endClaim(entry);
      const outcome = outcomes[index] as ClaimOutcome;
      if (outcome.reaped) {
        void alertInterrupted(outcome.reaped, (code) => this.jobs.get(code), this.logger).catch(() => undefined);
        this.watcher?.refreshState(entry.id);
      }
      const slotKnown = () => {
        if (claim.trigger !== 'schedule') return;
        const last = entry.state.lastSlotAt;
        if (!last || last.getTime() < claim.slotAt.getTime()) this.schedules.learn(entry, { lastSlotAt: claim.slotAt });
      };
      switch (outcome.status) {
        case 'claimed':
          slotKnown();
          // The waiting slot started; the next one (if any) shows in this run's completion state.
          if (entry.state.waitingSlotAt?.getTime() === claim.slotAt.getTime() && claim.requestId === undefined)
            this.schedules.learn(entry, { waitingSlotAt: null });
          if (this.launcher.launch(entry, target, outcome.run, outcome.lease, startAt, this.runCostMs(entry))) entry.running++;
          break;
        case 'taken':
          this.metrics.claimsLost.inc();
          slotKnown();
          if (claim.trigger !== 'schedule') this.watcher?.refreshState(entry.id);
          break;
        case 'overlap':
          slotKnown();
          this.metrics.runs.inc({ ...this.metrics.labels(entry.job.code, entry.key), status: 'skipped' });
          this.metrics.skipped.inc({ ...this.metrics.labels(entry.job.code, entry.key), reason: 'overlap' });
          this.logger.info(
            { job: entry.job.code, key: entry.key, slot: claim.slotAt.toISOString() },
            'slot skipped: previous run still holds the lease',
          );
          break;
        case 'waiting':
          slotKnown();
          if (!entry.state.waitingSlotAt || entry.state.waitingSlotAt.getTime() > claim.slotAt.getTime())
            this.schedules.learn(entry, { waitingSlotAt: claim.slotAt });
          this.metrics.runs.inc({ ...this.metrics.labels(entry.job.code, entry.key), status: 'waiting' });
          this.logger.info(
            { job: entry.job.code, key: entry.key, slot: claim.slotAt.toISOString() },
            'slot waits for the running run (overlap policy)',
          );
          break;
        case 'busy':
          // Nothing consumed. The slot claimed right after this one in the same call decides what comes next.
          if (followed) return;
          this.awaitTurn(entry, claim, claimedAt);
          return;
        case 'paused':
        case 'unscheduled':
          this.refused(entry, outcome.status);
          return;
        case 'ended':
          // Another runner claimed the last of its maxRuns scheduled runs: no slot is planned any more (retries and
          // run-now requests still are); the requeue below finds none.
          this.schedules.learn(entry, { scheduledRuns: Math.max(entry.state.scheduledRuns, claim.maxRuns ?? 0) });
          this.logger.info(
            { job: entry.job.code, key: entry.key, maxRuns: claim.maxRuns },
            'schedule ended: its maxRuns scheduled runs were claimed',
          );
          break;
      }
      if (followed) return;
      // An `all`-policy backlog continues after this run ends, so its slots never overlap.
      if (outcome.status === 'claimed' && entry.backlog) startWait(entry);
      else this.schedules.requeue(entry, startAt, entry.backlog);
    });
    return true;
  }

  /**
   * A claim answered `busy`: another run holds the lease and this slot must not be consumed yet. A
   * pre-claim is made again at the slot's instant, where the overlap policy judges it; a slot already
   * due (backfill, retry, the waiting slot) again after a poll interval — or as soon as this daemon's
   * own run of the schedule ends. One held, paused or disabled while the claim was in flight is
   * re-planned instead, like after any other answer: out of the queue until a change makes it runnable.
   */
  private awaitTurn(entry: ScheduleEntry, claim: SlotClaim, nowMs: number): void {
    if (!this.schedules.holds(entry)) return;
    if (!runnable(entry)) {
      this.schedules.requeue(entry, nowMs, false);
      return;
    }
    const instant = claim.slotAt.getTime() + (claim.trigger === 'schedule' ? jitterMs(entry.job, entry.key, claim.slotAt) : 0);
    entry.dueAt = instant > nowMs ? instant : nowMs + this.options.pollIntervalMs;
    this.waitUntilDue(entry);
  }

  /** Planned entries whose claim was not made (the store failed): still due, back in the queue. */
  private unclaimed(plans: readonly Plan[]): void {
    for (const { entry, followed } of plans) {
      if (followed) continue;
      endClaim(entry);
      if (this.schedules.holds(entry)) this.schedules.queue.update(entry);
    }
  }

  // — runs —

  /** Out of the queue until this daemon's own run of it ends, a re-plan, or its `dueAt`. */
  private waitUntilDue(entry: ScheduleEntry): void {
    startWait(entry, () => callAt(this.options.clock, entry.dueAt as number, () => this.stopWaiting(entry)));
  }

  /** Ends a wait (no-op for an entry not waiting): back in the queue at its `dueAt`. */
  private stopWaiting(entry: ScheduleEntry): void {
    if (!endWait(entry) || this.stopRequested || !this.schedules.holds(entry)) return;
    this.schedules.queue.update(entry);
    this.armNext();
  }

  private runFinished(entry: ScheduleEntry, executed: ExecutedRun | null): void {
    entry.running--;
    this.stopWaiting(entry);
    if (!executed?.state) {
      // Refused, or taken over by another runner: the store's state is what counts.
      this.watcher?.refreshState(entry.id);
      return;
    }
    // The state the completion returned is the store's, after this run: streak, retry, waiting slot.
    const { code: _code, key: _key, ...state } = executed.state;
    this.schedules.learn(entry, state);
    const again = executed.run.status !== 'succeeded' || entry.backlog || state.waitingSlotAt !== null;
    if (again && !this.stopRequested) this.schedules.requeue(entry, this.options.clock.now().getTime(), true);
  }

  /**
   * Why a scheduled run claimed ahead of its instant must not start now, from what this daemon holds
   * at the instant (changes reach it within a second by push, within a poll otherwise): its schedule
   * was paused, or its runtime schedule disabled or removed, since the claim. Retries, run-now requests
   * and forced runs are claimed when they start, and go on; so does a slot whose partition was given up
   * since its claim.
   */
  private notRun(entry: ScheduleEntry, run: RunRecord): NotRun | null {
    if (run.trigger !== 'schedule') return null;
    const slot = run.slotAt.toISOString();
    const current = this.schedules.get(entry.id);
    if (!current) {
      // Dropped with its partition (given up to another daemon, `partitions: true`), not removed: the claim is
      // this daemon's and the partition's new owner finds the slot taken, so it runs here as claimed.
      if (entry.key === '' || !this.owns(entry.job.code, entry.key)) return null;
      return { notRun: 'disabled', message: `not run: runtime schedule "${entry.key}" was removed after its slot ${slot} was claimed` };
    }
    if (!current.job.enabled)
      return { notRun: 'disabled', message: `not run: the runtime schedule was disabled after its slot ${slot} was claimed` };
    if (current.state.paused) {
      const note = current.state.pausedNote ? ` (${current.state.pausedNote})` : '';
      return { notRun: 'paused', message: `not run: the schedule was paused${note} after its slot ${slot} was claimed` };
    }
    return null;
  }

  // — runtime changes —

  /** A claim answered `paused` (re-read the state) or `unscheduled` (hold the runtime schedule until it is read again). */
  private refused(entry: ScheduleEntry, status: 'paused' | 'unscheduled'): void {
    if (status === 'paused') {
      this.schedules.learn(entry, { paused: true });
      this.watcher?.refreshState(entry.id);
    } else {
      entry.held = 'stale';
      this.watcher?.refreshSchedule({ code: entry.job.code, key: entry.key });
    }
    this.schedules.requeue(entry, this.options.clock.now().getTime(), false);
  }

  // — plumbing —

  private watcherHost(): WatcherHost {
    return {
      store: this.store as Store,
      clock: this.options.clock,
      logger: this.logger,
      runnerId: this.options.runnerId,
      codes: new Set(this.jobs.keys()),
      owns: (code, key) => this.owns(code, key),
      partitions: () => this.share?.partitions() ?? null,
      retentionMs: this.options.retentionMs,
      live: () => this.lifecycle.phase === 'running',
      stopped: () => this.stopRequested,
      reapsRunners: () => this.presence?.reapsRunners ?? false,
      entry: (id) => this.schedules.get(id),
      job: (code) => this.jobs.get(code),
      entries: () => this.schedules.values(),
      applyState: (state) => this.schedules.applyState(state),
      // A schedule read after its partition went elsewhere is dropped, not added.
      applySchedule: (ref, found) => this.schedules.applySchedule(ref, found && this.owns(ref.code, ref.key) ? found : undefined),
      freeCapacity: () => this.freeCapacity(),
      reserve: (count) => this.reserve(count),
      launch: (entry, target, run, lease, startAt) => {
        if (this.launcher.launch(entry, target, run, lease, startAt, this.runCostMs(entry))) entry.running++;
      },
      refused: (entry, status) => this.refused(entry, status),
      retryDelayMs: () => this.storeHealth.delayMs,
      untilStored: (what, body) => this.untilStored(what, body),
      rearm: () => {
        if (this.storeHealth.retryAfter !== null) this.armNext();
      },
    };
  }

  private untilStored<T>(what: string, body: () => Promise<T>): Promise<T> {
    return retryUntilStored(what, body, { logger: this.logger, stopped: () => this.stopRequested });
  }

  private async health(): Promise<DaemonHealth> {
    if (this.store && !this.stopRequested) await this.store.ping().catch(() => undefined);
    const { phase } = this.lifecycle;
    const top = this.schedules.queue.peek();
    const timersArmed = phase === 'running' && (this.timer.armedAt !== null || this.claimInFlight !== null || !top || !this.mayClaim(top));
    const reason = this.stopRequested
      ? 'stopping'
      : phase !== 'running'
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
      scheduled: this.schedules.queue.size,
      schedules: this.schedules.counts,
      partitions: this.share?.size ?? null,
      lastStoreError: this.storeHealth.lastError,
      clockOffsetMs: this.storeClock?.offsetMs ?? 0,
    };
    this.metrics.healthy.set(health.ok ? 1 : 0);
    return health;
  }
}

/**
 * From the state alone: how long after its slot the schedule's last scheduled run finished (its
 * lateness, handler and recording together, so never less than the handler took), or null when
 * the state holds none. A daemon that just started so knows its quick handlers from a run of the
 * daemon before it: the first burst after a deploy is claimed ahead like the ones after it.
 */
function storedRunMs(entry: ScheduleEntry): number | null {
  const { lastFinishedAt, lastFinishedSlotAt, lastStatus } = entry.state;
  if (!lastFinishedAt || !lastFinishedSlotAt || lastStatus === 'skipped') return null;
  return Math.max(0, lastFinishedAt.getTime() - lastFinishedSlotAt.getTime());
}
