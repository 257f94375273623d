import { claimAt, DEFAULT_SCHEDULE_KEY, describeThrown, type Clock, type JobState, type Lease, type Logger, type RunRecord, type SlotClaim, type Store, type StoreChange } from '@tickwork/core';
import { scheduleId, type ScheduleEntry } from './schedule-entry.js';

// Without push, state is read every poll; with it, a full read this often repairs a notification lost in a reconnect.
const RESYNC_MS = 60_000;

/** What the watcher needs from its daemon. */
export interface WatcherHost {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly runnerId: string;
  readonly codes: readonly string[];
  readonly retentionMs: number | null;
  /** True while started and not stopping. */
  live(): boolean;
  entry(id: string): ScheduleEntry | undefined;
  /** Takes a fresh state of one schedule and re-plans it. */
  applyState(state: JobState): void;
  freeCapacity(): number;
  /** Holds capacity while a claim is in flight; call the returned function when it settles. */
  reserve(count: number): () => void;
  launch(entry: ScheduleEntry, run: RunRecord, lease: Lease, startAt: number): void;
  retryDelayMs(): number;
  untilStored<T>(what: string, body: () => Promise<T>): Promise<T>;
  /** Re-arms the timer if a claim backoff may have ended. */
  rearm(): void;
}

/**
 * Runtime changes without restart: store notifications (or polling), coalesced re-reads of
 * only the changed schedules, reaping of expired leases, run-now requests, and pruning.
 */
export class ChangeWatcher {
  private readonly refreshIds = new Set<string>();
  private refreshing = false;
  private requestsWanted = false;
  private unsubscribe: (() => Promise<void>) | null = null;
  private lastResync: number;

  constructor(private readonly host: WatcherHost) {
    this.lastResync = host.clock.now().getTime();
  }

  /** Stops the subscription. */
  async close(): Promise<void> {
    await this.unsubscribe?.().catch(() => undefined);
    this.unsubscribe = null;
  }

  /** Subscribes to store changes when the store can push them. */
  async subscribe(): Promise<void> {
    const store = this.host.store;
    if (!store.capabilities.changeSubscription || !store.subscribe) return;
    try {
      this.unsubscribe = await store.subscribe((change) => this.onChange(change));
    } catch (error) {
      this.host.logger.warn({ err: describeThrown(error).message }, 'change subscription failed; polling state instead');
    }
  }

  private onChange(change: StoreChange): void {
    if (!this.host.live()) return;
    if (change.type === 'run-request') {
      // Only for a schedule this daemon runs: a request it would file back (another schedule's)
      // must not wake it again, or file-back and wake-up would chase each other.
      if (!this.host.entry(scheduleId(change.code, change.key))) return;
      this.requestsWanted = true;
      setImmediate(() => {
        this.consumeRequests().catch((error: unknown) => {
          this.requestsWanted = true; // the next poll tries again
          this.host.logger.warn({ err: describeThrown(error).message }, 'consuming run-now requests failed; retrying at the next poll');
        });
      });
      return;
    }
    if (this.host.entry(scheduleId(change.code, change.key))) this.refreshSoon(scheduleId(change.code, change.key));
  }

  /** Re-reads only the named schedules' states, coalescing changes that arrive together into one call. */
  refreshSoon(id: string): void {
    this.refreshIds.add(id);
    if (!this.refreshing) {
      this.refreshing = true;
      setImmediate(() => void this.refresh());
    }
  }

  private async refresh(): Promise<void> {
    while (this.refreshIds.size > 0 && this.host.live()) {
      const ids = [...this.refreshIds];
      this.refreshIds.clear();
      const refs = ids.map((id) => this.host.entry(id)).filter((e) => e !== undefined).map((e) => ({ code: e.job.code, key: e.key }));
      try {
        const states = await this.host.store.getStates(refs);
        for (const state of states) this.host.applyState(state);
      } catch {
        for (const id of ids) this.refreshIds.add(id);
        await new Promise((resolve) => setTimeout(resolve, this.host.retryDelayMs()));
      }
    }
    this.refreshing = false;
  }

