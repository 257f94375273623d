import type { Clock } from './clock.js';
import { describeThrown, InvalidJobError, isStoreUnavailable, StoreUnavailableError } from './errors.js';
import type { Job, OverdueContext, RunContext } from './job.js';
import { LeaseRenewals, type RenewalTicker, type RenewedRun } from './lease-renewals.js';
import type { Logger } from './logger.js';
import { runSpanAttributes, SPAN_STATUS_ERROR, SPAN_STATUS_OK, type RunSpan, type RunTracer } from './tracing.js';
import {
  DEFAULT_SCHEDULE_KEY,
  MAX_OVERDUE_WINDOWS,
  type CompletionOutcome,
  type FinalRunStatus,
  type JobState,
  type Lease,
  type NotRunReason,
  type OverdueWindow,
  type ReapedRun,
  type RunCompletion,
  type RunRecord,
  type Store,
} from './store.js';

/** Input of {@link executeRun}. */
export interface ExecuteRunInput {
  job: Job;
  run: RunRecord;
  lease: Lease;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The runtime schedule's payload, handed to the handler as `ctx.payload`. */
  payload?: unknown;
  /** Shutdown: aborting it aborts the handler, and the run is recorded `interrupted`. */
  signal?: StopSignal;
  /**
   * The runner is exiting: aborting it stops waiting for a handler that ignores its (already
   * aborted) signal; the run is recorded `interrupted` at once. Without it, a handler is awaited to the end.
   */
  abandon?: StopSignal;
  /** Backoff between completion attempts while the store is unreachable (ms, doubling). Default 50 … 5,000. */
  completionBackoff?: { firstMs: number; maxMs: number };
  /**
   * The runner is exiting: once aborted, a completion attempt that fails is not retried — the
   * error is thrown, and the run stays `running` until a reaper records it `interrupted` — so a
   * store that stays unreachable holds the shutdown only for the attempt in flight.
   */
  stopRecording?: StopSignal;
  /**
   * Armed ahead: the handler is called when this settles, and the timeout counts from then. A run
   * aborted by then (shutdown, lease lost, cancelled) is recorded without calling its handler. The
   * gate may resolve to a {@link NotRun} (the schedule was paused, disabled or removed since the
   * claim): the handler is not called and the run is completed `skipped` with that reason.
   */
  start?: PromiseLike<NotRun | undefined>;
  /**
   * Called once, as soon as the handler settled (or was not called, see `start`) — before its result
   * is recorded: the runner's capacity is free again while the completion is still being stored.
   */
  onHandlerSettled?: () => void;
  /**
   * OpenTelemetry: a span per attempt (`tickwork.job`, `.key`, `.slot`, `.attempt`, `.status`), the
   * handler running inside it (active in its context), ended once the result is recorded. Absent: no tracing.
   */
  tracer?: RunTracer | undefined;
  /**
   * Renews the lease while the run is held (see {@link LeaseRenewals}): a runner holding many runs
   * passes one to all of them, so a lease length has one timer, not one per run. Default: one of the run's own.
   */
  renewals?: LeaseRenewals;
}

/**
 * What {@link executeRun} needs of its `signal`, `abandon` and `stopRecording`: an `AbortSignal` is
 * one. A runner holding thousands of runs may pass one object for all of them that keeps its
 * listeners in a Set — an AbortSignal's `addEventListener` walks its listeners (O(n) each), so
 * thousands of runs cannot share one, and one AbortController per run costs about a kilobyte of
 * heap. executeRun removes every listener it adds by the time it returns.
 */
export interface StopSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** What a `start` gate answers when the run must not start: recorded `skipped` with this reason and message. */
export interface NotRun {
  notRun: NotRunReason;
  /** Why, in words ("not run: the schedule was paused before its instant"). */
  message: string;
}

/** What {@link executeRun} recorded: the run as stored, and its schedule's state after it (null when not recorded by this runner). */
export interface ExecutedRun {
  run: RunRecord;
  state: JobState | null;
  /** `stale`: the store said another runner reaped or took the run over; this result was not recorded. */
  outcome: 'completed' | 'stale';
}

