/**
 * The store on PostgreSQL: every hot path is one parameterised statement (claims,
 * completions and reaps call the PL/pgSQL functions the migration installed), and
 * runtime changes are pushed with NOTIFY on a per-schema channel.
 */
import {
  StoreUnavailableError,
  type JobState,
  type RunRecord,
  type RuntimeSchedule,
  type ScheduleRef,
  type ScheduleSpec,
  type Store,
} from '@tickwork/core';
import {
  storable,
  RUNNER_RECORD_RETENTION_MS,
  PARTITION_COUNT,
  type PartitionLeaseRequest,
  type PartitionLeases,
  type RunnerHeartbeat,
  type RunnerRecord,
  type ClaimContext,
  type ClaimOutcome,
  type CompletionOutcome,
  type Lease,
  type ReapedRun,
  type RunCompletion,
  type RunPage,
  type RunQuery,
  type RunRequest,
  type RuntimeScheduleInput,
  type ScheduleQuery,
  type SchedulePage,
  type SlotClaim,
  type StoreChange,
  type Unsubscribe,
  type PassedSlots,
  AuditAndTokenForwarding,
  leaseOf,
} from '@tickwork/core/store';
import type { PgConnection } from './connection/pg.js';
import { type PartitionTables, pgPartitionTables, releasePartitionsInTx } from './partition-leases.js';
import { PREFIX } from './errors.js';
import { SqlAccess } from './sql-access.js';
import {
  claimOutcome,
  inRefOrder,
  removedFlags,
  requestIdParam,
  toDate,
  toReaped,
  toRequest,
  toRun,
  toRunner,
  toSchedule,
  toState,
  type ClaimRow,
  type Row,
} from './rows.js';
import {
  checkLeasePartitions,
  checkReleasePartitions,
  byDue,
  check,
  checkOverdue,
  checkStorable,
  checkStorableText,
  checkUpsert,
  cursorAfter,
  isStoreId,
  lookupRefs,
  noSuchSchedule,
  queryOf,
  scheduleCursorAfter,
  scheduleQueryOf,
  uniqueRefs,
  type CheckedScheduleQuery,
} from './validate.js';

/** The NOTIFY channel of one schema (channels are per database, so the schema keeps tests and tenants apart). */
/** A claim's passed slots as the claim function reads them (instants as epoch milliseconds for exact comparison). */
function passedParam(passed: PassedSlots) {
  return {
    after_ms: passed.after?.getTime() ?? null,
    ranges: passed.ranges.map((r) => ({
      first_slot_at: r.firstSlotAt.toISOString(),
      last_slot_at: r.lastSlotAt.toISOString(),
      count: r.count,
      reason: r.reason,
      message: storable(r.message),
    })),
  };
}

/** How long a prune waits for a partition's lock (and the run log's, to drop one) before leaving it for the next prune. */
const PARTITION_LOCK_TIMEOUT_MS = 5000;

export function changeChannel(schema: string): string {
  return `tickwork_changes:${schema}`;
}

/** A {@link Store} on a PostgreSQL schema that `migrate()` has prepared. */
export class PgStore extends AuditAndTokenForwarding implements Store {
  private readonly subscriptions = new Set<Unsubscribe>();
  readonly name = 'postgresql';
  readonly capabilities = { changeSubscription: true, runnerPresence: 'connection' as const };
  /** Schema-qualified table names; `fn` is the quoted schema, for its functions. */
  private readonly tables: {
    state: string;
    run: string;
    request: string;
    schedule: string;
    counter: string;
    fn: string;
    runner: string;
    maintenance: string;
  };
  /** Advisory lock key (bigint as text) of each runner this instance beats for. */
  private readonly lockKeys = new Map<string, string>();
  private readonly channel: string;
  private readonly partitionTables: PartitionTables;
  protected readonly access: SqlAccess;

  constructor(
    private readonly db: PgConnection,
    schema: string,
    private readonly closeOnClose: boolean,
  ) {
    super();
    const s = `"${schema}"`;
    this.tables = {
      state: `${s}.tickwork_job_state`,
      run: `${s}.tickwork_run`,
      request: `${s}.tickwork_run_request`,
      schedule: `${s}.tickwork_schedule`,
      counter: `${s}.tickwork_schedule_counter`,
      fn: s,
      runner: `${s}.tickwork_runner`,
      maintenance: `${s}.tickwork_maintenance`,
    };
    this.channel = changeChannel(schema);
    this.partitionTables = pgPartitionTables(s);
    this.access = new SqlAccess({
      query: (sql, params, operation, read) => this.db.query(sql, params, operation, read),
      param: (n, type) => `$${n}::${type}`,
      audit: `${s}.tickwork_audit`,
      token: `${s}.tickwork_access_token`,
      instant: (date) => date,
    });
  }

