/**
 * The claim, completion and reap algorithms on SQLite. They run inside one
 * `BEGIN IMMEDIATE` transaction, so the file's write lock makes each batch atomic
 * across processes; this mirrors the PL/pgSQL functions of the PostgreSQL migration.
 */
import type { JobState, RunRecord } from '@tickwork/core';
import {
  storable,
  type ClaimContext,
  type ClaimOutcome,
  type CompletionOutcome,
  type ReapedRun,
  type RunCompletion,
  type SlotClaim,
  leaseOf,
} from '@tickwork/core/store';
import type { SqliteTx } from './connection/sqlite.js';
import { requestIdParam, toRun, toState, type Row } from './rows.js';

const STATE = 'tickwork_job_state';
const RUN = 'tickwork_run';
const REQUEST = 'tickwork_run_request';

function interruptedMessage(run: Row): string {
  return `interrupted: the lease of runner ${String(run.runner_id)} expired at ${new Date(Number(run.lease_expires_at)).toISOString()} without being renewed`;
}

/** Records a finished run in its schedule's state, as a completion does; returns the new state. */
async function finishState(tx: SqliteTx, run: RunRecord): Promise<JobState | null> {
  const rows = await tx.all<Row>(
    `UPDATE ${STATE} SET last_status = ?1, last_finished_at = ?2, last_attempt = ?3, last_finished_slot_at = ?4,
       consecutive_failures = CASE WHEN ?1 = 'succeeded' THEN 0 ELSE consecutive_failures + 1 END,
       failing_since = CASE WHEN ?1 = 'succeeded' THEN NULL WHEN consecutive_failures = 0 THEN ?2 ELSE failing_since END,
       last_succeeded_at = CASE WHEN ?1 = 'succeeded' THEN ?2 ELSE last_succeeded_at END,
       ended_streak = CASE WHEN ?1 = 'succeeded' THEN consecutive_failures ELSE 0 END,
       ended_streak_started_at = CASE WHEN ?1 = 'succeeded' AND consecutive_failures > 0 THEN failing_since END,
       ended_overdue_alerted_at = CASE WHEN ?1 = 'succeeded' THEN overdue_alerted_at END,
       overdue_alerted_at = CASE WHEN ?1 = 'succeeded' THEN NULL ELSE overdue_alerted_at END,
       updated_at = max(updated_at, ?2)
     WHERE code = ?5 AND key = ?6 RETURNING *`,
    [run.status, run.finishedAt!.getTime(), run.attempt, run.slotAt.getTime(), run.code, run.key],
  );
  return rows[0] ? toState(rows[0]) : null;
}

/** Marks the given running runs interrupted (their lease ended), updates their states, and returns each with its state after that. */
async function interrupt(tx: SqliteTx, now: number, expired: readonly Row[]): Promise<ReapedRun[]> {
  const out: ReapedRun[] = [];
  for (const row of expired) {
    const rows = await tx.all<Row>(
      `UPDATE ${RUN} SET status = 'interrupted', finished_at = ?1, duration_ms = max(0, ?1 - started_at),
         lease_expires_at = NULL, message = ?2 WHERE id = ?3 AND status = 'running' RETURNING *`,
      [now, interruptedMessage(row), row.id],
    );
    if (!rows[0]) continue;
    const run = toRun(rows[0]);
    out.push({ run, state: await finishState(tx, run) });
  }
  return out;
}

const RUN_COLUMNS =
  'code, key, slot_at, attempt, trigger, status, runner_id, token, request_id, started_at, finished_at, duration_ms, lease_expires_at, message';
const INSERT_RUN = `INSERT INTO ${RUN} (${RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT DO NOTHING RETURNING *`;

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();

/** What one claim did, before its reaped runs are attached. */
type Decision = { status: 'taken' | 'busy' | 'paused' | 'unscheduled' | 'ended' } | { status: 'claimed' | 'overlap' | 'waiting'; row: Row };

/**
 * Claims a batch (see `Store.claimSlots`), each claim after the other, in the contract's
 * order of checks; mirrors `tickwork_claim_slots` of the PostgreSQL migration.
 */
