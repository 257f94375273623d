import type { Clock } from './clock.js';
import { describeThrown, StoreUnavailableError } from './errors.js';
import type { FailureContext, Job, RunContext } from './job.js';
import type { Logger } from './logger.js';
import type { CompletionOutcome, FinalRunStatus, Lease, RunRecord, Store } from './store.js';

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
  signal?: AbortSignal;
}

type AbortCause = 'timeout' | 'shutdown' | 'lease-lost';

const COMPLETION_ATTEMPTS = 5;
// NUL, a high surrogate without its low half, or a low surrogate without its high half.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Runs a claimed slot's handler and records its outcome: renews the lease while it runs,
 * aborts `ctx.signal` on timeout / shutdown / lost lease, completes with the fencing token,
 * and calls `onFailure` when the failure streak reaches `failuresBeforeAlert`.
 *
 * A handler that ignores its signal cannot be killed (JavaScript has no way to), but it no
 * longer holds anything up: the run is recorded at the abort and the lease released.
 */
export async function executeRun(input: ExecuteRunInput): Promise<RunRecord> {
  const { job, run, store, clock } = input;
  const logger = input.logger.child({ job: run.code, key: run.key, slot: run.slotAt.toISOString(), attempt: run.attempt });
  let lease = input.lease;
  let message: string | null = null;
  const controller = new AbortController();
  let cause: AbortCause | null = null;
  let wakeAbort: () => void = () => undefined;
  const aborted = new Promise<void>((resolve) => {
    wakeAbort = resolve;
  });
  const abort = (why: AbortCause) => {
    if (cause) return;
    cause = why;
    controller.abort(new Error(`[tickwork] job "${run.code}": run ${why === 'timeout' ? 'timed out' : why === 'shutdown' ? 'interrupted by shutdown' : 'lost its lease'}`));
    wakeAbort();
  };

  const onShutdown = () => abort('shutdown');
  if (input.signal?.aborted) onShutdown();
  input.signal?.addEventListener('abort', onShutdown, { once: true });
  const timeout = job.timeoutMs !== null ? setTimeout(() => abort('timeout'), job.timeoutMs) : null;
  const renewEvery = Math.max(50, Math.floor(job.leaseTtlMs / 3));
  const renewal = setInterval(() => {
    // Renewals have failed until the lease ran out: another runner may take the slot over now, so
    // this handler must stop rather than run beside it (no overlap), whatever the store says later.
    if (clock.now().getTime() >= lease.expiresAt.getTime()) {
      abort('lease-lost');
      return;
    }
    store
      .renewLeases([lease], { now: clock.now(), leaseMs: job.leaseTtlMs })
      .then(([renewed]) => {
        if (renewed) lease = renewed;
        else abort('lease-lost');
      })
      .catch((error: unknown) => logger.warn({ err: describeThrown(error).message }, 'lease renewal failed; retrying'));
  }, renewEvery);

  const ctx: RunContext = {
    code: run.code,
    key: run.key,
    slot: run.slotAt,
    attempt: run.attempt,
    trigger: run.trigger,
    runId: run.id,
    runnerId: run.runnerId,
    signal: controller.signal,
    logger,
    payload: input.payload,
    report(text) {
      message = String(text);
    },
  };

  logger.info({ runId: run.id }, 'run started');
  let status: FinalRunStatus = 'succeeded';
  let error: string | null = null;
  let stack: string | null = null;
  try {
    const handler = Promise.resolve().then(() => job.run(ctx));
    await Promise.race([handler, aborted]);
    if (cause) handler.catch(() => undefined); // ignore what an abandoned handler does later
  } catch (thrown) {
    const described = describeThrown(thrown);
    status = 'failed';
    error = described.message;
    stack = described.stack;
  } finally {
    if (timeout) clearTimeout(timeout);
    clearInterval(renewal);
    input.signal?.removeEventListener('abort', onShutdown);
  }
  if (cause === 'timeout') {
    status = 'timed_out';
    error = `timed out after ${job.timeoutMs} ms`;
    stack = null;
  } else if (cause) {
    status = 'interrupted';
    error = cause === 'shutdown' ? 'interrupted by runner shutdown' : 'lease lost (another runner took the slot over)';
    stack = null;
  }

  const outcome = await completeWithRetry(
    store,
    { lease, status, finishedAt: clock.now(), message: storable(message), error: storable(error), stack: storable(stack) },
    logger,
  );
  if (outcome.status === 'stale') {
    logger.warn({ runId: run.id, status }, 'result refused: the lease was taken over (fencing token is stale)');
    return outcome.run ?? { ...run, status };
  }
  const finished = outcome.run;
  logger[status === 'succeeded' ? 'info' : 'warn'](
    { runId: run.id, status, durationMs: finished.durationMs, ...(error ? { error } : {}) },
    'run finished',
  );
  // At or past the threshold (django-cron's MIN_NUM_FAILURES): a streak that crossed it through
  // runs reaped after a crash (which call no hook) still alerts on its next failure.
  // No state: the runtime schedule was removed while this run went on; there is no streak left to alert on.
  const failures = outcome.state?.consecutiveFailures ?? 0;
  if (status !== 'succeeded' && job.onFailure && failures >= job.failuresBeforeAlert) {
    await callOnFailure(job, { code: run.code, key: run.key, run: finished, consecutiveFailures: failures, logger });
  }
  return finished;
}

/**
 * Text as every store can hold it: NUL bytes (refused by PostgreSQL text and jsonb) and lone
 * UTF-16 surrogates (refused by JSON decoders such as Redis's cjson) become U+FFFD. Applied to
 * handler text before completion, or the store would refuse the run's result and lose the run.
 */
export function storable(text: string | null): string | null {
  return text === null ? null : text.replace(UNSTORABLE, '\uFFFD');
}

async function completeWithRetry(
  store: Store,
  completion: Parameters<Store['completeRuns']>[0][number],
  logger: Logger,
): Promise<CompletionOutcome> {
  // A store outage at completion must not lose the run log: retry with backoff, then give up loudly.
  for (let attempt = 1; ; attempt++) {
    try {
      const [outcome] = await store.completeRuns([completion]);
      if (!outcome) throw new StoreUnavailableError('store returned no completion outcome');
      return outcome;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt >= COMPLETION_ATTEMPTS) throw error;
      logger.warn({ err: error.message, attempt }, 'recording the run failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

async function callOnFailure(job: Job, ctx: FailureContext): Promise<void> {
  try {
    await job.onFailure?.(ctx);
  } catch (error) {
    ctx.logger.error({ err: describeThrown(error).message }, 'onFailure hook threw');
  }
}