  async ping(): Promise<{ latencyMs: number; serverTime: Date | null }> {
    const started = performance.now();
    const rows = await this.db.query<{ now: Date }>('SELECT now() AS now', [], 'ping', true);
    return { latencyMs: performance.now() - started, serverTime: rows[0] ? toDate(rows[0].now) : null };
  }

  async ensureStates(refs: readonly ScheduleRef[], now: Date): Promise<JobState[]> {
    check('ensureStates', refs, now);
    refs.forEach((ref, i) => {
      checkStorable('ensureStates', ref, `refs[${i}]`);
    });
    if (refs.length === 0) return [];
    const rows = await this.db.query<Row>(
      `WITH input AS (SELECT DISTINCT x.code, x.key FROM jsonb_to_recordset($1::jsonb) AS x(code text, key text)),
       ins AS (INSERT INTO ${this.tables.state} (code, key, created_at, updated_at)
               SELECT code, key, $2, $2 FROM input ORDER BY code, key ON CONFLICT DO NOTHING RETURNING *)
       SELECT * FROM ins
       UNION ALL
       SELECT s.* FROM ${this.tables.state} s JOIN input i ON s.code = i.code AND s.key = i.key`,
      [JSON.stringify(refs.map(({ code, key }) => ({ code, key }))), now],
      'ensureStates',
      true,
    );
    const states = inRefOrder(rows.map(toState), refs);
    // A row another instance inserted after this statement's snapshot is invisible to it; read those again.
    return states.length === refs.length ? states : this.getStates(refs);
  }

  async getStates(refs?: readonly ScheduleRef[]): Promise<JobState[]> {
    check('getStates', refs);
    if (refs === undefined) {
      const rows = await this.db.query<Row>(`SELECT * FROM ${this.tables.state} ORDER BY code, key`, [], 'getStates', true);
      return rows.map(toState);
    }
    const stored = lookupRefs(refs);
    if (stored.length === 0) return [];
    const rows = await this.rowsOfRefs(this.tables.state, stored, 'getStates');
    return inRefOrder(rows.map(toState), refs);
  }

  async setPaused(ref: ScheduleRef, paused: boolean, options: { note?: string | null; now: Date }): Promise<JobState> {
    check('setPaused', ref, paused, options);
    checkStorable('setPaused', ref);
    const note = paused ? (options.note ?? null) : null;
    const rows = await this.db.query<Row>(
      `WITH up AS (
         INSERT INTO ${this.tables.state} AS s (code, key, paused, paused_note, resumed_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, NULL, $5, $5)
         ON CONFLICT (code, key) DO UPDATE SET paused = $3, paused_note = $4,
           resumed_at = CASE WHEN s.paused AND NOT $3 THEN $5::timestamptz ELSE s.resumed_at END, updated_at = $5
         RETURNING *)
       SELECT up.*, pg_notify($6, json_build_object('type', 'state', 'code', up.code, 'key', up.key)::text) FROM up`,
      [ref.code, ref.key, paused, note, options.now, this.channel],
      'setPaused',
    );
    return toState(rows[0]!);
  }

  async setScheduleOverride(ref: ScheduleRef, schedule: ScheduleSpec | null, now: Date): Promise<JobState> {
    check('setScheduleOverride', ref, schedule, now);
    checkStorable('setScheduleOverride', ref);
    const json = schedule === null ? null : JSON.stringify(schedule);
    const rows = await this.db.query<Row>(
      `WITH up AS (
         INSERT INTO ${this.tables.state} AS s (code, key, schedule_override, created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, $4)
         ON CONFLICT (code, key) DO UPDATE SET schedule_override = $3::jsonb, updated_at = $4
         RETURNING *)
       SELECT up.*, pg_notify($5, json_build_object('type', 'state', 'code', up.code, 'key', up.key)::text) FROM up`,
      [ref.code, ref.key, json, now, this.channel],
      'setScheduleOverride',
    );
    return toState(rows[0]!);
  }

