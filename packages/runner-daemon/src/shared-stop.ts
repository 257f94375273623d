import type { StopSignal } from '@tickwork/core/runner';

/**
 * One stop signal for every run of a launcher — what core's executeRun takes as `signal`, `abandon`
 * and `stopRecording`. Its listeners are kept in a Set, so adding and removing one costs the same
 * whatever the number of runs (an AbortSignal's `addEventListener` walks its listeners, O(n) each),
 * and a run armed ahead holds no AbortController of its own: three of them were ~3.4 KB of the
 * ~7 KB an armed run held (bench/launch-path.mjs). Aborting calls each listener once, as an
 * AbortSignal does; a listener added after the abort is never called (check `aborted` first).
 */
export class SharedStop implements StopSignal {
  private readonly listeners = new Set<() => void>();
  private stopped = false;

  get aborted(): boolean {
    return this.stopped;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.stopped) this.listeners.add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.delete(listener);
  }

  /** Aborts once: every listener is called, then forgotten. */
  abort(): void {
    if (this.stopped) return;
    this.stopped = true;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }
}
