import {
  DEFAULT_SCHEDULE_KEY,
  type Clock,
  type Job,
  type JobState,
  type Logger,
  type RuntimeSchedule,
  type ScheduleRef,
  type Store,
} from '@tickwork/core';
import type { DaemonMetrics } from './metrics.js';
import { type Keep, loadSchedules, type StoredSchedule } from './runtime-schedules.js';
import {
  applyFreshState,
  applyRuntimeSchedule,
  createEntry,
  dueAtOf,
  scheduleId,
  type PlanOptions,
  type ScheduleEntry,
} from './schedule-entry.js';
import { SharedValues } from './shared-values.js';
import { SlotQueue } from './slot-queue.js';

/** A schedule as a daemon holds it: what `DaemonHandle.loadedSchedule` reports. */
export interface LoadedSchedule {
  code: string;
  key: string;
  /** The runtime schedule's version this daemon runs; null for a job's own schedule. */
  version: number | null;
  /** The effective enabled flag (job and runtime schedule). */
  enabled: boolean;
  paused: boolean;
  /** When it next wants a claim, or null (disabled, paused, held, nothing left to run). */
  nextDueAt: Date | null;
  /** The runtime schedule's payload; undefined for a job's own schedule. */
  payload: unknown;
}

/** ensureStates batch at start-up. */
const STATE_BATCH = 5_000;

/**
 * Every schedule a daemon holds — the jobs' own and their runtime schedules, keyed by (code, key) —
 * and the min-heap of their next instants. Adds, replaces and removes entries as the store says,
 * and re-plans each from its state; the daemon claims from the queue's top.
 */
export class LoadedSchedules {
  readonly queue = new SlotQueue<ScheduleEntry>();
  private readonly entries = new Map<string, ScheduleEntry>();
  private readonly shared: SharedValues;
  private runtimeCount = 0;

  constructor(
    private readonly deps: {
      /** Enabled jobs by code: the schedules held are theirs. */
      jobs: ReadonlyMap<string, Job>;
      timezone: string;
      clock: Clock;
      logger: Logger;
      metrics: DaemonMetrics;
      plan: PlanOptions;
      /** An entry was re-planned or removed: the daemon ends its wait and re-arms its timer. */
      changed: (entry: ScheduleEntry) => void;
    },
  ) {
    this.shared = new SharedValues(deps.timezone, () => this.entries.size);
  }

  /** How many are held: the jobs' own and runtime ones. */
  get counts(): { code: number; runtime: number } {
    return { code: this.entries.size - this.runtimeCount, runtime: this.runtimeCount };
  }

  /** The entry of a schedule, by {@link scheduleId}. */
  get(id: string): ScheduleEntry | undefined {
    return this.entries.get(id);
  }

  /** Every entry held. */
  values(): IterableIterator<ScheduleEntry> {
    return this.entries.values();
  }

  /** False once the entry was removed (a removed runtime schedule whose claim or run was still going). */
  holds(entry: ScheduleEntry): boolean {
    return this.entries.get(entry.id) === entry;
  }

  /**
   * Loads the jobs' own schedules (creating missing states) and the runtime schedules of those
   * jobs that `keep` keeps (pages of 1,000 with their states; with `partitions`, the store lists only
   * theirs), then computes every next instant.
   */
  async load(store: Store, keep?: Keep, partitions?: readonly number[]): Promise<void> {
    this.entries.clear();
    this.runtimeCount = 0;
    const jobs = [...this.deps.jobs.values()];
    const now = this.deps.clock.now();
    for (let i = 0; i < jobs.length; i += STATE_BATCH) {
      const chunk = jobs.slice(i, i + STATE_BATCH);
      const states = await store.ensureStates(
        chunk.map((job) => ({ code: job.code, key: DEFAULT_SCHEDULE_KEY })),
        now,
      );
      chunk.forEach((job, index) => {
        this.add(job, states[index] as JobState);
      });
    }
    for await (const page of loadSchedules(store, new Set(this.deps.jobs.keys()), keep, partitions)) {
      for (const { schedule, state } of page) {
        // Asked again on arrival: a partition given up while its page's states were read is not loaded.
        if (keep && !keep(schedule.code, schedule.key)) continue;
        this.add(this.deps.jobs.get(schedule.code) as Job, state, schedule);
      }
    }
    this.countLoaded();
    const nowMs = this.deps.clock.now().getTime();
    for (const entry of this.entries.values()) this.requeue(entry, nowMs, true);
  }

