import { describeThrown, messagePrefix, type Job, type JobState, type RuntimeSchedule } from '@tickwork/core';
import type { CompiledSchedule } from '@tickwork/core/schedule';
import type { SlotClaim } from '@tickwork/core/store';
import { nextDueAt, planDue, type StoreOutage } from '@tickwork/core/runner';
import type { SharedValues } from './shared-values.js';
import type { Queued } from './slot-queue.js';

/**
 * Where an entry is in the daemon's claim loop: one phase at a time.
 *
 * - `queued`: in the slot queue at `dueAt`, or out of it while `dueAt` is null (nothing to claim:
 *   held, paused, disabled, ended). Any re-plan (a state or schedule read, a refused claim, a run's
 *   end) moves it.
 * - `claiming`: taken from the queue by a wake, its scheduled claim in flight. A re-plan meanwhile
 *   only updates its state and hold; the claim's outcome re-plans it (so a hold that comes during
 *   the claim takes it out of the queue then: `dueAtOf` finds it not runnable).
 * - `waiting`: taken from the queue until its own run ends, a re-plan, or (with a timer) `dueAt`:
 *   the wake found this daemon's run of a non-parallel schedule still going before the instant; its
 *   claim was answered `busy` (timer at the slot's instant, or a poll interval on for a slot already
 *   due); its claim started the first slot of a backlog (no timer: the run's end re-plans it).
 *
 * Transitions (anything else throws): queued → claiming ({@link startClaim}) → queued
 * ({@link endClaim}, when the claim's outcome is handled or the claim was not made); queued →
 * waiting ({@link startWait}) → queued ({@link endWait}). The queue only ever holds `queued`
 * entries, and a claim's two slots (the waiting one and the one due now) are one claim: the
 * entry stays `claiming` until the second is answered.
 *
 * Orthogonal to the phase: `held` (what the daemon knows of the definition), `backlog` (what the
 * last claim's plan found) and `running` (a count, not a flag: runs go on in every phase, and a
 * schedule that allows parallel runs — `allowAll` — has several at once). Every hold comes with a
 * re-plan, which takes a `queued` entry out of the queue and ends a wait; a hold that comes during
 * a claim waits for the claim's outcome, whose re-plan (a `busy` answer's too) finds it held. So a
 * held entry is never in the queue: it is `queued` with no `dueAt`, `claiming` (a claim planned
 * before the hold), or waiting for the end of a backlog's run (which re-plans it).
 */
export type EntryPhase =
  | { readonly name: 'queued' }
  | { readonly name: 'claiming' }
  | { readonly name: 'waiting'; cancel: (() => void) | null };

/** Shared: 100,000 entries moving in and out of claims allocate no phase object. */
const QUEUED: EntryPhase = { name: 'queued' };
const CLAIMING: EntryPhase = { name: 'claiming' };

/**
 * One schedule the daemon watches — a job's own (key '') or one of its runtime schedules — with
 * its effective job, compiled schedule, cached state and next instant. Kept small (its job, compiled
 * schedule and instants are shared, see SharedValues): a daemon holds 100,000 of them.
 */
export interface ScheduleEntry extends Queued {
  readonly id: string;
  readonly key: string;
  /** The job as this schedule runs it: the job itself, or `runtimeJob(job, schedule)` for a runtime schedule. */
  job: Job;
  /** A runtime schedule's payload (`ctx.payload`); undefined for the job's own schedule. */
  payload: unknown;
  /** A runtime schedule's stored version (its claims name it); null for the job's own schedule. */
  version: number | null;
  /** Null for a job without a schedule of its own (retries and run-now requests only), or while `invalid`. */
  schedule: CompiledSchedule | null;
  /** The override the schedule was compiled with, as JSON, to notice when it changes. */
  overrideJson: string | null;
  /** The store's state as last read, plus what this daemon's own claims and runs taught it (instants shared). */
  state: JobState;
  /** Where it is in the claim loop (see {@link EntryPhase}); changed only by the transition functions below. */
  phase: EntryPhase;
  /**
   * Why it is held out of the queue and of run-now requests, or null: `stale` from a claim answered
   * `unscheduled` until the schedule is read again; `invalid` while its stored schedule or override
   * does not compile (it replaces `stale`: the re-read asked for by `stale` still comes).
   */
  held: 'stale' | 'invalid' | null;
  /**
   * Whether its last claim's plan had more slots than one claim (an `all`-policy backfill): after
   * that claim's run ends it is re-planned at once. A property of the plan, not a phase: it outlives
   * a re-plan during that run (which puts the entry back in the queue), so the run's end still re-plans.
   */
  backlog: boolean;
  /** Runs of this schedule this daemon has launched and not yet seen finish. */
  running: number;
  /** How long this schedule's last handler ran (ms), or null before its first run here. */
  handlerMs: number | null;
  /** Its point on the circle that orders the schedules due at one instant ({@link scheduleRank}). */
  readonly rank: number;
}

