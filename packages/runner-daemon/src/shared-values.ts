import type { Job, JobState } from '@tickwork/core';
import type { CompiledSchedule } from '@tickwork/core/schedule';
import { runtimeJob, ScheduleCache, type RuntimeScheduleDefinition } from '@tickwork/core/runner';

/** The caches are renewed after this many definitions taken in (or twice the schedules held, if more). */
const MIN_RENEWAL = 10_000;
/** Most distinct instants kept for sharing before the table starts afresh. */
const MAX_INSTANTS = 50_000;

/**
 * Equal immutable values shared by the schedules a daemon holds, which is most of what 100,000 of
 * them would otherwise cost: one compiled schedule per (zone, spec) (core's ScheduleCache), one
 * effective job per runtime definition (payload aside), and one `Date` per instant (V8 spends about
 * 100 bytes on each; 100,000 schedules claimed at the same minute then hold one). Nothing shared is
 * ever mutated.
 *
 * The caches only grow, so they are renewed after as many definitions as twice the schedules held
 * (at least 10,000): the compiled forms of schedules changed or removed long ago (one-off reminders,
 * say) do not pile up in a process that runs for months.
 */
export class SharedValues {
  private schedules: ScheduleCache;
  private jobs = new Map<string, Job>();
  private readonly instants = new Map<number, Date>();
  private uses = 0;

  constructor(
    private readonly timezone: string,
    /** How many schedules are held now. */
    private readonly held: () => number,
  ) {
    this.schedules = new ScheduleCache(timezone);
  }

  /** The job's compiled schedule under an optional override (null without either); throws InvalidScheduleError naming the job. */
  compile(job: Job, override: JobState['scheduleOverride']): CompiledSchedule | null {
    return this.schedules.compile(job, override);
  }

  /**
   * `runtimeJob(job, definition)`, one object for every runtime schedule of that job with the same
   * definition and last change (core derives the catch-up floor from `updatedAt`).
   */
  job(base: Job, definition: RuntimeScheduleDefinition & { updatedAt?: Date }): Job {
    this.use();
    const { schedule, timezone, enabled, startAt, expiresAt, description, options } = definition;
    const changed = definition.updatedAt?.getTime() ?? null;
    const id = `${base.code}\u0000${JSON.stringify([schedule, timezone, enabled, startAt, expiresAt, description, options, changed])}`;
    let job = this.jobs.get(id);
    if (!job) {
      job = runtimeJob(base, definition);
      this.jobs.set(id, job);
    }
    return job;
  }

  /** Shares the instants of a state the daemon owns (a store's answer, or its own copy): replaces them in place and returns it. */
  state(state: JobState): JobState {
    state.resumedAt = this.instant(state.resumedAt);
    state.lastSlotAt = this.instant(state.lastSlotAt);
    state.lastFinishedAt = this.instant(state.lastFinishedAt);
    state.lastFinishedSlotAt = this.instant(state.lastFinishedSlotAt);
    state.createdAt = this.instant(state.createdAt);
    state.updatedAt = this.instant(state.updatedAt);
    return state;
  }

  private instant<T extends Date | null>(date: T): T {
    if (date === null) return date;
    const shared = this.instants.get(date.getTime());
    if (shared) return shared as T;
    if (this.instants.size >= MAX_INSTANTS) this.instants.clear();
    this.instants.set(date.getTime(), date);
    return date;
  }

  private use(): void {
    if (++this.uses <= Math.max(MIN_RENEWAL, 2 * this.held())) return;
    this.uses = 0;
    this.schedules = new ScheduleCache(this.timezone);
    this.jobs = new Map();
  }
}