  async claimSlots(claims: readonly SlotClaim[], context: ClaimContext): Promise<ClaimOutcome[]> {
    check('claimSlots', claims, context);
    claims.forEach((claim, i) => {
      checkStorable('claimSlots', claim, `claims[${i}]`);
    });
    if (claims.length === 0) return [];
    const input = claims.map((c, ord) => ({
      ord,
      code: c.code,
      key: c.key,
      slot_at: c.slotAt.toISOString(),
      attempt: c.attempt,
      trigger: c.trigger,
      overlap: c.overlap,
      backfill: c.backfill ?? false,
      request_id: requestIdParam(c.requestId),
      lease_ms: c.leaseMs,
      schedule_version: c.scheduleVersion ?? null,
      max_runs: c.maxRuns ?? null,
      ...(c.passed && c.passed.ranges.length > 0 ? { passed: passedParam(c.passed) } : {}),
    }));
    const rows = await this.db.query<ClaimRow>(
      `SELECT ord, outcome, run, reaped FROM ${this.tables.fn}.tickwork_claim_slots_passed($1::jsonb, $2, $3)`,
      [JSON.stringify(input), context.runnerId, context.now],
      'claimSlots',
    );
    const outcomes: ClaimOutcome[] = new Array<ClaimOutcome>(claims.length);
    for (const row of rows) outcomes[row.ord] = claimOutcome(row);
    return outcomes;
  }

  async renewLeases(leases: readonly Lease[], options: { now: Date; leaseMs: number }): Promise<(Lease | null)[]> {
    check('renewLeases', leases, options);
    leases.forEach((lease, i) => {
      checkStorable('renewLeases', lease, `leases[${i}]`);
    });
    const valid = leases.map((l, ord) => ({ ord, id: l.runId, token: l.token })).filter((l) => isStoreId(l.id));
    const renewed: (Lease | null)[] = leases.map(() => null);
    if (valid.length === 0) return renewed;
    // The runs are locked sorted by id first, as claims, completions and reaps lock theirs (see the migration's lock
    // order): a plain UPDATE … FROM would take them in plan order and could deadlock with those.
    const rows = await this.db.query<Row & { ord: number }>(
      `WITH l AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS l(ord integer, id bigint, token bigint)),
       locked AS MATERIALIZED (SELECT x.id FROM ${this.tables.run} x WHERE x.id = ANY(ARRAY(SELECT l.id FROM l)) AND x.status = 'running' ORDER BY x.id FOR UPDATE)
       UPDATE ${this.tables.run} x SET lease_expires_at = $2::timestamptz + $3 * interval '1 millisecond'
       FROM l
       WHERE x.id = l.id AND x.token = l.token AND x.status = 'running' AND x.id IN (SELECT locked.id FROM locked)
       RETURNING l.ord, x.*`,
      [JSON.stringify(valid), options.now, options.leaseMs],
      'renewLeases',
    );
    for (const row of rows) renewed[row.ord] = leaseOf(toRun(row));
    return renewed;
  }

  async completeRuns(completions: readonly RunCompletion[]): Promise<CompletionOutcome[]> {
    check('completeRuns', completions);
    completions.forEach((completion, i) => {
      checkStorable('completeRuns', completion.lease, `completions[${i}].lease`);
    });
    const outcomes: CompletionOutcome[] = completions.map(() => ({ status: 'stale', run: null }));
    const all = completions
      .map((c, ord) => ({
        ord,
        id: c.lease.runId,
        token: c.lease.token,
        code: c.lease.code,
        key: c.lease.key,
        status: c.status,
        finished_at: c.finishedAt.toISOString(),
        message: c.message ?? null,
        error: c.error ?? null,
        stack: c.stack ?? null,
        reason: c.skipReason ?? null,
      }))
      .filter((c) => isStoreId(c.id));
    const input = all.filter((c) => c.status !== 'skipped');
    const skipped = all.filter((c) => c.status === 'skipped');
    if (skipped.length > 0) await this.skipClaimed(skipped, outcomes);
    if (input.length === 0) return outcomes;
    const rows = await this.db.query<{ ord: number; outcome: string; run: Row | null; state: Row | null }>(
      `SELECT ord, outcome, run, state FROM ${this.tables.fn}.tickwork_complete_runs($1::jsonb)`,
      [JSON.stringify(input)],
      'completeRuns',
    );
    for (const row of rows) {
      outcomes[row.ord] =
        row.outcome === 'completed'
          ? { status: 'completed', run: toRun(row.run!), state: row.state ? toState(row.state) : null }
          : { status: 'stale', run: row.run ? toRun(row.run) : null };
    }
    return outcomes;
  }