type AbortCause = 'timeout' | 'shutdown' | 'lease-lost' | 'cancelled';

const ABORT_TEXT: Record<AbortCause, string> = {
  timeout: 'run timed out',
  shutdown: 'run interrupted by shutdown',
  'lease-lost': 'run lost its lease',
  cancelled: 'run cancelled: a later slot replaces it (overlap policy cancelOther)',
};
const INTERRUPTION: Record<Exclude<AbortCause, 'timeout'>, string> = {
  shutdown: 'interrupted by runner shutdown',
  'lease-lost': 'lease lost (another runner took the slot over)',
  cancelled: 'cancelled: a later slot replaces it (overlap policy cancelOther)',
};
const DEFAULT_BACKOFF = { firstMs: 50, maxMs: 5_000 };
// NUL, a high surrogate without its low half, or a low surrogate without its high half.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters no store keeps in text
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Runs a claimed slot's handler and records its outcome: renews the lease while it runs and
 * until its result is recorded, aborts `ctx.signal` on timeout / shutdown / a lost lease / a
 * `cancelOther` request, completes with the fencing token, and calls `onFailure` when the
 * failure streak reaches `failuresBeforeAlert`.
 *
 * A handler that ignores its signal cannot be killed (JavaScript has no way to), so its run
 * keeps its lease — and the caller's capacity — until it settles, and is then recorded
 * `timed_out` (or `interrupted`). A result is never thrown away while this process lives: the
 * completion is retried with backoff through store outages until it lands or the store says
 * another runner took the run over (`stale`).
 */
export function executeRun(input: ExecuteRunInput): Promise<ExecutedRun> {
  try {
    return new RunExecution(input).execute();
  } catch (error) {
    // As an async function would: a bad input rejects, it does not throw.
    return Promise.reject(error);
  }
}

/**
 * One run's state, in one object: its lease, abort cause, handler text and its place in the lease
 * renewals (it is the {@link RenewedRun} its ticker renews), instead of a score of closures over
 * executeRun's locals — what a run armed ahead of its instant holds is this, its ctx and its
 * logger (bench/launch-path.mjs in runner-daemon).
 */
class RunExecution implements RenewedRun {
  readonly logger: RunLogger;
  lease: Lease;
  message: string | null = null;
  cause: AbortCause | null = null;
  // ctx.signal's controller is made when the handler first reads it (an AbortController costs a
  // few microseconds, a real share of a run that returns at once); an abort before that is kept.
  private controller: AbortController | null = null;
  private reason: Error | null = null;
  private readonly ticker: RenewalTicker;
  readonly onShutdown = (): void => this.abort('shutdown');

  constructor(readonly input: ExecuteRunInput) {
    this.logger = new RunLogger(input.logger, input.run);
    this.lease = input.lease;
    if (input.signal?.aborted) this.onShutdown();
    input.signal?.addEventListener('abort', this.onShutdown, { once: true });
    if (this.lease.cancelRequested) this.abort('cancelled');
    this.ticker = (input.renewals ?? new LeaseRenewals()).join(this, input.store, input.clock, input.job.leaseTtlMs);
  }

  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(why: AbortCause): void {
    if (this.cause) return;
    this.cause = why;
    this.reason = new Error(`[tickwork] job "${this.input.run.code}": ${ABORT_TEXT[why]}`);
    this.controller?.abort(this.reason);
  }

  renewed(renewed: Lease | null): void {
    if (!renewed) this.abort('lease-lost');
    else {
      this.lease = renewed;
      if (renewed.cancelRequested) this.abort('cancelled');
    }
  }

  renewalFailed(error: unknown): void {
    this.logger.warn({ err: describeThrown(error).message }, 'lease renewal failed; retrying');
  }

