/**
 * The store on one SQLite file. Writes run in `BEGIN IMMEDIATE` transactions (WAL,
 * busy timeout), so several processes sharing the file stay exactly-once. SQLite
 * cannot push changes: `capabilities.changeSubscription` is false and runners poll.
 */
import { type JobState, type RunRecord, type RuntimeSchedule, type ScheduleRef, type ScheduleSpec, type Store } from '@tickwork/core';
import {
  RUNNER_RECORD_RETENTION_MS,
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
  AuditAndTokenForwarding,
  leaseOf,
} from '@tickwork/core/store';
import type { SqliteConnection } from './connection/sqlite.js';
import { SqlAccess } from './sql-access.js';
import { leasePartitionsInTx, releasePartitionsInTx, SQLITE_PARTITION_TABLES } from './partition-leases.js';
import { inRefOrder, removedFlags, toRequest, toRun, toRunner, toSchedule, toState, type Row } from './rows.js';
import { claimInTx, completeInTx, reapDeadRunnersInTx, reapInTx } from './sqlite-claims.js';
import { listStatements, removeInTx, SQLITE_UNPARTED, upsertInTx } from './sqlite-schedules.js';
import { SQLITE_FILL_PARTS } from './migrations/schedule-partitions-sql.js';
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
} from './validate.js';

const STATE = 'tickwork_job_state';
const RUN = 'tickwork_run';
const REQUEST = 'tickwork_run_request';
const SCHEDULE = 'tickwork_schedule';

/** A JSON list of refs for `json_each`. */
function refsJson(refs: readonly ScheduleRef[]): string {
  return JSON.stringify(refs.map(({ code, key }) => ({ code, key })));
}

function codeFilter(codes: string[] | null, firstParam: number): { sql: string; params: string[] } {
  if (codes === null) return { sql: '1 = 1', params: [] };
  if (codes.length === 0) return { sql: '1 = 0', params: [] };
  return { sql: `code IN (${codes.map((_, i) => `?${firstParam + i}`).join(', ')})`, params: codes };
}

/** A {@link Store} on an SQLite file that `migrate()` has prepared. */
export class SqliteStore extends AuditAndTokenForwarding implements Store {
  readonly name = 'sqlite';
  readonly capabilities = { changeSubscription: false, runnerPresence: 'heartbeat' as const };

  protected readonly access: SqlAccess;

  constructor(
    private readonly db: SqliteConnection,
    private readonly closeOnClose: boolean,
  ) {
    super();
    this.access = new SqlAccess({
      query: (sql, params, operation) => this.db.query(sql, params, operation),
      param: (n) => `?${n}`,
      audit: 'tickwork_audit',
      token: 'tickwork_access_token',
      instant: (date) => date.getTime(),
    });
  }

  async ping(): Promise<{ latencyMs: number; serverTime: Date | null }> {
    const started = performance.now();
    await this.db.query('SELECT 1', [], 'ping');
    return { latencyMs: performance.now() - started, serverTime: null };
  }

  async ensureStates(refs: readonly ScheduleRef[], now: Date): Promise<JobState[]> {
    check('ensureStates', refs, now);
    refs.forEach((ref, i) => {
      checkStorable('ensureStates', ref, `refs[${i}]`);
    });
    if (refs.length === 0) return [];
    const rows = await this.db.transaction('ensureStates', async (tx) => {
      const out: Row[] = [];
      for (const ref of refs) {
        await tx.all(`INSERT INTO ${STATE} (code, key, created_at, updated_at) VALUES (?1, ?2, ?3, ?3) ON CONFLICT DO NOTHING`, [
          ref.code,
          ref.key,
          now.getTime(),
        ]);
        out.push(...(await tx.all<Row>(`SELECT * FROM ${STATE} WHERE code = ?1 AND key = ?2`, [ref.code, ref.key])));
      }
      return out;
    });
    return inRefOrder(rows.map(toState), refs);
  }

