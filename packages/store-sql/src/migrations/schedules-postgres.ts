/**
 * DDL of the second migration on PostgreSQL: runtime schedules. The table, the counter
 * row that hands out versions, the functions that upsert and remove schedules in one
 * statement, and new versions of the claim, completion and reap functions that know about
 * them and keep the lock order below. `schema` is a validated schema identifier.
 *
 * Lock order, the same in every function (and in the store's renewal statement), so none of
 * them can deadlock another: counter row → schedule rows (by code, key) → state rows (by
 * code, key) → runs (by id) → run requests (by id). Each kind is locked by one `ORDER BY …
 * FOR UPDATE` (or `FOR KEY SHARE` / `FOR NO KEY UPDATE`) statement before the function
 * updates or deletes any row of it (new rows are inserted sorted, before that statement),
 * and only rows that statement locked are written afterwards, so the writes never wait: a
 * function never takes a row of an earlier kind, or an earlier row of the same kind, while
 * holding a later one.
 */

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** The set of the refs (rows with code and key) `alias` ranges over, as a jsonb object (its keys are looked up in O(log n)). */
const refSet = (alias: string) => `coalesce(jsonb_object_agg(jsonb_build_array(${alias}.code, ${alias}.key)::text, true), '{}'::jsonb)`;
/**
 * True when the set `set` (see {@link refSet}) holds the ref `code`, `key`. (Not `?`: it reads as a
 * placeholder to the migration runner.)
 */
const inSet = (set: string, code: string, key: string) => `(${set} -> jsonb_build_array(${code}, ${key})::text) IS NOT NULL`;

