/**
 * DDL of the dead-man migration on PostgreSQL (issue #20: `onRecovery` and dead-man alerts).
 * The state gains the streak's start, the last success, the streak and the overdue alert the
 * latest success ended, the dead-man window and the "overdue alerted at" of `claimOverdue`.
 *
 * Every function that finishes a run (completion, reap, the claim's takeover, the dead-runner
 * reap) writes the state through `tickwork_finish_state` or an UPDATE of the same columns, in
 * functions older releases keep calling. So the new columns are kept by a BEFORE UPDATE trigger
 * that fires when an update finishes a run (it moves `last_finished_at`, `last_attempt`,
 * `last_finished_slot_at` or `consecutive_failures`): it sees the old row and the new one in the
 * same statement, so the values are as atomic as the completion itself, and RETURNING (hence
 * the completion's and reap's returned state) carries them. No function older releases call
 * changes. A state made fresh (a runtime schedule created again: `created_at` moves) starts clean.
 *
 * `tickwork_claim_overdue` is `Store.claimOverdue`: writes the windows (rows locked in key order,
 * as every other function locks states), then hands out overdue states with a compare-and-set
 * of `overdue_alerted_at` from null, skipping rows another transaction holds (a racing caller
 * or a completion in flight: the next check sees them). `schema` is a validated identifier.
 */

/** Statements of the dead-man migration in `schema`. */
export function deadManPostgres(schema: string): string[] {
  const s = `"${schema}"`;
  const due = (alias: string) =>
    `coalesce(${alias}.last_succeeded_at, ${alias}.created_at) + ${alias}.expect_success_within_ms * interval '1 millisecond'`;
  return [
    // Nullable columns and a constant default: no table rewrite.
    `ALTER TABLE ${s}.tickwork_job_state ADD COLUMN failing_since timestamptz,
       ADD COLUMN last_succeeded_at timestamptz,
       ADD COLUMN ended_streak integer NOT NULL DEFAULT 0,
       ADD COLUMN ended_streak_started_at timestamptz,
       ADD COLUMN expect_success_within_ms bigint CHECK (expect_success_within_ms >= 1),
       ADD COLUMN overdue_alerted_at timestamptz,
       ADD COLUMN ended_overdue_alerted_at timestamptz`,
    // Finds due schedules without reading states that have no window.
    `CREATE INDEX tickwork_job_state_dead_man ON ${s}.tickwork_job_state (code, key) WHERE expect_success_within_ms IS NOT NULL AND overdue_alerted_at IS NULL`,
    `CREATE FUNCTION ${s}.tickwork_state_finished() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        NEW.failing_since := NULL; NEW.last_succeeded_at := NULL; NEW.ended_streak := 0; NEW.ended_streak_started_at := NULL;
        NEW.expect_success_within_ms := NULL; NEW.overdue_alerted_at := NULL; NEW.ended_overdue_alerted_at := NULL;
        RETURN NEW;
      END IF;
      IF NEW.last_status = 'succeeded' THEN
        NEW.ended_streak := OLD.consecutive_failures;
        NEW.ended_streak_started_at := CASE WHEN OLD.consecutive_failures > 0 THEN OLD.failing_since END;
        NEW.ended_overdue_alerted_at := OLD.overdue_alerted_at;
        NEW.overdue_alerted_at := NULL;
        NEW.failing_since := NULL;
        NEW.last_succeeded_at := NEW.last_finished_at;
      ELSE
        NEW.failing_since := CASE WHEN OLD.consecutive_failures = 0 THEN NEW.last_finished_at ELSE OLD.failing_since END;
        NEW.ended_streak := 0;
        NEW.ended_streak_started_at := NULL;
        NEW.ended_overdue_alerted_at := NULL;
      END IF;
      RETURN NEW;
    END
    $fn$`,
    // The WHEN clause keeps every other update (claims, renewals' token, pauses) from calling the function.
    `CREATE TRIGGER tickwork_state_finished BEFORE UPDATE ON ${s}.tickwork_job_state FOR EACH ROW
       WHEN (NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.last_finished_at IS DISTINCT FROM OLD.last_finished_at
         OR NEW.last_attempt IS DISTINCT FROM OLD.last_attempt OR NEW.last_finished_slot_at IS DISTINCT FROM OLD.last_finished_slot_at
         OR NEW.consecutive_failures IS DISTINCT FROM OLD.consecutive_failures)
       EXECUTE FUNCTION ${s}.tickwork_state_finished()`,
    `CREATE FUNCTION ${s}.tickwork_claim_overdue(p_windows jsonb, p_codes text[], p_now timestamptz, p_limit integer)
    RETURNS SETOF ${s}.tickwork_job_state LANGUAGE plpgsql AS $fn$
    BEGIN
      -- Only rows whose window changes are written (after the first check, none), locked in key order.
      PERFORM 1 FROM ${s}.tickwork_job_state j
        JOIN jsonb_to_recordset(p_windows) AS w(code text, key text, ms bigint) ON j.code = w.code AND j.key = w.key
        WHERE j.expect_success_within_ms IS DISTINCT FROM w.ms
        ORDER BY j.code, j.key FOR UPDATE OF j;
      UPDATE ${s}.tickwork_job_state j SET expect_success_within_ms = w.ms
        FROM (SELECT DISTINCT ON (x.code, x.key) x.code, x.key, x.ms FROM jsonb_to_recordset(p_windows) AS x(code text, key text, ms bigint)
          ORDER BY x.code, x.key) w
        WHERE j.code = w.code AND j.key = w.key AND j.expect_success_within_ms IS DISTINCT FROM w.ms;
      RETURN QUERY UPDATE ${s}.tickwork_job_state j SET overdue_alerted_at = p_now
        FROM (SELECT d.code, d.key FROM ${s}.tickwork_job_state d
          WHERE d.expect_success_within_ms IS NOT NULL AND d.overdue_alerted_at IS NULL
            AND (p_codes IS NULL OR d.code = ANY(p_codes)) AND ${due('d')} <= p_now
          ORDER BY ${due('d')}, d.code, d.key LIMIT p_limit FOR UPDATE SKIP LOCKED) o
        WHERE j.code = o.code AND j.key = o.key AND j.overdue_alerted_at IS NULL
        RETURNING j.*;
    END
    $fn$`,
  ];
}

/** The functions of the dead-man migration, for `down()`. */
export const DEAD_MAN_FUNCTIONS = ['tickwork_claim_overdue(jsonb, text[], timestamptz, integer)'];

/** The state columns of the dead-man migration, for `down()`. */
export const DEAD_MAN_COLUMNS = [
  'failing_since',
  'last_succeeded_at',
  'ended_streak',
  'ended_streak_started_at',
  'expect_success_within_ms',
  'overdue_alerted_at',
  'ended_overdue_alerted_at',
];
