/**
 * The claim, completion and reap algorithms on SQLite. They run inside one
 * `BEGIN IMMEDIATE` transaction, so the file's write lock makes each batch atomic
 * across processes; this mirrors the PL/pgSQL functions of the PostgreSQL migration.
 */
import type { ClaimContext, ClaimOutcome, CompletionOutcome, JobState, RunCompletion, RunRecord, SlotClaim } from '@tickwork/core';
import type { SqliteTx } from './connection/sqlite.js';
import { leaseOf, toRun, toState, type Row } from './rows.js';

const STATE = 'tickwork_job_state';
const RUN = 'tickwork_run';

function interruptedMessage(run: Row): string {
  return `interrupted: the lease of runner ${String(run.runner_id)} expired at ${new Date(Number(run.lease_expires_at)).toISOString()} without being renewed`;
}

/** Records a finished run in its schedule's state, as a completion does; returns the new state. */
async function finishState(tx: SqliteTx, run: RunRecord): Promise<JobState | null> {
  const rows = await tx.all<Row>(
    `UPDATE ${STATE} SET last_status = ?1, last_finished_at = ?2, last_attempt = ?3, last_finished_slot_at = ?4,
       consecutive_failures = CASE WHEN ?1 = 'succeeded' THEN 0 ELSE consecutive_failures + 1 END,
       updated_at = max(updated_at, ?2)
     WHERE code = ?5 AND key = ?6 RETURNING *`,
    [run.status, run.finishedAt!.getTime(), run.attempt, run.slotAt.getTime(), run.code, run.key],
  );
  return rows[0] ? toState(rows[0]) : null;
}

/** Marks the given running runs interrupted (their lease ended) and updates their states. */
async function interrupt(tx: SqliteTx, now: number, expired: readonly Row[]): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for (const row of expired) {
    const rows = await tx.all<Row>(
      `UPDATE ${RUN} SET status = 'interrupted', finished_at = ?1, duration_ms = max(0, ?1 - started_at),
         lease_expires_at = NULL, message = ?2 WHERE id = ?3 AND status = 'running' RETURNING *`,
      [now, interruptedMessage(row), row.id],
    );
    if (!rows[0]) continue;
    const run = toRun(rows[0]);
    await finishState(tx, run);
    out.push(run);
  }
  return out;
}

const INSERT_RUN = `INSERT INTO ${RUN} (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms, lease_expires_at, message)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
  ON CONFLICT (code, key, slot_at, attempt) DO NOTHING RETURNING *`;

/** Claims a batch (see `Store.claimSlots`): five statements per claim in the common case, six for a runtime schedule. */
export async function claimInTx(tx: SqliteTx, claims: readonly SlotClaim[], context: ClaimContext): Promise<ClaimOutcome[]> {
  const now = context.now.getTime();
  const outcomes: ClaimOutcome[] = [];
  for (const c of claims) {
    const slotAt = c.slotAt.getTime();
    // The contract's order: taken, unscheduled, paused, overlap, claimed. Only claimed and overlap change anything.
    const taken = await tx.all(`SELECT 1 FROM ${RUN} WHERE code = ?1 AND key = ?2 AND slot_at = ?3 AND attempt = ?4`, [c.code, c.key, slotAt, c.attempt]);
    if (taken.length > 0) {
      outcomes.push({ status: 'taken' });
      continue;
    }
    if (c.key !== '') {
      const [schedule] = await tx.all<{ enabled: number; version: number }>(`SELECT enabled, version FROM tickwork_schedule WHERE code = ?1 AND key = ?2`, [c.code, c.key]);
      if (!schedule || schedule.enabled !== 1 || (c.scheduleVersion !== undefined && Number(schedule.version) !== c.scheduleVersion)) {
        outcomes.push({ status: 'unscheduled' });
        continue;
      }
    }
    const [state] = await tx.all<{ paused: number; token: number }>(
      `INSERT INTO ${STATE} (code, key, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
       ON CONFLICT (code, key) DO UPDATE SET code = excluded.code RETURNING paused, token`,
      [c.code, c.key, now],
    );
    if (state!.paused === 1) {
      outcomes.push({ status: 'paused' });
      continue;
    }
    const running = c.allowParallel
      ? []
      : await tx.all<Row>(`SELECT id, runner_id, lease_expires_at FROM ${RUN} WHERE code = ?1 AND key = ?2 AND status = 'running'`, [c.code, c.key]);
    const expired = running.filter((r) => Number(r.lease_expires_at) <= now);
    const live = running.find((r) => Number(r.lease_expires_at) > now);
    if (expired.length > 0) await interrupt(tx, now, expired);
    const start = Math.max(now, slotAt);
    const token = Number(state!.token) + 1;
    const [row] = live
      ? await tx.all<Row>(INSERT_RUN, [c.code, c.key, slotAt, c.attempt, c.trigger, 'skipped', context.runnerId, token, start, start, 0, null,
          `skipped: run ${String(live.id)} of this schedule still holds its lease and parallel runs are not allowed`])
      : await tx.all<Row>(INSERT_RUN, [c.code, c.key, slotAt, c.attempt, c.trigger, 'running', context.runnerId, token, start, null, null, start + c.leaseMs, null]);
    if (!row) {
      outcomes.push({ status: 'taken' });
      continue;
    }
    await tx.all(
      `UPDATE ${STATE} SET token = ?3, total_runs = total_runs + ?4, updated_at = ?5,
         last_slot_at = CASE WHEN ?6 THEN max(coalesce(last_slot_at, ?7), ?7) ELSE last_slot_at END
       WHERE code = ?1 AND key = ?2`,
      [c.code, c.key, token, live ? 0 : 1, now, c.trigger === 'schedule' ? 1 : 0, slotAt],
    );
    const run = toRun(row);
    outcomes.push(live ? { status: 'overlap', run } : { status: 'claimed', run, lease: leaseOf(run) });
  }
  return outcomes;
}

/** Completes a batch (see `Store.completeRuns`). */
export async function completeInTx(tx: SqliteTx, completions: readonly RunCompletion[], isId: (id: string) => boolean): Promise<CompletionOutcome[]> {
  const outcomes: CompletionOutcome[] = [];
  for (const c of completions) {
    if (!isId(c.lease.runId)) {
      outcomes.push({ status: 'stale', run: null });
      continue;
    }
    const finishedAt = c.finishedAt.getTime();
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

/** Reaps up to `limit` expired runs (see `Store.reapExpired`). */
export async function reapInTx(tx: SqliteTx, now: number, limit: number): Promise<RunRecord[]> {
  const expired = await tx.all<Row>(
    `SELECT id, runner_id, lease_expires_at FROM ${RUN} WHERE status = 'running' AND lease_expires_at <= ?1 ORDER BY lease_expires_at, id LIMIT ?2`,
    [now, limit],
  );
  return interrupt(tx, now, expired);
}
