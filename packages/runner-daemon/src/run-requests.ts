import { describeThrown, type ScheduleRef } from '@tickwork/core';
import type { ClaimOutcome, RunRequest, SlotClaim } from '@tickwork/core/store';
import { alertInterrupted, findPendingRequests, requestClaim } from '@tickwork/core/runner';
import type { WatcherHost } from './change-watcher.js';
import { SCHEDULE_PAGE } from './runtime-schedules.js';
import { runnable, scheduleId, versioned, type RunTarget, type ScheduleEntry } from './schedule-entry.js';

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

  /**
   * One poll: peeks at the pending requests and takes those of this daemon's jobs it can run now
   * (core's findPendingRequests): the peek names no job, so an idle poll costs the store one read of
   * its (empty) pending index whatever the number of jobs; the requests of other daemons' jobs are
   * skipped, left pending. Only a full peek short of free capacity in requests it can run asks again
   * by its jobs' codes.
   */
  async poll(): Promise<void> {
    if (!this.host.live() || this.host.freeCapacity() <= 0 || this.host.codes.size === 0) return;
    const found = await findPendingRequests(this.host.store, {
      codes: () => [...this.host.codes],
      wanted: (request) => {
        const entry = this.host.entry(scheduleId(request.code, request.key));
        return entry !== undefined && runnable(entry);
      },
      enough: () => (this.host.live() ? this.host.freeCapacity() : 0),
    });
    // Each schedule once: take() reads its requests by ref.
    const refs = new Map<string, ScheduleRef>();
    for (const request of found) refs.set(scheduleId(request.code, request.key), { code: request.code, key: request.key });
    if (refs.size > 0) await this.take([...refs.values()]);
  }

  /**
   * Claims the pending requests of these schedules (those still runnable), up to free capacity:
   * each claim names its request, which the store consumes in the same atomic operation, so a
   * request not claimed (paused meanwhile, store outage) simply stays pending.
   */
  private async take(refs: readonly ScheduleRef[]): Promise<void> {
    const wanted = refs.filter((ref) => {
      const entry = this.host.entry(scheduleId(ref.code, ref.key));
      return entry !== undefined && runnable(entry);
    });
    const free = this.host.freeCapacity();
    if (wanted.length === 0 || free <= 0 || !this.host.live()) return;
    // Held while claiming, so a notification and a poll taking at the same time cannot both fill the same capacity.
    const release = this.host.reserve(free);
    try {
      const pending: RunRequest[] = [];
      for (let i = 0; i < wanted.length && pending.length < free; i += SCHEDULE_PAGE) {
        pending.push(
          ...(await this.host.store.pendingRunRequests({ refs: wanted.slice(i, i + SCHEDULE_PAGE), limit: free - pending.length })),
        );
      }
      await this.claim(pending);
    } finally {
      release();
    }
  }

  private async claim(requests: readonly RunRequest[]): Promise<void> {
    const claims: RequestClaim[] = [];
    for (const request of requests) {
      const entry = this.host.entry(scheduleId(request.code, request.key));
      if (entry && runnable(entry)) {
        claims.push({
          request,
          entry,
          target: { job: entry.job, payload: entry.payload },
          claim: versioned(entry, requestClaim(entry.job, entry.key, request)),
        });
      }
    }
    if (claims.length === 0) return;
    const now = this.host.clock.now();
    // Idempotent per runner: a claim retried after a lost answer gets its own run back.
    const outcomes = await this.host.untilStored('claim run-now requests', () =>
      this.host.store.claimSlots(
        claims.map((c) => c.claim),
        { runnerId: this.host.runnerId, now: this.host.clock.now() },
      ),
    );
    claims.forEach(({ request, entry, target }, index) => {
      const outcome = outcomes[index] as ClaimOutcome;
      if (outcome.reaped) void alertInterrupted(outcome.reaped, (code) => this.host.job(code), this.host.logger).catch(() => undefined);
      if (outcome.status === 'claimed') {
        this.host.launch(entry, target, outcome.run, outcome.lease, now.getTime());
        return;
      }
      if (outcome.status === 'unscheduled' || outcome.status === 'paused') this.host.refused(entry, outcome.status);
      const log = { job: entry.job.code, key: entry.key, requestId: request.id, outcome: outcome.status };
      if (outcome.status === 'busy' || outcome.status === 'paused' || outcome.status === 'unscheduled')
        this.host.logger.info(log, 'run-now request left pending');
      else this.host.logger.info(log, 'run-now request not run');
    });
  }
}