  /**
   * `skipped` completions (see `Store.completeRuns`), in one statement beside the completion function:
   * the states are locked first, in (code, key) order, then the runs, as the function does.
   */
  private async skipClaimed(
    items: readonly {
      ord: number;
      id: string;
      token: number;
      code: string;
      key: string;
      reason: string | null;
      finished_at: string;
      message: string | null;
    }[],
    outcomes: CompletionOutcome[],
  ): Promise<void> {
    const { run, state } = this.tables;
    const rows = await this.db.query<{ ord: number; outcome: string; run: Row | null; state: Row | null }>(
      `WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, id bigint, token bigint, code text, key text, reason text, finished_at timestamptz, message text)),
       locked AS (SELECT j.code, j.key FROM ${state} j WHERE (j.code, j.key) IN (SELECT i.code, i.key FROM input i) ORDER BY j.code, j.key FOR UPDATE),
       done AS (
         UPDATE ${run} x SET status = 'skipped', skip_reason = i.reason, finished_at = i.finished_at, duration_ms = 0, lease_expires_at = NULL,
             message = i.message, error = NULL, stack = NULL
           FROM input i
           WHERE x.id = i.id AND x.token = i.token AND x.code = i.code AND x.key = i.key AND x.status = 'running' AND (SELECT count(*) FROM locked) >= 0
           RETURNING i.ord AS ord, x.*),
       counted AS (
         SELECT d.code, d.key, count(*) AS runs, count(*) FILTER (WHERE d.trigger = 'schedule' AND d.attempt = 1) AS scheduled,
             max(d.slot_at) AS last_slot, (array_agg(d.skip_reason ORDER BY d.slot_at DESC))[1] AS reason, max(d.finished_at) AS finished
           FROM done d GROUP BY d.code, d.key),
       st AS (
         UPDATE ${state} j SET
             last_skip_reason = CASE WHEN j.last_skipped_slot_at > c.last_slot THEN j.last_skip_reason ELSE c.reason END,
             last_skipped_slot_at = greatest(j.last_skipped_slot_at, c.last_slot),
             total_runs = greatest(0, j.total_runs - c.runs), scheduled_runs = greatest(0, j.scheduled_runs - c.scheduled),
             updated_at = greatest(j.updated_at, c.finished)
           FROM counted c WHERE j.code = c.code AND j.key = c.key RETURNING j.*)
       SELECT i.ord, CASE WHEN d.ord IS NULL THEN 'stale' ELSE 'completed' END AS outcome,
           CASE WHEN d.ord IS NULL THEN (SELECT to_jsonb(r) FROM ${run} r WHERE r.id = i.id) ELSE to_jsonb(d) - 'ord' END AS run,
           (SELECT to_jsonb(s) FROM st s WHERE s.code = d.code AND s.key = d.key) AS state
         FROM input i LEFT JOIN done d ON d.ord = i.ord`,
      [JSON.stringify(items)],
      'completeRuns',
    );
    for (const row of rows) {
      outcomes[row.ord] =
        row.outcome === 'completed' && row.run
          ? { status: 'completed', run: toRun(row.run), state: row.state ? toState(row.state) : null }
          : { status: 'stale', run: row.run ? toRun(row.run) : null };
    }
  }

  async reapExpired(options: { now: Date; limit?: number; runners?: boolean }): Promise<ReapedRun[]> {
    check('reapExpired', options);
    const limit = options.limit ?? 1000;
    const rows = await this.db.query<{ run: Row; state: Row | null }>(
      `SELECT run, state FROM ${this.tables.fn}.tickwork_reap_expired($1, $2)`,
      [options.now, limit],
      'reapExpired',
    );
    const reaped = rows.map(toReaped);
    if (options.runners === true && reaped.length < limit) {
      const dead = await this.db.query<{ run: Row; state: Row | null }>(
        `SELECT run, state FROM ${this.tables.fn}.tickwork_reap_dead_runners($1, $2)`,
        [options.now, limit - reaped.length],
        'reapExpired',
      );
      reaped.push(...dead.map(toReaped));
    }
    return reaped;
  }