  /**
   * Sets the run up (ctx, the start line) and, armed with a `start` gate, waits for it without an
   * async function's frame: a run armed ahead holds a promise reaction, not a suspended generator
   * and its registers (~600 bytes), until its instant.
   */
  execute(): Promise<ExecutedRun> {
    const { input } = this;
    const ctx = new HandlerContext(this, input.run, this.lease.token, this.logger, input.payload);
    if (levelEnabled(input.logger, 'info')) this.logger.info({ runId: input.run.id }, 'run started');
    if (!input.start) return this.started(ctx, undefined, null);
    return Promise.resolve(input.start).then(
      (gate) => this.started(ctx, gate, null),
      (thrown: unknown) => this.started(ctx, undefined, { thrown }),
    );
  }

  /** From the start gate on (its answer, or what it threw): the handler, then the result recorded. */
  private async started(ctx: HandlerContext, gate: NotRun | undefined, failed: { thrown: unknown } | null): Promise<ExecutedRun> {
    const { input, logger } = this;
    const { job, run, store, clock } = input;
    const infoEnabled = levelEnabled(input.logger, 'info');
    let timeout: ReturnType<typeof setTimeout> | null = null;
    let status: FinalRunStatus = 'succeeded';
    let error: string | null = null;
    let stack: string | null = null;
    let abandoned = false;
    let notRun: NotRun | null = null;
    let span: RunSpan | null = null;
    try {
      if (failed) throw failed.thrown;
      if (input.start) notRun = asNotRun(gate);
      // Awaited to the end even after an abort: until it settles the handler may still act, so the
      // run keeps its lease (no next slot beside it) and its place in the caller's capacity.
      if (!notRun && (!input.start || this.cause === null)) {
        if (job.timeoutMs !== null) timeout = setTimeout(() => this.abort('timeout'), job.timeoutMs);
        const invoke = () =>
          Promise.resolve()
            .then(() => job.run(ctx))
            .then((result) => (isModule(result) ? moduleHandler(result, run.code)(ctx) : result));
        // Created inside the span's callback, the handler's promise chain carries the span's context.
        const handler = input.tracer
          ? input.tracer.startActiveSpan(`tickwork.run ${run.code}`, { attributes: runSpanAttributes(run) }, (started) => {
              span = started;
              return invoke();
            })
          : invoke();
        if (!input.abandon) await handler;
        else if ((await settledOrAbandoned(handler, input.abandon)) === 'abandoned') {
          handler.catch(() => undefined);
          abandoned = true;
        }
      }
    } catch (thrown) {
      const described = describeThrown(thrown);
      status = 'failed';
      error = described.message;
      stack = described.stack;
    } finally {
      if (timeout) clearTimeout(timeout);
      input.signal?.removeEventListener('abort', this.onShutdown);
      input.onHandlerSettled?.();
    }
    if (notRun) return this.recordNotRun(notRun);
    const why = this.cause as AbortCause | null;
    if (why === 'timeout') {
      status = 'timed_out';
      error = `timed out after ${job.timeoutMs} ms`;
      stack = null;
    } else if (why) {
      status = 'interrupted';
      error = INTERRUPTION[why];
      stack = null;
    }
    if (abandoned) {
      status = 'interrupted';
      error = 'interrupted by runner shutdown: the handler ignored its signal and was abandoned as the runner exits';
      stack = null;
    }

    let outcome: CompletionOutcome;
    try {
      outcome = await completeUntilRecorded(
        store,
        {
          lease: this.lease,
          status,
          finishedAt: clock.now(),
          message: storable(this.message),
          error: storable(error),
          stack: storable(stack),
        },
        this,
        input.completionBackoff ?? DEFAULT_BACKOFF,
        logger,
        input.stopRecording,
      );
    } catch (thrown) {
      endSpan(span, status, error, stack);
      throw thrown;
    } finally {
      this.ticker.leave(this);
    }
    const { lease } = this;
    // The status recorded — or, when refused, the one the store holds.
    endSpan(span, outcome.status === 'stale' ? (outcome.run?.status ?? status) : status, error, stack);
    if (outcome.status === 'stale') {
      logger.warn({ runId: run.id, status }, `result refused: ${staleReason(outcome.run, lease)}`);
      return { run: outcome.run ?? { ...run, status }, state: null, outcome: 'stale' };
    }
    const finished = outcome.run;
    if (status !== 'succeeded')
      logger.warn({ runId: run.id, status, durationMs: finished.durationMs, ...(error ? { error } : {}) }, 'run finished');
    else if (infoEnabled) logger.info({ runId: run.id, status, durationMs: finished.durationMs }, 'run finished');
    const state = outcome.state ? await storeWindow(input, outcome.state, logger) : null;
    // A cancelOther cancellation is the policy working, not a failure to alert on.
    if (status !== 'succeeded' && why !== 'cancelled') await alertFailure(job, finished, state, logger);
    if (status === 'succeeded') await alertRecovery(job, finished, state, logger);
    return { run: finished, state, outcome: 'completed' };
  }