/** queued → claiming: a wake planned slots for it and claims them. */
export function startClaim(entry: ScheduleEntry): void {
  expectPhase(entry, 'queued', 'start a claim');
  entry.phase = CLAIMING;
}

/** claiming → queued: its claim was answered (or not made); the caller re-plans it. */
export function endClaim(entry: ScheduleEntry): void {
  expectPhase(entry, 'claiming', 'end a claim');
  entry.phase = QUEUED;
}

/**
 * queued → waiting, out of the queue. `timer` arms the wait's end at `dueAt` and returns its
 * cancel; a timer already due ends the wait (through {@link endWait}) before it returns.
 */
export function startWait(entry: ScheduleEntry, timer?: () => () => void): void {
  expectPhase(entry, 'queued', 'wait');
  const waiting: EntryPhase = { name: 'waiting', cancel: null };
  entry.phase = waiting;
  if (!timer) return;
  const cancel = timer();
  if (entry.phase === waiting) waiting.cancel = cancel;
}

/** waiting → queued, its timer cancelled; false (nothing changed) when it was not waiting. The caller queues it. */
export function endWait(entry: ScheduleEntry): boolean {
  const { phase } = entry;
  if (phase.name !== 'waiting') return false;
  phase.cancel?.();
  entry.phase = QUEUED;
  return true;
}

function expectPhase(entry: ScheduleEntry, name: EntryPhase['name'], what: string): void {
  if (entry.phase.name !== name)
    throw new Error(`${messagePrefix('runner-daemon')} schedule ${entry.job.code}/${entry.key}: cannot ${what} while ${entry.phase.name}`);
}

/** What a claimed run executes: the job and payload its slot was planned with (a later change of the schedule leaves it alone). */
export interface RunTarget {
  readonly job: Job;
  readonly payload: unknown;
}

/**
 * A schedule's point on the circle that orders the schedules due at one instant: each daemon walks
 * the circle from its own point (see {@link SlotQueue.setOffset}), so daemons claiming one burst
 * mostly claim different slots instead of one winning every claim and the other's coming back `taken`.
 */
export function scheduleRank(id: string): number {
  return mixedHash(id);
}

/** A runner's own point on that circle while it knows no other runners (its id's hash). */
export function runnerSeed(runnerId: string): number {
  return mixedHash(runnerId);
}

/** FNV-1a, then murmur3's finalizer: ids that differ only in their last character ('d1', 'd2') land far apart. */
function mixedHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The map key of a schedule. */
export function scheduleId(code: string, key: string): string {
  return `${code}\u0000${key}`;
}

/**
 * Creates the entry of a job's own schedule, or — given `runtime` — of one runtime schedule of
 * that job. Returns why its schedule does not compile (the entry is then held `invalid`), or null.
 */
export function createEntry(
  job: Job,
  state: JobState,
  shared: SharedValues,
  runtime?: RuntimeSchedule,
): { entry: ScheduleEntry; error: string | null } {
  const entry: ScheduleEntry = {
    id: scheduleId(job.code, state.key),
    key: state.key,
    job: runtime ? shared.job(job, runtime) : job,
    payload: runtime?.payload,
    version: runtime?.version ?? null,
    schedule: null,
    overrideJson: null,
    state: shared.state(state),
    phase: QUEUED,
    held: null,
    backlog: false,
    running: 0,
    handlerMs: null,
    rank: scheduleRank(scheduleId(job.code, state.key)),
    dueAt: null,
    queueIndex: -1,
  };
  return { entry, error: compileEntry(entry, shared) };
}

/**
 * Takes a fresh state read from the store. Returns why a changed override does not compile, or null.
 */