export async function claimInTx(tx: SqliteTx, claims: readonly SlotClaim[], context: ClaimContext): Promise<ClaimOutcome[]> {
  const outcomes: ClaimOutcome[] = [];
  for (const c of claims) {
    const reaped: ReapedRun[] = [];
    // The schedule's last_slot_at before this claim: its passed slots are recorded only when the plan started there.
    const before =
      c.passed && c.trigger === 'schedule'
        ? ((await tx.all<Row>(`SELECT last_slot_at FROM ${STATE} WHERE code = ?1 AND key = ?2`, [c.code, c.key]))[0]?.last_slot_at ?? null)
        : undefined;
    const decision = await claimOne(tx, c, context, reaped);
    if (decision.status === 'claimed' || decision.status === 'waiting' || decision.status === 'overlap') {
      if (before !== undefined) await recordPassed(tx, c, context, before === null ? null : Number(before));
      if (decision.status === 'overlap') {
        await tx.all(
          `UPDATE ${STATE} SET last_skip_reason = 'overlap', last_skipped_slot_at = max(coalesce(last_skipped_slot_at, ?3), ?3) WHERE code = ?1 AND key = ?2`,
          [c.code, c.key, c.slotAt.getTime()],
        );
      }
    }
    let outcome: ClaimOutcome;
    if (decision.status === 'claimed') {
      const run = toRun(decision.row);
      outcome = { status: 'claimed', run, lease: leaseOf(run) };
    } else if (decision.status === 'overlap' || decision.status === 'waiting') {
      outcome = { status: decision.status, run: toRun(decision.row) };
    } else outcome = { status: decision.status };
    if (reaped.length > 0) {
      // Each reaped run with its schedule's state as this claim leaves it (as on PostgreSQL).
      const [state] = await tx.all<Row>(`SELECT * FROM ${STATE} WHERE code = ?1 AND key = ?2`, [c.code, c.key]);
      outcome.reaped = reaped.map(({ run }) => ({ run, state: state ? toState(state) : null }));
    }
    outcomes.push(outcome);
  }
  return outcomes;
}

/** Records a winning claim's passed ranges when its plan started from `before` (see the Store contract, "Passed slots"). */
async function recordPassed(tx: SqliteTx, c: SlotClaim, context: ClaimContext, before: number | null): Promise<void> {
  const passed = c.passed!;
  const slotAt = c.slotAt.getTime();
  if ((passed.after?.getTime() ?? null) !== before || (before !== null && slotAt <= before) || passed.ranges.length === 0) return;
  const recordedAt = Math.max(context.now.getTime(), slotAt);
  for (const r of passed.ranges) {
    await tx.all(
      `INSERT INTO ${RUN} (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms, message, skip_reason, slot_count, range_last_slot_at)
       VALUES (?1, ?2, ?3, 0, 'schedule', 'skipped', ?4, 0, ?5, ?6, 0, ?7, ?8, ?9, ?5) ON CONFLICT DO NOTHING`,
      [
        c.code,
        c.key,
        r.firstSlotAt.getTime(),
        context.runnerId,
        r.lastSlotAt.getTime(),
        recordedAt,
        storable(r.message),
        r.reason,
        r.count,
      ],
    );
  }
  const last = passed.ranges[passed.ranges.length - 1]!;
  await tx.all(
    `UPDATE ${STATE} SET last_skip_reason = ?3, last_skipped_slot_at = max(coalesce(last_skipped_slot_at, ?4), ?4) WHERE code = ?1 AND key = ?2`,
    [c.code, c.key, last.reason, last.lastSlotAt.getTime()],
  );
}

