import type { JobState, RunRecord, RuntimeSchedule, ScheduleRef, ScheduleSpec, Store } from '@tickwork/core';
import type {
  AccessTokenRecord,
  AuditInput,
  AuditPage,
  AuditQuery,
  AuditRecord,
  ClaimContext,
  ClaimOutcome,
  CompletionOutcome,
  Lease,
  ReapedRun,
  RunnerHeartbeat,
  RunnerRecord,
  RunCompletion,
  RunPage,
  RunQuery,
  RunRequest,
  RuntimeScheduleInput,
  ScheduleQuery,
  SchedulePage,
  SlotClaim,
  StoreCapabilities,
  StoreChange,
  Unsubscribe,
} from '@tickwork/core/store';
import { InvalidArgumentError, type SkipReason } from '@tickwork/core';
import { OVERLAP_POLICIES, passedSlotsProblem, RUNNER_RECORD_RETENTION_MS, SKIP_REASONS, storable } from '@tickwork/core/store';
import type { Redis } from 'ioredis';
import {
  asArray,
  claimOutcome,
  decodeStored,
  toLease,
  toReaped,
  toRunner,
  toRequest,
  toRun,
  toSchedule,
  toState,
  type StoredReaped,
  type StoredRunner,
  type StoredRequest,
  type StoredRun,
  type StoredScheduleRow,
  type StoredState,
} from './codec.js';
import { RedisAccess } from './access.js';
import { Connections, endpointOf } from './connection.js';
import { MESSAGE_PREFIX, notReplicatedError, toStoreError, wrongTypeError, type Endpoint } from './errors.js';
import { changeChannel, encodeCode, globalKey, jobKey, keysOf, padInstant, parseRunId, presenceChannel, scheduleKey } from './keys.js';
import type { ResolvedOptions } from './options.js';
import type { ScriptName } from './scripts/index.js';
import { encodeCursor, listRange, revisionEpoch, upsertRequest } from './schedules.js';
import { ChangeSubscription } from './subscription.js';
import { checkCodes, checkDate, scriptJson, checkInteger, checkOptionalString, checkRef, checkRefList, checkStatuses } from './validate.js';