  // — runners: a session advisory lock per runner on this instance's presence connection —

  async heartbeat(beat: RunnerHeartbeat): Promise<RunnerRecord> {
    check('heartbeat', beat);
    checkStorableText('heartbeat', 'beat.runnerId', beat.runnerId);
    let key = this.lockKeys.get(beat.runnerId);
    // A key another session holds (the old connection of this runner not yet gone, or a collision): take a fresh one.
    for (let attempt = 0; key === undefined || !(await this.db.holdLock(key, 'heartbeat')); attempt += 1) {
      if (attempt >= 5)
        throw new StoreUnavailableError(`${PREFIX} heartbeat: no free advisory lock key for runner "${beat.runnerId}" after 5 tries`);
      // node:crypto fetched here, not imported: an ES import of it builds its namespace, whose
      // webcrypto getter loads WebCrypto (~10 ms of CPU on every crontab tick that never beats).
      key = (process.getBuiltinModule('node:crypto').randomBytes(8).readBigUInt64BE() >> 2n).toString();
      this.lockKeys.set(beat.runnerId, key);
    }
    const cutoff = new Date(beat.now.getTime() - RUNNER_RECORD_RETENTION_MS);
    const rows = await this.db.query<Row & { connected: boolean }>(
      `WITH pruned AS (DELETE FROM ${this.tables.runner} WHERE expires_at < $7 AND runner_id <> $1)
       INSERT INTO ${this.tables.runner} AS w (runner_id, started_at, last_heartbeat_at, expires_at, clock_offset_ms, lock_key, released)
       VALUES ($1, $2, $3, $4, $5, $6::bigint, false)
       ON CONFLICT (runner_id) DO UPDATE SET started_at = EXCLUDED.started_at, last_heartbeat_at = EXCLUDED.last_heartbeat_at,
         expires_at = EXCLUDED.expires_at, clock_offset_ms = EXCLUDED.clock_offset_ms, lock_key = EXCLUDED.lock_key, released = false
       RETURNING w.*, ${this.tables.fn}.tickwork_runner_connected(w.lock_key) AS connected`,
      [beat.runnerId, beat.startedAt, beat.now, new Date(beat.now.getTime() + beat.ttlMs), beat.clockOffsetMs, key, cutoff],
      'heartbeat',
      true,
    );
    return toRunner(rows[0] as Row, beat.now, rows[0]?.connected === true);
  }

  async listRunners(options: { now: Date }): Promise<RunnerRecord[]> {
    check('listRunners', options);
    const rows = await this.db.query<Row & { connected: boolean }>(
      `SELECT w.*, ${this.tables.fn}.tickwork_runner_connected(w.lock_key) AS connected FROM ${this.tables.runner} w ORDER BY w.runner_id COLLATE "C"`,
      [],
      'listRunners',
      true,
    );
    return rows.map((row) => toRunner(row, options.now, row.connected === true));
  }

  async queryRuns(query?: RunQuery): Promise<RunPage> {
    check('queryRuns', query);
    const q = queryOf(query);
    const rows = await this.db.query<Row>(
      `SELECT * FROM ${this.tables.run}
       WHERE ($1::text IS NULL OR code = $1) AND ($2::text IS NULL OR key = $2)
         AND ($3::text[] IS NULL OR status = ANY($3)) AND ($4::timestamptz IS NULL OR started_at >= $4)
         AND ($5::timestamptz IS NULL OR started_at < $5)
         AND ($6::timestamptz IS NULL OR (started_at, id) < ($6, $7::bigint))
         AND ($9::text[] IS NULL OR (status = 'skipped' AND coalesce(skip_reason, 'overlap') = ANY($9)))
       ORDER BY started_at DESC, id DESC LIMIT $8`,
      [
        q.code,
        q.key,
        q.statuses,
        q.since,
        q.until,
        q.cursor ? new Date(q.cursor.startedAt) : null,
        q.cursor?.id ?? null,
        q.limit + 1,
        q.reasons,
      ],
      'queryRuns',
      true,
    );
    const runs = rows.slice(0, q.limit).map(toRun);
    const last = runs[runs.length - 1];
    return { runs, nextCursor: rows.length > q.limit && last ? cursorAfter(last) : null };
  }