/** Statements adding runtime schedules to the schema in `schema`. */
export function schedulesPostgres(schema: string): string[] {
  const s = `"${schema}"`;
  const elapsed = (to: string, from: string) => `greatest(0, floor(extract(epoch FROM ${to} - ${from}) * 1000))::bigint`;
  const notify = (code: string, key: string) =>
    `pg_notify(p_channel, json_build_object('type', 'schedule', 'code', ${code}, 'key', ${key})::text)`;
  return [
    // COLLATE "C": listSchedules pages in byte order, the same on every server (and as on SQLite).
    // The definition is text, not jsonb, so "did this upsert change anything?" compares core's canonical text byte for byte.
    `CREATE TABLE ${s}.tickwork_schedule (
      code text COLLATE "C" NOT NULL,
      key text COLLATE "C" NOT NULL CHECK (key <> ''),
      definition text NOT NULL,
      enabled boolean NOT NULL,
      version bigint NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (code, key)
    )`,
    // One row: the last version handed out and the removals so far (together, the schedules' revision).
    // Every schedule writer locks it first, so versions are handed out in commit order.
    `CREATE TABLE ${s}.tickwork_schedule_counter (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      last_version bigint NOT NULL,
      removals bigint NOT NULL
    )`,
    `INSERT INTO ${s}.tickwork_schedule_counter (last_version, removals) VALUES (0, 0)`,
    `CREATE FUNCTION ${s}.tickwork_upsert_schedules(p_items jsonb, p_now timestamptz, p_channel text)
    RETURNS TABLE (ord integer, schedule jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      c record;
      old ${s}.tickwork_schedule;
      sc ${s}.tickwork_schedule;
      v_found boolean;
      v_last bigint;
      v_next bigint;
    BEGIN
      SELECT n.last_version INTO v_last FROM ${s}.tickwork_schedule_counter n FOR UPDATE;
      v_next := v_last;
      -- The lock order (see the top of this file), before any write: the batch's schedule rows, then its state rows,
      -- each sorted as claims, completions and reaps take theirs. A new schedule's state row is inserted first (a blank
      -- one, filled in below; one left under that ref is kept and reset below), so that every state row the loop
      -- writes is one the FOR UPDATE locked: a row showing up later, locked then, would be out of order.
      PERFORM 1 FROM ${s}.tickwork_schedule x
        WHERE (x.code, x.key) IN (SELECT y.code, y.key FROM jsonb_to_recordset(p_items) AS y(code text, key text))
        ORDER BY x.code, x.key FOR NO KEY UPDATE;
      INSERT INTO ${s}.tickwork_job_state (code, key, created_at, updated_at)
        SELECT y.code, y.key, p_now, p_now FROM jsonb_to_recordset(p_items) AS y(code text, key text)
        WHERE NOT EXISTS (SELECT 1 FROM ${s}.tickwork_schedule x WHERE x.code = y.code AND x.key = y.key)
        ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
      PERFORM 1 FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT y.code, y.key FROM jsonb_to_recordset(p_items) AS y(code text, key text))
        ORDER BY j.code, j.key FOR UPDATE;
      -- Sorted too (answers are keyed by ord, so the caller still gets them in request order).
      FOR c IN SELECT * FROM jsonb_to_recordset(p_items) AS x(ord integer, code text, key text, definition text, enabled boolean)
          ORDER BY x.code, x.key LOOP
        ord := c.ord;
        SELECT * INTO old FROM ${s}.tickwork_schedule x WHERE x.code = c.code AND x.key = c.key;
        v_found := FOUND;
        IF v_found AND old.definition = c.definition THEN
          schedule := to_jsonb(old); RETURN NEXT; CONTINUE;
        END IF;
        v_next := v_next + 1;
        IF v_found THEN
          UPDATE ${s}.tickwork_schedule x SET definition = c.definition, enabled = c.enabled, version = v_next, updated_at = p_now
            WHERE x.code = c.code AND x.key = c.key RETURNING x.* INTO sc;
          -- Enabling works like a resume: slots missed while disabled are not caught up.
          IF c.enabled AND NOT old.enabled THEN
            UPDATE ${s}.tickwork_job_state j SET resumed_at = p_now, updated_at = p_now WHERE j.code = c.code AND j.key = c.key;
          END IF;
        ELSE
          INSERT INTO ${s}.tickwork_schedule (code, key, definition, enabled, version, created_at, updated_at)
            VALUES (c.code, c.key, c.definition, c.enabled, v_next, p_now, p_now) RETURNING * INTO sc;
          -- A fresh state, replacing any left under this ref. Its token starts above the ref's earlier runs
          -- (a removed schedule's runs may still be running), so tokens keep increasing per schedule.
          UPDATE ${s}.tickwork_job_state j SET paused = false, paused_note = NULL, resumed_at = NULL, schedule_override = NULL,
              last_slot_at = NULL, last_status = NULL, last_finished_at = NULL, last_attempt = NULL, last_finished_slot_at = NULL,
              consecutive_failures = 0, total_runs = 0, created_at = p_now, updated_at = p_now,
              token = greatest(j.token, coalesce((SELECT max(r.token) FROM ${s}.tickwork_run r WHERE r.code = c.code AND r.key = c.key), 0))
            WHERE j.code = c.code AND j.key = c.key;
        END IF;
        PERFORM ${notify('c.code', 'c.key')};
        schedule := to_jsonb(sc);
        RETURN NEXT;
      END LOOP;
      IF v_next > v_last THEN
        UPDATE ${s}.tickwork_schedule_counter SET last_version = v_next;
      END IF;
    END
    $fn$`,
    `CREATE FUNCTION ${s}.tickwork_remove_schedules(p_refs jsonb, p_channel text)
    RETURNS TABLE (code text, key text) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      g record;
      v_removed bigint := 0;
    BEGIN
      PERFORM 1 FROM ${s}.tickwork_schedule_counter FOR UPDATE;
      -- Sorted, as claims take theirs: a claim holding a schedule makes this wait, then see it was claimed.
      PERFORM 1 FROM ${s}.tickwork_schedule x
        WHERE (x.code, x.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text))
        ORDER BY x.code, x.key FOR UPDATE;
      -- Then, in the lock order, the rows the deletes below touch (the DELETE itself would take them in plan order):
      -- the removed schedules' states, sorted as claims, completions and reaps take theirs, and their pending requests.
      PERFORM 1 FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT x.code, x.key FROM ${s}.tickwork_schedule x
          WHERE (x.code, x.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text)))
        ORDER BY j.code, j.key FOR UPDATE;
      PERFORM 1 FROM ${s}.tickwork_run_request q
        WHERE (q.code, q.key) IN (SELECT x.code, x.key FROM ${s}.tickwork_schedule x
          WHERE (x.code, x.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text)))
          AND q.consumed_at IS NULL
        ORDER BY q.id FOR UPDATE;
      FOR g IN
        WITH gone AS (
          DELETE FROM ${s}.tickwork_schedule x
          WHERE (x.code, x.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text))
          RETURNING x.code, x.key),
        states AS (DELETE FROM ${s}.tickwork_job_state j USING gone WHERE j.code = gone.code AND j.key = gone.key),
        requests AS (DELETE FROM ${s}.tickwork_run_request q USING gone
          WHERE q.code = gone.code AND q.key = gone.key AND q.consumed_at IS NULL)
        SELECT gone.code, gone.key FROM gone LOOP
        PERFORM ${notify('g.code', 'g.key')};
        code := g.code; key := g.key; v_removed := v_removed + 1;
        RETURN NEXT;
      END LOOP;
      IF v_removed > 0 THEN
        UPDATE ${s}.tickwork_schedule_counter SET removals = removals + v_removed;
      END IF;
    END
    $fn$`,
    // As in the first migration, plus: a runtime schedule's claim is 'unscheduled' when its schedule is
    // missing, disabled or of another version; schedule rows are held FOR KEY SHARE (sorted, before the
    // state rows) so a concurrent removal either happened first or waits for the claim to commit; state
    // rows are created only for schedules that exist; and the running runs the overlap checks read are
    // locked in one statement sorted by id (the first version locked them item by item, in request order,
    // which could deadlock with a renewal, completion or reap taking the same runs in another order).
    `CREATE OR REPLACE FUNCTION ${s}.tickwork_claim_slots(p_claims jsonb, p_runner text, p_now timestamptz)
    RETURNS TABLE (ord integer, outcome text, run jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      c record;
      st ${s}.tickwork_job_state;
      sc ${s}.tickwork_schedule;
      r ${s}.tickwork_run;
      v_live bigint;
      v_expired bigint;
      v_start timestamptz;
      v_scheduled jsonb;
    BEGIN
      -- Only the runtime schedules held here count as scheduled: one created after this statement answers 'unscheduled'
      -- (this claim came first), so every row the loop below writes is one locked up front, in the lock order.
      SELECT ${refSet('l')} INTO v_scheduled FROM (SELECT x.code, x.key FROM ${s}.tickwork_schedule x
        WHERE (x.code, x.key) IN (SELECT y.code, y.key FROM jsonb_to_recordset(p_claims) AS y(code text, key text) WHERE y.key <> '')
        ORDER BY x.code, x.key FOR KEY SHARE) l;
      INSERT INTO ${s}.tickwork_job_state (code, key, created_at, updated_at)
        SELECT DISTINCT y.code, y.key, p_now, p_now FROM jsonb_to_recordset(p_claims) AS y(code text, key text)
        WHERE y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')}
        ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
      PERFORM 1 FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT y.code, y.key FROM jsonb_to_recordset(p_claims) AS y(code text, key text)
          WHERE y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')})
        ORDER BY j.code, j.key FOR UPDATE;
      -- The running runs of the schedules whose overlap is checked below: locked now, so a renewal (which does not take
      -- the state lock) committing meanwhile is seen by the checks, or an expired-looking lease that was just renewed
      -- would be overlapped. New running runs of these schedules need their state locks, which this claim holds.
      PERFORM 1 FROM ${s}.tickwork_run x
        WHERE (x.code, x.key) IN (SELECT y.code, y.key FROM jsonb_to_recordset(p_claims) AS y(code text, key text, allow_parallel boolean)
          WHERE NOT y.allow_parallel AND (y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')}))
          AND x.status = 'running'
        ORDER BY x.id FOR UPDATE;
      FOR c IN SELECT * FROM jsonb_to_recordset(p_claims) AS x(ord integer, code text, key text, slot_at timestamptz,
          attempt integer, trigger text, allow_parallel boolean, lease_ms bigint, schedule_version bigint) ORDER BY x.ord LOOP
        ord := c.ord;
        run := NULL;
        -- The contract's order: taken, unscheduled, paused, overlap, claimed. Only claimed and overlap change anything.
        PERFORM 1 FROM ${s}.tickwork_run x WHERE x.code = c.code AND x.key = c.key AND x.slot_at = c.slot_at AND x.attempt = c.attempt;
        IF FOUND THEN
          outcome := 'taken'; RETURN NEXT; CONTINUE;
        END IF;
        IF c.key <> '' THEN
          SELECT * INTO sc FROM ${s}.tickwork_schedule x WHERE x.code = c.code AND x.key = c.key;
          IF NOT FOUND OR NOT ${inSet('v_scheduled', 'c.code', 'c.key')} OR NOT sc.enabled OR sc.version <> coalesce(c.schedule_version, sc.version) THEN
            outcome := 'unscheduled'; RETURN NEXT; CONTINUE;
          END IF;
        END IF;
        SELECT * INTO st FROM ${s}.tickwork_job_state j WHERE j.code = c.code AND j.key = c.key;
        IF st.paused THEN
          outcome := 'paused'; RETURN NEXT; CONTINUE;
        END IF;
        v_start := greatest(p_now, c.slot_at);
        v_expired := 0;
        v_live := NULL;
        IF NOT c.allow_parallel THEN
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
    // As in the first migration, except that a run whose runtime schedule was removed meanwhile is
    // recorded with no state (state NULL), and no state row is created for it; and the runs are locked
    // sorted by id after the states (their state may be gone, so only this order keeps two batches, or a
    // batch and a renewal or reap, from taking the same runs in opposite orders).
    `CREATE OR REPLACE FUNCTION ${s}.tickwork_complete_runs(p_items jsonb)
    RETURNS TABLE (ord integer, outcome text, run jsonb, state jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      c record;
      r ${s}.tickwork_run;
      st ${s}.tickwork_job_state;
      v_states jsonb;
    BEGIN
      -- Only the state rows locked here are written below: one that shows up later (its schedule created again
      -- meanwhile) is left alone, as if this completion had come first, rather than locked out of order.
      SELECT ${refSet('l')} INTO v_states FROM (SELECT j.code, j.key FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT x.code, x.key FROM jsonb_to_recordset(p_items) AS x(code text, key text))
        ORDER BY j.code, j.key FOR UPDATE) l;
      PERFORM 1 FROM ${s}.tickwork_run x
        WHERE x.id = ANY(ARRAY(SELECT y.id FROM jsonb_to_recordset(p_items) AS y(id bigint))) AND x.status = 'running'
        ORDER BY x.id FOR UPDATE;
      FOR c IN SELECT * FROM jsonb_to_recordset(p_items) AS x(ord integer, id bigint, token bigint, status text,
          finished_at timestamptz, message text, error text, stack text) ORDER BY x.ord LOOP
        ord := c.ord;
        state := NULL;
        UPDATE ${s}.tickwork_run x SET status = c.status, finished_at = c.finished_at,
            duration_ms = ${elapsed('c.finished_at', 'x.started_at')}, lease_expires_at = NULL,
            message = c.message, error = c.error, stack = c.stack
          WHERE x.id = c.id AND x.token = c.token AND x.status = 'running' RETURNING x.* INTO r;
        IF FOUND THEN
          IF ${inSet('v_states', 'r.code', 'r.key')} THEN
            UPDATE ${s}.tickwork_job_state j SET
                last_status = r.status, last_finished_at = r.finished_at, last_attempt = r.attempt, last_finished_slot_at = r.slot_at,
                consecutive_failures = CASE WHEN r.status = 'succeeded' THEN 0 ELSE j.consecutive_failures + 1 END,
                updated_at = greatest(j.updated_at, r.finished_at)
              WHERE j.code = r.code AND j.key = r.key RETURNING j.* INTO st;
            IF FOUND THEN
              state := to_jsonb(st);
            END IF;
          END IF;
          outcome := 'completed'; run := to_jsonb(r);
        ELSE
          SELECT * INTO r FROM ${s}.tickwork_run x WHERE x.id = c.id;
          outcome := 'stale'; run := CASE WHEN FOUND THEN to_jsonb(r) END;
        END IF;
        RETURN NEXT;
      END LOOP;
    END
    $fn$`,
    // As in the first migration, except that the runs are locked sorted by id after the states (the first version
    // updated them in plan order, which could deadlock with a renewal or completion taking the same runs).
    `CREATE OR REPLACE FUNCTION ${s}.tickwork_reap_expired(p_now timestamptz, p_limit integer)
    RETURNS SETOF jsonb LANGUAGE plpgsql AS $fn$
    DECLARE
      r ${s}.tickwork_run;
      v_ids bigint[];
      v_states jsonb;
    BEGIN
      SELECT array_agg(e.id) INTO v_ids FROM (SELECT x.id FROM ${s}.tickwork_run x
        WHERE x.status = 'running' AND x.lease_expires_at <= p_now ORDER BY x.lease_expires_at, x.id LIMIT p_limit) e;
      IF v_ids IS NULL THEN RETURN; END IF;
      -- As in the completion: only the state rows locked here are written below.
      SELECT ${refSet('l')} INTO v_states FROM (SELECT j.code, j.key FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT x.code, x.key FROM ${s}.tickwork_run x WHERE x.id = ANY(v_ids))
        ORDER BY j.code, j.key FOR UPDATE) l;
      PERFORM 1 FROM ${s}.tickwork_run x WHERE x.id = ANY(v_ids) AND x.status = 'running' ORDER BY x.id FOR UPDATE;
      FOR r IN UPDATE ${s}.tickwork_run x SET status = 'interrupted', finished_at = p_now,
          duration_ms = ${elapsed('p_now', 'x.started_at')}, lease_expires_at = NULL,
          message = 'interrupted: the lease of runner ' || x.runner_id || ' expired at '
            || to_char(x.lease_expires_at AT TIME ZONE 'UTC', ${ISO}) || ' without being renewed'
        WHERE x.id = ANY(v_ids) AND x.status = 'running' AND x.lease_expires_at <= p_now
        RETURNING x.* LOOP
        IF ${inSet('v_states', 'r.code', 'r.key')} THEN
          PERFORM ${s}.tickwork_finish_state(r.code, r.key, r.status, r.finished_at, r.attempt, r.slot_at);
        END IF;
        RETURN NEXT to_jsonb(r);
      END LOOP;
    END
    $fn$`,
  ];
}

/** The functions of this migration, for `down()`. */
export const SCHEDULE_FUNCTIONS = ['tickwork_upsert_schedules(jsonb, timestamptz, text)', 'tickwork_remove_schedules(jsonb, text)'];
