/**
 * The reference store: complete, in-process, no persistence. Every method mutates
 * synchronously between its validation and its return (no await in between), so each call
 * is atomic however many stores share a backend; values are deep-copied in and out.
 */
import { StoreUnavailableError } from './errors.js';
import {
  createMemoryBackend,
  memoryData,
  refKey,
  stateFor,
  type MemoryBackend,
  type MemoryData,
  type MemoryListener,
} from './memory/backend.js';
import { addAccessToken, appendAudit, getAccessToken, listAccessTokens, listAudit, pruneAudit } from './memory/access.js';
import { claimOne, completeOne, interruptExpired, renewOne } from './memory/leases.js';
import { pruneRuns, queryRuns } from './memory/run-log.js';
import { interruptDeadRunners, recordHeartbeat, runnerRecord } from './memory/runners.js';
import {
  checkScheduleRefs,
  listSchedules,
  removeSchedules,
  scheduleRecord,
  schedulesRevision,
  upsertSchedules,
} from './memory/schedules.js';
import {
  checkCodes,
  checkDate,
  checkCompletionStatus,
  checkOverdueOptions,
  checkInteger,
  checkLeaseMs,
  checkLeasePartitions,
  checkReleasePartitions,
  checkList,
  checkOptionalText,
  checkRef,
  checkOverlap,
  checkPassed,
  checkTrigger,
  invalid,
} from './memory/validate.js';
import {
  RUNNER_PRESENCES,
  type RunnerPresence,
  type RunRecord,
  type RunRequest,
  type ScheduleRef,
  type Store,
  type StoreChange,
  type Unsubscribe,
} from './store.js';
import { planPartitionLease, planPartitionRelease } from './partitions.js';
import { show } from './show.js';

export { createMemoryBackend, type MemoryBackend } from './memory/backend.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Share data with other memory stores created on the same backend (races in tests). Default: a new one. */
  backend?: MemoryBackend;
  /** Offer `subscribe()` (default true); false makes the store behave like one without push, for testing the polling fallback. */
  changeSubscription?: boolean;
  /**
   * How runner presence is judged (default `connection`: a runner stays alive while the instance
   * that sent its last heartbeat is open); `heartbeat` behaves like a store without a
   * connection-bound presence, for testing that rule.
   */
  runnerPresence?: RunnerPresence;
}

const DEFAULT_REAP_LIMIT = 1000;
const DEFAULT_PRUNE_BATCH = 1000;

const copy = <T>(value: T): T => structuredClone(value);

