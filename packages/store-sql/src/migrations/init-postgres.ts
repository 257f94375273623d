/**
 * DDL of the first migration on PostgreSQL: tables, indexes, and the PL/pgSQL
 * functions that make a whole batch of claims / completions / reaps one round trip.
 * `s` is a validated schema identifier.
 */

const RUN_STATUSES = `'running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped'`;
const TRIGGERS = `'schedule', 'retry', 'manual', 'force'`;
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** Statements creating version 1 of the schema in `schema`. */
export function initPostgres(schema: string): string[] {
  const s = `"${schema}"`;
  const elapsed = (to: string, from: string) => `greatest(0, floor(extract(epoch FROM ${to} - ${from}) * 1000))::bigint`;
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE ${s}.tickwork_job_state (
      code text NOT NULL,
      key text NOT NULL,
      paused boolean NOT NULL DEFAULT false,
      paused_note text,
      resumed_at timestamptz,
      schedule_override jsonb,
      last_slot_at timestamptz,
      last_status text,
      last_finished_at timestamptz,
      last_attempt integer,
      last_finished_slot_at timestamptz,
      consecutive_failures integer NOT NULL DEFAULT 0,
      total_runs bigint NOT NULL DEFAULT 0,
      token bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (code, key)
    )`,
    `CREATE TABLE ${s}.tickwork_run (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      code text NOT NULL,
      key text NOT NULL,
      slot_at timestamptz NOT NULL,
      attempt integer NOT NULL,
      trigger text NOT NULL CHECK (trigger IN (${TRIGGERS})),
      status text NOT NULL CHECK (status IN (${RUN_STATUSES})),
      runner_id text NOT NULL,
      token bigint NOT NULL,
      started_at timestamptz NOT NULL,
      finished_at timestamptz,
      duration_ms bigint,
      lease_expires_at timestamptz,
      message text,
      error text,
      stack text,
      CONSTRAINT tickwork_run_slot_unique UNIQUE (code, key, slot_at, attempt)
    )`,
    `CREATE INDEX tickwork_run_started_idx ON ${s}.tickwork_run (started_at DESC, id DESC)`,
    `CREATE INDEX tickwork_run_schedule_started_idx ON ${s}.tickwork_run (code, key, started_at DESC, id DESC)`,
    `CREATE INDEX tickwork_run_running_idx ON ${s}.tickwork_run (code, key) WHERE status = 'running'`,
    `CREATE INDEX tickwork_run_lease_idx ON ${s}.tickwork_run (lease_expires_at) WHERE status = 'running'`,
    `CREATE INDEX tickwork_run_finished_idx ON ${s}.tickwork_run (finished_at) WHERE status <> 'running'`,
    `CREATE TABLE ${s}.tickwork_run_request (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      code text NOT NULL,
      key text NOT NULL,
      requested_at timestamptz NOT NULL,
      requested_by text,
      consumed_at timestamptz
    )`,
    `CREATE INDEX tickwork_run_request_pending_idx ON ${s}.tickwork_run_request (requested_at, id) WHERE consumed_at IS NULL`,
    `CREATE FUNCTION ${s}.tickwork_finish_state(p_code text, p_key text, p_status text, p_finished_at timestamptz, p_attempt integer, p_slot_at timestamptz)
    RETURNS void LANGUAGE sql AS $fn$
      UPDATE ${s}.tickwork_job_state SET
        last_status = p_status, last_finished_at = p_finished_at, last_attempt = p_attempt, last_finished_slot_at = p_slot_at,
        consecutive_failures = CASE WHEN p_status = 'succeeded' THEN 0 ELSE consecutive_failures + 1 END,
        updated_at = greatest(updated_at, p_finished_at)
      WHERE code = p_code AND key = p_key
    $fn$`,
    // Locks every schedule of the batch in one sorted order first, so concurrent batches never deadlock.
    `CREATE FUNCTION ${s}.tickwork_claim_slots(p_claims jsonb, p_runner text, p_now timestamptz)
    RETURNS TABLE (ord integer, outcome text, run jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      c record;
      st ${s}.tickwork_job_state;
      r ${s}.tickwork_run;
      v_live bigint;
      v_expired bigint;
      v_start timestamptz;
    BEGIN
      INSERT INTO ${s}.tickwork_job_state (code, key, created_at, updated_at)
        SELECT DISTINCT x.code, x.key, p_now, p_now FROM jsonb_to_recordset(p_claims) AS x(code text, key text) ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
      PERFORM 1 FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT x.code, x.key FROM jsonb_to_recordset(p_claims) AS x(code text, key text))
        ORDER BY j.code, j.key FOR UPDATE;
      FOR c IN SELECT * FROM jsonb_to_recordset(p_claims) AS x(ord integer, code text, key text, slot_at timestamptz,
          attempt integer, trigger text, allow_parallel boolean, lease_ms bigint) ORDER BY x.ord LOOP
        ord := c.ord;
        run := NULL;
        -- The contract's order: taken, paused, overlap, claimed. A taken slot changes nothing.
        PERFORM 1 FROM ${s}.tickwork_run x WHERE x.code = c.code AND x.key = c.key AND x.slot_at = c.slot_at AND x.attempt = c.attempt;
        IF FOUND THEN
          outcome := 'taken'; RETURN NEXT; CONTINUE;
        END IF;
        SELECT * INTO st FROM ${s}.tickwork_job_state j WHERE j.code = c.code AND j.key = c.key;
        IF st.paused THEN
          outcome := 'paused'; RETURN NEXT; CONTINUE;
        END IF;
        v_start := greatest(p_now, c.slot_at);
        v_expired := 0;
        v_live := NULL;
        IF NOT c.allow_parallel THEN
          -- Lock the running runs first: a renewal (which does not take the state lock) committing
          -- meanwhile must be seen, or an expired-looking lease that was just renewed would be overlapped.
          PERFORM 1 FROM ${s}.tickwork_run x WHERE x.code = c.code AND x.key = c.key AND x.status = 'running' FOR UPDATE;
          SELECT count(*) FILTER (WHERE x.lease_expires_at <= p_now), min(x.id) FILTER (WHERE x.lease_expires_at > p_now)
            INTO v_expired, v_live
            FROM ${s}.tickwork_run x WHERE x.code = c.code AND x.key = c.key AND x.status = 'running';
        END IF;
        IF v_expired > 0 THEN
          FOR r IN UPDATE ${s}.tickwork_run x SET status = 'interrupted', finished_at = p_now,
              duration_ms = ${elapsed('p_now', 'x.started_at')}, lease_expires_at = NULL,
              message = 'interrupted: the lease of runner ' || x.runner_id || ' expired at '
                || to_char(x.lease_expires_at AT TIME ZONE 'UTC', ${ISO}) || ' without being renewed'
            WHERE x.code = c.code AND x.key = c.key AND x.status = 'running' AND x.lease_expires_at <= p_now
            RETURNING x.* LOOP
            PERFORM ${s}.tickwork_finish_state(r.code, r.key, r.status, r.finished_at, r.attempt, r.slot_at);
          END LOOP;
        END IF;
        IF v_live IS NOT NULL THEN
          INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at, duration_ms, message)
            VALUES (c.code, c.key, c.slot_at, c.attempt, c.trigger, 'skipped', p_runner, st.token + 1, v_start, v_start, 0,
              'skipped: run ' || v_live || ' of this schedule still holds its lease and parallel runs are not allowed')
            RETURNING * INTO r;
          outcome := 'overlap';
        ELSE
          INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, lease_expires_at)
            VALUES (c.code, c.key, c.slot_at, c.attempt, c.trigger, 'running', p_runner, st.token + 1, v_start,
              v_start + c.lease_ms * interval '1 millisecond')
            ON CONFLICT ON CONSTRAINT tickwork_run_slot_unique DO NOTHING
            RETURNING * INTO r;
          IF NOT FOUND THEN
            outcome := 'taken'; RETURN NEXT; CONTINUE;
          END IF;
          outcome := 'claimed';
        END IF;
        UPDATE ${s}.tickwork_job_state j SET token = r.token, updated_at = p_now,
            total_runs = j.total_runs + CASE WHEN outcome = 'claimed' THEN 1 ELSE 0 END,
            last_slot_at = CASE WHEN c.trigger = 'schedule' THEN greatest(j.last_slot_at, c.slot_at) ELSE j.last_slot_at END
          WHERE j.code = c.code AND j.key = c.key;
        run := to_jsonb(r);
        RETURN NEXT;
      END LOOP;
    END
    $fn$`,
    `CREATE FUNCTION ${s}.tickwork_complete_runs(p_items jsonb)
    RETURNS TABLE (ord integer, outcome text, run jsonb, state jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      c record;
      r ${s}.tickwork_run;
      st ${s}.tickwork_job_state;
    BEGIN
      PERFORM 1 FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT x.code, x.key FROM jsonb_to_recordset(p_items) AS x(code text, key text))
        ORDER BY j.code, j.key FOR UPDATE;
      FOR c IN SELECT * FROM jsonb_to_recordset(p_items) AS x(ord integer, id bigint, token bigint, status text,
          finished_at timestamptz, message text, error text, stack text) ORDER BY x.ord LOOP
        ord := c.ord;
        state := NULL;
        UPDATE ${s}.tickwork_run x SET status = c.status, finished_at = c.finished_at,
            duration_ms = ${elapsed('c.finished_at', 'x.started_at')}, lease_expires_at = NULL,
            message = c.message, error = c.error, stack = c.stack
          WHERE x.id = c.id AND x.token = c.token AND x.status = 'running' RETURNING x.* INTO r;
        IF FOUND THEN
          UPDATE ${s}.tickwork_job_state j SET
              last_status = r.status, last_finished_at = r.finished_at, last_attempt = r.attempt, last_finished_slot_at = r.slot_at,
              consecutive_failures = CASE WHEN r.status = 'succeeded' THEN 0 ELSE j.consecutive_failures + 1 END,
              updated_at = greatest(j.updated_at, r.finished_at)
            WHERE j.code = r.code AND j.key = r.key RETURNING j.* INTO st;
          outcome := 'completed'; run := to_jsonb(r); state := to_jsonb(st);
        ELSE
          SELECT * INTO r FROM ${s}.tickwork_run x WHERE x.id = c.id;
          outcome := 'stale'; run := CASE WHEN FOUND THEN to_jsonb(r) END;
        END IF;
        RETURN NEXT;
      END LOOP;
    END
    $fn$`,
    `CREATE FUNCTION ${s}.tickwork_reap_expired(p_now timestamptz, p_limit integer)
    RETURNS SETOF jsonb LANGUAGE plpgsql AS $fn$
    DECLARE
      r ${s}.tickwork_run;
      v_ids bigint[];
    BEGIN
      SELECT array_agg(e.id) INTO v_ids FROM (SELECT x.id FROM ${s}.tickwork_run x
        WHERE x.status = 'running' AND x.lease_expires_at <= p_now ORDER BY x.lease_expires_at, x.id LIMIT p_limit) e;
      IF v_ids IS NULL THEN RETURN; END IF;
      PERFORM 1 FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT x.code, x.key FROM ${s}.tickwork_run x WHERE x.id = ANY(v_ids))
        ORDER BY j.code, j.key FOR UPDATE;
      FOR r IN UPDATE ${s}.tickwork_run x SET status = 'interrupted', finished_at = p_now,
          duration_ms = ${elapsed('p_now', 'x.started_at')}, lease_expires_at = NULL,
          message = 'interrupted: the lease of runner ' || x.runner_id || ' expired at '
            || to_char(x.lease_expires_at AT TIME ZONE 'UTC', ${ISO}) || ' without being renewed'
        WHERE x.id = ANY(v_ids) AND x.status = 'running' AND x.lease_expires_at <= p_now
        RETURNING x.* LOOP
        PERFORM ${s}.tickwork_finish_state(r.code, r.key, r.status, r.finished_at, r.attempt, r.slot_at);
        RETURN NEXT to_jsonb(r);
      END LOOP;
    END
    $fn$`,
  ];
}
