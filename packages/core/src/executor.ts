import { hostname } from 'node:os';
import { systemClock, type Clock } from './clock.js';
import { StoreSchemaError } from './errors.js';
import { initialJobState } from './job-state.js';
import { createRegistry, jobSchedule, type Job, type JobInput, type JobRegistry } from './job.js';
import { silentLogger, type Logger } from './logger.js';
import { claimAt, nextDueAt, planDue } from './plan.js';
import { executeRun } from './run.js';
import type { CompiledSchedule } from './schedule/engine.js';
import { DEFAULT_SCHEDULE_KEY, type ClaimOutcome, type JobState, type RunRecord, type RunRequest, type SlotClaim, type Store } from './store.js';

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
}

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
    | 'not-due'
    | 'taken'
    | 'paused'
    | 'disabled'
    | 'would-run';
  slotAt: Date | null;
  attempt: number | null;
  run: RunRecord | null;
  /** Why it did not run, or the run's message / error. */
  reason: string | null;
  nextSlotAt: Date | null;
}

/** What one tick did. `ok` is false when any run failed, timed out or was interrupted. */
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

interface Planned {
  job: Job;
  state: JobState;
  schedule: CompiledSchedule;
  claims: SlotClaim[];
}

/**
 * One tick — what `tickwork run` does and what the daemon does at each instant: reaps
 * expired leases, consumes run-now requests, plans due slots per each job's policy,
 * claims them all in one store round trip, runs the claimed handlers (concurrently across
 * jobs, in slot order within a job), records every run, and reports per schedule.
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

  // Reap first, so a dead runner's interrupted slot is retried in this very tick.
  if (!options.dryRun) {
    const reaped = await store.reapExpired({ now });
    for (const run of reaped) logger.warn({ job: run.code, key: run.key, runId: run.id }, 'lease expired: run recorded as interrupted');
  }
  const states = options.dryRun ? await readStates(store, refs, now) : await store.ensureStates(refs, now);
  if (states.length !== refs.length) {
    throw new StoreSchemaError(`store "${store.name}": ensureStates returned ${states.length} states for ${refs.length} schedules`);
  }
  // Take run-now requests only for jobs this tick will claim for: a request is handed out once,
  // ever, so one taken and not run would be lost.
  const eligible = selected.filter((job, index) => job.enabled && !(states[index] as JobState).paused).map((job) => job.code);
  const taken = options.dryRun || options.force || options.signal?.aborted || eligible.length === 0
    ? []
    : await store.consumeRunRequests({ codes: eligible, now });
  const putBack = (list: readonly RunRequest[]) =>
    Promise.all(list.map((r) => store.requestRun({ code: r.code, key: r.key }, { now: r.requestedAt, requestedBy: r.requestedBy })));
  // Runtime schedules' requests (key ≠ '') are not this tick's to run: file them again unchanged.
  await putBack(taken.filter((r) => r.key !== DEFAULT_SCHEDULE_KEY));
  const requests = taken.filter((r) => r.key === DEFAULT_SCHEDULE_KEY);

  const results: TickResult[] = [];
  const planned: Planned[] = [];
  selected.forEach((job, index) => {
    const state = states[index] as JobState;
    const schedule = jobSchedule(job, timezone, state.scheduleOverride);
    const base = { code: job.code, key: DEFAULT_SCHEDULE_KEY };
    const upcoming = () => nextDueAt({ job, key: base.key, schedule, state, now, ...grace(options) });
    if (!job.enabled) {
      results.push({ ...base, outcome: 'disabled', slotAt: null, attempt: null, run: null, reason: 'disabled in code (enabled: false)', nextSlotAt: null });
      return;
    }
    if (state.paused) {
      results.push({ ...base, outcome: 'paused', slotAt: null, attempt: null, run: null, reason: state.pausedNote ?? 'paused', nextSlotAt: upcoming() });
      return;
    }
    const claims = options.force
      ? [claimAt(job, base.key, now, 'force')]
      : planDue({ job, key: base.key, schedule, state, now, ...grace(options) });
    for (const request of requests) {
      if (request.code === job.code && request.key === base.key) {
        claims.push(claimAt(job, base.key, request.requestedAt, 'manual'));
      }
    }
    if (claims.length === 0) {
      results.push({ ...base, outcome: 'not-due', slotAt: null, attempt: null, run: null, reason: null, nextSlotAt: upcoming() });
      return;
    }
    planned.push({ job, state, schedule, claims });
  });

  if (options.dryRun) {
    for (const { job, claims } of planned) {
      for (const claim of claims) {
        results.push({ code: job.code, key: claim.key, outcome: 'would-run', slotAt: claim.slotAt, attempt: claim.attempt, run: null, reason: claim.trigger, nextSlotAt: null });
      }
    }
    return finish(startedAt, clock, results);
  }

  // First claims of every job go to the store in one round trip; a job's later slots
  // (backfill) are claimed one by one after the previous run ends, so they don't overlap it.
  const context = { runnerId, now };
  let first: ClaimOutcome[] = [];
  try {
    if (planned.length > 0 && !options.signal?.aborted) first = await store.claimSlots(planned.map((p) => p.claims[0] as SlotClaim), context);
  } catch (error) {
    await putBack(requests).catch(() => undefined);
    throw error;
  }
  if (options.signal?.aborted && first.length === 0) await putBack(requests);
  const perJob = planned.map(async (p, index) => {
    const jobResults: TickResult[] = [];
    let outcome = first[index];
    for (let i = 0; i < p.claims.length; i++) {
      const claim = p.claims[i] as SlotClaim;
      if (options.signal?.aborted) break;
      if (i > 0) [outcome] = await store.claimSlots([claim], { runnerId, now: clock.now() });
      if (!outcome) break;
      jobResults.push(await settle(p.job, claim, outcome, { store, clock, logger, signal: options.signal }));
    }
    return jobResults;
  });
  for (const jobResults of await Promise.all(perJob)) results.push(...jobResults);
  return finish(startedAt, clock, results);
}

async function settle(
  job: Job,
  claim: SlotClaim,
  outcome: ClaimOutcome,
  deps: { store: Store; clock: Clock; logger: Logger; signal: AbortSignal | undefined },
): Promise<TickResult> {
  const base = { code: job.code, key: claim.key, slotAt: claim.slotAt, attempt: claim.attempt, nextSlotAt: null };
  switch (outcome.status) {
    case 'taken':
      return { ...base, outcome: 'taken', run: null, reason: 'another runner claimed this slot' };
    case 'paused':
      return { ...base, outcome: 'paused', run: null, reason: 'paused' };
    case 'overlap':
      return { ...base, outcome: 'skipped', run: outcome.run, reason: outcome.run.message ?? 'previous run still holds the lease' };
    case 'claimed': {
      const run = await executeRun({
        job,
        run: outcome.run,
        lease: outcome.lease,
        store: deps.store,
        clock: deps.clock,
        logger: deps.logger,
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      const status = run.status === 'running' ? 'interrupted' : run.status;
      return { ...base, outcome: status, run, reason: run.error ?? run.message };
    }
  }
}

async function readStates(store: Store, refs: { code: string; key: string }[], now: Date): Promise<JobState[]> {
  const existing = await store.getStates(refs);
  return refs.map(
    (ref) =>
      existing.find((s) => s.code === ref.code && s.key === ref.key) ?? initialJobState(ref, now),
  );
}

function grace(options: RunDueOptions): { missedGraceMs?: number } {
  return options.missedGraceMs === undefined ? {} : { missedGraceMs: options.missedGraceMs };
}

function finish(startedAt: Date, clock: Clock, results: TickResult[]): TickReport {
  const ok = results.every((r) => r.outcome !== 'failed' && r.outcome !== 'timed_out' && r.outcome !== 'interrupted');
  return { startedAt, finishedAt: clock.now(), results, ok };
}
