import { describeThrown, StoreUnavailableError } from './errors.js';
const ABORT_TEXT = {
    timeout: 'run timed out',
    shutdown: 'run interrupted by shutdown',
    'lease-lost': 'run lost its lease',
    cancelled: 'run cancelled: a later slot replaces it (overlap policy cancelOther)',
};
const INTERRUPTION = {
    shutdown: 'interrupted by runner shutdown',
    'lease-lost': 'lease lost (another runner took the slot over)',
    cancelled: 'cancelled: a later slot replaces it (overlap policy cancelOther)',
};
const DEFAULT_BACKOFF = { firstMs: 50, maxMs: 5_000 };
// NUL, a high surrogate without its low half, or a low surrogate without its high half.
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
export async function executeRun(input) {
    const { job, run, store, clock } = input;
    const logger = input.logger.child({ job: run.code, key: run.key, slot: run.slotAt.toISOString(), attempt: run.attempt });
    let lease = input.lease;
    let message = null;
    const controller = new AbortController();
    let cause = null;
    const abort = (why) => {
        if (cause)
            return;
        cause = why;
        controller.abort(new Error(`[tickwork] job "${run.code}": ${ABORT_TEXT[why]}`));
    };
    const onShutdown = () => abort('shutdown');
    if (input.signal?.aborted)
        onShutdown();
    input.signal?.addEventListener('abort', onShutdown, { once: true });
    if (lease.cancelRequested)
        abort('cancelled');
    const timeout = job.timeoutMs !== null ? setTimeout(() => abort('timeout'), job.timeoutMs) : null;
    const renewal = keepRenewing(input, () => lease, (renewed) => {
        if (!renewed)
            abort('lease-lost');
        else {
            lease = renewed;
            if (renewed.cancelRequested)
                abort('cancelled');
        }
    }, logger);
    const ctx = {
        code: run.code,
        key: run.key,
        slot: run.slotAt,
        attempt: run.attempt,
        trigger: run.trigger,
        runId: run.id,
        runnerId: run.runnerId,
        fencingToken: lease.token,
        signal: controller.signal,
        logger,
        payload: input.payload,
        report(text) {
            message = String(text);
        },
    };
    logger.info({ runId: run.id }, 'run started');
    let status = 'succeeded';
    let error = null;
    let stack = null;
    let abandoned = false;
    try {
        // Awaited to the end even after an abort: until it settles the handler may still act, so the
        // run keeps its lease (no next slot beside it) and its place in the caller's capacity.
        const handler = Promise.resolve().then(() => job.run(ctx));
        if (!input.abandon)
            await handler;
        else if ((await Promise.race([handler.then(() => 'settled'), untilAborted(input.abandon)])) === 'abandoned') {
            handler.catch(() => undefined);
            abandoned = true;
        }
    }
    catch (thrown) {
        const described = describeThrown(thrown);
        status = 'failed';
        error = described.message;
        stack = described.stack;
    }
    finally {
        if (timeout)
            clearTimeout(timeout);
        input.signal?.removeEventListener('abort', onShutdown);
    }
    const why = cause;
    if (why === 'timeout') {
        status = 'timed_out';
        error = `timed out after ${job.timeoutMs} ms`;
        stack = null;
    }
    else if (why) {
        status = 'interrupted';
        error = INTERRUPTION[why];
        stack = null;
    }
    if (abandoned) {
        status = 'interrupted';
        error = 'interrupted by runner shutdown: the handler ignored its signal and was abandoned as the runner exits';
        stack = null;
    }
    let outcome;
    try {
        outcome = await completeUntilRecorded(store, { lease, status, finishedAt: clock.now(), message: storable(message), error: storable(error), stack: storable(stack) }, () => lease, input.completionBackoff ?? DEFAULT_BACKOFF, logger);
    }
    finally {
        renewal.stop();
    }
    if (outcome.status === 'stale') {
        logger.warn({ runId: run.id, status }, 'result refused: the lease was taken over (fencing token is stale)');
        return { run: outcome.run ?? { ...run, status }, state: null, outcome: 'stale' };
    }
    const finished = outcome.run;
    logger[status === 'succeeded' ? 'info' : 'warn']({ runId: run.id, status, durationMs: finished.durationMs, ...(error ? { error } : {}) }, 'run finished');
    // A cancelOther cancellation is the policy working, not a failure to alert on.
    if (status !== 'succeeded' && why !== 'cancelled')
        await alertFailure(job, finished, outcome.state, logger);
    return { run: finished, state: outcome.state, outcome: 'completed' };
}
/**
 * Calls `onFailure` for interrupted runs a store handed to this runner (by `reapExpired` or a
 * claim's `reaped`) — each is handed to exactly one caller, so exactly one runner alerts on it.
 * `jobOf` finds the job of a code (undefined: not this deployment's job; nothing to call).
 */