  async getStates(refs?: readonly ScheduleRef[]): Promise<JobState[]> {
    check('getStates', refs);
    if (refs === undefined) {
      return (await this.db.query<Row>(`SELECT * FROM ${STATE} ORDER BY code, key`, [], 'getStates')).map(toState);
    }
    const stored = lookupRefs(refs);
    if (stored.length === 0) return [];
    const rows = await this.rowsOfRefs(STATE, stored, 'getStates');
    return inRefOrder(rows.map(toState), refs);
  }

  async setPaused(ref: ScheduleRef, paused: boolean, options: { note?: string | null; now: Date }): Promise<JobState> {
    check('setPaused', ref, paused, options);
    checkStorable('setPaused', ref);
    const now = options.now.getTime();
    const rows = await this.db.query<Row>(
      `INSERT INTO ${STATE} (code, key, paused, paused_note, resumed_at, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?5)
       ON CONFLICT (code, key) DO UPDATE SET paused = ?3, paused_note = ?4,
         resumed_at = CASE WHEN paused = 1 AND ?3 = 0 THEN ?5 ELSE resumed_at END, updated_at = ?5
       RETURNING *`,
      [ref.code, ref.key, paused ? 1 : 0, paused ? (options.note ?? null) : null, now],
      'setPaused',
    );
    return toState(rows[0]!);
  }

