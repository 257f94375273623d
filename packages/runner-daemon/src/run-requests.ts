import { claimAt, describeThrown, InvalidArgumentError, type ClaimOutcome, type RunRequest, type ScheduleRef, type SlotClaim } from '@tickwork/core';
import type { WatcherHost } from './change-watcher.js';
import { SCHEDULE_PAGE } from './runtime-schedules.js';
import { runnable, scheduleId, versioned, type RunTarget, type ScheduleEntry } from './schedule-entry.js';

/** Most pending requests one poll looks at. */
const PEEK_LIMIT = 1_000;

interface RequestClaim {
  request: RunRequest;
  entry: ScheduleEntry;
  target: RunTarget;
  claim: SlotClaim;
}

/**
 * "Run now" requests. A request is handed out once, ever, so the daemon takes only those of
 * schedules it runs and can run now (loaded, enabled, not paused, not held): by ref, on the
 * store's notification, and on every poll after a peek at what is pending. A paused or disabled
 * schedule's request stays pending for its resume.
 */
export class RunRequests {
  private readonly notifiedRefs = new Map<string, ScheduleRef>();
  private taking = false;

  constructor(private readonly host: WatcherHost) {}

  /** A `run-request` change: takes it at once when this daemon can run that schedule now (else a poll finds it later). */
  notified(ref: ScheduleRef): void {
    const id = scheduleId(ref.code, ref.key);
    const entry = this.host.entry(id);
    if (!entry || !runnable(entry) || !this.host.live()) return;
    this.notifiedRefs.set(id, { code: ref.code, key: ref.key });
    if (this.taking) return;
    this.taking = true;
    setImmediate(() => void this.takeNotified());
  }

  private async takeNotified(): Promise<void> {
    while (this.notifiedRefs.size > 0 && this.host.live()) {
      const refs = [...this.notifiedRefs.values()].slice(0, SCHEDULE_PAGE);
      for (const ref of refs) this.notifiedRefs.delete(scheduleId(ref.code, ref.key));
      try {
        await this.take(refs);
      } catch (error) {
        this.host.logger.warn({ err: describeThrown(error).message }, 'taking run-now requests failed; retrying at the next poll');
      }
    }
    this.taking = false;
  }

  /** One poll: peeks at the pending requests of this daemon's jobs and takes those it can run now. */
  async poll(): Promise<void> {
    if (!this.host.live() || this.host.freeCapacity() <= 0 || this.host.codes.size === 0) return;
    const pending = await this.host.store.pendingRunRequests({ codes: [...this.host.codes], limit: PEEK_LIMIT });
    const refs = new Map<string, ScheduleRef>();
    for (const request of pending) refs.set(scheduleId(request.code, request.key), { code: request.code, key: request.key });
    if (refs.size > 0) await this.take([...refs.values()]);
  }

  /** Consumes the pending requests of these schedules (those still runnable), up to free capacity, and claims them. */
  private async take(refs: readonly ScheduleRef[]): Promise<void> {
    const wanted = refs.filter((ref) => {
      const entry = this.host.entry(scheduleId(ref.code, ref.key));
      return entry !== undefined && runnable(entry);
    });
    const free = this.host.freeCapacity();
    if (wanted.length === 0 || free <= 0 || !this.host.live()) return;
    // Held while consuming, so a notification and a poll taking at the same time cannot both fill the same capacity.
    const release = this.host.reserve(free);
    let requests: RunRequest[];
    try {
      requests = await this.host.store.consumeRunRequests({ refs: wanted, limit: free, now: this.host.clock.now() });
    } finally {
      release();
    }
    await this.claim(requests);
  }

  private async claim(requests: readonly RunRequest[]): Promise<void> {
    const claims: RequestClaim[] = [];
    const putBack: RunRequest[] = [];
    for (const request of requests) {
      const entry = this.host.entry(scheduleId(request.code, request.key));
      // Paused, disabled or removed between the look and the take.
      if (!entry || !runnable(entry)) putBack.push(request);
      else {
        const claim = versioned(entry, claimAt(entry.job, entry.key, request.requestedAt, 'manual'));
        claims.push({ request, entry, target: { job: entry.job, payload: entry.payload }, claim });
      }
    }
    if (claims.length > 0) {
      const now = this.host.clock.now();
      // The requests are consumed: retry the (idempotent) claim until it lands so none is lost.
      const release = this.host.reserve(claims.length);
      const outcomes = await this.host
        .untilStored('claim run-now requests', () => this.host.store.claimSlots(claims.map((c) => c.claim), { runnerId: this.host.runnerId, now: this.host.clock.now() }))
        .finally(release);
      claims.forEach(({ request, entry, target }, index) => {
        const outcome = outcomes[index] as ClaimOutcome;
        if (outcome.status === 'claimed') {
          this.host.launch(entry, target, outcome.run, outcome.lease, now.getTime());
          return;
        }
        if (outcome.status === 'unscheduled' || outcome.status === 'paused') {
          this.host.refused(entry, outcome.status);
          putBack.push(request);
        } else this.host.logger.info({ job: entry.job.code, key: entry.key, outcome: outcome.status }, 'run-now request not run');
      });
    }
    for (const request of putBack) await this.fileBack(request);
  }

  /**
   * Files a consumed request again, unchanged, for a schedule that turned out not to be runnable now
   * (paused, disabled or changed meanwhile): it waits for the resume or the re-read like any pending
   * one. A removed runtime schedule's request is dropped (the store refuses it).
   */
  private async fileBack(request: RunRequest): Promise<void> {
    const ref = { code: request.code, key: request.key };
    const filed = await this.host.untilStored('file a run-now request back', () =>
      this.host.store.requestRun(ref, { now: request.requestedAt, requestedBy: request.requestedBy }).then(
        () => true,
        (error: unknown) => {
          if (error instanceof InvalidArgumentError) return false;
          throw error;
        },
      ),
    );
    const log = { job: ref.code, key: ref.key, requestedAt: request.requestedAt.toISOString() };
    if (filed) this.host.logger.info(log, 'run-now request left pending: its schedule is paused, disabled or being re-read');
    else this.host.logger.info(log, 'run-now request dropped: its runtime schedule was removed');
  }
}
