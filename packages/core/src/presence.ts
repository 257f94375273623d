/**
 * A runner's presence in the store: heartbeats every third of the TTL, and the judgement of when
 * this runner may declare others dead. Shared by every resident runner (the daemon today).
 */
import type { Clock } from './clock.js';
import { describeThrown, InvalidArgumentError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import type { RunnerRecord, Store } from './store.js';

/** Default heartbeat TTL on `connection` stores: it only has to cover a reconnect, since the connection itself carries the presence. */
export const DEFAULT_RUNNER_TTL_MS = 3_000;
/** Default heartbeat TTL on `heartbeat` stores: a live runner whose event loop stalls this long is declared dead there. */
export const DEFAULT_HEARTBEAT_ONLY_TTL_MS = 10_000;

/** Options of {@link startRunnerPresence}. */
export interface RunnerPresenceOptions {
  store: Store;
  runnerId: string;
  clock: Clock;
  /**
   * Heartbeat TTL; default {@link DEFAULT_RUNNER_TTL_MS} on `connection` stores,
   * {@link DEFAULT_HEARTBEAT_ONLY_TTL_MS} on `heartbeat` ones.
   */
  ttlMs?: number;
  /** When the runner started. Default: now. */
  startedAt?: Date;
  /** The runner's measured offset to the store's clock, read at each beat (null: not measured). */
  clockOffsetMs?: () => number | null;
  logger?: Logger;
}

/** A running heartbeat loop. */
export interface RunnerPresenceHandle {
  readonly ttlMs: number;
  /**
   * Whether this runner may reap dead runners now: its own heartbeats have answered without a
   * gap for two TTLs. After a store outage every runner's heartbeat lapsed and every
   * connection-bound presence was dropped; waiting two TTLs of health gives the live ones time to
   * beat again before anyone is judged dead.
   */
  readonly reapsRunners: boolean;
  /** The last record the store answered, or null before the first answer. */
  readonly last: RunnerRecord | null;
  /** Beats now (the loop also beats every third of the TTL); a failure is logged, not thrown. */
  beat(): Promise<void>;
  /**
   * Stops beating (the record stays; it turns dead after its TTL, or at once when the store closes on
   * `connection` stores). Resolves once a beat in flight has settled, so the store can be closed after it.
   */
  stop(): Promise<void>;
}

/**
 * Starts heartbeating `runnerId` into `store` (first beat at once). Returns null when the store
 * has no runner presence: such a runner's runs end only with their leases.
 */
export function startRunnerPresence(options: RunnerPresenceOptions): RunnerPresenceHandle | null {
  const { store, runnerId, clock } = options;
  const kind = store.capabilities.runnerPresence;
  const heartbeat = store.heartbeat?.bind(store);
  if (!kind || !heartbeat) return null;
  const ttlMs = options.ttlMs ?? (kind === 'connection' ? DEFAULT_RUNNER_TTL_MS : DEFAULT_HEARTBEAT_ONLY_TTL_MS);
  if (!Number.isInteger(ttlMs) || ttlMs < 300)
    throw new InvalidArgumentError(`runner presence: ttlMs must be an integer ≥ 300, got ${String(ttlMs)}`);
  const logger = options.logger ?? silentLogger;
  const startedAt = options.startedAt ?? clock.now();
  const everyMs = Math.floor(ttlMs / 3);
  let healthySince: number | null = null;
  let lastAnswer: number | null = null;
  let last: RunnerRecord | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let beating: Promise<void> | null = null;

  const once = async (): Promise<void> => {
    const sentAt = clock.now();
    try {
      last = await heartbeat({ runnerId, now: sentAt, ttlMs, startedAt, clockOffsetMs: options.clockOffsetMs?.() ?? null });
      const at = clock.now().getTime();
      // A gap longer than the TTL (a stall, an outage) starts the health count again.
      if (healthySince === null || lastAnswer === null || sentAt.getTime() - lastAnswer > ttlMs) healthySince = sentAt.getTime();
      lastAnswer = at;
    } catch (error) {
      healthySince = null;
      logger.warn({ err: describeThrown(error).message }, 'runner heartbeat failed; retrying');
    }
  };
  const beat = (): Promise<void> => {
    beating ??= once().finally(() => {
      beating = null;
    });
    return beating;
  };
  const loop = () => {
    void beat().finally(() => {
      if (stopped) return;
      timer = setTimeout(loop, everyMs);
      timer.unref?.();
    });
  };
  loop();

  return {
    ttlMs,
    get reapsRunners() {
      if (healthySince === null || lastAnswer === null) return false;
      const now = clock.now().getTime();
      return now - lastAnswer < ttlMs && now - healthySince >= 2 * ttlMs;
    },
    get last() {
      return last;
    },
    beat,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      return (beating ?? Promise.resolve()).then(() => undefined);
    },
  };
}