  /** Completes a run whose handler was not called as `skipped` (no failure: no streak, no `onFailure`). */
  private async recordNotRun(notRun: NotRun): Promise<ExecutedRun> {
    const { input, logger } = this;
    const { run } = input;
    let outcome: CompletionOutcome;
    try {
      outcome = await completeUntilRecorded(
        input.store,
        {
          lease: this.lease,
          status: 'skipped',
          skipReason: notRun.notRun,
          finishedAt: input.clock.now(),
          message: storable(notRun.message),
        },
        this,
        input.completionBackoff ?? DEFAULT_BACKOFF,
        logger,
        input.stopRecording,
      );
    } finally {
      this.ticker.leave(this);
    }
    if (outcome.status === 'stale') {
      logger.warn({ runId: run.id, status: 'skipped' }, `skip refused: ${staleReason(outcome.run, this.lease)}`);
      return { run: outcome.run ?? { ...run, status: 'skipped' }, state: null, outcome: 'stale' };
    }
    logger.info({ runId: run.id, reason: notRun.notRun }, notRun.message);
    return { run: outcome.run, state: outcome.state, outcome: 'completed' };
  }
}

/**
 * Tells the store this job's dead-man window when the state the completion returned holds
 * another one (the schedule's first run, or a window changed in code): a runner stopped or
 * killed before its first periodic dead-man check still leaves the window for the other runners
 * to alert from. Costs a store call only when the window differs; a failure is logged, and the
 * next periodic check writes it.
 */
async function storeWindow(input: ExecuteRunInput, state: JobState, logger: RunLogger): Promise<JobState> {
  const expectSuccessWithinMs = input.job.enabled ? input.job.expectSuccessWithinMs : null;
  if (state.expectSuccessWithinMs === expectSuccessWithinMs) return state;
  try {
    // `codes: []` matches no schedule: the call writes the window and hands out nothing.
    await input.store.claimOverdue({
      now: input.clock.now(),
      windows: [{ code: state.code, key: state.key, expectSuccessWithinMs }],
      codes: [],
    });
    return { ...state, expectSuccessWithinMs };
  } catch (error) {
    logger.warn({ err: describeThrown(error).message }, 'storing the dead-man window failed; the next dead-man check stores it');
    return state;
  }
}

/** Ends a run's span (if traced) with the run's status: OK when it succeeded, ERROR with the error otherwise. */
function endSpan(span: RunSpan | null, status: string, error: string | null, stack: string | null): void {
  if (!span) return;
  try {
    span.setAttribute('tickwork.status', status);
    if (status === 'succeeded') span.setStatus({ code: SPAN_STATUS_OK });
    else {
      const message = error ?? status;
      if (status === 'failed') span.recordException({ name: 'Error', message, ...(stack ? { stack } : {}) });
      span.setStatus({ code: SPAN_STATUS_ERROR, message });
    }
    span.end();
  } catch {
    // A tracer that throws must not lose the run's result.
  }
}

/** A gate's answer as a {@link NotRun}, or null (start the handler). */
function asNotRun(value: unknown): NotRun | null {
  return typeof value === 'object' && value !== null && typeof (value as NotRun).notRun === 'string' ? (value as NotRun) : null;
}

