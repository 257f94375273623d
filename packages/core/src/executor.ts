import { hostname } from 'node:os';
import { systemClock, type Clock } from './clock.js';
import { describeThrown, InvalidArgumentError, isStoreUnavailable, StoreSchemaError } from './errors.js';
import { initialJobState } from './job-state.js';
import { createRegistry, jobSchedule, type Job, type JobInput, type JobRegistry, type OverdueContext } from './job.js';
import { silentLogger, type Logger } from './logger.js';
import { findPendingRequests, scheduleId } from './pending-requests.js';
import { claimAt, nextDueAt, planDue, remainingRuns, requestClaim } from './plan.js';
import { alertInterrupted, checkOverdue, executeRun, reapInterrupted, type ExecutedRun } from './run.js';
import type { RunTracer } from './tracing.js';
import { runtimeJob, type RuntimeSchedule } from './runtime-schedule.js';
import type { CompiledSchedule } from './schedule/engine.js';
import {
  DEFAULT_SCHEDULE_KEY,
  type ClaimOutcome,
  type JobState,
  type RunRecord,
  type RunRequest,
  type SlotClaim,
  type Store,
} from './store.js';

/** Options of {@link runDue}; the daemon takes the same ones. */
export interface RunDueOptions {
  jobs: JobRegistry | readonly JobInput[];
  store: Store;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: `hostname:pid`. */
  runnerId?: string;
  logger?: Logger;
  /** Default timezone for schedules and jobs that name none. Default 'UTC'. */
  timezone?: string;
  /** Only these job codes (unknown codes throw UnknownJobError before anything runs). */
  only?: readonly string[];
  /** Run the selected jobs now whatever their schedule (slot = now, to the second); still once per slot, no overlap. */
  force?: boolean;
  /** Report what would run; claim nothing, change nothing. */
  dryRun?: boolean;
  /** Aborting it aborts running handlers; their runs are recorded `interrupted`. */
  signal?: AbortSignal;
  /** How long after a slot a `skip`-policy job may still start it. Default 60 s. */
  missedGraceMs?: number;
  /** Most handlers running at once; due schedules beyond it are claimed in later waves. Default 100. */
  maxConcurrentRuns?: number;
  /** Also reap the runs of dead runners (a resident runner passes its presence's `reapsRunners`). Default false. */
  reapRunners?: boolean;
  /**
   * The config's `onOverdue`: called for overdue schedules whose job has no `onOverdue` of its own,
   * also of jobs this runner does not define; with it the tick takes every overdue alert of the store.
   */
  onOverdue?: ((ctx: OverdueContext) => void | Promise<void>) | null;
  /** OpenTelemetry: a span per attempt, the handler inside it (see `executeRun`'s `tracer`). Default: none. */
  tracer?: RunTracer;
}

/** Default of {@link RunDueOptions.maxConcurrentRuns}. */
export const DEFAULT_MAX_CONCURRENT_RUNS = 100;

/** What one tick did for one schedule. */
export interface TickResult {
  code: string;
  key: string;
  outcome:
    | 'succeeded'
    | 'failed'
    | 'timed_out'
    | 'interrupted'
    | 'skipped'
    | 'waiting'
    | 'busy'
    | 'not-due'
    | 'taken'
    | 'paused'
    | 'disabled'
    | 'unscheduled'
    | 'ended'
    | 'would-run'
    | 'error';
  slotAt: Date | null;
  attempt: number | null;
  run: RunRecord | null;
  /** Why it did not run, or the run's message / error. */
  reason: string | null;
  nextSlotAt: Date | null;
}

/**
 * What one tick did. `ok` is false when any run failed, timed out or was interrupted, or a schedule met an
 * error (`error`: a claim the store kept refusing).
 */
export interface TickReport {
  startedAt: Date;
  finishedAt: Date;
  results: TickResult[];
  ok: boolean;
}

/** The runner id used when none is configured: `hostname:pid`. */
export function defaultRunnerId(): string {
  return `${hostname()}:${process.pid}`;
}

/** Accepts a registry or a list of job inputs. */
export function toRegistry(jobs: JobRegistry | readonly JobInput[]): JobRegistry {
  return Array.isArray(jobs) ? createRegistry(jobs) : (jobs as JobRegistry);
}

/** One schedule a tick considers: a job's own, or one of its runtime schedules (job = its effective job). */
interface Target {
  job: Job;
  key: string;
  state: JobState;
  schedule: CompiledSchedule | null;
  /** Runtime schedules only. */
  payload?: unknown;
  version?: number;
}

