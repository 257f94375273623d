import type { Clock } from './clock.js';
import { isStoreUnavailable } from './errors.js';
import type { Lease, Store } from './store.js';

/** Most leases one renewal call carries. */
export const MAX_RENEWAL_BATCH = 1_000;

/** A run whose lease {@link LeaseRenewals} keeps renewing: executeRun's per-run state is one. */
export interface RenewedRun {
  /** The lease to renew: the latest the store answered. */
  readonly lease: Lease;
  /** The store's answer: the renewed lease, or null (no longer current: reaped, taken over, finished). */
  renewed(lease: Lease | null): void;
  /** The renewal call failed (an outage): it is retried at the next beat. */
  renewalFailed(error: unknown): void;
}

/**
 * Renews the leases of many runs with one timer per store, clock and lease length instead of one
 * `setInterval` per run: every third of the lease length (at least 50 ms) one beat renews every
 * lease of that length then held, in calls of up to {@link MAX_RENEWAL_BATCH} leases. A run that
 * joins between beats is first renewed at the next beat — within a third of its lease length, as a
 * timer of its own would — and each run has one renewal in flight at a time: a run whose renewal
 * has not answered sits the beat out. A run that left is not renewed again, and an answer that
 * arrives after it left is dropped. The timer is cleared when the last run of its length leaves.
 *
 * A call that fails with a store outage is retried at the next beat; one that the store refuses
 * as input is sent again run by run, so only the run whose lease it refuses sees the failure.
 * executeRun makes one for itself when not given one; a runner holding thousands of runs passes
 * one to all of them (the daemon does).
 */
export class LeaseRenewals {
  private readonly tickers = new WeakMap<Store, WeakMap<Clock, Map<number, RenewalTicker>>>();

  /** Starts renewing `run`'s lease; the ticker returned is what it leaves. */
  join(run: RenewedRun, store: Store, clock: Clock, leaseMs: number): RenewalTicker {
    let byClock = this.tickers.get(store);
    if (!byClock) {
      byClock = new WeakMap();
      this.tickers.set(store, byClock);
    }
    let byLength = byClock.get(clock);
    if (!byLength) {
      byLength = new Map();
      byClock.set(clock, byLength);
    }
    let ticker = byLength.get(leaseMs);
    if (!ticker) {
      ticker = new RenewalTicker(store, clock, leaseMs);
      byLength.set(leaseMs, ticker);
    }
    ticker.add(run);
    return ticker;
  }
}

/** The runs of one store, clock and lease length, renewed by one timer (see {@link LeaseRenewals}). */
export class RenewalTicker {
  /** Each run, and whether its renewal is in flight. */
  private readonly runs = new Map<RenewedRun, boolean>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly leaseMs: number,
  ) {}

  /** Runs renewed by this ticker now. */
  get size(): number {
    return this.runs.size;
  }

  add(run: RenewedRun): void {
    this.runs.set(run, false);
    this.timer ??= setInterval(() => this.beat(), Math.max(50, Math.floor(this.leaseMs / 3)));
  }

  /** Stops renewing `run`; its answers in flight are dropped. */
  leave(run: RenewedRun): void {
    if (!this.runs.delete(run) || this.runs.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  private beat(): void {
    const due: RenewedRun[] = [];
    for (const [run, inFlight] of this.runs) if (!inFlight) due.push(run);
    if (due.length === 0) return;
    for (const run of due) this.runs.set(run, true);
    const now = this.clock.now();
    for (let i = 0; i < due.length; i += MAX_RENEWAL_BATCH) this.renew(due.slice(i, i + MAX_RENEWAL_BATCH), now, true);
  }

  private renew(runs: RenewedRun[], now: Date, split: boolean): void {
    let answer: Promise<(Lease | null)[]>;
    try {
      answer = this.store.renewLeases(
        runs.map((run) => run.lease),
        { now, leaseMs: this.leaseMs },
      );
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (renewed) => {
        for (let i = 0; i < runs.length; i++) {
          const run = runs[i] as RenewedRun;
          if (!this.runs.has(run)) continue;
          this.runs.set(run, false);
          run.renewed(renewed[i] ?? null);
        }
      },
      (error: unknown) => {
        if (split && runs.length > 1 && !isStoreUnavailable(error)) {
          // Refused as input: one run's lease must not keep the others from being renewed.
          for (const run of runs) this.renew([run], now, false);
          return;
        }
        for (const run of runs) {
          if (!this.runs.has(run)) continue;
          this.runs.set(run, false);
          run.renewalFailed(error);
        }
      },
    );
  }
}
