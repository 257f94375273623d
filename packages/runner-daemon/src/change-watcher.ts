import {
  describeThrown,
  type Clock,
  type Job,
  type JobState,
  type Logger,
  type RunRecord,
  type ScheduleRef,
  type Store,
} from '@tickwork/core';
import { partitionOf, type Lease, type StoreChange } from '@tickwork/core/store';
import { reapInterrupted } from '@tickwork/core/runner';
import { readSchedules, schedulePages, SCHEDULE_PAGE, type StoredSchedule } from './runtime-schedules.js';
import { scheduleId, type RunTarget, type ScheduleEntry } from './schedule-entry.js';
import type { RunRequests } from './run-requests.js';

/** With push, a full comparison this often repairs a notification lost in a reconnect. */
export const RESYNC_MS = 60_000;

/** What the watcher (and the run-now requests) need from their daemon. */
export interface WatcherHost {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly runnerId: string;
  /** Codes of the jobs this daemon runs (registered and enabled). */
  readonly codes: ReadonlySet<string>;
  /** Whether this daemon runs a runtime schedule (with `partitions: true`: its partition is held). */
  owns(code: string, key: string): boolean;
  /** With `partitions: true`, the partitions held now (a listing asks the store for theirs only); else null. */
  partitions(): readonly number[] | null;
  readonly retentionMs: number | null;
  /** True while started and not stopping. */
  live(): boolean;
  /** True once stopping: changes are no longer recorded. */
  stopped(): boolean;
  /** Whether this daemon's presence is healthy enough to reap dead runners' runs. */
  reapsRunners(): boolean;
  entry(id: string): ScheduleEntry | undefined;
  /** The job of a code this daemon runs (for onFailure of runs it reaps). */
  job(code: string): Job | undefined;
  /** Every loaded entry, the jobs' own and the runtime ones. */
  entries(): Iterable<ScheduleEntry>;
  /** Takes a fresh state of one schedule and re-plans it. */
  applyState(state: JobState): void;
  /** Takes a runtime schedule as just read (definition and state), or its absence: adds, replaces or removes its entry. */
  applySchedule(ref: ScheduleRef, found: StoredSchedule | undefined): void;
  freeCapacity(): number;
  /** Holds capacity while a claim is in flight; call the returned function (with how many, by default all) when it settles. */
  reserve(count: number): (some?: number) => void;
  launch(entry: ScheduleEntry, target: RunTarget, run: RunRecord, lease: Lease, startAt: number): void;
  /** A claim was answered `paused` (re-read the state) or `unscheduled` (hold the runtime schedule until it is read again). */
  refused(entry: ScheduleEntry, status: 'paused' | 'unscheduled'): void;
  retryDelayMs(): number;
  untilStored<T>(what: string, body: () => Promise<T>): Promise<T>;
  /** Re-arms the timer if a claim backoff may have ended. */
  rearm(): void;
}

/**
 * Runtime changes without restart: store notifications (or polling), coalesced re-reads of only
 * the changed schedules (states, and runtime schedules with their states), reaping of expired
 * leases, and pruning. Every re-read goes through one queue, so reads are applied in the order
 * they were made.
 */
export class ChangeWatcher {
  private readonly stateIds = new Set<string>();
  private readonly scheduleRefs = new Map<string, ScheduleRef>();
  private refreshing: Promise<void> | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** The store's schedules revision as of the last complete listing (or load). */
  private revision: string | null = null;

  constructor(
    private readonly host: WatcherHost,
    private readonly requests: RunRequests,
  ) {}

  /** Whether the store pushes changes to this daemon (else every poll looks for them). */
  get pushed(): boolean {
    return this.unsubscribe !== null;
  }

  /** Stops the subscription. */
  async close(): Promise<void> {
    await this.unsubscribe?.().catch(() => undefined);
    this.unsubscribe = null;
  }