async function claimOne(tx: SqliteTx, c: SlotClaim, context: ClaimContext, reaped: ReapedRun[]): Promise<Decision> {
  const now = context.now.getTime();
  const slotAt = c.slotAt.getTime();
  const request = requestIdParam(c.requestId);
  const requestId = request === null ? null : Number(request);
  // 1. The run the claim names: by request id, or by slot + attempt among runs without one.
  const [named] =
    requestId === null
      ? await tx.all<Row>(`SELECT * FROM ${RUN} WHERE code = ?1 AND key = ?2 AND slot_at = ?3 AND attempt = ?4 AND request_id IS NULL`, [
          c.code,
          c.key,
          slotAt,
          c.attempt,
        ])
      : await tx.all<Row>(`SELECT * FROM ${RUN} WHERE request_id = ?1`, [requestId]);
  if (named) {
    // The same runner again (its answer was lost): its own run and lease back, unchanged.
    if (named.status === 'running' && named.runner_id === context.runnerId) return { status: 'claimed', row: named };
    if (named.status !== 'waiting') return { status: 'taken' };
  } else if (requestId !== null) {
    const pending = await tx.all(`SELECT 1 FROM ${REQUEST} WHERE id = ?1 AND code = ?2 AND key = ?3 AND consumed_at IS NULL`, [
      requestId,
      c.code,
      c.key,
    ]);
    if (pending.length === 0) return { status: 'taken' };
  }
  // 2. Unscheduled, 3. paused: nothing changes.
  if (c.key !== '') {
    const [schedule] = await tx.all<{ enabled: number; version: number }>(
      `SELECT enabled, version FROM tickwork_schedule WHERE code = ?1 AND key = ?2`,
      [c.code, c.key],
    );
    if (!schedule || schedule.enabled !== 1 || (c.scheduleVersion !== undefined && Number(schedule.version) !== c.scheduleVersion))
      return { status: 'unscheduled' };
  }
  const [state] = await tx.all<{ paused: number; token: number; scheduled_runs: number }>(
    `INSERT INTO ${STATE} (code, key, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
     ON CONFLICT (code, key) DO UPDATE SET code = excluded.code RETURNING paused, token, scheduled_runs`,
    [c.code, c.key, now],
  );
  if (state!.paused === 1) return { status: 'paused' };
  // Ended: a limited schedule's scheduled runs were all claimed (a waiting run counted when it was queued).
  const counted = c.trigger === 'schedule' && !named ? 1 : 0;
  if (counted === 1 && c.maxRuns !== undefined && Number(state!.scheduled_runs) >= c.maxRuns) return { status: 'ended' };
  const start = Math.max(now, slotAt);
  /** Inserts this claim's run (its code, key, slot, attempt, trigger and runner, started at `start`) as the outcome sets it. */
  const insertRun = (run: {
    status: 'skipped' | 'waiting' | 'running';
    token: number;
    requestId: number | null;
    finishedAt?: number;
    durationMs?: number;
    leaseExpiresAt?: number;
    message?: string;
  }) =>
    tx.all<Row>(INSERT_RUN, [
      c.code,
      c.key,
      slotAt,
      c.attempt,
      c.trigger,
      run.status,
      context.runnerId,
      run.token,
      run.requestId,
      start,
      run.finishedAt ?? null,
      run.durationMs ?? null,
      run.leaseExpiresAt ?? null,
      run.message ?? null,
    ]);
  const schedule = c.trigger === 'schedule' ? 1 : 0;
  const advance = `last_slot_at = CASE WHEN ?4 THEN max(coalesce(last_slot_at, ?3), ?3) ELSE last_slot_at END, updated_at = ?5`;
  const consume = () =>
    requestId === null ? Promise.resolve([]) : tx.all(`UPDATE ${REQUEST} SET consumed_at = ?1 WHERE id = ?2`, [now, requestId]);
  // 4. Overlap.
  if (c.overlap !== 'allowAll') {
    const running = await tx.all<Row>(`SELECT * FROM ${RUN} WHERE code = ?1 AND key = ?2 AND status = 'running' ORDER BY id`, [
      c.code,
      c.key,
    ]);
    reaped.push(
      ...(await interrupt(
        tx,
        now,
        running.filter((r) => Number(r.lease_expires_at) <= now),
      )),
    );
    const holder = running.find((r) => Number(r.lease_expires_at) > now);
    const [waits] = await tx.all<Row>(
      `SELECT * FROM ${RUN} WHERE code = ?1 AND key = ?2 AND status = 'waiting' AND id <> ?3 ORDER BY slot_at, id LIMIT 1`,
      [c.code, c.key, named?.id ?? 0],
    );
    if (holder || (waits && Number(waits.slot_at) < slotAt)) {
      const because = holder
        ? `run ${String(holder.id)} (slot ${iso(holder.slot_at)}, runner "${String(holder.runner_id)}") still holds the lease`
        : `slot ${iso(waits!.slot_at)} waits before it`;
      if (named || now < slotAt || c.trigger === 'retry' || c.backfill === true) return { status: 'busy' };
      let decision: Decision;
      if (c.overlap === 'skip' || ((c.overlap === 'bufferOne' || c.overlap === 'cancelOther') && waits)) {
        const message =
          c.overlap === 'skip'
            ? `skipped: ${because} (overlap policy skip)`
            : `skipped: slot ${iso(waits!.slot_at)} already waits for ${holder ? `run ${String(holder.id)}` : 'its turn'} (overlap policy ${c.overlap})`;
        const [row] = await insertRun({ status: 'skipped', token: 0, requestId, finishedAt: start, durationMs: 0, message });
        decision = { status: 'overlap', row: row! };
      } else {
        if (c.overlap === 'cancelOther')
          await tx.all(`UPDATE ${RUN} SET cancel_requested = 1 WHERE code = ?1 AND key = ?2 AND status = 'running'`, [c.code, c.key]);
        // A request waits as a request (pending), not as a waiting run.
        if (requestId !== null) return { status: 'busy' };
        const message = `waiting: ${because} (overlap policy ${c.overlap})`;
        const [row] = await insertRun({ status: 'waiting', token: 0, requestId: null, message });
        await tx.all(
          `UPDATE ${STATE} SET waiting_slot_at = min(coalesce(waiting_slot_at, ?3), ?3), scheduled_runs = scheduled_runs + ?4 WHERE code = ?1 AND key = ?2`,
          [c.code, c.key, slotAt, counted],
        );
        decision = { status: 'waiting', row: row! };
      }
      await consume();
      await tx.all(`UPDATE ${STATE} SET ${advance} WHERE code = ?1 AND key = ?2`, [c.code, c.key, slotAt, schedule, now]);
      return decision;
    }
  }
  // 5. Claimed: the named waiting run starts, or a new run, with a fresh token and lease.
  const token = Number(state!.token) + 1;
  let row: Row | undefined;
  if (named) {
    [row] = await tx.all<Row>(
      `UPDATE ${RUN} SET status = 'running', runner_id = ?2, token = ?3, started_at = ?4, lease_expires_at = ?5, message = NULL WHERE id = ?1 RETURNING *`,
      [named.id, context.runnerId, token, start, start + c.leaseMs],
    );
    await tx.all(
      `UPDATE ${STATE} SET waiting_slot_at = (SELECT min(slot_at) FROM ${RUN} WHERE code = ?1 AND key = ?2 AND status = 'waiting') WHERE code = ?1 AND key = ?2`,
      [c.code, c.key],
    );
  } else {
    [row] = await insertRun({ status: 'running', token, requestId, leaseExpiresAt: start + c.leaseMs });
    if (!row) return { status: 'taken' };
  }
  await consume();
  await tx.all(
    `UPDATE ${STATE} SET token = ?6, total_runs = total_runs + 1, scheduled_runs = scheduled_runs + ?7, ${advance} WHERE code = ?1 AND key = ?2`,
    [c.code, c.key, slotAt, schedule, now, token, counted],
  );
  return { status: 'claimed', row: row! };
}