  /** One poll round: reap expired leases, take run-now requests, and (without push) read changed states. */
  async poll(): Promise<void> {
    const store = this.host.store;
    const now = this.host.clock.now();
    const reaped = await store.reapExpired({ now });
    for (const run of reaped) {
      this.host.logger.warn({ job: run.code, key: run.key, runId: run.id, runner: run.runnerId }, 'lease expired: run recorded as interrupted');
      if (this.host.entry(scheduleId(run.code, run.key))) this.refreshSoon(scheduleId(run.code, run.key));
    }
    // Without push notifications one bounded read per poll finds pauses, resumes and overrides;
    // with them, an occasional full read repairs a notification lost in a reconnect. Read them
    // before taking run-now requests, so a just-paused job's request is left for its resume.
    const resync = this.unsubscribe !== null && now.getTime() - this.lastResync >= RESYNC_MS;
    if ((!this.unsubscribe || resync) && this.host.live()) {
      this.lastResync = now.getTime();
      for (const state of await store.getStates()) {
        const entry = this.host.entry(scheduleId(state.code, state.key));
        if (entry && changedSince(entry.state, state)) this.host.applyState(state);
      }
    }
    this.requestsWanted = true;
    await this.consumeRequests();
    this.host.rearm();
  }

  /** Takes pending run-now requests (up to free capacity) and runs them. */
  async consumeRequests(): Promise<void> {
    const free = this.host.freeCapacity();
    if (!this.requestsWanted || !this.host.live() || free <= 0) return;
    this.requestsWanted = false;
    const store = this.host.store;
    const now = this.host.clock.now();
    // Only for schedules this daemon will run now: a request is handed out once, ever, so one
    // taken for a paused job would be lost. A paused job's request waits for its resume.
    const codes = this.host.codes.filter((code) => {
      const entry = this.host.entry(scheduleId(code, DEFAULT_SCHEDULE_KEY));
      return entry !== undefined && entry.job.enabled && !entry.state.paused;
    });
    if (codes.length === 0) return;
    const requests = await store.consumeRunRequests({ codes, limit: free, now });
    const claims: Array<{ entry: ScheduleEntry; claim: SlotClaim }> = [];
    for (const request of requests) {
      const entry = this.host.entry(scheduleId(request.code, request.key));
      if (!entry) {
        // Another schedule's (a runtime schedule this version does not run): file it again unchanged.
        await store.requestRun({ code: request.code, key: request.key }, { now: request.requestedAt, requestedBy: request.requestedBy });
        continue;
      }
      claims.push({ entry, claim: claimAt(entry.job, request.key, request.requestedAt, 'manual') });
    }
    if (claims.length === 0) return;
    // The requests are consumed: retry the (idempotent) claim until it lands so none is lost.
    const release = this.host.reserve(claims.length);
    const outcomes = await this.host
      .untilStored('claim run-now requests', () =>
        store.claimSlots(claims.map((c) => c.claim), { runnerId: this.host.runnerId, now: this.host.clock.now() }),
      )
      .finally(release);
    outcomes?.forEach((outcome, index) => {
      const { entry } = claims[index] as { entry: ScheduleEntry };
      if (outcome.status === 'claimed') this.host.launch(entry, outcome.run, outcome.lease, now.getTime());
      else this.host.logger.info({ job: entry.job.code, key: entry.key, outcome: outcome.status }, 'run-now request not run');
    });
  }

  /** Deletes finished runs older than the retention. */
  async prune(): Promise<void> {
    const olderThan = new Date(this.host.clock.now().getTime() - (this.host.retentionMs as number));
    const deleted = await this.host.store.pruneRuns({ olderThan });
    if (deleted > 0) this.host.logger.info({ deleted, olderThan: olderThan.toISOString() }, 'pruned old runs');
  }
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