interface Planned {
  target: Target;
  claims: SlotClaim[];
}

/** Attempts at one claim through store blips (≈ 3 s of backoff) before its schedule reports an error. */
const CLAIM_ATTEMPTS = 5;
/** Page size when reading runtime schedules and their states. */
const READ_PAGE = 1000;

/**
 * One tick — what `tickwork run` does and what the daemon does at each instant: reaps
 * expired leases, consumes run-now requests, plans due slots per each schedule's policy
 * (the jobs' own schedules and their runtime schedules), claims them all in one store round
 * trip, runs the claimed handlers (concurrently across schedules, in slot order within one),
 * records every run, and reports per schedule.
 */
export async function runDue(options: RunDueOptions): Promise<TickReport> {
  const registry = toRegistry(options.jobs);
  const selected = options.only ? options.only.map((code) => registry.get(code)) : [...registry.jobs];
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const runnerId = options.runnerId ?? defaultRunnerId();
  const timezone = options.timezone ?? 'UTC';
  const startedAt = clock.now();
  const now = startedAt;
  const refs = selected.map((job) => ({ code: job.code, key: DEFAULT_SCHEDULE_KEY }));
  if (options.maxConcurrentRuns !== undefined && (!Number.isInteger(options.maxConcurrentRuns) || options.maxConcurrentRuns < 1)) {
    throw new InvalidArgumentError(`runDue: maxConcurrentRuns must be an integer ≥ 1, got ${String(options.maxConcurrentRuns)}`);
  }

  // Reap first, so a dead runner's interrupted slot is retried in this very tick; each reaped run
  // comes to one runner only, which calls its onFailure.
  if (!options.dryRun) {
    await reapInterrupted(store, now, (code) => (registry.has(code) ? registry.get(code) : undefined), logger, {
      runners: options.reapRunners === true,
    });
  }
  const states = options.dryRun ? await readStates(store, refs, now) : await store.ensureStates(refs, now);
  if (states.length !== refs.length) {
    throw new StoreSchemaError(`store "${store.name}": ensureStates returned ${states.length} states for ${refs.length} schedules`);
  }
  const compiler = new ScheduleCache(timezone);
  // concat, not push(...): a store may hold hundreds of thousands of runtime schedules, past a call's argument limit.
  const targets: Target[] = selected
    .map((job, index): Target => {
      const state = states[index] as JobState;
      return { job, key: DEFAULT_SCHEDULE_KEY, state, schedule: compiler.compile(job, state.scheduleOverride) };
    })
    .concat(await readRuntimeTargets(store, selected, options.only !== undefined, compiler, logger));

  // Run-now requests of the schedules this tick claims for; each is consumed only by the claim
  // that names it, so one not claimed (paused meanwhile, store blip) simply stays pending.
  const eligible = new Map(
    targets.filter((t) => t.job.enabled && !t.state.paused).map((t) => [scheduleId({ code: t.job.code, key: t.key }), t]),
  );
  // The read names no job unless 1,000 older requests it cannot take might hide its own (see findPendingRequests).
  const requests =
    options.force || options.signal?.aborted || eligible.size === 0
      ? []
      : await findPendingRequests(store, {
          codes: () => [...new Set([...eligible.values()].map((t) => t.job.code))],
          wanted: (request) => eligible.has(scheduleId(request)),
          refs: () => [...eligible.values()].map((t) => ({ code: t.job.code, key: t.key })),
        });
  const requestsOf = new Map<string, RunRequest[]>();
  for (const request of requests) requestsOf.set(scheduleId(request), [...(requestsOf.get(scheduleId(request)) ?? []), request]);

  const results: TickResult[] = [];
  const planned: Planned[] = [];
  for (const target of targets) {
    const { job, key, state, schedule } = target;
    const base = { code: job.code, key };
    const upcoming = () => nextDueAt({ job, key, schedule, state, now, ...grace(options) });
    if (!job.enabled) {
      const reason =
        key === DEFAULT_SCHEDULE_KEY || !registry.get(job.code).enabled
          ? 'disabled in code (enabled: false)'
          : 'schedule disabled (enabled: false)';
      results.push({ ...base, outcome: 'disabled', slotAt: null, attempt: null, run: null, reason, nextSlotAt: null });
      continue;
    }
    if (state.paused) {
      results.push({
        ...base,
        outcome: 'paused',
        slotAt: null,
        attempt: null,
        run: null,
        reason: state.pausedNote ?? 'paused',
        nextSlotAt: upcoming(),
      });
      continue;
    }
    // --force runs each selected job's own schedule now; its runtime schedules keep their plan.
    const claims =
      options.force && key === DEFAULT_SCHEDULE_KEY
        ? [claimAt(job, key, now, 'force')]
        : planDue({ job, key, schedule, state, now, ...grace(options) });
    for (const request of requestsOf.get(scheduleId({ code: job.code, key })) ?? []) claims.push(requestClaim(job, key, request));
    if (target.version !== undefined) for (const claim of claims) claim.scheduleVersion = target.version;
    if (claims.length === 0 && remainingRuns(job, state) === 0) {
      results.push({ ...base, outcome: 'ended', slotAt: null, attempt: null, run: null, reason: endedReason(job), nextSlotAt: upcoming() });
      continue;
    }
    if (claims.length === 0) {
      results.push({ ...base, outcome: 'not-due', slotAt: null, attempt: null, run: null, reason: null, nextSlotAt: upcoming() });
      continue;
    }
    planned.push({ target, claims });
  }

  if (options.dryRun) {
    for (const { target, claims } of planned) {
      for (const claim of claims) {
        results.push({
          code: target.job.code,
          key: claim.key,
          outcome: 'would-run',
          slotAt: claim.slotAt,
          attempt: claim.attempt,
          run: null,
          reason: claim.trigger,
          nextSlotAt: null,
        });
      }
    }
    return finish(startedAt, clock, results);
  }

  // In waves of at most `maxConcurrentRuns` schedules: a wave's first claims go to the store in
  // one round trip, its handlers run side by side, and the next wave is claimed when it is
  // done, so this runner never holds more leases than it runs (DESIGN: claim no more than
  // free capacity). A schedule's later slots (backfill) are claimed one by one after its
  // previous run ends, so they don't overlap it.
  const capacity = options.maxConcurrentRuns ?? DEFAULT_MAX_CONCURRENT_RUNS;
  const jobOf = (code: string) => (registry.has(code) ? registry.get(code) : undefined);
  const deps = { store, clock, logger, signal: options.signal, jobOf, runnerId, tracer: options.tracer };
  for (let from = 0; from < planned.length; from += capacity) {
    if (options.signal?.aborted) break;
    const wave = planned.slice(from, from + capacity);
    let first: ClaimOutcome[] | null = null;
    let claimError: unknown = null;
    try {
      first = await claimWithRetry(
        store,
        wave.map((p) => p.claims[0] as SlotClaim),
        { runnerId, now: from === 0 ? now : clock.now() },
        logger,
      );
    } catch (error) {
      claimError = error;
    }
    // Each schedule on its own: one's failure is reported as its result, never rejects the tick
    // while other handlers still run, and the tick returns only once every handler it started settled.
    const perSchedule = await Promise.allSettled(wave.map((p, index) => runSchedule(p, first?.[index], deps)));
    perSchedule.forEach((settled, index) => {
      const p = wave[index] as Planned;
      const failure = claimError ?? (settled.status === 'rejected' ? settled.reason : null);
      if (settled.status === 'fulfilled') results.push(...settled.value.results);
      if (failure)
        results.push(errorResult(p, settled.status === 'fulfilled' ? settled.value.failedClaim : (p.claims[0] as SlotClaim), failure));
    });
  }
  // After the runs, so a success this tick recorded is not reported overdue.
  const windows = targets
    .filter((t) => t.key !== DEFAULT_SCHEDULE_KEY)
    .map((t) => ({ code: t.job.code, key: t.key, expectSuccessWithinMs: t.job.enabled ? t.job.expectSuccessWithinMs : null }));
  try {
    await checkOverdue({ store, now: clock.now(), jobs: selected, windows, fallback: options.onOverdue ?? null, logger });
  } catch (error) {
    logger.error({ err: describeThrown(error).message }, 'dead-man check failed; the next tick checks again');
  }
  return finish(startedAt, clock, results);
}