const FINAL_STATUSES = new Set(['succeeded', 'failed', 'timed_out', 'interrupted']);
const TRIGGERS = new Set(['schedule', 'retry', 'manual', 'force']);
/** Index entries one queryRuns call examines at most, so a sparse filter never blocks Redis for long. */
const QUERY_SCAN_CAP = 5_000;
const CURSOR = /^\d{15}:\d{12,15}:[A-Za-z0-9\-_.!~*'()%]+$/;
const MAX_LEASE_MS = 365 * 24 * 3_600_000;

type Reply<T> = T;

/** Each ref once (first occurrence), with its encoded code, as the requests script reads them. */
function uniqueRefs(refs: readonly ScheduleRef[]): { ce: string; key: string }[] {
  const byRef = new Map(refs.map((ref) => [`${ref.code}\u0000${ref.key}`, { ce: encodeCode(ref.code), key: ref.key }]));
  return [...byRef.values()];
}

/** Each code once, with its encoded form; a code no request can have (empty, not storable) is left out. */
function codeItems(codes: readonly string[]): { ce: string }[] {
  return [...new Set(codes)].filter((code) => code.length > 0 && storable(code) === code).map((code) => ({ ce: encodeCode(code) }));
}

/** The Store on Redis; see the package README for the key layout and guarantees. */
export class RedisStore implements Store {
  readonly name = 'redis';
  readonly capabilities: StoreCapabilities = { changeSubscription: true, runnerPresence: 'connection' };
  private readonly connections: Connections;
  private readonly endpoint: Endpoint;
  private readonly changes: ChangeSubscription;
  /** The connection carrying this instance's runners' presence (subscribed to their channels), opened by the first heartbeat. */
  private presence: Promise<Redis> | null = null;
  private readonly presentRunners = new Set<string>();
  private readonly access: RedisAccess;

  constructor(private readonly options: ResolvedOptions) {
    this.connections = new Connections(options);
    this.endpoint = endpointOf(options);
    this.changes = new ChangeSubscription(
      changeChannel(options.prefix),
      () => this.connections.subscriber(),
      (sub) => this.connections.release(sub),
    );
    this.access = new RedisAccess(
      options.prefix,
      // Appends and token writes wait for the replicas (with the `replicas` option) like the other decisive writes.
      (operation, request) => this.script('tickworkAccess', operation, request, [], request.op === 'append' || request.op === 'add'),
      (operation, work) => this.call(operation, [], work),
    );
  }

  /** The key prefix this store writes under. */
  get prefix(): string {
    return this.options.prefix;
  }

  async ping(): Promise<{ latencyMs: number; serverTime: Date | null }> {
    return this.call('ping', [], async (client) => {
      const started = performance.now();
      const [seconds, micros] = (await client.time()) as [string | number, string | number];
      const latencyMs = performance.now() - started;
      return { latencyMs, serverTime: new Date(Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000)) };
    });
  }

  // — job state —

  async ensureStates(refs: readonly ScheduleRef[], now: Date): Promise<JobState[]> {
    refs.forEach((ref, i) => checkRef(ref, `ensureStates: refs[${i}]`));
    const nowMs = checkDate(now, 'ensureStates: now');
    if (refs.length === 0) return [];
    const items = refs.map((ref) => ({ ce: encodeCode(ref.code), code: ref.code, key: ref.key }));
    const stored = await this.script<StoredState[]>('tickworkState', 'ensureStates', { op: 'ensure', now: nowMs, items }, items.map((i) => i.ce));
    return asArray<StoredState>(stored).map(toState);
  }

  async getStates(refs?: readonly ScheduleRef[]): Promise<JobState[]> {
    refs?.forEach((ref, i) => checkRef(ref, `getStates: refs[${i}]`));
    if (refs && refs.length === 0) return [];
    return this.call('getStates', [], async (client) => {
      const prefix = this.options.prefix;
      if (refs) {
        const pipeline = client.pipeline();
        const keys = refs.map((ref) => jobKey(prefix, encodeCode(ref.code), 'states'));
        refs.forEach((ref, i) => pipeline.hget(keys[i] as string, ref.key));
        const results = await this.execPipeline(pipeline, keys, 'hash');
        return results.flatMap((raw, i) => (typeof raw === 'string' ? [decodeStored(raw, keys[i] as string, (v: StoredState) => toState(v))] : []));
      }
      const codesKey = globalKey(prefix, 'codes');
      const [codes] = await this.execPipeline(client.pipeline().smembers(codesKey), [codesKey], 'set');
      const list = (codes as string[]).sort();
      if (list.length === 0) return [];
      const pipeline = client.pipeline();
      const keys = list.map((code) => jobKey(prefix, encodeCode(code), 'states'));
      for (const key of keys) pipeline.hvals(key);
      const results = await this.execPipeline(pipeline, keys, 'hash');
      return results.flatMap((values, i) => (values as string[]).map((raw) => decodeStored(raw, keys[i] as string, (v: StoredState) => toState(v))));
    });
  }

  async setPaused(ref: ScheduleRef, paused: boolean, options: { note?: string | null; now: Date }): Promise<JobState> {
    checkRef(ref, 'setPaused');
    if (typeof paused !== 'boolean') throw new InvalidArgumentError(`${MESSAGE_PREFIX} setPaused: paused must be a boolean, got ${String(paused)}`);
    const now = checkDate(options?.now, 'setPaused: options.now');
    const note = checkOptionalString(options.note, 'setPaused: options.note');
    const ce = encodeCode(ref.code);
    const stored = await this.script<StoredState>('tickworkState', 'setPaused', { op: 'pause', ce, code: ref.code, key: ref.key, now, paused, note }, [ce], true);
    return toState(stored);
  }

  async setScheduleOverride(ref: ScheduleRef, schedule: ScheduleSpec | null, now: Date): Promise<JobState> {
    checkRef(ref, 'setScheduleOverride');
    const nowMs = checkDate(now, 'setScheduleOverride: now');
    if (schedule !== null && (typeof schedule !== 'object' || typeof (schedule as { kind?: unknown }).kind !== 'string')) {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} setScheduleOverride: schedule of "${ref.code}" must be a ScheduleSpec or null`);
    }
    const ce = encodeCode(ref.code);
    const override = schedule === null ? null : JSON.stringify(schedule);
    const stored = await this.script<StoredState>('tickworkState', 'setScheduleOverride', { op: 'override', ce, code: ref.code, key: ref.key, now: nowMs, override }, [ce], true);
    return toState(stored);
  }

  // — claims and leases —

  async claimSlots(claims: readonly SlotClaim[], context: ClaimContext): Promise<ClaimOutcome[]> {
    const now = checkDate(context?.now, 'claimSlots: context.now');
    if (typeof context.runnerId !== 'string' || context.runnerId.length === 0) {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} claimSlots: context.runnerId must be a non-empty string`);
    }
    const items = claims.map((claim, i) => {
      const where = `claimSlots: claims[${i}]`;
      checkRef(claim, where);
      const of = `of "${claim.code}"`;
      const slotAt = checkDate(claim.slotAt, `${where}.slotAt ${of}`);
      checkInteger(claim.attempt, 1, 1_000_000, `${where}.attempt ${of}`);
      checkInteger(claim.leaseMs, 1, MAX_LEASE_MS, `${where}.leaseMs ${of}`);
      if (!TRIGGERS.has(claim.trigger)) throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}.trigger ${of} is invalid: ${String(claim.trigger)}`);
      if (!OVERLAP_POLICIES.includes(claim.overlap)) {
        throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}.overlap ${of} must be one of ${OVERLAP_POLICIES.join(', ')}, got ${String(claim.overlap)}`);
      }
      if (claim.backfill !== undefined && typeof claim.backfill !== 'boolean') throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}.backfill ${of} must be a boolean`);
      const requestId = claim.requestId ?? null;
      if (requestId !== null && (typeof requestId !== 'string' || requestId.length === 0)) {
        throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}.requestId ${of} must be a non-empty string, got ${String(requestId)}`);
      }
      if ((claim.trigger === 'manual') !== (requestId !== null)) {
        throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where} ${of}: trigger 'manual' goes with a requestId, and a requestId with trigger 'manual'`);
      }
      if (requestId !== null && claim.attempt !== 1) throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}.attempt ${of}: a run-now request's claim has attempt 1, got ${claim.attempt}`);
      const version = claim.scheduleVersion === undefined ? null : checkInteger(claim.scheduleVersion, 1, Number.MAX_SAFE_INTEGER, `${where}.scheduleVersion ${of}`);
      const maxRuns = claim.maxRuns === undefined ? null : checkInteger(claim.maxRuns, 1, Number.MAX_SAFE_INTEGER, `${where}.maxRuns ${of}`);
      if (claim.passed !== undefined) {
        const problem = passedSlotsProblem(claim.passed, claim.slotAt);
        if (problem) throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}.passed${problem.field} ${of}: ${problem.message}`);
      }
      const startedAt = Math.max(now, slotAt);
      const passed = claim.passed && claim.passed.ranges.length > 0
        ? {
            after: claim.passed.after?.getTime() ?? null,
            ranges: claim.passed.ranges.map((r) => ({
              first: r.firstSlotAt.getTime(), last: r.lastSlotAt.getTime(), count: r.count, reason: r.reason, message: storable(r.message), pad: padInstant(r.lastSlotAt.getTime()),
            })),
          }
        : null;
      return {
        ce: encodeCode(claim.code),
        code: claim.code,
        key: claim.key,
        version,
        field: requestId === null ? `${claim.key}|${slotAt}|${claim.attempt}` : `#${requestId}`,
        slotAt,
        attempt: claim.attempt,
        trigger: claim.trigger,
        policy: claim.overlap,
        backfill: claim.backfill === true,
        rid: requestId,
        maxRuns,
        startedAt,
        leaseExpiresAt: startedAt + claim.leaseMs,
        pad: padInstant(startedAt),
        passed,
      };
    });
    if (items.length === 0) return [];
    type Answer = { s: 'claimed' | 'overlap' | 'waiting' | 'busy' | 'taken' | 'paused' | 'unscheduled' | 'ended'; run?: StoredRun; reaped?: StoredReaped[] };
    const answers = await this.script<Answer[]>('tickworkClaim', 'claimSlots', { now, runnerId: context.runnerId, items }, items.map((i) => i.ce), true);
    return asArray<Answer>(answers).map((answer): ClaimOutcome => {
      const outcome = claimOutcome(answer);
      const reaped = asArray<StoredReaped>(answer.reaped);
      return reaped.length > 0 ? { ...outcome, reaped: reaped.map(toReaped) } : outcome;
    });
  }

  async renewLeases(leases: readonly Lease[], options: { now: Date; leaseMs: number }): Promise<(Lease | null)[]> {
    const now = checkDate(options?.now, 'renewLeases: options.now');
    const leaseMs = checkInteger(options.leaseMs, 1, MAX_LEASE_MS, 'renewLeases: options.leaseMs');
    const items = leases.map((lease, i) => this.leaseItem(lease, `renewLeases: leases[${i}]`));
    if (items.length === 0) return [];
    const answers = await this.script<(StoredRun | false)[]>(
      'tickworkRenew',
      'renewLeases',
      { items: items.map((item) => ({ ...item, expiresAt: now + leaseMs })) },
      items.map((i) => i.ce),
      true,
    );
    return asArray<StoredRun | false>(answers).map((run) => (run ? toLease(run) : null));
  }

  async completeRuns(completions: readonly RunCompletion[]): Promise<CompletionOutcome[]> {
    const items = completions.map((completion, i) => {
      const where = `completeRuns: completions[${i}]`;
      const lease = this.leaseItem(completion?.lease, `${where}.lease`);
      if (!FINAL_STATUSES.has(completion.status)) {
        throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}.status must be one of ${[...FINAL_STATUSES].join(', ')}, got ${String(completion.status)}`);
      }
      return {
        ...lease,
        status: completion.status,
        finishedAt: checkDate(completion.finishedAt, `${where}.finishedAt`),
        message: checkOptionalString(completion.message, `${where}.message`),
        error: checkOptionalString(completion.error, `${where}.error`),
        stack: checkOptionalString(completion.stack, `${where}.stack`),
      };
    });
    if (items.length === 0) return [];
    type Answer = { s: 'completed' | 'stale'; run?: StoredRun | null; state?: StoredState | null };
    const answers = await this.script<Answer[]>('tickworkComplete', 'completeRuns', { items }, items.map((i) => i.ce), true);
    return asArray<Answer>(answers).map((answer): CompletionOutcome => {
      if (answer.s === 'completed' && answer.run) return { status: 'completed', run: toRun(answer.run), state: answer.state ? toState(answer.state) : null };
      return { status: 'stale', run: answer.run ? toRun(answer.run) : null };
    });
  }

  async reapExpired(options: { now: Date; limit?: number; runners?: boolean }): Promise<ReapedRun[]> {
    const now = checkDate(options?.now, 'reapExpired: options.now');
    const limit = checkInteger(options.limit ?? 1_000, 1, 100_000, 'reapExpired: options.limit');
    if (options.runners !== undefined && typeof options.runners !== 'boolean') {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} reapExpired: options.runners must be a boolean, got ${String(options.runners)}`);
    }
    const reaped = await this.script<StoredReaped[]>('tickworkReap', 'reapExpired', { now, limit, runners: options.runners === true }, [], true);
    return asArray<StoredReaped>(reaped).map(toReaped);
  }

  // — runners —

  async heartbeat(beat: RunnerHeartbeat): Promise<RunnerRecord> {
    if (beat === null || typeof beat !== 'object') throw new InvalidArgumentError(`${MESSAGE_PREFIX} heartbeat: expected a RunnerHeartbeat, got ${String(beat)}`);
    if (typeof beat.runnerId !== 'string' || beat.runnerId.length === 0) {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} heartbeat: runnerId must be a non-empty string, got ${JSON.stringify(beat.runnerId)}`);
    }
    const now = checkDate(beat.now, 'heartbeat: now');
    const startedAt = checkDate(beat.startedAt, 'heartbeat: startedAt');
    const ttlMs = checkInteger(beat.ttlMs, 1, MAX_LEASE_MS, `heartbeat: ttlMs of runner "${beat.runnerId}"`);
    const offset = beat.clockOffsetMs;
    if (offset !== null && (typeof offset !== 'number' || !Number.isFinite(offset))) {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} heartbeat: clockOffsetMs of runner "${beat.runnerId}" must be a finite number or null, got ${String(offset)}`);
    }
    // Bound first, so the record never claims a presence the connection does not carry yet.
    await this.bindPresence(beat.runnerId);
    const stored = await this.script<StoredRunner>('tickworkRunners', 'heartbeat', {
      op: 'beat',
      runnerId: beat.runnerId,
      now,
      ttlMs,
      startedAt,
      clockOffsetMs: offset,
      retention: RUNNER_RECORD_RETENTION_MS,
    }, []);
    return toRunner(stored);
  }

  async listRunners(options: { now: Date }): Promise<RunnerRecord[]> {
    const now = checkDate(options?.now, 'listRunners: now');
    const stored = await this.script<StoredRunner[]>('tickworkRunners', 'listRunners', { op: 'list', now }, []);
    return asArray<StoredRunner>(stored).map(toRunner);
  }

  /** Subscribes this instance's presence connection to the runner's channel (ioredis resubscribes after a reconnect). */
  private async bindPresence(runnerId: string): Promise<void> {
    this.presence ??= this.connections.subscriber().catch((error: unknown) => {
      this.presence = null;
      throw error;
    });
    let sub: Redis;
    try {
      sub = await this.presence;
    } catch (error) {
      throw toStoreError(error, 'heartbeat', this.endpoint);
    }
    if (this.presentRunners.has(runnerId) && sub.status === 'ready') return;
    try {
      await sub.subscribe(presenceChannel(this.options.prefix, runnerId));
      this.presentRunners.add(runnerId);
    } catch (error) {
      throw toStoreError(error, 'heartbeat', this.endpoint);
    }
  }

  // — run log —

  async queryRuns(query: RunQuery = {}): Promise<RunPage> {
    const limit = checkInteger(query.limit ?? 50, 1, 1_000, 'queryRuns: limit');
    if (query.code !== undefined && (typeof query.code !== 'string' || query.code.length === 0)) {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} queryRuns: code must be a non-empty string`);
    }
    if (query.key !== undefined && typeof query.key !== 'string') throw new InvalidArgumentError(`${MESSAGE_PREFIX} queryRuns: key must be a string`);
    const statuses = checkStatuses(query.status);
    const from = query.since === undefined ? null : padInstant(checkDate(query.since, 'queryRuns: since'));
    const before = query.until === undefined ? null : padInstant(checkDate(query.until, 'queryRuns: until'));
    let cursor: string | null = null;
    if (query.cursor !== undefined) {
      cursor = typeof query.cursor === 'string' ? Buffer.from(query.cursor, 'base64url').toString('utf8') : '';
      if (!CURSOR.test(cursor)) throw new InvalidArgumentError(`${MESSAGE_PREFIX} queryRuns: cursor ${JSON.stringify(query.cursor)} is not a cursor this store issued`);
    }
    if (statuses && statuses.length === 0) return { runs: [], nextCursor: null };
    const ce = query.code === undefined ? null : encodeCode(query.code);
    let reasons: string[] | null = null;
    if (query.reason !== undefined) {
      reasons = typeof query.reason === 'string' ? [query.reason] : [...query.reason];
      for (const r of reasons) {
        if (!SKIP_REASONS.includes(r as SkipReason)) throw new InvalidArgumentError(`${MESSAGE_PREFIX} queryRuns: reason must be one of ${SKIP_REASONS.join(', ')}, got ${JSON.stringify(r)}`);
      }
      if (reasons.length === 0) return { runs: [], nextCursor: null };
    }
    const request = { ce, key: query.key ?? null, statuses, reasons, from, before, cursor, limit, cap: QUERY_SCAN_CAP };
    const page = await this.script<{ runs: unknown; next: string | null }>('tickworkQuery', 'queryRuns', request, ce ? [ce] : []);
    return {
      runs: asArray<StoredRun>(page.runs).map(toRun),
      nextCursor: page.next ? Buffer.from(page.next, 'utf8').toString('base64url') : null,
    };
  }

  async getRun(id: string): Promise<RunRecord | null> {
    if (typeof id !== 'string') return null;
    const parsed = parseRunId(id);
    if (!parsed) return null;
    const key = jobKey(this.options.prefix, parsed.encodedCode, 'runs');
    return this.call('getRun', [], async (client) => {
      const [raw] = await this.execPipeline(client.pipeline().hget(key, parsed.n), [key], 'hash');
      return typeof raw === 'string' ? decodeStored(raw, key, (v: StoredRun) => toRun(v)) : null;
    });
  }

  async pruneRuns(options: { olderThan: Date; batchSize?: number }): Promise<number> {
    const olderThan = checkDate(options?.olderThan, 'pruneRuns: options.olderThan');
    const batch = checkInteger(options.batchSize ?? 1_000, 1, 100_000, 'pruneRuns: options.batchSize');
    let deleted = 0;
    for (;;) {
      const answer = await this.script<{ deleted: number; scanned: number }>('tickworkPrune', 'pruneRuns', { olderThan, batch }, []);
      deleted += answer.deleted;
      if (answer.scanned < batch) return deleted;
    }
  }

  async claimMaintenance(name: string, options: { now: Date; everyMs: number }): Promise<boolean> {
    if (typeof name !== 'string' || name.length === 0 || name.length > 100) {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} claimMaintenance: name must be a string of 1 to 100 characters, got ${JSON.stringify(name)}`);
    }
    const now = checkDate(options?.now, 'claimMaintenance: options.now');
    const every = checkInteger(options.everyMs, 1000, Number.MAX_SAFE_INTEGER, 'claimMaintenance: options.everyMs');
    const key = globalKey(this.options.prefix, 'maintenance');
    // One script: the read of "last done at" and the write of the winner's `now` are one atomic step.
    const won = await this.call('claimMaintenance', [], (client) => client.eval(MAINTENANCE_SCRIPT, 1, key, name, String(now), String(now - every)));
    return won === 1;
  }

  // — run-now requests —

  async requestRun(ref: ScheduleRef, options: { now: Date; requestedBy?: string | null }): Promise<RunRequest> {
    checkRef(ref, 'requestRun');
    const now = checkDate(options?.now, 'requestRun: options.now');
    const requestedBy = checkOptionalString(options.requestedBy, 'requestRun: options.requestedBy');
    const ce = encodeCode(ref.code);
    const request = { op: 'request', ce, code: ref.code, key: ref.key, now, pad: padInstant(now), requestedBy };
    const stored = await this.script<StoredRequest | { missing: true }>('tickworkRequests', 'requestRun', request, [ce], true);
    if ('missing' in stored) throw new InvalidArgumentError(`${MESSAGE_PREFIX} requestRun: job "${ref.code}" has no runtime schedule with key "${ref.key}"; nothing was filed`);
    return toRequest(stored);
  }

  async pendingRunRequests(options: { codes?: readonly string[]; refs?: readonly ScheduleRef[]; limit?: number } = {}): Promise<RunRequest[]> {
    const codes = checkCodes(options.codes, 'pendingRunRequests');
    const limit = options.limit === undefined ? null : checkInteger(options.limit, 1, Number.MAX_SAFE_INTEGER, 'pendingRunRequests: options.limit');
    const refList = options.refs === undefined ? null : checkRefList(options.refs, 'pendingRunRequests', false);
    // The script reads per schedule when refs are given (the code filter applied here), else per job, else in global order.
    const wanted = codes && new Set(codes);
    const refs = refList && uniqueRefs(refList.filter((ref) => !wanted || wanted.has(ref.code)));
    const jobs = refs ? null : codes && codeItems(codes);
    if ((jobs && jobs.length === 0) || (refs && refs.length === 0)) return [];
    const stored = await this.script<StoredRequest[]>('tickworkRequests', 'pendingRunRequests', { op: 'pending', codes: jobs, refs, limit }, []);
    return asArray<StoredRequest>(stored).map(toRequest);
  }

  // — runtime schedules —

  async upsertSchedules(schedules: readonly RuntimeScheduleInput[], now: Date): Promise<RuntimeSchedule[]> {
    const request = upsertRequest(schedules, now);
    if (request.items.length === 0) return [];
    type Answer = { v: number; c: number; u: number };
    const answers = asArray<Answer>(await this.script<Answer[]>('tickworkSchedules', 'upsertSchedules', { op: 'upsert', ...request }, request.items.map((i) => i.ce), true));
    // The script stored (or already held) exactly each item's definition text, so the records are built from it.
    return request.items.map((item, i) => {
      const answer = answers[i] as Answer;
      return toSchedule({ ...item, k: scheduleKey(this.options.prefix, item.ce, item.key), en: item.enabled ? '1' : '0', v: answer.v, c: answer.c, u: answer.u });
    });
  }

  async removeSchedules(refs: readonly ScheduleRef[]): Promise<boolean[]> {
    const items = checkRefList(refs, 'removeSchedules', true).map((ref) => ({ ce: encodeCode(ref.code), code: ref.code, key: ref.key }));
    if (items.length === 0) return [];
    const removed = await this.script<boolean[]>('tickworkSchedules', 'removeSchedules', { op: 'remove', epoch: revisionEpoch(), items }, items.map((i) => i.ce), true);
    return items.map((_, i) => asArray<boolean>(removed)[i] === true);
  }

  async getSchedules(refs: readonly ScheduleRef[]): Promise<RuntimeSchedule[]> {
    checkRefList(refs, 'getSchedules', true);
    // Each schedule once, in the order first asked for.
    const unique = [...new Map(refs.map((ref) => [JSON.stringify([ref.code, ref.key]), ref])).values()];
    const items = unique.map((ref) => ({ ce: encodeCode(ref.code), code: ref.code, key: ref.key }));
    if (items.length === 0) return [];
    const rows = await this.script<(StoredScheduleRow | false)[]>('tickworkSchedules', 'getSchedules', { op: 'get', items }, items.map((i) => i.ce));
    return asArray<StoredScheduleRow | false>(rows).flatMap((row) => (row ? [toSchedule(row)] : []));
  }

  async listSchedules(query: ScheduleQuery = {}): Promise<SchedulePage> {
    const range = listRange(query);
    if (!range) return { schedules: [], nextCursor: null };
    const page = await this.script<{ rows: unknown; more: boolean }>('tickworkSchedules', 'listSchedules', { op: 'list', ...range }, []);
    const schedules = asArray<StoredScheduleRow>(page.rows).map(toSchedule);
    const last = schedules[schedules.length - 1];
    return { schedules, nextCursor: page.more && last ? encodeCursor(last.code, last.key) : null };
  }

  async schedulesRevision(): Promise<string> {
    const key = globalKey(this.options.prefix, 'schedrev');
    const [epoch, n] = await this.call('schedulesRevision', [], (client) => client.hmget(key, 'epoch', 'n'));
    return n ? `${epoch ?? ''}:${n}` : '0';
  }

  // — changes —

  async subscribe(listener: (change: StoreChange) => void): Promise<Unsubscribe> {
    if (typeof listener !== 'function') throw new InvalidArgumentError(`${MESSAGE_PREFIX} subscribe: listener must be a function`);
    try {
      return await this.changes.add(listener);
    } catch (error) {
      throw toStoreError(error, 'subscribe', this.endpoint);
    }
  }

  appendAudit(entry: AuditInput): Promise<AuditRecord> {
    return this.access.appendAudit(entry);
  }

  listAudit(query?: AuditQuery): Promise<AuditPage> {
    return this.access.listAudit(query);
  }

  pruneAudit(options: { olderThan: Date; batchSize?: number }): Promise<number> {
    return this.access.pruneAudit(options);
  }

  addAccessToken(token: AccessTokenRecord): Promise<AccessTokenRecord> {
    return this.access.addAccessToken(token);
  }

  getAccessToken(id: string): Promise<AccessTokenRecord | null> {
    return this.access.getAccessToken(id);
  }

  listAccessTokens(): Promise<AccessTokenRecord[]> {
    return this.access.listAccessTokens();
  }

  removeAccessToken(id: string): Promise<boolean> {
    return this.access.removeAccessToken(id);
  }

  async close(): Promise<void> {
    this.changes.reset();
    this.presence = null;
    this.presentRunners.clear();
    await this.connections.close();
  }

  // — plumbing —

  private leaseItem(lease: Lease, where: string): { ce: string; n: string; key: string; token: number } {
    if (lease === null || typeof lease !== 'object') throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where} must be a Lease`);
    checkRef(lease, where);
    const parsed = typeof lease.runId === 'string' ? parseRunId(lease.runId) : null;
    if (!parsed || parsed.encodedCode !== encodeCode(lease.code)) {
      throw new InvalidArgumentError(`${MESSAGE_PREFIX} ${where}.runId ${JSON.stringify(lease.runId)} of "${lease.code}" is not a run id this store issued`);
    }
    checkInteger(lease.token, 0, Number.MAX_SAFE_INTEGER, `${where}.token of "${lease.code}"`);
    return { ce: parsed.encodedCode, n: parsed.n, key: lease.key, token: lease.token };
  }

  /** Runs `work` against the command client, mapping failures to Tickwork errors. */
  private async call<T>(operation: string, codes: readonly string[], work: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await work(await this.connections.client());
    } catch (error) {
      if (error instanceof Error && /WRONGTYPE/.test(error.message) && !/TICKWORK_WRONGTYPE/.test(error.message)) {
        const named = await this.findWrongType(codes);
        if (named) throw named;
      }
      throw toStoreError(error, operation, this.endpoint);
    }
  }

  /**
   * Runs one registered script with a JSON request and parses its JSON answer. A `decisive` write
   * (one a runner acts on) is followed, with the `replicas` option, by `WAIT count timeoutMs` in
   * the same pipeline on the same connection, and its answer is returned only when enough
   * replicas acknowledged it.
   */
  private script<T>(name: ScriptName, operation: string, request: unknown, codes: readonly string[], decisive = false): Promise<Reply<T>> {
    const replicas = decisive ? this.options.replicas : null;
    return this.call(operation, codes, async (client) => {
      if (!replicas) {
        const run = (client as unknown as Record<ScriptName, (prefix: string, json: string) => Promise<string>>)[name];
        return JSON.parse(await run.call(client, this.options.prefix, scriptJson(request))) as T;
      }
      const pipeline = client.pipeline();
      (pipeline as unknown as Record<ScriptName, (prefix: string, json: string) => unknown>)[name].call(pipeline, this.options.prefix, scriptJson(request));
      pipeline.wait(replicas.count, replicas.timeoutMs);
      const [[scriptError, answer] = [null, null], [waitError, acknowledged] = [null, null]] = (await pipeline.exec()) ?? [];
      if (scriptError) throw scriptError;
      if (waitError) throw waitError;
      if (typeof acknowledged !== 'number' || acknowledged < replicas.count) throw notReplicatedError(operation, replicas, Number(acknowledged));
      return JSON.parse(answer as string) as T;
    });
  }

  /** Executes a pipeline; a WRONGTYPE reply is reported naming the key of that command. */
  private async execPipeline(pipeline: ReturnType<Redis['pipeline']>, keys: readonly string[], expected: 'hash' | 'set'): Promise<unknown[]> {
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value], i) => {
      if (error) {
        if (/WRONGTYPE/.test(error.message)) throw wrongTypeError(keys[i] ?? '?', 'value of another type', expected);
        throw error;
      }
      return value;
    });
  }

  /** Names the first key (of these codes and the global ones) holding an unexpected type. */
  private async findWrongType(codes: readonly string[]): Promise<Error | null> {
    try {
      const client = await this.connections.client();
      const keys = keysOf(this.options.prefix, codes);
      const pipeline = client.pipeline();
      for (const [key] of keys) pipeline.type(key);
      const types = (await pipeline.exec()) ?? [];
      for (const [i, [key, expected]] of keys.entries()) {
        const actual = types[i]?.[1];
        if (typeof actual === 'string' && actual !== 'none' && actual !== expected) return wrongTypeError(key, actual, expected);
      }
    } catch {
      // Diagnosis is best effort; the caller reports the original error.
    }
    return null;
  }
}

/** `claimMaintenance`: KEYS[1] the hash of last won claims; ARGV name, now, threshold (now − everyMs), in epoch ms. */
const MAINTENANCE_SCRIPT = `
local last = redis.call('HGET', KEYS[1], ARGV[1])
if last and tonumber(last) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;