  /**
   * Computes the entry's next instant (with `catchUp`, a slot already due makes it due now) and moves
   * it in the queue — unless a claim of it is in flight: that claim's outcome re-plans it.
   */
  requeue(entry: ScheduleEntry, nowMs: number, catchUp: boolean): void {
    if (!this.holds(entry) || entry.phase.name === 'claiming') return;
    entry.dueAt = dueAtOf(entry, nowMs, { ...this.deps.plan, catchUp });
    this.queue.update(entry);
    this.deps.metrics.scheduled.set(this.queue.size);
    this.deps.changed(entry);
  }

  /** Takes a fresh state of a held schedule and re-plans it. */
  applyState(state: JobState): void {
    const entry = this.entries.get(scheduleId(state.code, state.key));
    if (!entry) return;
    const error = applyFreshState(entry, state, this.shared);
    if (error) this.invalid(entry, error);
    this.requeue(entry, this.deps.clock.now().getTime(), true);
  }

  /**
   * A runtime schedule as just read with its state: adds its entry, or replaces the definition of
   * the held one and re-plans it from the fresh state; when it is gone, removes the entry (a run
   * of it already going on finishes and is recorded).
   */
  applySchedule(ref: ScheduleRef, found: StoredSchedule | undefined): void {
    const entry = this.entries.get(scheduleId(ref.code, ref.key));
    const job = this.deps.jobs.get(ref.code);
    if (!found || !job) {
      if (entry) this.remove(entry);
      return;
    }
    const nowMs = this.deps.clock.now().getTime();
    if (!entry) {
      this.requeue(this.add(job, found.state, found.schedule), nowMs, true);
      this.countLoaded();
      return;
    }
    const error = applyRuntimeSchedule(entry, job, found.schedule, found.state, this.shared);
    if (error) this.invalid(entry, error);
    this.requeue(entry, nowMs, true);
  }

  /** Takes what this daemon learnt of a schedule's state from its own claims and runs (in place: the entry owns its state). */
  learn(entry: ScheduleEntry, change: Partial<JobState>): void {
    this.shared.state(Object.assign(entry.state, change));
  }

  /** What the daemon holds for one schedule, or null. */
  inspect(ref: ScheduleRef): LoadedSchedule | null {
    const entry = this.entries.get(scheduleId(ref.code, ref.key));
    if (!entry) return null;
    return {
      code: entry.job.code,
      key: entry.key,
      version: entry.version,
      enabled: entry.job.enabled,
      paused: entry.state.paused,
      nextDueAt: entry.dueAt === null ? null : new Date(entry.dueAt),
      payload: entry.payload,
    };
  }

  /** Adds the entry of a job's own schedule, or of one of its runtime schedules; not queued yet. */
  private add(job: Job, state: JobState, runtime?: RuntimeSchedule): ScheduleEntry {
    const { entry, error } = createEntry(job, state, this.shared, runtime);
    if (error) this.invalid(entry, error);
    this.entries.set(entry.id, entry);
    if (runtime) this.runtimeCount++;
    return entry;
  }

  /** Drops the runtime schedules `gone` says (their partition went to another daemon); a run of one going on finishes and is recorded. */
  drop(gone: (entry: ScheduleEntry) => boolean): number {
    const dropped = [...this.entries.values()].filter((entry) => entry.version !== null && gone(entry));
    for (const entry of dropped) this.remove(entry, false);
    return dropped.length;
  }

  private remove(entry: ScheduleEntry, log = true): void {
    this.entries.delete(entry.id);
    this.queue.remove(entry);
    this.runtimeCount--;
    this.countLoaded();
    this.deps.metrics.scheduled.set(this.queue.size);
    this.deps.changed(entry);
    if (log) this.deps.logger.info({ job: entry.job.code, key: entry.key, running: entry.running }, 'runtime schedule removed');
  }

  private invalid(entry: ScheduleEntry, error: string): void {
    const what = entry.version === null ? 'stored schedule override' : 'stored runtime schedule';
    this.deps.logger.error({ job: entry.job.code, key: entry.key, err: error }, `${what} is invalid; schedule not armed`);
  }

  private countLoaded(): void {
    const { code, runtime } = this.counts;
    this.deps.metrics.loaded.set({ source: 'code' }, code);
    this.deps.metrics.loaded.set({ source: 'runtime' }, runtime);
  }
}