  async getRun(id: string): Promise<RunRecord | null> {
    check('getRun', id);
    if (!isStoreId(id)) return null;
    const rows = await this.db.query<Row>(`SELECT * FROM ${this.tables.run} WHERE id = $1`, [id], 'getRun', true);
    return rows[0] ? toRun(rows[0]) : null;
  }

  async claimOverdue(options: Parameters<Store['claimOverdue']>[0]): Promise<JobState[]> {
    const { now, windows, codes, limit } = checkOverdue(options);
    const rows = await this.db.query<{ state: Row }>(
      `SELECT to_jsonb(x) AS state FROM ${this.tables.fn}.tickwork_claim_overdue($1::jsonb, $2::text[], $3, $4) x`,
      [
        JSON.stringify(windows.map((w) => ({ code: w.code, key: w.key, ms: w.expectSuccessWithinMs }))),
        codes === undefined ? null : [...codes],
        now,
        limit,
      ],
      'claimOverdue',
    );
    return byDue(rows.map((row) => toState(row.state)));
  }

  async leasePartitions(request: PartitionLeaseRequest): Promise<PartitionLeases> {
    const { runnerId, now, ttlMs, limit } = checkLeasePartitions(request);
    // One statement: the lock of the member table is held only inside the server (see the migration).
    const rows = await this.db.query<{ o_parts: number[]; o_tokens: string[]; o_runners: number; o_share: number }>(
      `SELECT * FROM ${this.tables.fn}.tickwork_lease_partitions_limited($1, $2, $3, $4, $5)`,
      [runnerId, now, ttlMs, PARTITION_COUNT, limit],
      'leasePartitions',
    );
    const row = rows[0] as { o_parts: number[]; o_tokens: string[]; o_runners: number; o_share: number };
    return {
      partitions: row.o_parts.map((partition, i) => ({ partition, token: Number(row.o_tokens[i]) })),
      expiresAt: new Date(now + ttlMs),
      runners: row.o_runners,
      share: row.o_share,
    };
  }

  async releasePartitions(request: { runnerId: string }): Promise<number> {
    const { runnerId } = checkReleasePartitions(request);
    return this.db.transaction('releasePartitions', (tx) => releasePartitionsInTx(tx, this.partitionTables, runnerId));
  }

  async claimMaintenance(name: string, options: { now: Date; everyMs: number }): Promise<boolean> {
    check('claimMaintenance', name, options);
    checkStorableText('claimMaintenance', 'name', name);
    const now = options.now.getTime();
    // One statement: a concurrent insert waits on the row and re-checks the condition against the winner's value.
    const rows = await this.db.query<{ won: number }>(
      `INSERT INTO ${this.tables.maintenance} AS m (name, done_at_ms) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE
         SET done_at_ms = EXCLUDED.done_at_ms WHERE m.done_at_ms <= $3 RETURNING 1 AS won`,
      [name, now, now - options.everyMs],
      'claimMaintenance',
    );
    return rows.length === 1;
  }