/**
 * One schedule's claims of a tick, in order: each after the previous run ended (a backfill never
 * overlaps itself), a slot that waits in the store claimed as soon as this tick's run before it
 * ended, and nothing after a `busy` answer (the later slots queue behind it).
 */
async function runSchedule(
  p: Planned,
  firstOutcome: ClaimOutcome | undefined,
  deps: RunDeps,
): Promise<{ results: TickResult[]; failedClaim: SlotClaim | null }> {
  const results: TickResult[] = [];
  const queue = [...p.claims];
  let outcome = firstOutcome;
  if (!outcome) return { results, failedClaim: p.claims[0] ?? null };
  for (let claim = queue.shift(); claim; claim = queue.shift()) {
    if (deps.signal?.aborted) break;
    if (!outcome) {
      try {
        [outcome] = await claimWithRetry(deps.store, [claim], { runnerId: deps.runnerId, now: deps.clock.now() }, deps.logger);
      } catch (error) {
        results.push(errorResult(p, claim, error));
        break;
      }
      if (!outcome) break;
    }
    if (outcome.reaped) await alertInterrupted(outcome.reaped, deps.jobOf, deps.logger);
    const { result, executed } = await settle(p.target, claim, outcome, deps);
    results.push(result);
    // Busy: the later slots would be too (they queue behind this one) — except behind the slot that
    // already waits in the store, where each later slot is judged by the overlap policy (queued or skipped).
    if (outcome.status === 'busy' && !waitsInStore(claim, p.target.state)) break;
    const waiting = executed?.state?.waitingSlotAt;
    if (waiting && !queue.some((c) => c.requestId === undefined && c.slotAt.getTime() === waiting.getTime() && c.attempt === 1)) {
      queue.unshift(
        ...planDue({ job: p.target.job, key: p.target.key, schedule: null, state: executed.state as JobState, now: deps.clock.now() })
          .slice(0, 1)
          .map((c) => versioned(c, p.target)),
      );
    }
    outcome = undefined;
  }
  return { results, failedClaim: null };
}