export function applyFreshState(entry: ScheduleEntry, fresh: JobState, shared: SharedValues): string | null {
  mergeState(entry, fresh, shared);
  const overrideJson = fresh.scheduleOverride ? JSON.stringify(fresh.scheduleOverride) : null;
  return overrideJson === entry.overrideJson && entry.held !== 'invalid' ? null : compileEntry(entry, shared);
}

/**
 * Takes a runtime schedule and its state as just read from the store: the new definition (job,
 * payload, version) replaces the old one, and the entry is no longer `stale`. Returns why its
 * schedule does not compile, or null.
 */
export function applyRuntimeSchedule(
  entry: ScheduleEntry,
  job: Job,
  schedule: RuntimeSchedule,
  state: JobState,
  shared: SharedValues,
): string | null {
  entry.job = shared.job(job, schedule);
  entry.payload = schedule.payload;
  entry.version = schedule.version;
  if (entry.held === 'stale') entry.held = null;
  mergeState(entry, state, shared);
  return compileEntry(entry, shared);
}

/**
 * Keeps what this daemon knows to be newer than a state read (a slot it saw claimed after the read
 * began): `lastSlotAt` never moves backwards — unless the state is a new one (a runtime schedule
 * removed and created again).
 */
function mergeState(entry: ScheduleEntry, fresh: JobState, shared: SharedValues): void {
  const known = entry.state.createdAt.getTime() === fresh.createdAt.getTime() ? entry.state.lastSlotAt : null;
  const lastSlotAt = known && (!fresh.lastSlotAt || fresh.lastSlotAt.getTime() < known.getTime()) ? known : fresh.lastSlotAt;
  entry.state = shared.state({ ...fresh, lastSlotAt });
}

/** (Re)compiles the entry's schedule under its state's override; one that does not compile holds the entry `invalid`. */
function compileEntry(entry: ScheduleEntry, shared: SharedValues): string | null {
  entry.overrideJson = entry.state.scheduleOverride ? JSON.stringify(entry.state.scheduleOverride) : null;
  try {
    entry.schedule = shared.compile(entry.job, entry.state.scheduleOverride);
  } catch (error) {
    entry.schedule = null;
    entry.held = 'invalid';
    return describeThrown(error).message;
  }
  if (entry.held === 'invalid') entry.held = null;
  return null;
}

/** Whether this daemon would run the schedule now (enabled, not paused, not held): run-now requests are taken only for these. */
export function runnable(entry: ScheduleEntry): boolean {
  return entry.job.enabled && !entry.state.paused && entry.held === null;
}

/** Names the runtime schedule's version on a claim, so the store refuses it (`unscheduled`) once the schedule changed. */
export function versioned(entry: ScheduleEntry, claim: SlotClaim): SlotClaim {
  if (entry.version !== null) claim.scheduleVersion = entry.version;
  return claim;
}

/** Options shared by the planning calls. */
export interface PlanOptions {
  missedGraceMs: number | null;
}

/** The claims due for this schedule at `nowMs` (core's planDue: the same slots the CLI computes). */
export function planEntry(entry: ScheduleEntry, nowMs: number, options: PlanOptions, outages?: readonly StoreOutage[]): SlotClaim[] {
  const input = { job: entry.job, key: entry.key, schedule: entry.schedule, state: entry.state, now: new Date(nowMs), ...grace(options) };
  const claims = planDue(outages && outages.length > 0 ? { ...input, outages } : input);
  return claims.map((claim) => versioned(entry, claim));
}

/**
 * When this schedule next wants attention after `nowMs`, or null (paused, disabled, held, no more
 * slots). With `catchUp`, a slot already due per the missed-run policy makes it due now.
 */
export function dueAtOf(entry: ScheduleEntry, nowMs: number, options: PlanOptions & { catchUp: boolean }): number | null {
  if (!runnable(entry)) return null;
  if (options.catchUp && planEntry(entry, nowMs, options).length > 0) return nowMs;
  const input = { job: entry.job, key: entry.key, schedule: entry.schedule, state: entry.state, now: new Date(nowMs), ...grace(options) };
  const next = nextDueAt(input)?.getTime() ?? null;
  // Only a pending retry can lie in the past (core drops superseded ones): it is due now.
  return next === null || next > nowMs ? next : nowMs;
}

function grace(options: PlanOptions): { missedGraceMs?: number } {
  return options.missedGraceMs === null ? {} : { missedGraceMs: options.missedGraceMs };
}
