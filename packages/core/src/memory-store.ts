/**
 * The reference store: complete, in-process, no persistence. Every method mutates
 * synchronously between its validation and its return (no await in between), so each call
 * is atomic however many stores share a backend; values are deep-copied in and out.
 */
import { messagePrefix, StoreUnavailableError } from './errors.js';
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
import { listSchedules, removeSchedules, scheduleRecord, schedulesRevision, upsertSchedules } from './memory/schedules.js';
import { check, checkLeasePartitions, checkReleasePartitions, checkUpsert, fail, invalid } from './memory/validate.js';
import { checkOverdueOptions } from './overdue-check.js';
import { noRuntimeScheduleMessage } from './store-arguments.js';
import {
  RUNNER_PRESENCES,
  type RunnerPresence,
  type RunRecord,
  type RunRequest,
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
    if (closed) throw new StoreUnavailableError(`${messagePrefix('memory-store')} ${method}: the store was closed`);
    return data;
  };
  const emit = (change: StoreChange) => {
    for (const { listener } of data.listeners) {
      const delivered = copy(change);
      // Asynchronous like a real pub/sub, so a listener never runs inside the mutating call.
      queueMicrotask(() => listener(delivered));
    }
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
      check('ensureStates', refs, now);
      return refs.map((ref) => copy(stateFor(d, ref, now)));
    },

    async getStates(refs) {
      const d = open('getStates');
      check('getStates', refs);
      if (refs === undefined) return [...d.states.values()].map(copy);
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

    async setPaused(ref, paused, options) {
      const d = open('setPaused');
      check('setPaused', ref, paused, options);
      const { note, now } = options;
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
      check('setScheduleOverride', ref, schedule, now);
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
      check('claimSlots', claims, context);
      return claims.map((claim) => copy(claimOne(d, claim, context)));
    },

    async renewLeases(leases, options) {
      const d = open('renewLeases');
      check('renewLeases', leases, options);
      const { now, leaseMs } = options;
      return leases.map((lease) => copy(renewOne(d, lease, now, leaseMs)));
    },

    async completeRuns(completions) {
      const d = open('completeRuns');
      check('completeRuns', completions);
      return completions.map((completion) => copy(completeOne(d, completion)));
    },

    async reapExpired(options) {
      const d = open('reapExpired');
      check('reapExpired', options);
      const { now, limit = DEFAULT_REAP_LIMIT, runners = false } = options;
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
      check('heartbeat', beat);
      return copy(recordHeartbeat(d, beat, owner, presence));
    },

    async listRunners(options) {
      const d = open('listRunners');
      check('listRunners', options);
      const { now } = options;
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
      check('getRun', id);
      const run = d.runs.get(id);
      return run ? copy(run) : null;
    },

    async pruneRuns(options) {
      const d = open('pruneRuns');
      check('pruneRuns', options);
      const { olderThan, batchSize = DEFAULT_PRUNE_BATCH } = options;
      return pruneRuns(d, olderThan, batchSize);
    },

    async claimMaintenance(name, options) {
      const d = open('claimMaintenance');
      check('claimMaintenance', name, options);
      const { now, everyMs } = options;
      const last = d.maintenance.get(name);
      if (last !== undefined && now.getTime() < last + everyMs) return false;
      d.maintenance.set(name, now.getTime());
      return true;
    },

    async claimOverdue(options) {
      const d = open('claimOverdue');
      const { now, windows, codes, limit } = checkOverdueOptions(options, (message) => fail(`claimOverdue: ${message}`));
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

    async requestRun(ref, options) {
      const d = open('requestRun');
      check('requestRun', ref, options);
      const { now, requestedBy } = options;
      if (ref.key !== '' && !d.schedules.has(refKey(ref))) fail(noRuntimeScheduleMessage(ref));
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
      check('pendingRunRequests', options);
      const wanted = options.codes === undefined ? null : new Set(options.codes);
      const wantedRefs = options.refs === undefined ? null : new Set(options.refs.map(refKey));
      return d.requests
        .filter((request) => (!wanted || wanted.has(request.code)) && (!wantedRefs || wantedRefs.has(refKey(request))))
        .slice(0, options.limit ?? Number.POSITIVE_INFINITY)
        .map(copy);
    },

    async upsertSchedules(schedules, now) {
      const d = open('upsertSchedules');
      const checked = checkUpsert(schedules, now);
      const { records, changed } = upsertSchedules(d, checked, now);
      for (const ref of changed) emit({ type: 'schedule', code: ref.code, key: ref.key });
      return records;
    },

    async removeSchedules(refs) {
      const d = open('removeSchedules');
      check('removeSchedules', refs);
      const removed = removeSchedules(d, refs);
      refs.forEach((ref, i) => {
        if (removed[i]) emit({ type: 'schedule', code: ref.code, key: ref.key });
      });
      return removed;
    },

    async getSchedules(refs) {
      const d = open('getSchedules');
      check('getSchedules', refs);
      const seen = new Set<string>();
      const found = [];
      for (const ref of refs) {
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
      check('pruneAudit', options);
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
      check('subscribe', listener);
      const entry: MemoryListener = { owner, listener };
      d.listeners.add(entry);
      return async () => {
        d.listeners.delete(entry);
      };
    };
  }
  return store;
}
