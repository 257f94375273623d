import type { Clock } from '@tickwork/core';

// setTimeout overflows past 2^31 - 1 ms; far instants are re-checked at least hourly, which also absorbs clock jumps.
const MAX_DELAY_MS = 3_600_000;

/**
 * Calls `fn` once the clock reaches `atMs`. Re-arms when the runtime fires early (timers
 * may run a millisecond before the clock agrees) or the delay was capped. Returns a cancel.
 */
export function callAt(clock: Clock, atMs: number, fn: () => void): () => void {
  let handle: NodeJS.Timeout | null = null;
  const check = () => {
    const delay = atMs - clock.now().getTime();
    if (delay <= 0) {
      handle = null;
      fn();
      return;
    }
    handle = setTimeout(check, Math.min(delay, MAX_DELAY_MS));
  };
  check();
  return () => {
    if (handle) clearTimeout(handle);
    handle = null;
  };
}

/** One re-armable timer: the daemon's single wake-up for the earliest next slot. */
export class WakeTimer {
  private cancel: (() => void) | null = null;
  private target: number | null = null;
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onWake: () => void,
  ) {}

  /** The instant it is armed for, or null. */
  get armedAt(): number | null {
    return this.target;
  }

  /**
   * Arms for `atMs` (replacing an earlier arming), or disarms with null. `afterTimers`: once due,
   * the wake waits behind the timers already due (a `setTimeout` turn, not `setImmediate`), so
   * other daemons' wakes at the same instant in this process go first.
   */
  arm(atMs: number | null, afterTimers = false): void {
    if (atMs === this.target) return;
    this.disarm();
    if (atMs === null) return;
    this.target = atMs;
    const generation = ++this.generation;
    // callAt may fire synchronously for a past instant; defer so callers finish their bookkeeping first.
    const fire = () => {
      if (generation !== this.generation) return;
      this.cancel = null;
      this.target = null;
      this.onWake();
    };
    this.cancel = callAt(this.clock, atMs, afterTimers ? () => setTimeout(fire, 0) : () => setImmediate(fire));
  }

  /** Cancels the pending wake-up. */
  disarm(): void {
    this.generation++;
    this.cancel?.();
    this.cancel = null;
    this.target = null;
  }
}