  /**
   * Subscribes to store changes when the store can push them. Called before the schedules are
   * loaded: a change made during the load is queued and re-read once the daemon is live.
   */
  async subscribe(): Promise<void> {
    const store = this.host.store;
    if (!store.capabilities.changeSubscription || !store.subscribe) return;
    try {
      this.unsubscribe = await store.subscribe((change) => this.onChange(change));
    } catch (error) {
      this.host.logger.warn({ err: describeThrown(error).message }, 'change subscription failed; polling state instead');
    }
  }

  /** Notes the store's schedules revision before a full load, so a later poll sees whether anything moved since. */
  async markRevision(): Promise<void> {
    this.revision = await this.host.store.schedulesRevision();
  }

  /** Starts re-reading what changed while the daemon was loading. */
  start(): void {
    this.kick();
  }

  private onChange(change: StoreChange): void {
    if (this.host.stopped()) return;
    const id = scheduleId(change.code, change.key);
    if (change.type === 'run-request') this.requests.notified(change);
    else if (change.type === 'schedule') {
      if (this.host.codes.has(change.code) && this.host.owns(change.code, change.key)) this.refreshSchedule(change);
    } else if (this.host.entry(id)) this.refreshState(id);
  }

  /** Re-reads one schedule's state; changes arriving together are coalesced into one call. */
  refreshState(id: string): void {
    this.stateIds.add(id);
    this.kick();
  }

  /** Re-reads one runtime schedule with its state (then adds, replaces or removes its entry); coalesced likewise. */
  refreshSchedule(ref: ScheduleRef): void {
    this.scheduleRefs.set(scheduleId(ref.code, ref.key), { code: ref.code, key: ref.key });
    this.kick();
  }

  /** Resolves once every re-read queued so far has been applied (or the daemon stops). */
  async settled(): Promise<void> {
    while (this.refreshing) await this.refreshing;
  }