  async setScheduleOverride(ref: ScheduleRef, schedule: ScheduleSpec | null, now: Date): Promise<JobState> {
    check('setScheduleOverride', ref, schedule, now);
    checkStorable('setScheduleOverride', ref);
    const rows = await this.db.query<Row>(
      `INSERT INTO ${STATE} (code, key, schedule_override, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
       ON CONFLICT (code, key) DO UPDATE SET schedule_override = ?3, updated_at = ?4 RETURNING *`,
      [ref.code, ref.key, schedule === null ? null : JSON.stringify(schedule), now.getTime()],
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
    return this.db.transaction('claimSlots', (tx) => claimInTx(tx, claims, { runnerId: context.runnerId, now: context.now }));
  }

  async renewLeases(leases: readonly Lease[], options: { now: Date; leaseMs: number }): Promise<(Lease | null)[]> {
    check('renewLeases', leases, options);
    leases.forEach((lease, i) => {
      checkStorable('renewLeases', lease, `leases[${i}]`);
    });
    if (leases.length === 0) return [];
    const expiresAt = options.now.getTime() + options.leaseMs;
    return this.db.transaction('renewLeases', async (tx) => {
      const out: (Lease | null)[] = [];
      for (const lease of leases) {
        const rows = isStoreId(lease.runId)
          ? await tx.all<Row>(`UPDATE ${RUN} SET lease_expires_at = ?1 WHERE id = ?2 AND token = ?3 AND status = 'running' RETURNING *`, [
              expiresAt,
              Number(lease.runId),
              lease.token,
            ])
          : [];
        out.push(rows[0] ? leaseOf(toRun(rows[0])) : null);
      }
      return out;
    });
  }

  async completeRuns(completions: readonly RunCompletion[]): Promise<CompletionOutcome[]> {
    check('completeRuns', completions);
    completions.forEach((completion, i) => {
      checkStorable('completeRuns', completion.lease, `completions[${i}].lease`);
    });
    if (completions.length === 0) return [];
    return this.db.transaction('completeRuns', (tx) => completeInTx(tx, completions, isStoreId));
  }

  async reapExpired(options: { now: Date; limit?: number; runners?: boolean }): Promise<ReapedRun[]> {
    check('reapExpired', options);
    const limit = options.limit ?? 1000;
    const now = options.now.getTime();
    return this.db.transaction('reapExpired', async (tx) => {
      const reaped = await reapInTx(tx, now, limit);
      if (options.runners === true) reaped.push(...(await reapDeadRunnersInTx(tx, now, limit - reaped.length)));
      return reaped;
    });
  }

  // — runners: heartbeat presence (no connection outlives a process on a file) —

  async heartbeat(beat: RunnerHeartbeat): Promise<RunnerRecord> {
    check('heartbeat', beat);
    checkStorableText('heartbeat', 'beat.runnerId', beat.runnerId);
    const now = beat.now.getTime();
    const rows = await this.db.transaction('heartbeat', async (tx) => {
      await tx.all(`DELETE FROM tickwork_runner WHERE expires_at < ?1 AND runner_id <> ?2`, [
        now - RUNNER_RECORD_RETENTION_MS,
        beat.runnerId,
      ]);
      return tx.all<Row>(
        `INSERT INTO tickwork_runner (runner_id, started_at, last_heartbeat_at, expires_at, clock_offset_ms, released) VALUES (?1, ?2, ?3, ?4, ?5, 0)
         ON CONFLICT (runner_id) DO UPDATE SET started_at = excluded.started_at, last_heartbeat_at = excluded.last_heartbeat_at,
           expires_at = excluded.expires_at, clock_offset_ms = excluded.clock_offset_ms, released = 0
         RETURNING *`,
        [beat.runnerId, beat.startedAt.getTime(), now, now + beat.ttlMs, beat.clockOffsetMs],
      );
    });
    return toRunner(rows[0] as Row, beat.now, null);
  }

  async listRunners(options: { now: Date }): Promise<RunnerRecord[]> {
    check('listRunners', options);
    const rows = await this.db.query<Row>(`SELECT * FROM tickwork_runner ORDER BY runner_id`, [], 'listRunners');
    return rows.map((row) => toRunner(row, options.now, null));
  }

  async leasePartitions(request: PartitionLeaseRequest): Promise<PartitionLeases> {
    const checked = checkLeasePartitions(request);
    return this.db.transaction('leasePartitions', (tx) => leasePartitionsInTx(tx, SQLITE_PARTITION_TABLES, checked));
  }

  async releasePartitions(request: { runnerId: string }): Promise<number> {
    const { runnerId } = checkReleasePartitions(request);
    return this.db.transaction('releasePartitions', (tx) => releasePartitionsInTx(tx, SQLITE_PARTITION_TABLES, runnerId));
  }

  async queryRuns(query?: RunQuery): Promise<RunPage> {
    check('queryRuns', query);
    const q = queryOf(query);
    const statuses = q.statuses === null ? null : JSON.stringify(q.statuses);
    const rows = await this.db.query<Row>(
      `SELECT * FROM ${RUN}
       WHERE (?1 IS NULL OR code = ?1) AND (?2 IS NULL OR key = ?2)
         AND (?3 IS NULL OR status IN (SELECT value FROM json_each(?3)))
         AND (?4 IS NULL OR started_at >= ?4) AND (?5 IS NULL OR started_at < ?5)
         AND (?6 IS NULL OR (started_at, id) < (?6, ?7))
         AND (?9 IS NULL OR (status = 'skipped' AND coalesce(skip_reason, 'overlap') IN (SELECT value FROM json_each(?9))))
       ORDER BY started_at DESC, id DESC LIMIT ?8`,
      [
        q.code,
        q.key,
        statuses,
        q.since?.getTime() ?? null,
        q.until?.getTime() ?? null,
        q.cursor?.startedAt ?? null,
        q.cursor ? Number(q.cursor.id) : null,
        q.limit + 1,
        q.reasons === null ? null : JSON.stringify(q.reasons),
      ],
      'queryRuns',
    );
    const runs = rows.slice(0, q.limit).map(toRun);
    const last = runs[runs.length - 1];
    return { runs, nextCursor: rows.length > q.limit && last ? cursorAfter(last) : null };
  }

  async getRun(id: string): Promise<RunRecord | null> {
    check('getRun', id);
    if (!isStoreId(id)) return null;
    const rows = await this.db.query<Row>(`SELECT * FROM ${RUN} WHERE id = ?1`, [Number(id)], 'getRun');
    return rows[0] ? toRun(rows[0]) : null;
  }

  async claimOverdue(options: Parameters<Store['claimOverdue']>[0]): Promise<JobState[]> {
    const { now, windows, codes, limit } = checkOverdue(options);
    const at = now.getTime();
    const due = 'coalesce(last_succeeded_at, created_at) + expect_success_within_ms';
    // One write transaction: SQLite runs writers one at a time, so the compare-and-set on overdue_alerted_at
    // (null → now) hands each episode to exactly one caller.
    const rows = await this.db.transaction('claimOverdue', async (tx) => {
      for (const w of windows) {
        await tx.all(
          `UPDATE ${STATE} SET expect_success_within_ms = ?3 WHERE code = ?1 AND key = ?2 AND expect_success_within_ms IS NOT ?3`,
          [w.code, w.key, w.expectSuccessWithinMs],
        );
      }
      return tx.all<Row>(
        `UPDATE ${STATE} SET overdue_alerted_at = ?1 WHERE (code, key) IN (
           SELECT code, key FROM ${STATE} WHERE expect_success_within_ms IS NOT NULL AND overdue_alerted_at IS NULL
             AND (?3 IS NULL OR code IN (SELECT value FROM json_each(?3))) AND ${due} <= ?1
           ORDER BY ${due}, code, key LIMIT ?2) RETURNING *`,
        [at, limit, codes === undefined ? null : JSON.stringify(codes)],
      );
    });
    return byDue(rows.map(toState));
  }

  async claimMaintenance(name: string, options: { now: Date; everyMs: number }): Promise<boolean> {
    check('claimMaintenance', name, options);
    checkStorableText('claimMaintenance', 'name', name);
    const now = options.now.getTime();
    // One write statement: SQLite runs writers one at a time, so the condition sees the last winner.
    const rows = await this.db.query<Row>(
      `INSERT INTO tickwork_maintenance AS m (name, done_at_ms) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE
         SET done_at_ms = excluded.done_at_ms WHERE m.done_at_ms <= ?3 RETURNING 1 AS won`,
      [name, now, now - options.everyMs],
      'claimMaintenance',
    );
    return rows.length === 1;
  }

  async pruneRuns(options: { olderThan: Date; batchSize?: number }): Promise<number> {
    check('pruneRuns', options);
    const batchSize = options.batchSize ?? 1000;
    let total = 0;
    for (;;) {
      // One short write transaction per batch, so other processes get the write lock in between.
      const rows = await this.db.query<Row>(
        `DELETE FROM ${RUN} WHERE id IN (SELECT id FROM ${RUN} WHERE status NOT IN ('running', 'waiting') AND finished_at < ?1 LIMIT ?2) RETURNING id`,
        [options.olderThan.getTime(), batchSize],
        'pruneRuns',
      );
      total += rows.length;
      if (rows.length < batchSize) break;
    }
    // Consumed run-now requests go with the same retention (pending ones are never pruned), in batches too.
    for (;;) {
      const rows = await this.db.query<Row>(
        `DELETE FROM ${REQUEST} WHERE id IN (SELECT id FROM ${REQUEST} WHERE consumed_at IS NOT NULL AND consumed_at < ?1 LIMIT ?2) RETURNING id`,
        [options.olderThan.getTime(), batchSize],
        'pruneRuns',
      );
      if (rows.length < batchSize) return total;
    }
  }

  async requestRun(ref: ScheduleRef, options: { now: Date; requestedBy?: string | null }): Promise<RunRequest> {
    check('requestRun', ref, options);
    checkStorable('requestRun', ref);
    const rows = await this.db.query<Row>(
      `INSERT INTO ${REQUEST} (code, key, requested_at, requested_by)
       SELECT ?1, ?2, ?3, ?4 WHERE ?2 = '' OR EXISTS (SELECT 1 FROM ${SCHEDULE} WHERE code = ?1 AND key = ?2)
       RETURNING *`,
      [ref.code, ref.key, options.now.getTime(), options.requestedBy ?? null],
      'requestRun',
    );
    if (!rows[0]) noSuchSchedule(ref);
    return toRequest(rows[0]);
  }

  async pendingRunRequests(
    options: { codes?: readonly string[]; refs?: readonly ScheduleRef[]; limit?: number } = {},
  ): Promise<RunRequest[]> {
    check('pendingRunRequests', options);
    const filter = codeFilter(options.codes === undefined ? null : [...options.codes], 3);
    const refs = options.refs === undefined ? null : lookupRefs(options.refs);
    // LIMIT -1: no limit.
    const limit = options.limit === undefined ? -1 : options.limit;
    const rows = await this.db.query<Row>(
      `SELECT * FROM ${REQUEST} WHERE consumed_at IS NULL AND ${filter.sql}
         AND (?2 IS NULL OR (code, key) IN (SELECT json_extract(value, '$.code'), json_extract(value, '$.key') FROM json_each(?2)))
       ORDER BY requested_at, id LIMIT ?1`,
      [limit, refs === null ? null : refsJson(refs), ...filter.params],
      'pendingRunRequests',
    );
    return rows.map(toRequest);
  }

  async upsertSchedules(schedules: readonly RuntimeScheduleInput[], now: Date): Promise<RuntimeSchedule[]> {
    const { inputs, definitions } = checkUpsert(schedules, now);
    if (inputs.length === 0) return [];
    return this.db.transaction('upsertSchedules', (tx) => upsertInTx(tx, inputs, definitions, now.getTime()));
  }

  async removeSchedules(refs: readonly ScheduleRef[]): Promise<boolean[]> {
    check('removeSchedules', refs);
    const stored = lookupRefs(refs);
    if (stored.length === 0) return refs.map(() => false);
    const removed = await this.db.transaction('removeSchedules', (tx) => removeInTx(tx, uniqueRefs(stored)));
    return removedFlags(refs, removed);
  }

  async getSchedules(refs: readonly ScheduleRef[]): Promise<RuntimeSchedule[]> {
    check('getSchedules', refs);
    const unique = uniqueRefs(lookupRefs(refs));
    if (unique.length === 0) return [];
    const rows = await this.rowsOfRefs(SCHEDULE, unique, 'getSchedules');
    return inRefOrder(rows.map(toSchedule), unique);
  }

  /** The rows of a table keyed by (code, key) for these refs, in one query. */
  private rowsOfRefs(table: string, refs: readonly ScheduleRef[], operation: string): Promise<Row[]> {
    return this.db.query<Row>(
      `SELECT s.* FROM ${table} s JOIN json_each(?1) j ON s.code = json_extract(j.value, '$.code') AND s.key = json_extract(j.value, '$.key')`,
      [refsJson(refs)],
      operation,
    );
  }

  async listSchedules(query?: ScheduleQuery): Promise<SchedulePage> {
    check('listSchedules', query);
    const q = scheduleQueryOf(query);
    if (q.partitions !== null) await this.fillParts();
    const rows: Row[] = [];
    for (const { sql, params } of listStatements(q)) {
      if (rows.length > q.limit) break;
      // Each statement asks for limit + 1 rows; those past the page only tell whether there are more.
      rows.push(...(await this.db.query<Row>(sql, params, 'listSchedules')));
    }
    const schedules = rows.slice(0, q.limit).map(toSchedule);
    const last = schedules[schedules.length - 1];
    return { schedules, nextCursor: rows.length > q.limit && last ? scheduleCursorAfter(last) : null };
  }

  /**
   * Gives the rows an older release inserted (no partition) theirs, before a partitioned listing; finds none
   * once every writer runs this release.
   */
  private async fillParts(): Promise<void> {
    const unparted = await this.db.query(SQLITE_UNPARTED, [], 'listSchedules');
    if (unparted.length > 0) await this.db.transaction('listSchedules', (tx) => tx.all(SQLITE_FILL_PARTS));
  }

  async schedulesRevision(): Promise<string> {
    const rows = await this.db.query<{ last_version: number; removals: number }>(
      'SELECT last_version, removals FROM tickwork_schedule_counter',
      [],
      'schedulesRevision',
    );
    return `${rows[0]?.last_version}:${rows[0]?.removals}`;
  }

  async close(): Promise<void> {
    if (this.closeOnClose) await this.db.close();
  }
}