/** Completes a batch (see `Store.completeRuns`). */
export async function completeInTx(
  tx: SqliteTx,
  completions: readonly RunCompletion[],
  isId: (id: string) => boolean,
): Promise<CompletionOutcome[]> {
  const outcomes: CompletionOutcome[] = [];
  for (const c of completions) {
    if (!isId(c.lease.runId)) {
      outcomes.push({ status: 'stale', run: null });
      continue;
    }
    const finishedAt = c.finishedAt.getTime();
    if (c.status === 'skipped') {
      outcomes.push(await skipClaimed(tx, c));
      continue;
    }
    const rows = await tx.all<Row>(
      `UPDATE ${RUN} SET status = ?1, finished_at = ?2, duration_ms = max(0, ?2 - started_at), lease_expires_at = NULL,
         message = ?3, error = ?4, stack = ?5
       WHERE id = ?6 AND token = ?7 AND status = 'running' RETURNING *`,
      [c.status, finishedAt, c.message ?? null, c.error ?? null, c.stack ?? null, Number(c.lease.runId), c.lease.token],
    );
    if (rows[0]) {
      const run = toRun(rows[0]);
      // A runtime schedule removed while its run went on has no state any more; the run is still recorded.
      outcomes.push({ status: 'completed', run, state: await finishState(tx, run) });
    } else {
      const current = await tx.all<Row>(`SELECT * FROM ${RUN} WHERE id = ?1`, [Number(c.lease.runId)]);
      outcomes.push({ status: 'stale', run: current[0] ? toRun(current[0]) : null });
    }
  }
  return outcomes;
}