  private kick(): void {
    if (this.refreshing || !this.host.live()) return;
    this.refreshing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.refresh())
      .finally(() => {
        this.refreshing = null;
      });
  }

  private async refresh(): Promise<void> {
    while ((this.scheduleRefs.size > 0 || this.stateIds.size > 0) && this.host.live()) {
      const refs = first(this.scheduleRefs.values(), SCHEDULE_PAGE);
      for (const ref of refs) {
        this.scheduleRefs.delete(scheduleId(ref.code, ref.key));
        // A schedule re-read brings its state along.
        this.stateIds.delete(scheduleId(ref.code, ref.key));
      }
      const ids = first(this.stateIds, SCHEDULE_PAGE);
      for (const id of ids) this.stateIds.delete(id);
      const stateRefs = ids
        .map((id) => this.host.entry(id))
        .filter((e) => e !== undefined)
        .map((e) => ({ code: e.job.code, key: e.key }));
      try {
        const [schedules, states] = await Promise.all([
          refs.length > 0 ? readSchedules(this.host.store, refs) : new Map<string, StoredSchedule>(),
          stateRefs.length > 0 ? this.host.store.getStates(stateRefs) : [],
        ]);
        for (const ref of refs) this.host.applySchedule(ref, schedules.get(scheduleId(ref.code, ref.key)));
        for (const state of states) this.host.applyState(state);
      } catch {
        for (const ref of refs) this.scheduleRefs.set(scheduleId(ref.code, ref.key), ref);
        for (const id of ids) this.stateIds.add(id);
        await new Promise((resolve) => setTimeout(resolve, this.host.retryDelayMs()));
      }
    }
  }

  /**
   * One poll round: reap expired leases, (without push) find changed runtime schedules and states,
   * then take run-now requests — after the re-reads, so a just-paused schedule's request waits for its resume.
   */
  async poll(): Promise<void> {
    const store = this.host.store;
    const now = this.host.clock.now();
    // Core's reaping: each interrupted run comes to one runner, which calls its job's onFailure.
    const reaped = await reapInterrupted(store, now, (code) => this.host.job(code), this.host.logger, {
      runners: this.host.reapsRunners(),
    });
    for (const { run } of reaped) {
      if (this.host.entry(scheduleId(run.code, run.key))) this.refreshState(scheduleId(run.code, run.key));
    }
    if (!this.pushed && this.host.live()) {
      await this.compareSchedules();
      // One read of every state: cheap on the stores that lack push (SQLite, an in-process memory store).
      this.applyChanged(await store.getStates());
      await this.settled();
    }
    await this.requests.poll();
    this.host.rearm();
  }

  /**
   * With push, every {@link RESYNC_MS}: what a lost notification may have missed — runtime
   * schedules when the revision moved, and every loaded schedule's state, read in pages of
   * {@link SCHEDULE_PAGE} (bounded calls, whatever the number of schedules).
   */
  async resync(): Promise<void> {
    if (!this.host.live()) return;
    await this.compareSchedules();
    const entries = [...this.host.entries()];
    for (let i = 0; i < entries.length && this.host.live(); i += SCHEDULE_PAGE) {
      const refs = entries.slice(i, i + SCHEDULE_PAGE).map((entry) => ({ code: entry.job.code, key: entry.key }));
      this.applyChanged(await this.host.store.getStates(refs));
    }
  }

  /**
   * When the store's schedules revision moved since the last look: lists the runtime schedules and
   * re-reads those whose version differs from the loaded one, new ones and removed ones.
   */
  private async compareSchedules(): Promise<void> {
    const store = this.host.store;
    const revision = await store.schedulesRevision();
    if (revision === this.revision) return;
    const listed = new Set<string>();
    const changed: ScheduleRef[] = [];
    const partitions = this.host.partitions() ?? undefined;
    for await (const page of schedulePages(store, this.host.codes, (code, key) => this.host.owns(code, key), partitions)) {
      for (const schedule of page) {
        const id = scheduleId(schedule.code, schedule.key);
        listed.add(id);
        if (this.host.entry(id)?.version !== schedule.version) changed.push(schedule);
      }
    }
    for (const entry of this.host.entries()) {
      if (entry.version !== null && !listed.has(entry.id)) changed.push({ code: entry.job.code, key: entry.key });
    }
    this.revision = revision;
    for (const ref of changed) this.refreshSchedule(ref);
    await this.settled();
  }

  private applyChanged(states: readonly JobState[]): void {
    for (const state of states) {
      const entry = this.host.entry(scheduleId(state.code, state.key));
      if (entry && changedSince(entry.state, state)) this.host.applyState(state);
    }
  }

  /**
   * Loads the runtime schedules of partitions just taken: lists them, then re-reads each through
   * the one queue (so a change read meanwhile is never overtaken by this older listing).
   */
  async loadPartitions(partitions: ReadonlySet<number>): Promise<void> {
    const keep = (code: string, key: string) => partitions.has(partitionOf(code, key));
    for await (const page of schedulePages(
      this.host.store,
      this.host.codes,
      keep,
      [...partitions].sort((a, b) => a - b),
    )) {
      for (const schedule of page) this.refreshSchedule(schedule);
    }
    await this.settled();
  }

  /** Deletes finished runs older than the retention. */
  async prune(): Promise<void> {
    const olderThan = new Date(this.host.clock.now().getTime() - (this.host.retentionMs as number));
    const deleted = await this.host.store.pruneRuns({ olderThan });
    if (deleted > 0) this.host.logger.info({ deleted, olderThan: olderThan.toISOString() }, 'pruned old runs');
  }
}

/** The first `count` items, oldest first. */
function first<T>(items: Iterable<T>, count: number): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (out.length >= count) break;
    out.push(item);
  }
  return out;
}

/**
 * Whether a state read from the store differs from what the daemon holds. `updatedAt` alone
 * misses a change made in the same millisecond as the daemon's last read.
 */
function changedSince(held: JobState, read: JobState): boolean {
  return (
    read.updatedAt.getTime() !== held.updatedAt.getTime() ||
    read.paused !== held.paused ||
    (read.resumedAt?.getTime() ?? null) !== (held.resumedAt?.getTime() ?? null) ||
    JSON.stringify(read.scheduleOverride) !== JSON.stringify(held.scheduleOverride)
  );
}
