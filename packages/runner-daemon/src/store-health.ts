import type { Clock, Logger } from '@tickwork/core';
import type { StoreOutage } from '@tickwork/core/runner';
import type { DaemonHealth } from './http.js';
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS } from './repeat.js';

/** Outages remembered for skip reasons; older ones are long passed over by every schedule that claims at all. */
const MAX_OUTAGES = 5;

/** What the daemon knows about its store's reachability, and when to try claiming again. */
export class StoreHealth {
  status: DaemonHealth['store'] = 'unknown';
  lastError: string | null = null;
  /** While set, claims wait until this instant (backoff after a failed claim). */
  retryAfter: number | null = null;
  private backoffMs = BACKOFF_MIN_MS;
  /** When the store stopped answering (the first failed call since the last answer), null while it answers. */
  private downSince: number | null = null;
  /** The latest stretches it did not answer in, oldest first. */
  private past: StoreOutage[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Called when a backoff is lifted, so the timer can re-arm at once. */
    private readonly recovered: () => void,
  ) {}

  /** A store call answered. */
  answered(): void {
    if (this.status === 'unreachable') this.logger.info({}, 'store reachable again');
    if (this.downSince !== null) {
      this.past = [...this.past.slice(-(MAX_OUTAGES - 1)), { from: new Date(this.downSince), to: this.clock.now() }];
      this.downSince = null;
    }
    this.status = 'reachable';
    this.backoffMs = BACKOFF_MIN_MS;
    if (this.retryAfter !== null) {
      this.retryAfter = null;
      this.recovered();
    }
  }

  /** A store call failed. */
  failed(operation: string, message: string): void {
    this.downSince ??= this.clock.now().getTime();
    if (this.status !== 'unreachable') this.logger.error({ operation, err: message }, 'store call failed; degraded until it answers');
    this.status = 'unreachable';
    this.lastError = `${operation}: ${message}`;
  }

  /** A claim failed: wait before the next one, twice as long each time (reset by any answer). */
  backOff(): void {
    this.retryAfter = this.clock.now().getTime() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }

  /**
   * The stretches this daemon could not reach its store in (the latest few, and the current one up to
   * `now`): the slots a claim passes over inside one are recorded with reason `store-outage`.
   */
  outages(now: Date): readonly StoreOutage[] {
    return this.downSince === null ? this.past : [...this.past, { from: new Date(this.downSince), to: now }];
  }

  /** How long failed calls currently wait before retrying. */
  get delayMs(): number {
    return this.backoffMs;
  }
}