/**
 * Calls `onFailure` for interrupted runs a store handed to this runner (by `reapExpired` or a
 * claim's `reaped`) — each is handed to exactly one caller, so exactly one runner alerts on it.
 * `jobOf` finds the job of a code (undefined: not this deployment's job; nothing to call).
 */
export async function alertInterrupted(
  reaped: readonly ReapedRun[],
  jobOf: (code: string) => Job | undefined,
  logger: Logger,
): Promise<void> {
  for (const { run, state } of reaped) {
    logger.warn(
      { job: run.code, key: run.key, runId: run.id, runner: run.runnerId, reason: run.message },
      'run recorded as interrupted (lease expired or runner dead)',
    );
    const job = jobOf(run.code);
    if (job) await alertFailure(job, run, state, logger.child({ job: run.code, key: run.key, attempt: run.attempt }));
  }
}

/**
 * A handler's `ctx`: the same own properties, in the same order, as an object literal would have —
 * `signal` and `report` enumerable getters, so `{ ...ctx }` and `({ signal, report }) =>` read them —
 * but with one getter function for every run: a getter written in an object literal put each ctx
 * in dictionary mode (~830 bytes of properties a run, held while a run waits for its instant).
 * `report` is a function bound to the run, made when first read (a run that reports nothing, most
 * runs, never makes it), so a destructured `report` works; assigning `ctx.report` replaces it.
 */
class HandlerContext implements RunContext {
  declare code: string;
  declare key: string;
  declare slot: Date;
  declare attempt: number;
  declare trigger: RunContext['trigger'];
  declare runId: string;
  declare runnerId: string;
  declare fencingToken: number;
  declare readonly signal: AbortSignal;
  declare logger: Logger;
  declare payload: unknown;
  declare report: (message: string) => void;
  readonly #execution: RunExecution;

  private static readonly signalProperty: PropertyDescriptor = {
    get(this: HandlerContext) {
      return this.#execution.signal();
    },
    enumerable: true,
    configurable: true,
  };

  private static readonly reportProperty: PropertyDescriptor = {
    get(this: HandlerContext) {
      const execution = this.#execution;
      const report = (text: string): void => {
        execution.message = String(text);
      };
      Object.defineProperty(this, 'report', { value: report, writable: true, enumerable: true, configurable: true });
      return report;
    },
    set(this: HandlerContext, value: unknown) {
      Object.defineProperty(this, 'report', { value, writable: true, enumerable: true, configurable: true });
    },
    enumerable: true,
    configurable: true,
  };

  constructor(execution: RunExecution, run: RunRecord, fencingToken: number, logger: Logger, payload: unknown) {
    this.#execution = execution;
    this.code = run.code;
    this.key = run.key;
    this.slot = run.slotAt;
    this.attempt = run.attempt;
    this.trigger = run.trigger;
    this.runId = run.id;
    this.runnerId = run.runnerId;
    this.fencingToken = fencingToken;
    Object.defineProperty(this, 'signal', HandlerContext.signalProperty);
    this.logger = logger;
    this.payload = payload;
    Object.defineProperty(this, 'report', HandlerContext.reportProperty);
  }
}

/**
 * The run's logger (the runner's, bound to job, key, slot and attempt), made on its first line: a
 * run that logs nothing at the logger's level (a quiet daemon's every run) never builds a child.
 */
class RunLogger implements Logger {
  private made: Logger | null = null;

  constructor(
    private readonly parent: Logger,
    private readonly run: RunRecord,
  ) {}

  private get bound(): Logger {
    const { run } = this;
    this.made ??= this.parent.child({ job: run.code, key: run.key, slot: run.slotAt.toISOString(), attempt: run.attempt });
    return this.made;
  }