function waitsInStore(claim: SlotClaim, state: JobState): boolean {
  return claim.requestId === undefined && claim.attempt === 1 && state.waitingSlotAt?.getTime() === claim.slotAt.getTime();
}

interface RunDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal | undefined;
  jobOf: (code: string) => Job | undefined;
  runnerId: string;
  tracer: RunTracer | undefined;
}

/** Claims are idempotent per runner, so one whose answer was lost (store blip) is simply made again. */
async function claimWithRetry(
  store: Store,
  claims: readonly SlotClaim[],
  context: { runnerId: string; now: Date },
  logger: Logger,
): Promise<ClaimOutcome[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.claimSlots(claims, context);
    } catch (error) {
      if (!isStoreUnavailable(error) || attempt >= CLAIM_ATTEMPTS) throw error;
      logger.warn({ err: error.message, attempt, claims: claims.length }, 'claiming failed; retrying (claims are idempotent)');
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}

function versioned(claim: SlotClaim, target: Target): SlotClaim {
  return target.version === undefined ? claim : { ...claim, scheduleVersion: target.version };
}

function errorResult(p: Planned, claim: SlotClaim | null, error: unknown): TickResult {
  return {
    code: p.target.job.code,
    key: p.target.key,
    outcome: 'error',
    slotAt: claim?.slotAt ?? null,
    attempt: claim?.attempt ?? null,
    run: null,
    reason: describeThrown(error).message,
    nextSlotAt: null,
  };
}

async function settle(
  target: Target,
  claim: SlotClaim,
  outcome: ClaimOutcome,
  deps: RunDeps,
): Promise<{ result: TickResult; executed?: ExecutedRun }> {
  const { job } = target;
  const base = { code: job.code, key: claim.key, slotAt: claim.slotAt, attempt: claim.attempt, nextSlotAt: null };
  switch (outcome.status) {
    case 'taken':
      return { result: { ...base, outcome: 'taken', run: null, reason: 'another runner claimed this slot' } };
    case 'paused':
      return { result: { ...base, outcome: 'paused', run: null, reason: 'paused' } };
    case 'unscheduled':
      return {
        result: { ...base, outcome: 'unscheduled', run: null, reason: 'the runtime schedule was removed, disabled or changed meanwhile' },
      };
    case 'ended':
      return { result: { ...base, outcome: 'ended', run: null, reason: endedReason(job) } };
    case 'overlap':
      return {
        result: { ...base, outcome: 'skipped', run: outcome.run, reason: outcome.run.message ?? 'previous run still holds the lease' },
      };
    case 'waiting':
      return { result: { ...base, outcome: 'waiting', run: outcome.run, reason: outcome.run.message ?? 'waits for the running run' } };
    case 'busy':
      return { result: { ...base, outcome: 'busy', run: null, reason: 'another run holds the lease; claimed again when it ends' } };
    case 'claimed': {
      const executed = await executeRun({
        job,
        run: outcome.run,
        lease: outcome.lease,
        store: deps.store,
        clock: deps.clock,
        logger: deps.logger,
        ...(target.payload !== undefined ? { payload: target.payload } : {}),
        ...(deps.signal ? { signal: deps.signal } : {}),
        ...(deps.tracer ? { tracer: deps.tracer } : {}),
      });
      const { run } = executed;
      const status = run.status === 'running' || run.status === 'waiting' ? 'interrupted' : run.status;
      return { result: { ...base, outcome: status, run, reason: run.error ?? run.message }, executed };
    }
  }
}