  async pruneRuns(options: { olderThan: Date; batchSize?: number }): Promise<number> {
    check('pruneRuns', options);
    const batchSize = options.batchSize ?? 1000;
    // The month partitions of now and next month first (their own transaction), then whole months past the retention.
    await this.db.query(`SELECT ${this.tables.fn}.tickwork_run_partitions_ahead(now())`, [], 'pruneRuns');
    const partitions = await this.db.query<{ range_start: Date; range_end: Date; outcome: string; runs: string | null }>(
      `SELECT range_start, range_end, outcome, runs FROM ${this.tables.fn}.tickwork_run_drop_partitions($1, $2)`,
      [options.olderThan, PARTITION_LOCK_TIMEOUT_MS],
      'pruneRuns',
    );
    let total = 0;
    for (const p of partitions) if (p.outcome === 'dropped') total += Number(p.runs);
    // A partition whose lock was not had stays whole for the next prune rather than be deleted row by row now.
    const busy = partitions.filter((p) => p.outcome === 'busy');
    const params: unknown[] = [options.olderThan, batchSize];
    const whole = busy
      .map((p) => `AND NOT (slot_at >= $${params.push(p.range_start)} AND slot_at < $${params.push(p.range_end)})`)
      .join(' ');
    for (;;) {
      // Each batch is its own short statement: a long history never holds locks for long. What is left after the drops
      // is the month the retention boundary falls in, the default partition and months still holding a needed run.
      const rows = await this.db.query<{ n: string }>(
        `WITH gone AS (DELETE FROM ${this.tables.run} WHERE (id, slot_at) IN (
           SELECT id, slot_at FROM ${this.tables.run} WHERE status NOT IN ('running', 'waiting') AND finished_at < $1 ${whole}
           LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING 1) SELECT count(*) AS n FROM gone`,
        params,
        'pruneRuns',
      );
      const deleted = Number(rows[0]?.n ?? 0);
      total += deleted;
      if (deleted < batchSize) break;
    }
    // Consumed run-now requests go with the same retention (pending ones are never pruned), in batches too.
    for (;;) {
      const rows = await this.db.query<{ n: string }>(
        `WITH gone AS (DELETE FROM ${this.tables.request} WHERE id IN (
           SELECT id FROM ${this.tables.request} WHERE consumed_at IS NOT NULL AND consumed_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING 1) SELECT count(*) AS n FROM gone`,
        [options.olderThan, batchSize],
        'pruneRuns',
      );
      if (Number(rows[0]?.n ?? 0) < batchSize) return total;
    }
  }

  async requestRun(ref: ScheduleRef, options: { now: Date; requestedBy?: string | null }): Promise<RunRequest> {
    check('requestRun', ref, options);
    checkStorable('requestRun', ref);
    // FOR KEY SHARE: a removal running meanwhile either went first (nothing filed) or waits and then deletes this request too.
    const rows = await this.db.query<Row>(
      `WITH ins AS (INSERT INTO ${this.tables.request} (code, key, requested_at, requested_by)
         SELECT $1::text, $2::text, $3::timestamptz, $4::text
         WHERE $2::text = '' OR EXISTS (SELECT 1 FROM ${this.tables.schedule} x WHERE x.code = $1 AND x.key = $2 FOR KEY SHARE)
         RETURNING *)
       SELECT ins.*, pg_notify($5, json_build_object('type', 'run-request', 'code', ins.code, 'key', ins.key)::text) FROM ins`,
      [ref.code, ref.key, options.now, options.requestedBy ?? null, this.channel],
      'requestRun',
    );
    if (!rows[0]) noSuchSchedule(ref);
    return toRequest(rows[0]);
  }

  async pendingRunRequests(
    options: { codes?: readonly string[]; refs?: readonly ScheduleRef[]; limit?: number } = {},
  ): Promise<RunRequest[]> {
    check('pendingRunRequests', options);
    const codes = options.codes === undefined ? null : [...options.codes];
    const refs = options.refs === undefined ? null : lookupRefs(options.refs);
    const limit = options.limit === undefined ? null : options.limit;
    const rows = await this.db.query<Row>(
      `SELECT * FROM ${this.tables.request} WHERE consumed_at IS NULL AND ($1::text[] IS NULL OR code = ANY($1))
         AND ($3::jsonb IS NULL OR (code, key) IN (SELECT r.code, r.key FROM jsonb_to_recordset($3::jsonb) AS r(code text, key text)))
       ORDER BY requested_at, id LIMIT $2`,
      [codes, limit, refs === null ? null : JSON.stringify(uniqueRefs(refs))],
      'pendingRunRequests',
      true,
    );
    return rows.map(toRequest);
  }

  async upsertSchedules(schedules: readonly RuntimeScheduleInput[], now: Date): Promise<RuntimeSchedule[]> {
    const { inputs, definitions } = checkUpsert(schedules, now);
    if (inputs.length === 0) return [];
    const items = inputs.map((s, ord) => ({ ord, code: s.code, key: s.key, definition: definitions[ord], enabled: s.enabled }));
    const rows = await this.db.query<{ ord: number; schedule: Row }>(
      `SELECT ord, schedule FROM ${this.tables.fn}.tickwork_upsert_schedules($1::jsonb, $2, $3)`,
      [JSON.stringify(items), now, this.channel],
      'upsertSchedules',
    );
    const out = new Array<RuntimeSchedule>(inputs.length);
    for (const row of rows) out[row.ord] = toSchedule(row.schedule);
    return out;
  }