export async function alertInterrupted(reaped, jobOf, logger) {
    for (const { run, state } of reaped) {
        logger.warn({ job: run.code, key: run.key, runId: run.id, runner: run.runnerId }, 'lease expired: run recorded as interrupted');
        const job = jobOf(run.code);
        if (job)
            await alertFailure(job, run, state, logger.child({ job: run.code, key: run.key, attempt: run.attempt }));
    }
}
function untilAborted(signal) {
    return new Promise((resolve) => {
        if (signal.aborted)
            resolve('abandoned');
        else
            signal.addEventListener('abort', () => resolve('abandoned'), { once: true });
    });
}
/**
 * Reaping as every runner does it: marks expired runs `interrupted` in the store, then alerts on
 * the ones handed to this runner ({@link alertInterrupted}). Returns them (runners re-plan their schedules).
 */
export async function reapInterrupted(store, now, jobOf, logger) {
    const reaped = await store.reapExpired({ now });
    await alertInterrupted(reaped, jobOf, logger);
    return reaped;
}
/**
 * At or past the threshold (django-cron's MIN_NUM_FAILURES), every failure alerts once. No state:
 * the runtime schedule was removed while its run went on; there is no streak left to alert on.
 */
async function alertFailure(job, run, state, logger) {
    const failures = state?.consecutiveFailures ?? 0;
    if (!job.onFailure || failures < job.failuresBeforeAlert)
        return;
    try {
        await job.onFailure({ code: run.code, key: run.key, run, consecutiveFailures: failures, logger });
    }
    catch (error) {
        logger.error({ err: describeThrown(error).message }, 'onFailure hook threw');
    }
}
/**
 * Renews the lease every third of its length, from the claim until `stop()` (after the result is
 * recorded), one renewal in flight at a time. A renewal that fails (store outage) is retried at
 * the next beat — the lease is given up only when the store answers that it is no longer current.
 */
function keepRenewing(input, current, answered, logger) {
    const { job, store, clock } = input;
    let inFlight = false;
    let stopped = false;
    const timer = setInterval(() => {
        if (inFlight || stopped)
            return;
        inFlight = true;
        store
            .renewLeases([current()], { now: clock.now(), leaseMs: job.leaseTtlMs })
            .then(([renewed]) => {
            if (!stopped)
                answered(renewed ?? null);
        })
            .catch((error) => logger.warn({ err: describeThrown(error).message }, 'lease renewal failed; retrying'))
            .finally(() => {
            inFlight = false;
        });
    }, Math.max(50, Math.floor(job.leaseTtlMs / 3)));
    return {
        stop() {
            stopped = true;
            clearInterval(timer);
        },
    };
}
/**
 * Text as every store can hold it: NUL bytes (refused by PostgreSQL text and jsonb) and lone
 * UTF-16 surrogates (refused by JSON decoders such as Redis's cjson) become U+FFFD. Applied to
 * handler text before completion, or the store would refuse the run's result and lose the run.
 */
export function storable(text) {
    return text === null ? null : text.replace(UNSTORABLE, '\uFFFD');
}
/**
 * Records a result, retrying with backoff (doubling up to `maxMs`) while the store is unreachable,
 * until it lands or is refused as stale. Each attempt presents the latest renewed lease. Any error
 * other than `StoreUnavailableError` (a store refusing the input) is thrown at once.
 */
async function completeUntilRecorded(store, completion, lease, backoff, logger) {
    for (let attempt = 1;; attempt++) {
        try {
            const [outcome] = await store.completeRuns([{ ...completion, lease: lease() }]);
            if (!outcome)
                throw new StoreUnavailableError('store returned no completion outcome');
            if (attempt > 1)
                logger.info({ attempt }, 'run recorded after the store came back');
            return outcome;
        }
        catch (error) {
            if (!(error instanceof StoreUnavailableError))
                throw error;
            const delay = Math.min(backoff.maxMs, backoff.firstMs * 2 ** (attempt - 1));
            logger.warn({ err: error.message, attempt, retryInMs: delay }, 'recording the run failed; retrying until the store answers');
            await new Promise((resolve) => setTimeout(resolve, delay));
        }
    }
}
//# sourceMappingURL=run.js.map