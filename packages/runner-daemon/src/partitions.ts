import { DEFAULT_SCHEDULE_KEY, describeThrown, type Clock, type Logger, type Store } from '@tickwork/core';
import { partitionOf } from '@tickwork/core/store';

/** What the daemon does when its share changes. */
export interface PartitionEvents {
  /** Partitions just taken: load their runtime schedules. */
  gained(partitions: ReadonlySet<number>): Promise<void>;
  /** Partitions given up (rebalanced away, or the lease about to end unrenewed): drop their runtime schedules now. */
  lost(partitions: ReadonlySet<number>): void;
}

/**
 * This daemon's share of the partitioned runtime schedules (`partitions: true`): leases its
 * partitions through the store's `leasePartitions` every third of the TTL, and tells the daemon
 * what it gained and lost. The store decides every hand-over; this only follows its answers.
 * When renewals fail, the daemon drops every partition at five sixths of the TTL after the last
 * renewal it sent, before the store may hand them to another daemon (their slot claims are
 * exactly-once regardless: this bounds duplicate work and memory, not correctness).
 */
export class PartitionShare {
  private held = new Set<number>();
  private dropTimer: NodeJS.Timeout | null = null;
  private events: PartitionEvents | null = null;
  private stopped = false;
  /** Loads of gained partitions, one after the other; renewals never wait for them (a load may outlast the TTL). */
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      store: Store;
      runnerId: string;
      clock: Clock;
      logger: Logger;
      ttlMs: number;
      /** The held count changed (a metric). */
      counted: (held: number) => void;
    },
  ) {}

  /** How many partitions are held. */
  get size(): number {
    return this.held.size;
  }

  /** The partitions held, ascending (what a listing of this daemon's runtime schedules asks the store for). */
  partitions(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  /** Whether this daemon runs the schedule: a job's own schedule always, a runtime schedule when its partition is held. */
  owns(code: string, key: string): boolean {
    return key === DEFAULT_SCHEDULE_KEY || this.held.has(partitionOf(code, key));
  }

  /** From now on, renewals report what they gained and lost (before this, the first lease is loaded with the schedules). */
  listen(events: PartitionEvents): void {
    this.events = events;
  }

  /** Resolves once the loads of every partition gained so far have finished. */
  loaded(): Promise<void> {
    return this.loading;
  }

  /** One renewal: leases the share, then reports what was lost (at once) and gained (its load queued, not awaited). */
  async renew(): Promise<void> {
    if (this.stopped) return;
    const store = this.deps.store;
    if (!store.leasePartitions) return;
    const sentAt = this.deps.clock.now().getTime();
    const leases = await store.leasePartitions({ runnerId: this.deps.runnerId, now: new Date(sentAt), ttlMs: this.deps.ttlMs });
    if (this.stopped) return;
    const next = new Set(leases.partitions.map((lease) => lease.partition));
    const lost = new Set([...this.held].filter((p) => !next.has(p)));
    const gained = new Set([...next].filter((p) => !this.held.has(p)));
    this.held = next;
    this.armDrop(sentAt + Math.floor((this.deps.ttlMs * 5) / 6));
    this.deps.counted(next.size);
    if (lost.size > 0 || gained.size > 0) {
      this.deps.logger.info(
        { held: next.size, gained: gained.size, lost: lost.size, share: leases.share, runners: leases.runners },
        'partition share changed',
      );
    }
    if (lost.size > 0) this.events?.lost(lost);
    const events = this.events;
    if (gained.size > 0 && events) {
      this.loading = this.loading
        .then(() => events.gained(gained))
        .catch((error: unknown) =>
          this.deps.logger.warn(
            { err: describeThrown(error).message },
            'loading the schedules of gained partitions failed; the next resync re-reads them',
          ),
        );
    }
  }

  /** Stops renewing and frees what is held in the store, so the others take it over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.dropTimer = null;
    const release = this.deps.store.releasePartitions?.bind(this.deps.store);
    if (!release || this.held.size === 0) return;
    try {
      await release({ runnerId: this.deps.runnerId });
    } catch (error) {
      this.deps.logger.warn({ err: describeThrown(error).message }, 'releasing partitions failed; the others take them over after the TTL');
    }
  }

  private armDrop(atMs: number): void {
    if (this.dropTimer) clearTimeout(this.dropTimer);
    const delay = Math.max(0, atMs - this.deps.clock.now().getTime());
    this.dropTimer = setTimeout(() => {
      this.dropTimer = null;
      if (this.held.size === 0 || this.stopped) return;
      const lost = this.held;
      this.held = new Set();
      this.deps.counted(0);
      this.deps.logger.warn({ lost: lost.size }, 'partition lease not renewed in time: dropping every partition until the store answers');
      this.events?.lost(lost);
    }, delay);
    this.dropTimer.unref?.();
  }
}