/** A `skipped` completion: the claimed run's handler was not called (see `Store.completeRuns`). */
async function skipClaimed(tx: SqliteTx, c: RunCompletion): Promise<CompletionOutcome> {
  const rows = await tx.all<Row>(
    `UPDATE ${RUN} SET status = 'skipped', skip_reason = ?1, finished_at = ?2, duration_ms = 0, lease_expires_at = NULL,
       message = ?3, error = NULL, stack = NULL
     WHERE id = ?4 AND token = ?5 AND status = 'running' RETURNING *`,
    [c.skipReason, c.finishedAt.getTime(), c.message ?? null, Number(c.lease.runId), c.lease.token],
  );
  if (!rows[0]) {
    const current = await tx.all<Row>(`SELECT * FROM ${RUN} WHERE id = ?1`, [Number(c.lease.runId)]);
    return { status: 'stale', run: current[0] ? toRun(current[0]) : null };
  }
  const run = toRun(rows[0]);
  const later = `last_skipped_slot_at IS NOT NULL AND last_skipped_slot_at > ?2`;
  const states = await tx.all<Row>(
    `UPDATE ${STATE} SET
       last_skip_reason = CASE WHEN ${later} THEN last_skip_reason ELSE ?1 END,
       last_skipped_slot_at = CASE WHEN ${later} THEN last_skipped_slot_at ELSE ?2 END,
       total_runs = max(0, total_runs - 1), scheduled_runs = max(0, scheduled_runs - ?3), updated_at = max(updated_at, ?4)
     WHERE code = ?5 AND key = ?6 RETURNING *`,
    [
      run.skipReason,
      run.slotAt.getTime(),
      run.trigger === 'schedule' && run.attempt === 1 ? 1 : 0,
      c.finishedAt.getTime(),
      run.code,
      run.key,
    ],
  );
  return { status: 'completed', run, state: states[0] ? toState(states[0]) : null };
}

/** Reaps up to `limit` expired runs (see `Store.reapExpired`), oldest expiry first, each with its state right after it. */
export async function reapInTx(tx: SqliteTx, now: number, limit: number): Promise<ReapedRun[]> {
  const expired = await tx.all<Row>(
    `SELECT id, runner_id, lease_expires_at FROM ${RUN} WHERE status = 'running' AND lease_expires_at <= ?1 ORDER BY lease_expires_at, id LIMIT ?2`,
    [now, limit],
  );
  return interrupt(tx, now, expired);
}

/**
 * Interrupts up to `limit` running runs of dead runners (heartbeat expired: SQLite has no
 * connection outliving a process to bind presence to), marking runners whose runs were all
 * handled as released.
 */
export async function reapDeadRunnersInTx(tx: SqliteTx, now: number, limit: number): Promise<ReapedRun[]> {
  const dead = await tx.all<Row>(`SELECT runner_id, last_heartbeat_at FROM tickwork_runner WHERE expires_at <= ?1 AND released = 0`, [now]);
  if (dead.length === 0 || limit <= 0) return [];
  const ids = JSON.stringify(dead.map((d) => d.runner_id));
  const runs = await tx.all<Row>(
    `SELECT id, runner_id FROM ${RUN} WHERE status = 'running' AND runner_id IN (SELECT value FROM json_each(?1)) ORDER BY id LIMIT ?2`,
    [ids, limit],
  );
  if (runs.length < limit)
    await tx.all(`UPDATE tickwork_runner SET released = 1 WHERE runner_id IN (SELECT value FROM json_each(?1)) AND expires_at <= ?2`, [
      ids,
      now,
    ]);
  const beats = new Map(dead.map((d) => [String(d.runner_id), Number(d.last_heartbeat_at)]));
  const out: ReapedRun[] = [];
  for (const row of runs) {
    const message = `interrupted: runner "${String(row.runner_id)}" is dead (last heartbeat ${iso(beats.get(String(row.runner_id)))})`;
    const rows = await tx.all<Row>(
      `UPDATE ${RUN} SET status = 'interrupted', finished_at = ?1, duration_ms = max(0, ?1 - started_at),
         lease_expires_at = NULL, message = ?2 WHERE id = ?3 AND status = 'running' RETURNING *`,
      [now, message, row.id],
    );
    if (!rows[0]) continue;
    const run = toRun(rows[0]);
    out.push({ run, state: await finishState(tx, run) });
  }
  return out;
}
