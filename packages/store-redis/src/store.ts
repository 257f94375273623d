import type { JobState, RunRecord, RuntimeSchedule, ScheduleRef, ScheduleSpec, Store } from '@tickwork/core';
import type {
  ClaimContext,
  ClaimOutcome,
  CompletionOutcome,
  Lease,
  ReapedRun,
  RunnerHeartbeat,
  PartitionLeaseRequest,
  PartitionLeases,
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
import { InvalidArgumentError } from '@tickwork/core';
import {
  AuditAndTokenForwarding,
  checkOverdueOptions,
  noRuntimeScheduleMessage,
  notACursorMessage,
  PARTITION_COUNT,
  RUNNER_RECORD_RETENTION_MS,
  storable,
} from '@tickwork/core/store';
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
import { corruptValueError, MESSAGE_PREFIX, notReplicatedError, toStoreError, wrongTypeError, type Endpoint } from './errors.js';
import { changeChannel, encodeCode, Layout, padInstant, parseRunId, presenceChannel, type RedisType } from './keys.js';
import type { ResolvedOptions } from './options.js';
import type { ScriptName } from './scripts/index.js';
import { encodeCursor, listRange, partitionListRange, partPrefix, revisionEpoch, upsertRequest } from './schedules.js';
import { OVERDUE_CLAIM_SCRIPT, OVERDUE_WINDOWS_SCRIPT } from './overdue.js';
import { ChangeSubscription } from './subscription.js';
import { check, checkLeasePartitions, checkReleasePartitions, checkStorable, checkStorableRefs, fail, scriptJson } from './validate.js';

/** Index entries one queryRuns call examines at most, so a sparse filter never blocks Redis for long. */
const QUERY_SCAN_CAP = 5_000;
const CURSOR = /^\d{15}:\d{12,15}:[A-Za-z0-9\-_.!~*'()%]+$/;
/** Cluster errors a node answers before running a command (the slot is elsewhere, or moving, or not served). */
const NOT_RUN_HERE = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;
/** Index members one read of a run-log query takes from each index. */
const QUERY_PAGE = 200;
type Reply<T> = T;

/** What one script call touches: a shard's keys (its indexes, these jobs' keys and these schedules' hashes), or the meta keys. */
type Scope = { shard: number; ces?: Iterable<string>; schedules?: Iterable<{ ce: string; key: string }> } | 'meta';

/** The shard order of two strings, as Redis orders members (by their bytes). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

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
export class RedisStore extends AuditAndTokenForwarding implements Store {
  readonly name = 'redis';
  readonly capabilities: StoreCapabilities;
  private readonly layout: Layout;
  private readonly connections: Connections;
  private readonly endpoint: Endpoint;
  private readonly changes: ChangeSubscription;
  /** The connection carrying this instance's runners' presence (subscribed to their channels), opened by the first heartbeat. */
  private presence: Promise<Redis> | null = null;
  private readonly presentRunners = new Set<string>();
  protected readonly access: RedisAccess;

  constructor(private readonly options: ResolvedOptions) {
    super();
    this.layout = new Layout(options.prefix, options.cluster);
    // On a Cluster PUBSUB NUMSUB counts one node's subscribers only: presence is the heartbeat TTL there.
    this.capabilities = { changeSubscription: true, runnerPresence: options.cluster ? 'heartbeat' : 'connection' };
    this.connections = new Connections(options);
    this.endpoint = endpointOf(options);
    this.changes = new ChangeSubscription(
      changeChannel(options.prefix),
      () => this.connections.subscriber(),
      (sub) => this.connections.release(sub),
    );
    this.access = new RedisAccess(
      this.layout,
      // Appends and token writes wait for the replicas (with the `replicas` option) like the other decisive writes.
      (operation, request) =>
        this.script('tickworkAccess', operation, request, 'meta', [], request.op === 'append' || request.op === 'add'),
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
    check('ensureStates', refs, now);
    checkStorableRefs(refs, 'ensureStates: refs');
    const nowMs = now.getTime();
    if (refs.length === 0) return [];
    const items = refs.map((ref) => ({ ce: encodeCode(ref.code), code: ref.code, key: ref.key }));
    const stored = await this.perShard<(typeof items)[number], StoredState>('tickworkState', 'ensureStates', items, (part) => ({
      op: 'ensure',
      now: nowMs,
      items: part,
    }));
    return stored.map(toState);
  }

  async getStates(refs?: readonly ScheduleRef[]): Promise<JobState[]> {
    check('getStates', refs);
    if (refs) checkStorableRefs(refs, 'getStates: refs');
    if (refs && refs.length === 0) return [];
    const layout = this.layout;
    return this.call('getStates', [], async (client) => {
      if (refs) {
        // One script per shard (one slot on a Cluster), answers in the order asked.
        const found: (JobState | null)[] = refs.map(() => null);
        const read = (client as unknown as Record<'tickworkReadStates', (...args: (string | number)[]) => Promise<(string | null)[]>>)
          .tickworkReadStates;
        await Promise.all(
          [...layout.byShard(refs, (ref) => encodeCode(ref.code)).values()].map(async (group) => {
            const keys: string[] = [];
            const position = new Map<string, number>();
            const fields = group.map(({ item }): [number, string] => {
              const key = layout.job(encodeCode(item.code), 'states');
              let at = position.get(key);
              if (at === undefined) {
                at = keys.push(key);
                position.set(key, at);
              }
              return [at, item.key];
            });
            const raws = await read.call(client, keys.length, ...keys, JSON.stringify(fields));
            raws.forEach((raw, i) => {
              if (typeof raw !== 'string') return;
              const key = keys[(fields[i] as [number, string])[0] - 1] as string;
              found[(group[i] as { index: number }).index] = decodeStored(raw, key, (v: StoredState) => toState(v));
            });
          }),
        );
        return found.filter((state): state is JobState => state !== null);
      }
      const perShard = await Promise.all(
        layout.shards.map(async (shard) => {
          const codesKey = layout.shard(shard, 'codes');
          const [codes] = await this.execPipeline(client.pipeline().smembers(codesKey), [codesKey], 'set');
          const list = codes as string[];
          if (list.length === 0) return [];
          const pipeline = client.pipeline();
          const keys = list.map((code) => layout.job(encodeCode(code), 'states'));
          for (const key of keys) pipeline.hvals(key);
          const results = await this.execPipeline(pipeline, keys, 'hash');
          return list.map((code, i) => ({ code, raws: results[i] as string[], key: keys[i] as string }));
        }),
      );
      // Every job once, in code order (a code sorts as JavaScript compares strings, as before).
      const jobs = [...new Map(perShard.flat().map((job) => [job.code, job])).values()].sort((a, b) =>
        a.code < b.code ? -1 : a.code > b.code ? 1 : 0,
      );
      return jobs.flatMap((job) => job.raws.map((raw) => decodeStored(raw, job.key, (v: StoredState) => toState(v))));
    });
  }

  async setPaused(ref: ScheduleRef, paused: boolean, options: { note?: string | null; now: Date }): Promise<JobState> {
    check('setPaused', ref, paused, options);
    checkStorable(ref, 'setPaused: ref');
    const now = options.now.getTime();
    const note = options.note ?? null;
    const ce = encodeCode(ref.code);
    const stored = await this.script<StoredState>(
      'tickworkState',
      'setPaused',
      { op: 'pause', ce, code: ref.code, key: ref.key, now, paused, note },
      this.jobScope(ce),
      [ce],
      true,
    );
    return toState(stored);
  }

  async setScheduleOverride(ref: ScheduleRef, schedule: ScheduleSpec | null, now: Date): Promise<JobState> {
    check('setScheduleOverride', ref, schedule, now);
    checkStorable(ref, 'setScheduleOverride: ref');
    const nowMs = now.getTime();
    const ce = encodeCode(ref.code);
    const override = schedule === null ? null : JSON.stringify(schedule);
    const stored = await this.script<StoredState>(
      'tickworkState',
      'setScheduleOverride',
      { op: 'override', ce, code: ref.code, key: ref.key, now: nowMs, override },
      this.jobScope(ce),
      [ce],
      true,
    );
    return toState(stored);
  }

  // — claims and leases —

  async claimSlots(claims: readonly SlotClaim[], context: ClaimContext): Promise<ClaimOutcome[]> {
    check('claimSlots', claims, context);
    checkStorableRefs(claims, 'claimSlots: claims');
    const now = context.now.getTime();
    const items = claims.map((claim) => {
      const slotAt = claim.slotAt.getTime();
      const requestId = claim.requestId ?? null;
      const version = claim.scheduleVersion ?? null;
      const maxRuns = claim.maxRuns ?? null;
      const startedAt = Math.max(now, slotAt);
      const passed =
        claim.passed && claim.passed.ranges.length > 0
          ? {
              after: claim.passed.after?.getTime() ?? null,
              ranges: claim.passed.ranges.map((r) => ({
                first: r.firstSlotAt.getTime(),
                last: r.lastSlotAt.getTime(),
                count: r.count,
                reason: r.reason,
                message: storable(r.message),
                pad: padInstant(r.lastSlotAt.getTime()),
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
    type Answer = {
      s: 'claimed' | 'overlap' | 'waiting' | 'busy' | 'taken' | 'paused' | 'unscheduled' | 'ended';
      run?: StoredRun;
      reaped?: StoredReaped[];
    };
    const answers = await this.perShard<(typeof items)[number], Answer>(
      'tickworkClaim',
      'claimSlots',
      items,
      (part) => ({ now, runnerId: context.runnerId, items: part }),
      true,
      (part) => part.filter((i) => i.key !== '').map((i) => ({ ce: i.ce, key: i.key })),
    );
    return answers.map((answer): ClaimOutcome => {
      const outcome = claimOutcome(answer);
      const reaped = asArray<StoredReaped>(answer.reaped);
      return reaped.length > 0 ? { ...outcome, reaped: reaped.map(toReaped) } : outcome;
    });
  }

  async renewLeases(leases: readonly Lease[], options: { now: Date; leaseMs: number }): Promise<(Lease | null)[]> {
    check('renewLeases', leases, options);
    const now = options.now.getTime();
    const leaseMs = options.leaseMs;
    const items = leases.map((lease, i) => this.leaseItem(lease, `renewLeases: leases[${i}]`));
    if (items.length === 0) return [];
    const renewals = items.map((item) => ({ ...item, expiresAt: now + leaseMs }));
    const answers = await this.perShard<(typeof renewals)[number], StoredRun | false>(
      'tickworkRenew',
      'renewLeases',
      renewals,
      (part) => ({ items: part }),
      true,
    );
    return answers.map((run) => (run ? toLease(run) : null));
  }

  async completeRuns(completions: readonly RunCompletion[]): Promise<CompletionOutcome[]> {
    check('completeRuns', completions);
    const items = completions.map((completion, i) => ({
      ...this.leaseItem(completion.lease, `completeRuns: completions[${i}].lease`),
      status: completion.status,
      reason: completion.skipReason ?? null,
      finishedAt: completion.finishedAt.getTime(),
      message: completion.message ?? null,
      error: completion.error ?? null,
      stack: completion.stack ?? null,
    }));
    if (items.length === 0) return [];
    type Answer = { s: 'completed' | 'stale'; run?: StoredRun | null; state?: StoredState | null };
    const answers = await this.perShard<(typeof items)[number], Answer>(
      'tickworkComplete',
      'completeRuns',
      items,
      (part) => ({ items: part }),
      true,
    );
    return answers.map((answer): CompletionOutcome => {
      if (answer.s === 'completed' && answer.run)
        return { status: 'completed', run: toRun(answer.run), state: answer.state ? toState(answer.state) : null };
      return { status: 'stale', run: answer.run ? toRun(answer.run) : null };
    });
  }

  async reapExpired(options: { now: Date; limit?: number; runners?: boolean }): Promise<ReapedRun[]> {
    check('reapExpired', options);
    const now = options.now.getTime();
    const limit = options.limit ?? 1_000;
    // Dead runners first (the meta keys), then each shard's expired leases and dead runners' runs (the
    // shard's keys: the leases read first name the jobs the script touches), then dead runners released
    // when no shard's limit cut their scan short.
    const dead =
      options.runners === true
        ? await this.script<Record<string, number> | false>('tickworkRunners', 'reapExpired', { op: 'dead', now }, 'meta', [])
        : false;
    const layout = this.layout;
    const candidates = await this.call('reapExpired', [], (client) =>
      Promise.all(
        layout.shards.map(async (shard) => {
          const leases = layout.shard(shard, 'leases');
          const expired = await client.zrangebyscore(leases, '-inf', String(now), 'LIMIT', 0, limit);
          const scan = dead ? await client.zrange(leases, '0', '-1') : [];
          return { shard, expired, scan };
        }),
      ),
    );
    const out: StoredReaped[] = [];
    let full = false;
    for (const { shard, expired, scan } of candidates) {
      if (expired.length === 0 && scan.length === 0) continue;
      if (out.length >= limit) {
        full = true;
        break;
      }
      const ces = [...expired, ...scan].flatMap((id) => parseRunId(id)?.encodedCode ?? []);
      const answer = await this.script<{ out: unknown; full: boolean }>(
        'tickworkReap',
        'reapExpired',
        {
          now,
          limit: limit - out.length,
          expired: expired.filter((id) => parseRunId(id)),
          dead: dead || null,
          scan: scan.filter((id) => parseRunId(id)),
        },
        { shard, ces },
        ces,
        true,
      );
      out.push(...asArray<StoredReaped>(answer.out));
      full ||= answer.full;
    }
    if (dead && !full) await this.script('tickworkRunners', 'reapExpired', { op: 'release', ids: Object.keys(dead) }, 'meta', [], true);
    return out.map(toReaped);
  }

  // — runners —

  async heartbeat(beat: RunnerHeartbeat): Promise<RunnerRecord> {
    check('heartbeat', beat);
    const now = beat.now.getTime();
    const startedAt = beat.startedAt.getTime();
    const ttlMs = beat.ttlMs;
    const offset = beat.clockOffsetMs;
    // Bound first, so the record never claims a presence the connection does not carry yet (none on a Cluster).
    if (!this.options.cluster) await this.bindPresence(beat.runnerId);
    const stored = await this.script<StoredRunner>(
      'tickworkRunners',
      'heartbeat',
      {
        op: 'beat',
        runnerId: beat.runnerId,
        now,
        ttlMs,
        startedAt,
        clockOffsetMs: offset,
        retention: RUNNER_RECORD_RETENTION_MS,
      },
      'meta',
      [],
    );
    return toRunner(stored);
  }

  async listRunners(options: { now: Date }): Promise<RunnerRecord[]> {
    check('listRunners', options);
    const now = options.now.getTime();
    const stored = await this.script<StoredRunner[]>('tickworkRunners', 'listRunners', { op: 'list', now }, 'meta', []);
    return asArray<StoredRunner>(stored).map(toRunner);
  }

  // — partition leases —

  async leasePartitions(request: PartitionLeaseRequest): Promise<PartitionLeases> {
    const { runnerId, now, ttlMs, limit } = checkLeasePartitions(request);
    const answer = await this.script<{ partitions: string; expiresAt: number; runners: number; share: number }>(
      'tickworkPartitions',
      'leasePartitions',
      { op: 'lease', runnerId, now, ttlMs, limit, count: PARTITION_COUNT },
      'meta',
      [],
      true,
    );
    const partitions = answer.partitions === '' ? [] : answer.partitions.split(',');
    return {
      partitions: partitions.map((item) => {
        const [partition, token] = item.split(':');
        return { partition: Number(partition), token: Number(token) };
      }),
      expiresAt: new Date(answer.expiresAt),
      runners: answer.runners,
      share: answer.share,
    };
  }

  async releasePartitions(request: { runnerId: string }): Promise<number> {
    const { runnerId } = checkReleasePartitions(request);
    const released = await this.script<string>(
      'tickworkPartitions',
      'releasePartitions',
      { op: 'release', runnerId, count: PARTITION_COUNT },
      'meta',
      [],
      true,
    );
    return Number(released);
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
    check('queryRuns', query);
    const limit = query.limit ?? 50;
    const statuses = query.status === undefined ? null : typeof query.status === 'string' ? [query.status] : [...query.status];
    const from = query.since === undefined ? null : padInstant(query.since.getTime());
    const before = query.until === undefined ? null : padInstant(query.until.getTime());
    let cursor: string | null = null;
    if (query.cursor !== undefined) {
      cursor = Buffer.from(query.cursor, 'base64url').toString('utf8');
      if (!CURSOR.test(cursor)) fail(notACursorMessage('queryRuns', query.cursor));
    }
    if (statuses && statuses.length === 0) return { runs: [], nextCursor: null };
    const ce = query.code === undefined ? null : encodeCode(query.code);
    let reasons: string[] | null = null;
    if (query.reason !== undefined) {
      reasons = typeof query.reason === 'string' ? [query.reason] : [...query.reason];
      if (reasons.length === 0) return { runs: [], nextCursor: null };
    }
    const page = await this.walkRuns({ ce, key: query.key ?? null, statuses, reasons, from, max: cursor ?? before, limit });
    return { runs: page.runs.map(toRun), nextCursor: page.next ? Buffer.from(page.next, 'utf8').toString('base64url') : null };
  }

  /**
   * The run-log walk: the job's index (or every shard's global index, merged) newest first, below
   * `max` and from `from`, filtered by key, status and skip reason, examining at most
   * {@link QUERY_SCAN_CAP} entries so a sparse filter never reads for long; a page cut short by the
   * cap still carries a cursor. Plain reads, QUERY_PAGE members and their runs at a time per index.
   */
  private walkRuns(q: {
    ce: string | null;
    key: string | null;
    statuses: readonly string[] | null;
    reasons: readonly string[] | null;
    from: string | null;
    max: string | null;
    limit: number;
  }): Promise<{ runs: StoredRun[]; next: string | null }> {
    const layout = this.layout;
    const indexes = q.ce !== null ? [layout.job(q.ce, 'index')] : layout.shards.map((shard) => layout.shard(shard, 'index'));
    const wanted = q.statuses && new Set(q.statuses);
    const reasons = q.reasons && new Set(q.reasons);
    // A skipped run written before skip reasons is an overlap skip.
    const matches = (run: StoredRun) =>
      (q.key === null || run.key === q.key) &&
      (!wanted || wanted.has(run.status)) &&
      (!reasons || (run.status === 'skipped' && reasons.has(run.skipReason ?? 'overlap')));
    const min = q.from === null ? '-' : `[${q.from}`;
    return this.call('queryRuns', q.ce ? [q.ce] : [], async (client) => {
      type Entry = { member: string; run: StoredRun | null };
      const sources = indexes.map((index) => ({ index, max: q.max === null ? '+' : `(${q.max}`, buffer: [] as Entry[], dry: false }));
      const refill = async (source: (typeof sources)[number]) => {
        const members = await client.zrange(source.index, source.max, min, 'BYLEX', 'REV', 'LIMIT', 0, QUERY_PAGE);
        if (members.length < QUERY_PAGE) source.dry = true;
        const last = members[members.length - 1];
        if (last !== undefined) source.max = `(${last}`;
        // The runs of these members, one pipeline (they share the index's slot on a Cluster).
        const pipeline = client.pipeline();
        const keys: (string | null)[] = members.map((member) => {
          const match = /^\d+:(\d+):(.*)$/.exec(member);
          if (!match) return null;
          const key = layout.job(match[2] as string, 'runs');
          pipeline.hget(key, String(Number(match[1])));
          return key;
        });
        const results = keys.some((key) => key !== null)
          ? await this.execPipeline(
              pipeline,
              keys.filter((key): key is string => key !== null),
              'hash',
            )
          : [];
        let r = 0;
        for (const [i, member] of members.entries()) {
          const key = keys[i];
          const raw = key === null || key === undefined ? null : results[r++];
          source.buffer.push({ member, run: typeof raw === 'string' ? decodeStored(raw, key as string, (v: StoredRun) => v) : null });
        }
      };
      const out: StoredRun[] = [];
      let examined = 0;
      let last: string | null = null;
      for (;;) {
        await Promise.all(sources.filter((source) => source.buffer.length === 0 && !source.dry).map(refill));
        // The newest member over every index next.
        let best: (typeof sources)[number] | null = null;
        for (const source of sources) {
          const head = source.buffer[0];
          if (head && (!best || byteOrder(head.member, (best.buffer[0] as Entry).member) > 0)) best = source;
        }
        if (!best) return { runs: out, next: null };
        const { member, run } = best.buffer.shift() as Entry;
        if (run && matches(run)) {
          if (out.length >= q.limit) return { runs: out, next: last };
          out.push(run);
          last = member;
        }
        examined += 1;
        if (examined >= QUERY_SCAN_CAP) return { runs: out, next: member };
      }
    });
  }

  async getRun(id: string): Promise<RunRecord | null> {
    check('getRun', id);
    const parsed = parseRunId(id);
    if (!parsed) return null;
    const key = this.layout.job(parsed.encodedCode, 'runs');
    return this.call('getRun', [], async (client) => {
      const [raw] = await this.execPipeline(client.pipeline().hget(key, parsed.n), [key], 'hash');
      return typeof raw === 'string' ? decodeStored(raw, key, (v: StoredRun) => toRun(v)) : null;
    });
  }

  async pruneRuns(options: { olderThan: Date; batchSize?: number }): Promise<number> {
    check('pruneRuns', options);
    const olderThan = options.olderThan.getTime();
    const batch = options.batchSize ?? 1_000;
    let deleted = 0;
    // Shard by shard, one short script per batch: the finished runs' ids read first name the jobs it touches.
    for (const shard of this.layout.shards) {
      const finished = this.layout.shard(shard, 'finished');
      for (;;) {
        const ids = await this.call('pruneRuns', [], (client) =>
          client.zrangebyscore(finished, '-inf', `(${olderThan}`, 'LIMIT', 0, batch),
        );
        const ours = ids.filter((id) => parseRunId(id));
        const ces = ours.map((id) => (parseRunId(id) as { encodedCode: string }).encodedCode);
        if (ours.length > 0) {
          const answer = await this.script<{ deleted: number }>(
            'tickworkPrune',
            'pruneRuns',
            { olderThan, ids: ours },
            { shard, ces },
            ces,
          );
          deleted += answer.deleted;
        }
        if (ids.length < batch || ours.length === 0) break;
      }
    }
    return deleted;
  }

  async claimOverdue(options: Parameters<Store['claimOverdue']>[0]): Promise<JobState[]> {
    const { now, windows, codes, limit } = checkOverdueOptions(options, (message) => fail(`claimOverdue: ${message}`));
    const at = now.getTime();
    const layout = this.layout;
    const statesOf = (code: string) => layout.job(encodeCode(code), 'states');
    const replicas = this.options.replicas;
    // Pipelines per shard: a Cluster pipeline stays within one slot (each job's keys share its shard's tag).
    const perShard = async <T>(
      client: Redis,
      items: readonly T[],
      code: (item: T) => string,
      add: (pipeline: ReturnType<Redis['pipeline']>, item: T) => void,
      wait = false,
    ) => {
      const out: unknown[] = items.map(() => undefined);
      await Promise.all(
        [...layout.byShard(items, (item) => encodeCode(code(item))).values()].map(async (group) => {
          const pipeline = client.pipeline();
          for (const { item } of group) add(pipeline, item);
          if (wait && replicas) pipeline.wait(replicas.count, replicas.timeoutMs);
          const answers = await this.execPipeline(
            pipeline,
            group.map(({ item }) => statesOf(code(item))),
            'hash',
          );
          if (wait && replicas) {
            const acknowledged = answers.pop();
            if (typeof acknowledged !== 'number' || acknowledged < replicas.count)
              throw notReplicatedError('claimOverdue', replicas, Number(acknowledged));
          }
          group.forEach(({ index }, i) => {
            out[index] = answers[i];
          });
        }),
      );
      return out;
    };
    return this.call(
      'claimOverdue',
      [...new Set([...windows.map((w) => encodeCode(w.code)), ...(codes ?? []).map(encodeCode)])],
      async (client) => {
        // 1. The windows: one script per shard with its jobs' states hashes as KEYS (the last window given for a key wins).
        const byCode = new Map<string, Map<string, number | null>>();
        for (const w of windows) {
          const keys = byCode.get(w.code) ?? new Map<string, number | null>();
          keys.set(w.key, w.expectSuccessWithinMs);
          byCode.set(w.code, keys);
        }
        await Promise.all(
          [...layout.byShard([...byCode], ([code]) => encodeCode(code)).values()].map((group) => {
            const keys = group.map(({ item: [code] }) => statesOf(code));
            const lists = group.map(({ item: [, items] }) => [...items].map(([key, ms]) => ({ key, ms })));
            return client.eval(OVERDUE_WINDOWS_SCRIPT, keys.length, ...keys, JSON.stringify(lists));
          }),
        );
        // 2. The candidates, oldest due first across jobs.
        let list = codes ? [...new Set(codes)] : null;
        if (!list) {
          const all = await Promise.all(
            layout.shards.map(async (shard) => {
              const codesKey = layout.shard(shard, 'codes');
              const [members] = await this.execPipeline(client.pipeline().smembers(codesKey), [codesKey], 'set');
              return members as string[];
            }),
          );
          list = [...new Set(all.flat())];
        }
        const values = await perShard(
          client,
          list,
          (code) => code,
          (pipeline, code) => pipeline.hvals(statesOf(code)),
        );
        const candidates = byDue(
          values.flatMap((raws, i) =>
            ((raws as string[] | undefined) ?? []).map((raw) =>
              decodeStored(raw, statesOf(list[i] as string), (v: StoredState) => toState(v)),
            ),
          ),
        ).filter((state) => state.expectSuccessWithinMs !== null && state.overdueAlertedAt === null && dueAt(state) <= at);
        const chosen = candidates.slice(0, limit);
        if (chosen.length === 0) return [];
        // 3. The compare-and-set, one script per job on its states hash: it checks every condition again.
        const perCode = new Map<string, string[]>();
        for (const state of chosen) perCode.set(state.code, [...(perCode.get(state.code) ?? []), state.key]);
        const jobs = [...perCode];
        const answers = await perShard(
          client,
          jobs,
          ([code]) => code,
          (pipeline, [code, keys]) => pipeline.eval(OVERDUE_CLAIM_SCRIPT, 1, statesOf(code), String(at), JSON.stringify(keys)),
          true,
        );
        return byDue(
          answers.flatMap((raws, i) =>
            ((raws as string[] | undefined) ?? []).map((raw) =>
              decodeStored(raw, statesOf((jobs[i] as [string, string[]])[0]), (v: StoredState) => toState(v)),
            ),
          ),
        );
      },
    );
  }

  async claimMaintenance(name: string, options: { now: Date; everyMs: number }): Promise<boolean> {
    check('claimMaintenance', name, options);
    const now = options.now.getTime();
    const every = options.everyMs;
    const key = this.layout.meta('maintenance');
    // One script: the read of "last done at" and the write of the winner's `now` are one atomic step.
    const won = await this.call('claimMaintenance', [], (client) =>
      client.eval(MAINTENANCE_SCRIPT, 1, key, name, String(now), String(now - every)),
    );
    return won === 1;
  }

  // — run-now requests —

  async requestRun(ref: ScheduleRef, options: { now: Date; requestedBy?: string | null }): Promise<RunRequest> {
    check('requestRun', ref, options);
    checkStorable(ref, 'requestRun: ref');
    const now = options.now.getTime();
    const requestedBy = options.requestedBy ?? null;
    const ce = encodeCode(ref.code);
    const request = { op: 'request', ce, code: ref.code, key: ref.key, now, pad: padInstant(now), requestedBy };
    const stored = await this.script<StoredRequest | { missing: true }>(
      'tickworkRequests',
      'requestRun',
      request,
      this.jobScope(ce, ref.key === '' ? [] : [{ ce, key: ref.key }]),
      [ce],
      true,
    );
    if ('missing' in stored) fail(noRuntimeScheduleMessage(ref));
    return toRequest(stored);
  }

  async pendingRunRequests(
    options: { codes?: readonly string[]; refs?: readonly ScheduleRef[]; limit?: number } = {},
  ): Promise<RunRequest[]> {
    check('pendingRunRequests', options);
    const codes = options.codes === undefined ? null : [...options.codes];
    const limit = options.limit ?? null;
    const refList = options.refs ?? null;
    if (refList) checkStorableRefs(refList, 'pendingRunRequests: options.refs');
    // The script reads per schedule when refs are given (the code filter applied here), else per job, else in global order.
    const wanted = codes && new Set(codes);
    const refs = refList && uniqueRefs(refList.filter((ref) => !wanted || wanted.has(ref.code)));
    const jobs = refs ? null : codes && codeItems(codes);
    if ((jobs && jobs.length === 0) || (refs && refs.length === 0)) return [];
    // Each shard's requests in order (the script merges its sources), then merged here, oldest first.
    const layout = this.layout;
    const shards = refs
      ? [...layout.byShard(refs, (r) => r.ce).entries()]
      : jobs
        ? [...layout.byShard(jobs, (j) => j.ce).entries()]
        : layout.shards.map((shard) => [shard, null] as const);
    const parts = await Promise.all(
      shards.map(async ([shard, group]) => {
        const items = group?.map((g) => g.item) ?? [];
        const request = { op: 'pending', codes: jobs ? items : null, refs: refs ? items : null, limit };
        return asArray<StoredRequest>(
          await this.script<StoredRequest[]>('tickworkRequests', 'pendingRunRequests', request, { shard, ces: items.map((i) => i.ce) }, []),
        );
      }),
    );
    const merged = parts.flat().sort((a, b) => a.requestedAt - b.requestedAt || Number(a.id) - Number(b.id));
    return (limit === null ? merged : merged.slice(0, limit)).map(toRequest);
  }

  // — runtime schedules —

  async upsertSchedules(schedules: readonly RuntimeScheduleInput[], now: Date): Promise<RuntimeSchedule[]> {
    const request = upsertRequest(schedules, now);
    if (request.items.length === 0) return [];
    type Answer = { v: number; c: number; u: number };
    const answers = await this.perShard<(typeof request.items)[number], Answer>(
      'tickworkSchedules',
      'upsertSchedules',
      request.items,
      (part) => ({ op: 'upsert', now: request.now, epoch: request.epoch, items: part }),
      true,
      (part) => part,
    );
    // The script stored (or already held) exactly each item's definition text, so the records are built from it.
    return request.items.map((item, i) => {
      const answer = answers[i] as Answer;
      return toSchedule({
        ...item,
        k: this.layout.schedule(item.ce, item.key),
        en: item.enabled ? '1' : '0',
        v: answer.v,
        c: answer.c,
        u: answer.u,
      });
    });
  }

  async removeSchedules(refs: readonly ScheduleRef[]): Promise<boolean[]> {
    check('removeSchedules', refs);
    checkStorableRefs(refs, 'removeSchedules: refs');
    const items = refs.map((ref) => ({ ce: encodeCode(ref.code), code: ref.code, key: ref.key }));
    if (items.length === 0) return [];
    const epoch = revisionEpoch();
    const removed = await this.perShard<(typeof items)[number], boolean>(
      'tickworkSchedules',
      'removeSchedules',
      items,
      (part) => ({ op: 'remove', epoch, items: part }),
      true,
      (part) => part,
    );
    return items.map((_, i) => removed[i] === true);
  }

  async getSchedules(refs: readonly ScheduleRef[]): Promise<RuntimeSchedule[]> {
    check('getSchedules', refs);
    checkStorableRefs(refs, 'getSchedules: refs');
    // Each schedule once, in the order first asked for.
    const unique = [...new Map(refs.map((ref) => [JSON.stringify([ref.code, ref.key]), ref])).values()];
    const items = unique.map((ref) => ({ ce: encodeCode(ref.code), code: ref.code, key: ref.key }));
    if (items.length === 0) return [];
    const rows = await this.getScheduleRows('getSchedules', items);
    return rows.flatMap((row) => (row ? [toSchedule(row)] : []));
  }

  /** The stored rows of these schedules (false for one that does not exist), one script per shard. */
  private getScheduleRows(
    operation: string,
    items: readonly { ce: string; code: string; key: string }[],
  ): Promise<(StoredScheduleRow | false)[]> {
    return this.perShard<(typeof items)[number], StoredScheduleRow | false>(
      'tickworkSchedules',
      operation,
      items,
      (part) => ({ op: 'get', items: part }),
      false,
      (part) => part,
    );
  }

  async listSchedules(query: ScheduleQuery = {}): Promise<SchedulePage> {
    if (query !== null && typeof query === 'object' && query.partitions !== undefined) {
      return this.listPartitions(query as ScheduleQuery & { partitions: readonly number[] });
    }
    const range = listRange(query);
    if (!range) return { schedules: [], nextCursor: null };
    // Every shard's index in (code, key) byte order, merged; then the rows of the page.
    const layout = this.layout;
    const { code, after, limit } = range;
    let min = code === null ? '-' : `[${code}\u0000`;
    const max = code === null ? '+' : `(${code}\u0001`;
    if (after !== null) min = `(${after[0]}\u0000${after[1]}`;
    const members = await this.call('listSchedules', [], (client) =>
      Promise.all(
        layout.shards.map(async (shard) => ({
          shard,
          members: await client.zrange(layout.shard(shard, 'schedules'), min, max, 'BYLEX', 'LIMIT', 0, limit + 1),
        })),
      ),
    );
    const merged = members
      .flatMap(({ shard, members: list }) => list.map((member) => ({ shard, member })))
      .sort((a, b) => byteOrder(a.member, b.member));
    const page = merged.slice(0, limit);
    const items = page.flatMap(({ member }) => {
      const z = member.indexOf('\u0000');
      return z < 0 ? [] : [{ ce: encodeCode(member.slice(0, z)), code: member.slice(0, z), key: member.slice(z + 1) }];
    });
    const rows = await this.getScheduleRows('listSchedules', items);
    let r = 0;
    const schedules = page.map(({ shard, member }) => {
      if (!member.includes('\u0000')) return toSchedule({ k: layout.shard(shard, 'schedules'), missing: true } as StoredScheduleRow);
      const item = items[r] as { ce: string; key: string };
      const row = rows[r++];
      return toSchedule(row || ({ k: layout.schedule(item.ce, item.key), missing: true } as StoredScheduleRow));
    });
    const last = schedules[schedules.length - 1];
    return { schedules, nextCursor: merged.length > limit && last ? encodeCursor(last.code, last.key) : null };
  }

  /**
   * `listSchedules` with `partitions`: each shard's `schedparts` index (rebuilt first where an older
   * release changed schedules without keeping it), one lex range per partition, merged across
   * shards. Partitions are read in rounds of 1, 2, 4 … until the page is full, so a page reads
   * about what it answers.
   */
  private async listPartitions(query: ScheduleQuery & { partitions: readonly number[] }): Promise<SchedulePage> {
    const { partitions, code, after, limit } = partitionListRange(query);
    if (partitions.length === 0) return { schedules: [], nextCursor: null };
    const layout = this.layout;
    const marks = await this.call('listSchedules', [], (client) =>
      Promise.all(layout.shards.map((shard) => client.hmget(layout.shard(shard, 'schedrev'), 'n', 'parts'))),
    );
    await Promise.all(
      layout.shards
        .filter((_, i) => marks[i]?.[0] !== marks[i]?.[1])
        .map((shard) => this.script<number>('tickworkSchedules', 'listSchedules', { op: 'index' }, { shard }, [])),
    );
    // The lex range of one partition's members (of one code, after the cursor in the first partition), or null when empty.
    const rangeOf = (partition: number, first: boolean): [string, string] | null => {
      const p = partPrefix(partition);
      let min = code === null ? `[${p}` : `[${p}${code}\u0000`;
      const max = code === null ? `(${partPrefix(partition + 1)}` : `(${p}${code}\u0001`;
      if (first && after !== null) {
        const order = code === null ? 0 : byteOrder(after.code, code);
        if (order > 0) return null;
        if (order === 0) min = `(${p}${after.code}\u0000${after.key}`;
      }
      return [min, max];
    };
    const members: { shard: number; member: string }[] = [];
    let next = 0;
    for (let round = 1; next < partitions.length && members.length <= limit; round *= 2) {
      const group = partitions.slice(next, next + round).map((partition, i) => ({ partition, range: rangeOf(partition, next + i === 0) }));
      next += group.length;
      const want = limit + 1 - members.length;
      const answers = await this.call('listSchedules', [], (client) =>
        Promise.all(
          group.map(({ range }) =>
            range === null
              ? []
              : Promise.all(
                  layout.shards.map((shard) =>
                    client.zrange(layout.shard(shard, 'schedparts'), range[0], range[1], 'BYLEX', 'LIMIT', 0, want),
                  ),
                ),
          ),
        ),
      );
      for (const perShard of answers) {
        const found = perShard.flatMap((list, i) => list.map((member) => ({ shard: layout.shards[i] as number, member })));
        members.push(...found.sort((a, b) => byteOrder(a.member, b.member)));
      }
    }
    const page = members.slice(0, limit);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL separates code and key in the members.
    const bad = page.find(({ member }) => !/^\d{3}[^\u0000]+\u0000/.test(member));
    if (bad)
      throw corruptValueError(
        layout.shard(bad.shard, 'schedparts'),
        `its member ${JSON.stringify(bad.member)} is not one this version writes`,
      );
    const items = page.map(({ member }) => {
      const z = member.indexOf('\u0000');
      const itemCode = member.slice(3, z);
      return { ce: encodeCode(itemCode), code: itemCode, key: member.slice(z + 1) };
    });
    const rows = await this.getScheduleRows('listSchedules', items);
    const schedules = items.map((item, r) =>
      toSchedule(rows[r] || ({ k: layout.schedule(item.ce, item.key), missing: true } as StoredScheduleRow)),
    );
    const last = schedules[schedules.length - 1];
    return { schedules, nextCursor: members.length > limit && last ? encodeCursor(last.code, last.key) : null };
  }

  async schedulesRevision(): Promise<string> {
    // One shard's `epoch:n` on a single node, as before; on a Cluster every shard's, joined.
    const layout = this.layout;
    const parts = await this.call('schedulesRevision', [], (client) =>
      Promise.all(layout.shards.map((shard) => client.hmget(layout.shard(shard, 'schedrev'), 'epoch', 'n'))),
    );
    if (parts.every(([, n]) => !n)) return '0';
    return parts.map(([epoch, n]) => (n ? `${epoch ?? ''}:${n}` : '0')).join(',');
  }

  // — changes —

  async subscribe(listener: (change: StoreChange) => void): Promise<Unsubscribe> {
    check('subscribe', listener);
    try {
      return await this.changes.add(listener);
    } catch (error) {
      throw toStoreError(error, 'subscribe', this.endpoint);
    }
  }

  async close(): Promise<void> {
    this.changes.reset();
    this.presence = null;
    this.presentRunners.clear();
    await this.connections.close();
  }

  // — plumbing —

  private leaseItem(lease: Lease, where: string): { ce: string; n: string; key: string; token: number } {
    checkStorable(lease, where);
    const parsed = typeof lease.runId === 'string' ? parseRunId(lease.runId) : null;
    if (!parsed || parsed.encodedCode !== encodeCode(lease.code)) {
      throw new InvalidArgumentError(
        `${MESSAGE_PREFIX} ${where}.runId ${JSON.stringify(lease.runId)} of "${lease.code}" is not a run id this store issued`,
      );
    }
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

  /** The scope of a script on one job (and these of its schedules). */
  private jobScope(ce: string, schedules: { ce: string; key: string }[] = []): Scope {
    return { shard: this.layout.shardOf(ce), ces: [ce], schedules };
  }

  /** The KEYS of a script call, and its layout arguments (ARGV[3..6]: shard tag, meta tag, shard, shard count). */
  private keysOf(scope: Scope): { keys: string[]; layoutArgs: string[] } {
    const layout = this.layout;
    const shards = String(layout.shards.length);
    if (scope === 'meta') {
      // The meta tag stands in for the shard's on a Cluster, so the script knows it is on one.
      return { keys: layout.metaKeys().map(([key]) => key), layoutArgs: [layout.metaTag, layout.metaTag, '0', shards] };
    }
    // Shard, job and schedule key names never coincide (an encoded code is never `#` and holds no
    // `:` or `}`), so only a job or schedule named twice needs removing (jobKeyNames takes each job once).
    const keys = layout.jobKeyNames(
      scope.ces ?? [],
      layout.shardKeys(scope.shard).map(([key]) => key),
    );
    if (scope.schedules) for (const key of new Set(Array.from(scope.schedules, ({ ce, key }) => layout.schedule(ce, key)))) keys.push(key);
    return { keys, layoutArgs: [layout.tag(scope.shard), layout.metaTag, String(scope.shard), shards] };
  }

  /**
   * Runs one registered script with a JSON request and parses its JSON answer. Every key it touches
   * is in KEYS (from `scope`), so on a Cluster the call goes to the node of that one slot. A `decisive` write
   * (one a runner acts on) is followed, with the `replicas` option, by `WAIT count timeoutMs` in
   * the same pipeline on the same connection, and its answer is returned only when enough
   * replicas acknowledged it.
   */
  private script<T>(
    name: ScriptName,
    operation: string,
    request: unknown,
    scope: Scope,
    codes: readonly string[],
    decisive = false,
  ): Promise<Reply<T>> {
    const replicas = decisive ? this.options.replicas : null;
    const { keys, layoutArgs } = this.keysOf(scope);
    const args = [keys.length, ...keys, this.options.prefix, scriptJson(request), ...layoutArgs];
    return this.call(operation, codes, async (client) => {
      if (!replicas) {
        const run = (client as unknown as Record<ScriptName, (...args: (string | number)[]) => Promise<string>>)[name];
        return JSON.parse(await run.apply(client, args)) as T;
      }
      for (let attempt = 1; ; attempt += 1) {
        const pipeline = client.pipeline();
        (pipeline as unknown as Record<ScriptName, (...args: (string | number)[]) => unknown>)[name].apply(pipeline, args);
        pipeline.wait(replicas.count, replicas.timeoutMs);
        const [[scriptError, answer] = [null, null], [waitError, acknowledged] = [null, null]] = (await pipeline.exec()) ?? [];
        // On a Cluster whose slots moved (a failover), the node answers the script with a redirection
        // before running it; ioredis retries a pipeline only when every command failed so, and WAIT did not.
        if (scriptError && this.options.cluster && attempt < 4 && NOT_RUN_HERE.test(scriptError.message)) {
          await new Promise<void>((resolve) =>
            (client as unknown as { refreshSlotsCache(callback: () => void): void }).refreshSlotsCache(() => resolve()),
          );
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          continue;
        }
        if (scriptError) throw scriptError;
        if (waitError) throw waitError;
        if (typeof acknowledged !== 'number' || acknowledged < replicas.count)
          throw notReplicatedError(operation, replicas, Number(acknowledged));
        return JSON.parse(answer as string) as T;
      }
    });
  }

  /**
   * Runs a batch script once per shard of its items (one call on a single node), each call with its
   * shard's items in their order, and answers per item in the order given. On a Cluster a batch is
   * atomic per shard: a failing shard fails the call, though other shards' parts may have been applied.
   */
  private async perShard<I extends { ce: string }, A>(
    name: ScriptName,
    operation: string,
    items: readonly I[],
    request: (part: I[]) => unknown,
    decisive = false,
    schedules?: (part: I[]) => { ce: string; key: string }[],
  ): Promise<A[]> {
    const out: A[] = new Array(items.length);
    await Promise.all(
      [...this.layout.byShard(items, (item) => item.ce).entries()].map(async ([shard, group]) => {
        const part = group.map((g) => g.item);
        const ces = part.map((item) => item.ce);
        const answers = asArray<A>(
          await this.script<A[]>(name, operation, request(part), { shard, ces, schedules: schedules?.(part) ?? [] }, ces, decisive),
        );
        group.forEach((g, i) => {
          out[g.index] = answers[i] as A;
        });
      }),
    );
    return out;
  }

  /** Executes a pipeline; a WRONGTYPE reply is reported naming the key of that command. */
  private async execPipeline(
    pipeline: ReturnType<Redis['pipeline']>,
    keys: readonly string[],
    expected: 'hash' | 'set',
  ): Promise<unknown[]> {
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
      const layout = this.layout;
      const keys: [string, RedisType][] = [...layout.metaKeys()];
      for (const shard of new Set(codes.map((ce) => layout.shardOf(ce)))) keys.push(...layout.shardKeys(shard));
      if (codes.length === 0) for (const shard of layout.shards) keys.push(...layout.shardKeys(shard));
      keys.push(...layout.jobKeys(codes));
      // One command each (a Cluster pipeline stays within one slot).
      const types = await Promise.all(keys.map(([key]) => client.type(key).catch(() => null)));
      for (const [i, [key, expected]] of keys.entries()) {
        const actual = types[i];
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

/** When a state's dead-man window runs out (its window must be set). */
function dueAt(state: JobState): number {
  return (state.lastSucceededAt ?? state.createdAt).getTime() + (state.expectSuccessWithinMs ?? 0);
}

/** States in the order `claimOverdue` hands them out: oldest due first, then by code and key. */
function byDue(states: JobState[]): JobState[] {
  return states.sort(
    (a, b) => dueAt(a) - dueAt(b) || (a.code < b.code ? -1 : a.code > b.code ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}