async function readStates(store: Store, refs: { code: string; key: string }[], now: Date): Promise<JobState[]> {
  const existing = await store.getStates(refs);
  return refs.map((ref) => existing.find((s) => s.code === ref.code && s.key === ref.key) ?? initialJobState(ref, now));
}

/**
 * The runtime schedules of the selected jobs, with their states, as tick targets. Schedules of
 * codes this deployment does not register are left alone (another deployment's); one whose
 * state is gone was removed between the two reads and is skipped.
 */
async function readRuntimeTargets(
  store: Store,
  jobs: readonly Job[],
  onlySome: boolean,
  compiler: ScheduleCache,
  logger: Logger,
): Promise<Target[]> {
  const byCode = new Map(jobs.map((job) => [job.code, job]));
  const schedules: RuntimeSchedule[] = [];
  const pages = onlySome ? jobs.map((job) => ({ code: job.code })) : [{}];
  for (const filter of pages) {
    let cursor: string | undefined;
    do {
      const page = await store.listSchedules({ ...filter, limit: READ_PAGE, ...(cursor ? { cursor } : {}) });
      for (const schedule of page.schedules) if (byCode.has(schedule.code)) schedules.push(schedule);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  const targets: Target[] = [];
  for (let i = 0; i < schedules.length; i += READ_PAGE) {
    const chunk = schedules.slice(i, i + READ_PAGE);
    const states = new Map((await store.getStates(chunk)).map((state) => [scheduleId(state), state]));
    for (const schedule of chunk) {
      const state = states.get(scheduleId(schedule));
      if (!state) continue;
      const job = runtimeJob(byCode.get(schedule.code) as Job, schedule);
      try {
        targets.push({
          job,
          key: schedule.key,
          state,
          schedule: compiler.compile(job, state.scheduleOverride),
          payload: schedule.payload,
          version: schedule.version,
        });
      } catch (error) {
        // A stored schedule this version cannot read must not stop every other schedule.
        logger.error(
          { job: schedule.code, key: schedule.key, err: describeThrown(error).message },
          'runtime schedule skipped: invalid schedule',
        );
      }
    }
  }
  return targets;
}

/** Compiles each distinct (zone, spec) once: thousands of runtime schedules share a few specs. */
export class ScheduleCache {
  private readonly cache = new Map<string, CompiledSchedule | null>();

  constructor(private readonly defaultTimezone: string) {}

  /** The job's compiled schedule (under an optional override); throws InvalidScheduleError naming the job. */
  compile(job: Job, override: JobState['scheduleOverride']): CompiledSchedule | null {
    const spec = override ?? job.schedule;
    const id = `${job.timezone ?? this.defaultTimezone}\u0000${typeof spec === 'string' ? spec : JSON.stringify(spec)}`;
    let compiled = this.cache.get(id);
    if (compiled === undefined) {
      compiled = jobSchedule(job, this.defaultTimezone, override);
      this.cache.set(id, compiled);
    }
    return compiled;
  }
}

function endedReason(job: Job): string {
  return `schedule ended: its ${job.maxRuns ?? 0} scheduled run${job.maxRuns === 1 ? '' : 's'} (maxRuns) were claimed`;
}

function grace(options: RunDueOptions): { missedGraceMs?: number } {
  return options.missedGraceMs === undefined ? {} : { missedGraceMs: options.missedGraceMs };
}

function finish(startedAt: Date, clock: Clock, results: TickResult[]): TickReport {
  const ok = results.every(
    (r) => r.outcome !== 'failed' && r.outcome !== 'timed_out' && r.outcome !== 'interrupted' && r.outcome !== 'error',
  );
  return { startedAt, finishedAt: clock.now(), results, ok };
}
