import { DEFAULT_SCHEDULE_KEY, describeThrown, type Clock, type Logger, type Store } from '@tickwork/core';
import { PARTITION_COUNT, partitionOf } from '@tickwork/core/store';

/**
 * Before its first lease a daemon looks at the runner presence until two looks this far apart count
 * the same live runners (at most for one partition TTL): a fleet started together shows up meanwhile
 * (each daemon beats as soon as its store is resolved, before it leases), and a lone daemon takes
 * every partition this much later.
 */
export const JOIN_WAIT_MS = 1_000;

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
 *
 * Cold start: the store's fair share counts the daemons that have leased, so the first of a fleet
 * starting together would take every partition and load every runtime schedule. A daemon's first
 * lease therefore asks for at most its share among the live runners the store's presence lists
 * (`listRunners`; every daemon beats before it leases), itself included: ceil(256 / live runners),
 * counted once two looks {@link JOIN_WAIT_MS} apart agree (the others of a fleet started together
 * beat meanwhile); alone, it then takes every partition. Its later renewals follow the store's fair
 * share alone, so what a runner counted there never took (it died, stopped, or runs without
 * `partitions`) is taken on the next renewal, a third of the TTL later.
 */
export class PartitionShare {
  private held = new Set<number>();
  private dropTimer: NodeJS.Timeout | null = null;
  private events: PartitionEvents | null = null;
  private stopped = false;
  /** Loads of gained partitions, one after the other; renewals never wait for them (a load may outlast the TTL). */
  private loading: Promise<void> = Promise.resolve();
  /** Whether a lease has been answered yet: the first asks for at most the share among the live runners. */
  private leased = false;
  /** The renewal in flight: a release waits for it, so a lease it sends cannot land after the release. */
  private renewing: Promise<void> | null = null;

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
  renew(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const round = this.renewOnce().finally(() => {
      if (this.renewing === round) this.renewing = null;
    });
    this.renewing = round;
    return round;
  }

  private async renewOnce(): Promise<void> {
    if (this.stopped) return;
    const store = this.deps.store;
    if (!store.leasePartitions) return;
    const live = this.leased ? 0 : await this.settledPresence(store);
    if (this.stopped) return;
    const sentAt = this.deps.clock.now().getTime();
    const leases = await store.leasePartitions({
      runnerId: this.deps.runnerId,
      now: new Date(sentAt),
      ttlMs: this.deps.ttlMs,
      ...(live > 1 ? { limit: Math.ceil(PARTITION_COUNT / live) } : {}),
    });
    if (this.stopped) return;
    this.leased = true;
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

  /**
   * Before the first lease: the live runners once two looks {@link JOIN_WAIT_MS} apart agree, or the
   * last look after one partition TTL of looking (0: the store has no runner presence).
   */
  private async settledPresence(store: Store): Promise<number> {
    const began = this.deps.clock.now().getTime();
    let live = await this.liveRunners(store, began);
    for (;;) {
      if (live === 0 || this.stopped || this.deps.clock.now().getTime() - began >= this.deps.ttlMs) return live;
      await new Promise((resolve) => setTimeout(resolve, JOIN_WAIT_MS));
      if (this.stopped) return live;
      const again = await this.liveRunners(store, this.deps.clock.now().getTime());
      if (again === live) return live;
      live = again;
    }
  }

  /** The live runners the store lists, this one included whether or not its first heartbeat has landed (0 without presence). */
  private async liveRunners(store: Store, sentAt: number): Promise<number> {
    if (!store.listRunners) return 0;
    const runners = await store.listRunners({ now: new Date(sentAt) });
    return 1 + runners.filter((runner) => runner.alive && runner.runnerId !== this.deps.runnerId).length;
  }

  /**
   * Stops renewing and frees what is held in the store, so the others take it over at once (a
   * draining daemon calls it as soon as it stops claiming). Waits for the renewal in flight first, so
   * no lease lands after the release. The schedules stay loaded: runs already claimed still run.
   */
  async release(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.dropTimer = null;
    await this.renewing?.catch(() => undefined);
    const release = this.deps.store.releasePartitions?.bind(this.deps.store);
    const held = this.held.size;
    this.held = new Set();
    this.deps.counted(0);
    if (!release || held === 0) return;
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