  debug(obj: object, msg?: string): void {
    this.bound.debug(obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.bound.info(obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.bound.warn(obj, msg);
  }

  error(obj: object, msg?: string): void {
    this.bound.error(obj, msg);
  }

  child(bindings: object): Logger {
    return this.bound.child(bindings);
  }
}

/** False only when the logger says so (pino's `isLevelEnabled`); a logger that cannot tell gets every line. */
function levelEnabled(logger: Logger, level: 'info'): boolean {
  const check = (logger as { isLevelEnabled?: unknown }).isLevelEnabled;
  return typeof check === 'function' ? (check as (l: string) => boolean).call(logger, level) !== false : true;
}

/** What `import()` resolves to: a module namespace object. */
function isModule(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module';
}

/**
 * A lazily loaded handler (`run: () => import('./jobs/report.js')`): the module's default export,
 * else its `run` export, is the handler — loaded on the first run, so a config stays cheap to load.
 */
function moduleHandler(module: Record<string, unknown>, code: string): (ctx: RunContext) => unknown {
  const handler = typeof module.default === 'function' ? module.default : module.run;
  if (typeof handler !== 'function') {
    throw new InvalidJobError(
      `job "${code}": run resolved to a module with neither a default nor a \`run\` export function (a lazily loaded handler module must export its handler)`,
    );
  }
  return handler as (ctx: RunContext) => unknown;
}

/**
 * Whichever comes first: the handler settling (its rejection is thrown) or `abandon` aborting. The
 * listener is removed when the handler settles: a runner may pass one `abandon` to every run.
 */
async function settledOrAbandoned(handler: Promise<unknown>, abandon: StopSignal): Promise<'settled' | 'abandoned'> {
  if (abandon.aborted) return 'abandoned';
  let listener: (() => void) | null = null;
  const abandoned = new Promise<'abandoned'>((resolve) => {
    listener = () => resolve('abandoned');
    abandon.addEventListener('abort', listener, { once: true });
  });
  try {
    return await Promise.race([handler.then(() => 'settled' as const), abandoned]);
  } finally {
    if (listener) abandon.removeEventListener('abort', listener);
  }
}

/**
 * Reaping as every runner does it: marks expired runs `interrupted` in the store — with
 * `runners: true` also those of dead runners (see `RunnerPresenceHandle.reapsRunners`) — then
 * alerts on the ones handed to this runner ({@link alertInterrupted}). Returns them (runners re-plan their schedules).
 */
export async function reapInterrupted(
  store: Store,
  now: Date,
  jobOf: (code: string) => Job | undefined,
  logger: Logger,
  options: { runners?: boolean } = {},
): Promise<ReapedRun[]> {
  const reaped = await store.reapExpired(options.runners ? { now, runners: true } : { now });
  await alertInterrupted(reaped, jobOf, logger);
  return reaped;
}

/**
 * At or past the threshold (django-cron's MIN_NUM_FAILURES), every failure alerts once. No state:
 * the runtime schedule was removed while its run went on; there is no streak left to alert on.
 */
async function alertFailure(job: Job, run: RunRecord, state: JobState | null, logger: Logger): Promise<void> {
  const failures = state?.consecutiveFailures ?? 0;
  if (!job.onFailure || failures < job.failuresBeforeAlert) return;
  try {
    await job.onFailure({
      code: run.code,
      key: run.key,
      run,
      consecutiveFailures: failures,
      failuresBeforeAlert: job.failuresBeforeAlert,
      streakStartedAt: state?.failingSince ?? null,
      logger,
    });
  } catch (error) {
    logger.error({ err: describeThrown(error).message }, 'onFailure hook threw');
  }
}

/**
 * A success that ended a failure streak (any length ≥ 1: the hook decides what is worth a
 * message) or an overdue episode calls `onRecovery` — from the state its own completion returned,
 * which only the runner whose completion landed receives.
 */
async function alertRecovery(job: Job, run: RunRecord, state: JobState | null, logger: Logger): Promise<void> {
  if (!state || state.lastStatus !== 'succeeded' || (state.endedStreak < 1 && state.endedOverdueAlertedAt === null)) return;
  if (state.endedStreak > 0) logger.info({ runId: run.id, failures: state.endedStreak }, 'recovered: succeeded after a failure streak');
  if (state.endedOverdueAlertedAt)
    logger.info(
      { runId: run.id, overdueAlertedAt: state.endedOverdueAlertedAt.toISOString() },
      'recovered: succeeded again after an overdue alert',
    );
  if (!job.onRecovery) return;
  try {
    await job.onRecovery({
      code: run.code,
      key: run.key,
      run,
      failures: state.endedStreak,
      failuresBeforeAlert: job.failuresBeforeAlert,
      streakStartedAt: state.endedStreak > 0 ? state.endedStreakStartedAt : null,
      overdue: state.endedOverdueAlertedAt
        ? { alertedAt: state.endedOverdueAlertedAt, expectSuccessWithinMs: state.expectSuccessWithinMs }
        : null,
      logger,
    });
  } catch (error) {
    logger.error({ err: describeThrown(error).message }, 'onRecovery hook threw');
  }
}

/** Input of {@link checkOverdue}. */
export interface OverdueCheck {
  store: Store;
  now: Date;
  /** The jobs this runner defines: their windows are written, and their `onOverdue` hooks called. */
  jobs: readonly Job[];
  /** Windows of runtime schedules this runner has loaded (their own or their job's). */
  windows?: readonly OverdueWindow[];
  /**
   * The config's `onOverdue`: called for overdue schedules of jobs without a hook of their own,
   * including jobs this runner does not define (another deployment's). With it this runner claims
   * every overdue schedule of the store; without it only those of its jobs that have a hook.
   */
  fallback?: ((ctx: OverdueContext) => void | Promise<void>) | null;
  logger: Logger;
  /** Most alerts this call takes (default the store's). */
  limit?: number;
}

/**
 * The dead-man check every runner makes (daemon: each poll; `tickwork run`: each tick): tells the
 * store this runner's windows, lets it hand out the schedules now overdue — each to exactly one
 * caller, once per episode — and calls their `onOverdue` (the job's, else `fallback`). An alert
 * handed to a runner that crashes before its hook ran is lost (at most once); the next success
 * still calls `onRecovery` with it. Returns the states handed to this runner.
 */
export async function checkOverdue(input: OverdueCheck): Promise<JobState[]> {
  const { store, now, jobs, logger } = input;
  const byCode = new Map(jobs.map((job) => [job.code, job]));
  // concat, not push(...): a daemon may hold hundreds of thousands of windows, past a call's argument limit.
  const windows: OverdueWindow[] = jobs
    .map(
      (job): OverdueWindow => ({
        code: job.code,
        key: DEFAULT_SCHEDULE_KEY,
        expectSuccessWithinMs: job.enabled ? job.expectSuccessWithinMs : null,
      }),
    )
    .concat(input.windows ?? []);
  const codes = input.fallback ? undefined : jobs.filter((job) => job.onOverdue).map((job) => job.code);
  const claimed: JobState[] = [];
  for (let i = 0; i < Math.max(1, windows.length); i += MAX_OVERDUE_WINDOWS) {
    const last = i + MAX_OVERDUE_WINDOWS >= windows.length;
    const batch = windows.slice(i, i + MAX_OVERDUE_WINDOWS);
    // Only the last call claims (the earlier ones write windows): `codes: []` matches nothing.
    const only = last ? codes : [];
    const states = await store.claimOverdue({
      now,
      windows: batch,
      ...(only ? { codes: only } : {}),
      ...(input.limit ? { limit: input.limit } : {}),
    });
    claimed.push(...states);
  }
  for (const state of claimed) {
    const windowMs = state.expectSuccessWithinMs ?? 0;
    const overdueSince = new Date((state.lastSucceededAt ?? state.createdAt).getTime() + windowMs);
    const runLogger = logger.child({ job: state.code, key: state.key });
    runLogger.warn(
      {
        expectSuccessWithinMs: windowMs,
        lastSucceededAt: state.lastSucceededAt?.toISOString() ?? null,
        overdueSince: overdueSince.toISOString(),
      },
      'overdue: no run succeeded within the expected window',
    );
    const hook = byCode.get(state.code)?.onOverdue ?? input.fallback ?? null;
    if (!hook) continue;
    try {
      await hook({
        code: state.code,
        key: state.key,
        expectSuccessWithinMs: windowMs,
        lastSucceededAt: state.lastSucceededAt,
        overdueSince,
        alertedAt: state.overdueAlertedAt ?? now,
        state,
        logger: runLogger,
      });
    } catch (error) {
      runLogger.error({ err: describeThrown(error).message }, 'onOverdue hook threw');
    }
  }
  return claimed;
}

/**
 * Text as every store can hold it: NUL bytes (refused by PostgreSQL text and jsonb) and lone
 * UTF-16 surrogates (refused by JSON decoders such as Redis's cjson) become U+FFFD. Applied to
 * handler text before completion, or the store would refuse the run's result and lose the run.
 */
export function storable(text: string | null): string | null {
  return text === null ? null : text.replace(UNSTORABLE, '\uFFFD');
}

/**
 * Records a result, retrying with backoff (doubling up to `maxMs`) while the store is unreachable,
 * until it lands or is refused as stale. Each attempt presents the latest renewed lease. Any error
 * other than a `StoreUnavailableError` of any copy of core (a store refusing the input) is thrown at once.
 */
async function completeUntilRecorded(
  store: Store,
  completion: RunCompletion,
  current: { readonly lease: Lease },
  backoff: { firstMs: number; maxMs: number },
  logger: Logger,
  stop?: StopSignal,
): Promise<CompletionOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      // The first attempt sends the completion as made (with the lease of that moment); a retry, the latest lease.
      const [outcome] = await store.completeRuns([attempt === 1 ? completion : { ...completion, lease: current.lease }]);
      if (!outcome) throw new StoreUnavailableError('store returned no completion outcome');
      if (attempt > 1 && outcome.status === 'stale' && landedBefore(outcome.run, completion)) {
        // An earlier attempt was applied and only its answer was lost (a timeout, a WAIT for replicas
        // that timed out): the result is recorded, by this runner. Its state is read back for the alert.
        logger.info(
          { attempt },
          'run recorded: an earlier attempt had been applied though its answer was lost (the store failed after the write)',
        );
        const state = await store.getStates([{ code: outcome.run.code, key: outcome.run.key }]).then(
          ([found]) => found ?? null,
          () => null,
        );
        return { status: 'completed', run: outcome.run, state };
      }
      if (attempt > 1)
        logger.info(
          { attempt, outcome: outcome.status },
          outcome.status === 'completed' ? 'run recorded after the store came back' : 'the store answered again: the result was refused',
        );
      return outcome;
    } catch (error) {
      if (!isStoreUnavailable(error) || stop?.aborted) throw error;
      const delay = Math.min(backoff.maxMs, backoff.firstMs * 2 ** (attempt - 1));
      logger.warn({ err: error.message, attempt, retryInMs: delay }, 'recording the run failed; retrying until the store answers');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          stop?.removeEventListener('abort', done);
          resolve();
        }
        stop?.addEventListener('abort', done, { once: true });
      });
      // Woken by the stop: one last attempt (the store may be back), then no more.
    }
  }
}

/** Whether a stale answer's run holds exactly this completion (same token, status, end and text): an earlier attempt of it landed. */
function landedBefore(run: RunRecord | null, completion: RunCompletion): run is RunRecord {
  return (
    run !== null &&
    run.token === completion.lease.token &&
    run.runnerId === completion.lease.runnerId &&
    run.status === completion.status &&
    run.finishedAt?.getTime() === completion.finishedAt.getTime() &&
    run.message === (completion.message ?? run.message) &&
    run.error === (completion.error ?? null)
  );
}

/** What made a completion stale, from the run the store holds: said as it happened, not assumed. */
function staleReason(run: RunRecord | null, lease: Lease): string {
  if (!run) return 'the store holds no such run any more (its data was lost or pruned)';
  if (run.token !== lease.token || run.runnerId !== lease.runnerId) {
    return `the run was taken over: the store holds token ${run.token} of runner "${run.runnerId}" (this runner had token ${lease.token})`;
  }
  if (run.status === 'running') return 'the store no longer accepts this lease';
  return `the store already recorded the run as ${run.status}${run.message ? ` (${run.message})` : ''} (fencing token is stale)`;
}