/** The reference store: complete, in-process, no persistence. */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const backend = options.backend ?? createMemoryBackend();
  const shared = memoryData(backend);
  if (!shared) invalid('createMemoryStore', 'backend must come from createMemoryBackend()');
  const data: MemoryData = shared;
  const withSubscription = options.changeSubscription ?? true;
  const presence = options.runnerPresence ?? 'connection';
  if (!RUNNER_PRESENCES.includes(presence))
    invalid('createMemoryStore', `runnerPresence must be one of ${RUNNER_PRESENCES.join(', ')}, got ${show(presence)}`);
  const owner = {};
  let closed = false;

  const open = (method: string): MemoryData => {
    if (closed) throw new StoreUnavailableError(`[tickwork] [memory-store] ${method}: the store was closed`);
    return data;
  };
  const emit = (change: StoreChange) => {
    for (const { listener } of data.listeners) {
      const delivered = copy(change);
      // Asynchronous like a real pub/sub, so a listener never runs inside the mutating call.
      queueMicrotask(() => listener(delivered));
    }
  };
  const checkRefs = (refs: unknown, method: string): readonly ScheduleRef[] => {
    checkList(refs, `${method}: refs`);
    refs.forEach((ref, i) => {
      checkRef(ref, `${method}: refs[${i}]`);
    });
    return refs as readonly ScheduleRef[];
  };

  const store: Store = {
    name: 'memory',
    capabilities: { changeSubscription: withSubscription, runnerPresence: presence },

    async ping() {
      open('ping');
      return { latencyMs: 0, serverTime: null };
    },

    async ensureStates(refs, now) {
      const d = open('ensureStates');
      checkRefs(refs, 'ensureStates');
      checkDate(now, 'ensureStates: now');
      return refs.map((ref) => copy(stateFor(d, ref, now)));
    },

    async getStates(refs) {
      const d = open('getStates');
      if (refs === undefined) return [...d.states.values()].map(copy);
      checkRefs(refs, 'getStates');
      const seen = new Set<string>();
      const found = [];
      for (const ref of refs) {
        const key = refKey(ref);
        const state = d.states.get(key);
        if (state && !seen.has(key)) found.push(copy(state));
        seen.add(key);
      }
      return found;
    },

    async setPaused(ref, paused, { note, now }) {
      const d = open('setPaused');
      checkRef(ref, 'setPaused: ref');
      if (typeof paused !== 'boolean') invalid('setPaused', `paused must be a boolean, got ${String(paused)}`);
      checkOptionalText(note, 'setPaused: note');
      checkDate(now, 'setPaused: now');
      const state = stateFor(d, ref, now);
      if (!paused && state.paused) state.resumedAt = new Date(now);
      state.paused = paused;
      state.pausedNote = paused ? (note ?? null) : null;
      state.updatedAt = new Date(now);
      emit({ type: 'state', code: ref.code, key: ref.key });
      return copy(state);
    },

    async setScheduleOverride(ref, schedule, now) {
      const d = open('setScheduleOverride');
      checkRef(ref, 'setScheduleOverride: ref');
      checkDate(now, 'setScheduleOverride: now');
      if (schedule !== null && (typeof schedule !== 'object' || typeof schedule.kind !== 'string')) {
        invalid('setScheduleOverride', `schedule of job "${ref.code}" must be a ScheduleSpec or null`);
      }
      // A JSON round trip, as every persistent store does, so the memory store cannot accept what they would mangle.
      const stored = schedule === null ? null : (JSON.parse(JSON.stringify(schedule)) as typeof schedule);
      const state = stateFor(d, ref, now);
      state.scheduleOverride = stored;
      state.updatedAt = new Date(now);
      emit({ type: 'state', code: ref.code, key: ref.key });
      return copy(state);
    },

    async claimSlots(claims, context) {
      const d = open('claimSlots');
      checkList(claims, 'claimSlots: claims');
      if (typeof context?.runnerId !== 'string' || context.runnerId.length === 0) {
        invalid('claimSlots', 'context.runnerId must be a non-empty string');
      }
      checkDate(context.now, 'claimSlots: context.now');
      claims.forEach((claim, i) => {
        const where = `claimSlots: claims[${i}]`;
        checkRef(claim, where);
        checkDate(claim.slotAt, `${where}.slotAt`);
        checkInteger(claim.attempt, `${where}.attempt`, 1);
        checkTrigger(claim.trigger, `${where}.trigger`);
        checkOverlap(claim.overlap, `${where}.overlap`);
        if (claim.backfill !== undefined && typeof claim.backfill !== 'boolean')
          invalid(where, `backfill must be a boolean, got ${String(claim.backfill)}`);
        if (claim.requestId !== undefined && (typeof claim.requestId !== 'string' || claim.requestId.length === 0)) {
          invalid(where, `requestId must be a non-empty string, got ${String(claim.requestId)}`);
        }
        if ((claim.trigger === 'manual') !== (claim.requestId !== undefined))
          invalid(where, "trigger 'manual' goes with a requestId, and a requestId with trigger 'manual'");
        if (claim.requestId !== undefined && claim.attempt !== 1)
          invalid(where, `a run-now request's claim has attempt 1, got ${claim.attempt}`);
        checkLeaseMs(claim.leaseMs, `${where}.leaseMs`);
        if (claim.scheduleVersion !== undefined) checkInteger(claim.scheduleVersion, `${where}.scheduleVersion`, 1);
        if (claim.maxRuns !== undefined) checkInteger(claim.maxRuns, `${where}.maxRuns`, 1);
        if (claim.passed !== undefined) checkPassed(claim.passed, claim.slotAt, `${where}.passed`);
      });
      return claims.map((claim) => copy(claimOne(d, claim, context)));
    },

    async renewLeases(leases, { now, leaseMs }) {
      const d = open('renewLeases');
      checkList(leases, 'renewLeases: leases');
      checkDate(now, 'renewLeases: now');
      checkLeaseMs(leaseMs, 'renewLeases: leaseMs');
      return leases.map((lease) => copy(renewOne(d, lease, now, leaseMs)));
    },

    async completeRuns(completions) {
      const d = open('completeRuns');
      checkList(completions, 'completeRuns: completions');
      completions.forEach((completion, i) => {
        const where = `completeRuns: completions[${i}]`;
        checkRef(completion.lease, `${where}.lease`);
        checkCompletionStatus(completion, where);
        checkDate(completion.finishedAt, `${where}.finishedAt`);
        checkOptionalText(completion.message, `${where}.message`);
        checkOptionalText(completion.error, `${where}.error`);
        checkOptionalText(completion.stack, `${where}.stack`);
      });
      return completions.map((completion) => copy(completeOne(d, completion)));
    },

    async reapExpired({ now, limit = DEFAULT_REAP_LIMIT, runners = false }) {
      const d = open('reapExpired');
      checkDate(now, 'reapExpired: now');
      checkInteger(limit, 'reapExpired: limit', 1);
      if (typeof runners !== 'boolean') invalid('reapExpired', `runners must be a boolean, got ${show(runners)}`);
      const expired: RunRecord[] = [];
      for (const ids of d.running.values()) {
        for (const id of ids) {
          const run = d.runs.get(id);
          if (run?.leaseExpiresAt && run.leaseExpiresAt.getTime() <= now.getTime()) expired.push(run);
        }
      }
      expired.sort((a, b) => (a.leaseExpiresAt?.getTime() ?? 0) - (b.leaseExpiresAt?.getTime() ?? 0) || Number(a.id) - Number(b.id));
      const reaped = expired.slice(0, limit).map((run) => interruptExpired(d, run, now));
      if (runners) reaped.push(...interruptDeadRunners(d, now, limit - reaped.length, presence));
      return reaped.map(copy);
    },

    async heartbeat(beat) {
      const d = open('heartbeat');
      if (typeof beat !== 'object' || beat === null) invalid('heartbeat', `expected a RunnerHeartbeat, got ${show(beat)}`);
      if (typeof beat.runnerId !== 'string' || beat.runnerId.length === 0)
        invalid('heartbeat', `runnerId must be a non-empty string, got ${show(beat.runnerId)}`);
      checkDate(beat.now, 'heartbeat: now');
      checkDate(beat.startedAt, 'heartbeat: startedAt');
      checkLeaseMs(beat.ttlMs, 'heartbeat: ttlMs');
      if (beat.clockOffsetMs !== null && (typeof beat.clockOffsetMs !== 'number' || !Number.isFinite(beat.clockOffsetMs))) {
        invalid('heartbeat', `clockOffsetMs of runner "${beat.runnerId}" must be a finite number or null, got ${show(beat.clockOffsetMs)}`);
      }
      return copy(recordHeartbeat(d, beat, owner, presence));
    },

    async listRunners({ now }) {
      const d = open('listRunners');
      checkDate(now, 'listRunners: now');
      return [...d.runners.values()]
        .sort((a, b) => (a.runnerId < b.runnerId ? -1 : a.runnerId > b.runnerId ? 1 : 0))
        .map((runner) => copy(runnerRecord(d, runner, now, presence)));
    },

    async leasePartitions(request) {
      const d = open('leasePartitions');
      const checked = checkLeasePartitions(request);
      return copy(planPartitionLease(d.partitions, d.partitionMembers, checked).leases);
    },

    async releasePartitions(request) {
      const d = open('releasePartitions');
      const { runnerId } = checkReleasePartitions(request);
      return planPartitionRelease(d.partitions, d.partitionMembers, runnerId).length;
    },

    async queryRuns(query = {}) {
      return copy(queryRuns(open('queryRuns'), query));
    },

    async getRun(id) {
      const d = open('getRun');
      if (typeof id !== 'string') invalid('getRun', `id must be a string, got ${String(id)}`);
      const run = d.runs.get(id);
      return run ? copy(run) : null;
    },

    async pruneRuns({ olderThan, batchSize = DEFAULT_PRUNE_BATCH }) {
      const d = open('pruneRuns');
      checkDate(olderThan, 'pruneRuns: olderThan');
      checkInteger(batchSize, 'pruneRuns: batchSize', 1);
      return pruneRuns(d, olderThan, batchSize);
    },

    async claimMaintenance(name, { now, everyMs }) {
      const d = open('claimMaintenance');
      if (typeof name !== 'string' || name.length === 0 || name.length > 100)
        invalid('claimMaintenance', `name must be a string of 1 to 100 characters, got ${show(name)}`);
      checkDate(now, 'claimMaintenance: now');
      checkInteger(everyMs, 'claimMaintenance: everyMs', 1000);
      const last = d.maintenance.get(name);
      if (last !== undefined && now.getTime() < last + everyMs) return false;
      d.maintenance.set(name, now.getTime());
      return true;
    },

    async claimOverdue(options) {
      const d = open('claimOverdue');
      const { now, windows, codes, limit } = checkOverdueOptions(options);
      for (const window of windows) {
        const state = d.states.get(refKey(window));
        if (state && state.expectSuccessWithinMs !== window.expectSuccessWithinMs)
          state.expectSuccessWithinMs = window.expectSuccessWithinMs;
      }
      const only = codes === undefined ? null : new Set(codes);
      const due = [];
      for (const state of d.states.values()) {
        if (state.expectSuccessWithinMs === null || state.overdueAlertedAt !== null) continue;
        if (only && !only.has(state.code)) continue;
        const dueAt = (state.lastSucceededAt ?? state.createdAt).getTime() + state.expectSuccessWithinMs;
        if (dueAt <= now.getTime()) due.push({ state, dueAt });
      }
      due.sort(
        (a, b) =>
          a.dueAt - b.dueAt || (a.state.code < b.state.code ? -1 : a.state.code > b.state.code ? 1 : a.state.key < b.state.key ? -1 : 1),
      );
      return due.slice(0, limit).map(({ state }) => {
        state.overdueAlertedAt = new Date(now);
        return copy(state);
      });
    },

    async requestRun(ref, { now, requestedBy }) {
      const d = open('requestRun');
      checkRef(ref, 'requestRun: ref');
      checkDate(now, 'requestRun: now');
      checkOptionalText(requestedBy, 'requestRun: requestedBy');
      if (ref.key !== '' && !d.schedules.has(refKey(ref))) {
        invalid('requestRun', `job "${ref.code}" has no runtime schedule with key "${ref.key}"`);
      }
      const request: RunRequest = {
        id: String(d.nextRequestId++),
        code: ref.code,
        key: ref.key,
        requestedAt: new Date(now),
        requestedBy: requestedBy ?? null,
      };
      // Keep oldest first; a request filed with an earlier `now` (another runner's clock) slots in by time.
      const at = d.requests.findIndex((other) => other.requestedAt.getTime() > now.getTime());
      d.requests.splice(at < 0 ? d.requests.length : at, 0, request);
      emit({ type: 'run-request', code: ref.code, key: ref.key });
      return copy(request);
    },

    async pendingRunRequests(options = {}) {
      const d = open('pendingRunRequests');
      if (options.codes !== undefined) checkCodes(options.codes, 'pendingRunRequests: codes');
      if (options.limit !== undefined) checkInteger(options.limit, 'pendingRunRequests: limit', 1);
      if (options.refs !== undefined) {
        checkRefs(options.refs, 'pendingRunRequests');
        if (options.refs.length > 1000) invalid('pendingRunRequests', `${options.refs.length} refs in one call; the limit is 1000`);
      }
      const wanted = options.codes === undefined ? null : new Set(options.codes);
      const wantedRefs = options.refs === undefined ? null : new Set(options.refs.map(refKey));
      return d.requests
        .filter((request) => (!wanted || wanted.has(request.code)) && (!wantedRefs || wantedRefs.has(refKey(request))))
        .slice(0, options.limit ?? Number.POSITIVE_INFINITY)
        .map(copy);
    },

    async upsertSchedules(schedules, now) {
      const d = open('upsertSchedules');
      checkDate(now, 'upsertSchedules: now');
      const { records, changed } = upsertSchedules(d, schedules, now);
      for (const ref of changed) emit({ type: 'schedule', code: ref.code, key: ref.key });
      return records;
    },

    async removeSchedules(refs) {
      const d = open('removeSchedules');
      const list = checkScheduleRefs(refs, 'removeSchedules');
      const removed = removeSchedules(d, list);
      list.forEach((ref, i) => {
        if (removed[i]) emit({ type: 'schedule', code: ref.code, key: ref.key });
      });
      return removed;
    },

    async getSchedules(refs) {
      const d = open('getSchedules');
      const list = checkScheduleRefs(refs, 'getSchedules');
      const seen = new Set<string>();
      const found = [];
      for (const ref of list) {
        const id = refKey(ref);
        const stored = d.schedules.get(id);
        if (stored && !seen.has(id)) found.push(scheduleRecord(stored));
        seen.add(id);
      }
      return found;
    },

    async listSchedules(query = {}) {
      return listSchedules(open('listSchedules'), query);
    },

    async schedulesRevision() {
      return schedulesRevision(open('schedulesRevision'));
    },

    async appendAudit(entry) {
      return copy(appendAudit(open('appendAudit'), entry));
    },

    async listAudit(query) {
      return copy(listAudit(open('listAudit'), query));
    },

    async pruneAudit(options) {
      const d = open('pruneAudit');
      checkDate(options?.olderThan, 'pruneAudit: olderThan');
      if (options.batchSize !== undefined) checkInteger(options.batchSize, 'pruneAudit: batchSize', 1);
      return pruneAudit(d, options.olderThan);
    },

    async addAccessToken(token) {
      return copy(addAccessToken(open('addAccessToken'), token));
    },

    async getAccessToken(id) {
      return copy(getAccessToken(open('getAccessToken'), id));
    },

    async listAccessTokens() {
      return listAccessTokens(open('listAccessTokens')).map(copy);
    },

    async removeAccessToken(id) {
      const d = open('removeAccessToken');
      return typeof id === 'string' && d.accessTokens.delete(id);
    },

    async close() {
      closed = true;
      data.closedOwners.add(owner);
      for (const entry of [...data.listeners]) if (entry.owner === owner) data.listeners.delete(entry);
    },
  };

  if (withSubscription) {
    store.subscribe = async (listener): Promise<Unsubscribe> => {
      const d = open('subscribe');
      if (typeof listener !== 'function') invalid('subscribe', 'listener must be a function');
      const entry: MemoryListener = { owner, listener };
      d.listeners.add(entry);
      return async () => {
        d.listeners.delete(entry);
      };
    };
  }
  return store;
}