  async removeSchedules(refs: readonly ScheduleRef[]): Promise<boolean[]> {
    check('removeSchedules', refs);
    const stored = lookupRefs(refs);
    if (stored.length === 0) return refs.map(() => false);
    const rows = await this.db.query<ScheduleRef>(
      `SELECT code, key FROM ${this.tables.fn}.tickwork_remove_schedules($1::jsonb, $2)`,
      [JSON.stringify(uniqueRefs(stored)), this.channel],
      'removeSchedules',
    );
    return removedFlags(refs, rows);
  }

  async getSchedules(refs: readonly ScheduleRef[]): Promise<RuntimeSchedule[]> {
    check('getSchedules', refs);
    const unique = uniqueRefs(lookupRefs(refs));
    if (unique.length === 0) return [];
    const rows = await this.rowsOfRefs(this.tables.schedule, unique, 'getSchedules');
    return inRefOrder(rows.map(toSchedule), unique);
  }

  /** The rows of a table keyed by (code, key) for these refs, in one read-only query. */
  private rowsOfRefs(table: string, refs: readonly ScheduleRef[], operation: string): Promise<Row[]> {
    return this.db.query<Row>(
      `SELECT s.* FROM ${table} s JOIN jsonb_to_recordset($1::jsonb) AS x(code text, key text) ON s.code = x.code AND s.key = x.key`,
      [JSON.stringify(refs.map(({ code, key }) => ({ code, key })))],
      operation,
      true,
    );
  }

  async listSchedules(query?: ScheduleQuery): Promise<SchedulePage> {
    check('listSchedules', query);
    const q = scheduleQueryOf(query);
    if (q.partitions?.length === 0) return { schedules: [], nextCursor: null };
    const rows = await this.db.query<Row>(...this.listStatement(q), 'listSchedules', true);
    const schedules = rows.slice(0, q.limit).map(toSchedule);
    const last = schedules[schedules.length - 1];
    return { schedules, nextCursor: rows.length > q.limit && last ? scheduleCursorAfter(last) : null };
  }

  /** One schedule-list page's statement and parameters. */
  private listStatement(q: CheckedScheduleQuery): [string, unknown[]] {
    const params: unknown[] = [q.limit + 1];
    const where: string[] = [];
    const bind = (value: unknown, type: string) => `$${params.push(value)}::${type}`;
    if (q.partitions) where.push(`part = ANY(${bind(q.partitions, 'smallint[]')})`);
    if (q.code !== null) where.push(`code = ${bind(q.code, 'text')}`);
    if (q.after && q.partitions) {
      // The cursor bounds the first partition asked for (core's partitionListPlan): one ordered range scan of the (part, code, key) index.
      where.push(`(part, code, key) > (${bind(q.partitions[0], 'smallint')}, ${bind(q.after.code, 'text')}, ${bind(q.after.key, 'text')})`);
    } else if (q.after) {
      where.push(`(code, key) > (${bind(q.after.code, 'text')}, ${bind(q.after.key, 'text')})`);
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const order = q.partitions ? 'part, code, key' : 'code, key';
    return [`SELECT * FROM ${this.tables.schedule} ${filter} ORDER BY ${order} LIMIT $1`, params];
  }

  async schedulesRevision(): Promise<string> {
    const rows = await this.db.query<{ last_version: string; removals: string }>(
      `SELECT last_version, removals FROM ${this.tables.counter}`,
      [],
      'schedulesRevision',
      true,
    );
    return `${rows[0]?.last_version}:${rows[0]?.removals}`;
  }

  async subscribe(listener: (change: StoreChange) => void): Promise<Unsubscribe> {
    const stop = await this.db.listen(this.channel, {
      message(payload) {
        try {
          listener(JSON.parse(payload) as StoreChange);
        } catch {
          // A listener's own error must not kill the LISTEN connection.
        }
      },
    });
    const unsubscribe = async () => {
      this.subscriptions.delete(unsubscribe);
      await stop();
    };
    this.subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    // LISTEN connections are the store's own even when the pool is the host's: end them all.
    await Promise.all([...this.subscriptions].map((unsubscribe) => unsubscribe()));
    this.lockKeys.clear();
    await this.db.releaseLocks();
    if (this.closeOnClose) await this.db.close();
  }
}
