/**
 * DDL of the third migration on PostgreSQL (issue #15, exactly once under faults): waiting
 * runs (overlap policies `bufferOne`, `bufferAll`, `cancelOther`), run-now requests claimed
 * by id in the claim itself, cancel requests seen by renewals, claims idempotent per
 * runner, and reaped runs handed out with their state. New versions of the claim, reap and
 * removal functions; the lock order of the second migration is kept (counter row →
 * schedule rows → state rows → runs by id → run requests by id), each kind locked by one
 * sorted statement before the function writes a row of it.
 * `schema` is a validated schema identifier.
 */

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const STATUSES = `'waiting', 'running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped'`;

/** The set of the refs `alias` ranges over, as a jsonb object (see the second migration). */
const refSet = (alias: string) => `coalesce(jsonb_object_agg(jsonb_build_array(${alias}.code, ${alias}.key)::text, true), '{}'::jsonb)`;
/** True when the set `set` holds the ref `code`, `key`. */
const inSet = (set: string, code: string, key: string) => `(${set} -> jsonb_build_array(${code}, ${key})::text) IS NOT NULL`;
const iso = (instant: string) => `to_char(${instant} AT TIME ZONE 'UTC', ${ISO})`;

/** Statements of the third migration in `schema`. */
export function exactlyOncePostgres(schema: string): string[] {
  const s = `"${schema}"`;
  const claimsOf = (columns: string) => `jsonb_to_recordset(p_claims) AS y(${columns})`;
  return [
    // The status list gains 'waiting'. NOT VALID + VALIDATE: the old list is a subset, and validating takes a weaker lock.
    `ALTER TABLE ${s}.tickwork_run DROP CONSTRAINT tickwork_run_status_check,
       ADD CONSTRAINT tickwork_run_status_check CHECK (status IN (${STATUSES})) NOT VALID,
       ADD COLUMN request_id bigint,
       ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false`,
    `ALTER TABLE ${s}.tickwork_run VALIDATE CONSTRAINT tickwork_run_status_check`,
    // A run-now request's run is named by its request, not its slot: several requests in one second each get one.
    `ALTER TABLE ${s}.tickwork_run DROP CONSTRAINT tickwork_run_slot_unique`,
    `CREATE UNIQUE INDEX tickwork_run_slot_unique ON ${s}.tickwork_run (code, key, slot_at, attempt) WHERE request_id IS NULL`,
    `CREATE UNIQUE INDEX tickwork_run_request_unique ON ${s}.tickwork_run (request_id) WHERE request_id IS NOT NULL`,
    `CREATE INDEX tickwork_run_waiting_idx ON ${s}.tickwork_run (code, key, slot_at, id) WHERE status = 'waiting'`,
    `ALTER TABLE ${s}.tickwork_job_state ADD COLUMN waiting_slot_at timestamptz`,
    // Marks these running runs interrupted if their lease is not live; the caller locked them and updates their states.
    `CREATE FUNCTION ${s}.tickwork_interrupt(p_ids bigint[], p_now timestamptz)
    RETURNS SETOF ${s}.tickwork_run LANGUAGE sql AS $fn$
      UPDATE ${s}.tickwork_run x SET status = 'interrupted', finished_at = p_now,
          duration_ms = greatest(0, floor(extract(epoch FROM p_now - x.started_at) * 1000))::bigint, lease_expires_at = NULL,
          message = 'interrupted: the lease of runner ' || x.runner_id || ' expired at ' || ${iso('x.lease_expires_at')} || ' without being renewed'
        WHERE x.id = ANY(p_ids) AND x.status = 'running' AND x.lease_expires_at <= p_now
        RETURNING x.*
    $fn$`,
    `DROP FUNCTION ${s}.tickwork_claim_slots(jsonb, text, timestamptz)`,
    `CREATE FUNCTION ${s}.tickwork_claim_slots(p_claims jsonb, p_runner text, p_now timestamptz)
    RETURNS TABLE (ord integer, outcome text, run jsonb, reaped jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      c record;
      st ${s}.tickwork_job_state;
      sc ${s}.tickwork_schedule;
      r ${s}.tickwork_run;
      nr ${s}.tickwork_run;
      h ${s}.tickwork_run;
      w ${s}.tickwork_run;
      v_named boolean;
      v_holder boolean;
      v_waits boolean;
      v_expired bigint;
      v_live bigint;
      v_scheduled jsonb;
      v_reaped jsonb;
      v_start timestamptz;
      v_because text;
    BEGIN
      -- Up front, in the lock order: the runtime schedules (FOR KEY SHARE), the states, the runs the claims may write
      -- (running runs of the schedules whose overlap is checked, waiting runs of every schedule of the batch), then the
      -- pending requests the claims name. Running and waiting runs of these schedules are only created by claims,
      -- which need the state locks this one holds, so no row the loop writes appears after these statements.
      SELECT ${refSet('l')} INTO v_scheduled FROM (SELECT x.code, x.key FROM ${s}.tickwork_schedule x
        WHERE (x.code, x.key) IN (SELECT y.code, y.key FROM ${claimsOf('code text, key text')} WHERE y.key <> '')
        ORDER BY x.code, x.key FOR KEY SHARE) l;
      INSERT INTO ${s}.tickwork_job_state (code, key, created_at, updated_at)
        SELECT DISTINCT y.code, y.key, p_now, p_now FROM ${claimsOf('code text, key text')}
        WHERE y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')}
        ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
      PERFORM 1 FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT y.code, y.key FROM ${claimsOf('code text, key text')}
          WHERE y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')})
        ORDER BY j.code, j.key FOR UPDATE;
      -- Both sets found through their own partial index, then locked in one statement sorted by id.
      PERFORM 1 FROM ${s}.tickwork_run x WHERE x.id = ANY(ARRAY(
          SELECT a.id FROM ${s}.tickwork_run a WHERE a.status = 'running' AND (a.code, a.key) IN (
            SELECT y.code, y.key FROM ${claimsOf('code text, key text, overlap text')}
            WHERE y.overlap <> 'allowAll' AND (y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')}))
          UNION ALL
          SELECT b.id FROM ${s}.tickwork_run b WHERE b.status = 'waiting' AND (b.code, b.key) IN (
            SELECT y.code, y.key FROM ${claimsOf('code text, key text')} WHERE y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')})))
        AND x.status IN ('running', 'waiting')
        ORDER BY x.id FOR UPDATE;
      PERFORM 1 FROM ${s}.tickwork_run_request q
        WHERE q.id = ANY(ARRAY(SELECT y.request_id FROM ${claimsOf('request_id bigint')} WHERE y.request_id IS NOT NULL))
          AND q.consumed_at IS NULL
        ORDER BY q.id FOR UPDATE;
      FOR c IN SELECT * FROM jsonb_to_recordset(p_claims) AS x(ord integer, code text, key text, slot_at timestamptz, attempt integer,
          trigger text, overlap text, backfill boolean, request_id bigint, lease_ms bigint, schedule_version bigint) ORDER BY x.ord LOOP
        ord := c.ord;
        run := NULL;
        reaped := NULL;
        v_reaped := NULL;
        <<decide>>
        BEGIN
          -- 1. The run the claim names: by request id, or by slot + attempt among runs without one.
          IF c.request_id IS NULL THEN
            SELECT * INTO nr FROM ${s}.tickwork_run x
              WHERE x.code = c.code AND x.key = c.key AND x.slot_at = c.slot_at AND x.attempt = c.attempt AND x.request_id IS NULL;
          ELSE
            SELECT * INTO nr FROM ${s}.tickwork_run x WHERE x.request_id = c.request_id;
          END IF;
          v_named := FOUND;
          IF v_named AND nr.status = 'running' AND nr.runner_id = p_runner THEN
            -- The same runner again (its answer was lost): its own run and lease back, unchanged.
            outcome := 'claimed'; run := to_jsonb(nr); EXIT decide;
          ELSIF v_named AND nr.status <> 'waiting' THEN
            outcome := 'taken'; EXIT decide;
          ELSIF NOT v_named AND c.request_id IS NOT NULL THEN
            PERFORM 1 FROM ${s}.tickwork_run_request q
              WHERE q.id = c.request_id AND q.code = c.code AND q.key = c.key AND q.consumed_at IS NULL;
            IF NOT FOUND THEN
              outcome := 'taken'; EXIT decide;
            END IF;
          END IF;
          -- 2. Unscheduled, 3. paused: nothing changes.
          IF c.key <> '' THEN
            SELECT * INTO sc FROM ${s}.tickwork_schedule x WHERE x.code = c.code AND x.key = c.key;
            IF NOT FOUND OR NOT ${inSet('v_scheduled', 'c.code', 'c.key')} OR NOT sc.enabled OR sc.version <> coalesce(c.schedule_version, sc.version) THEN
              outcome := 'unscheduled'; EXIT decide;
            END IF;
          END IF;
          SELECT * INTO st FROM ${s}.tickwork_job_state j WHERE j.code = c.code AND j.key = c.key;
          IF st.paused THEN
            outcome := 'paused'; EXIT decide;
          END IF;
          v_start := greatest(p_now, c.slot_at);
          -- 4. Overlap.
          IF c.overlap <> 'allowAll' THEN
            -- One read of the running runs in the common case (nothing expired, nothing waiting); the rest only when needed.
            SELECT count(*) FILTER (WHERE x.lease_expires_at <= p_now), min(x.id) FILTER (WHERE x.lease_expires_at > p_now)
              INTO v_expired, v_live FROM ${s}.tickwork_run x WHERE x.code = c.code AND x.key = c.key AND x.status = 'running';
            IF v_expired > 0 THEN
              FOR r IN SELECT * FROM ${s}.tickwork_interrupt(ARRAY(SELECT x.id FROM ${s}.tickwork_run x
                  WHERE x.code = c.code AND x.key = c.key AND x.status = 'running' AND x.lease_expires_at <= p_now), p_now) i ORDER BY i.id LOOP
                PERFORM ${s}.tickwork_finish_state(r.code, r.key, r.status, r.finished_at, r.attempt, r.slot_at);
                v_reaped := coalesce(v_reaped, '[]'::jsonb) || jsonb_build_array(to_jsonb(r));
              END LOOP;
            END IF;
            v_holder := v_live IS NOT NULL;
            IF v_holder THEN
              SELECT * INTO h FROM ${s}.tickwork_run x WHERE x.id = v_live;
            END IF;
            -- waiting_slot_at is kept by every claim that queues or starts a waiting run: null means none waits.
            v_waits := false;
            IF st.waiting_slot_at IS NOT NULL THEN
              SELECT * INTO w FROM ${s}.tickwork_run x
                WHERE x.code = c.code AND x.key = c.key AND x.status = 'waiting' AND (NOT v_named OR x.id <> nr.id)
                ORDER BY x.slot_at, x.id LIMIT 1;
              v_waits := FOUND;
            END IF;
            IF v_holder OR (v_waits AND w.slot_at < c.slot_at) THEN
              v_because := CASE WHEN v_holder
                THEN 'run ' || h.id || ' (slot ' || ${iso('h.slot_at')} || ', runner "' || h.runner_id || '") still holds the lease'
                ELSE 'slot ' || ${iso('w.slot_at')} || ' waits before it' END;
              IF v_named OR p_now < c.slot_at OR c.trigger = 'retry' OR c.backfill THEN
                outcome := 'busy'; EXIT decide;
              END IF;
              IF c.overlap = 'skip' OR (c.overlap IN ('bufferOne', 'cancelOther') AND v_waits) THEN
                INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, request_id, started_at, finished_at, duration_ms, message)
                  VALUES (c.code, c.key, c.slot_at, c.attempt, c.trigger, 'skipped', p_runner, 0, c.request_id, v_start, v_start, 0,
                    CASE WHEN c.overlap = 'skip' THEN 'skipped: ' || v_because || ' (overlap policy skip)'
                      ELSE 'skipped: slot ' || ${iso('w.slot_at')} || ' already waits for '
                        || CASE WHEN v_holder THEN 'run ' || h.id ELSE 'its turn' END || ' (overlap policy ' || c.overlap || ')' END)
                  RETURNING * INTO r;
                outcome := 'overlap';
              ELSE
                IF c.overlap = 'cancelOther' THEN
                  UPDATE ${s}.tickwork_run x SET cancel_requested = true WHERE x.code = c.code AND x.key = c.key AND x.status = 'running';
                END IF;
                IF c.request_id IS NOT NULL THEN
                  -- A request waits as a request (pending), not as a waiting run.
                  outcome := 'busy'; EXIT decide;
                END IF;
                INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, message)
                  VALUES (c.code, c.key, c.slot_at, c.attempt, c.trigger, 'waiting', p_runner, 0, v_start,
                    'waiting: ' || v_because || ' (overlap policy ' || c.overlap || ')')
                  RETURNING * INTO r;
                UPDATE ${s}.tickwork_job_state j SET waiting_slot_at = least(j.waiting_slot_at, c.slot_at) WHERE j.code = c.code AND j.key = c.key;
                outcome := 'waiting';
              END IF;
              IF c.request_id IS NOT NULL THEN
                UPDATE ${s}.tickwork_run_request q SET consumed_at = p_now WHERE q.id = c.request_id;
              END IF;
              UPDATE ${s}.tickwork_job_state j SET updated_at = p_now,
                  last_slot_at = CASE WHEN c.trigger = 'schedule' THEN greatest(j.last_slot_at, c.slot_at) ELSE j.last_slot_at END
                WHERE j.code = c.code AND j.key = c.key;
              run := to_jsonb(r);
              EXIT decide;
            END IF;
          END IF;
          -- 5. Claimed: the named waiting run starts, or a new run, with a fresh token and lease.
          IF v_named THEN
            UPDATE ${s}.tickwork_run x SET status = 'running', runner_id = p_runner, token = st.token + 1, started_at = v_start,
                lease_expires_at = v_start + c.lease_ms * interval '1 millisecond', message = NULL
              WHERE x.id = nr.id RETURNING x.* INTO r;
            UPDATE ${s}.tickwork_job_state j SET waiting_slot_at = (SELECT min(x.slot_at) FROM ${s}.tickwork_run x
                WHERE x.code = c.code AND x.key = c.key AND x.status = 'waiting')
              WHERE j.code = c.code AND j.key = c.key;
          ELSE
            INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, request_id, started_at, lease_expires_at)
              VALUES (c.code, c.key, c.slot_at, c.attempt, c.trigger, 'running', p_runner, st.token + 1, c.request_id, v_start,
                v_start + c.lease_ms * interval '1 millisecond')
              ON CONFLICT DO NOTHING
              RETURNING * INTO r;
            IF NOT FOUND THEN
              outcome := 'taken'; EXIT decide;
            END IF;
          END IF;
          IF c.request_id IS NOT NULL THEN
            UPDATE ${s}.tickwork_run_request q SET consumed_at = p_now WHERE q.id = c.request_id;
          END IF;
          UPDATE ${s}.tickwork_job_state j SET token = r.token, updated_at = p_now, total_runs = j.total_runs + 1,
              last_slot_at = CASE WHEN c.trigger = 'schedule' THEN greatest(j.last_slot_at, c.slot_at) ELSE j.last_slot_at END
            WHERE j.code = c.code AND j.key = c.key;
          outcome := 'claimed';
          run := to_jsonb(r);
        END decide;
        IF v_reaped IS NOT NULL THEN
          -- Each reaped run with its schedule's state as this claim leaves it.
          SELECT jsonb_agg(jsonb_build_object('run', e.value, 'state', to_jsonb(j)) ORDER BY e.ordinality) INTO reaped
            FROM jsonb_array_elements(v_reaped) WITH ORDINALITY e
            LEFT JOIN ${s}.tickwork_job_state j ON j.code = c.code AND j.key = c.key;
        END IF;
        RETURN NEXT;
      END LOOP;
    END
    $fn$`,
    `DROP FUNCTION ${s}.tickwork_reap_expired(timestamptz, integer)`,
    // As in the second migration, and each reaped run comes with its state right after it (oldest expiry first).
    `CREATE FUNCTION ${s}.tickwork_reap_expired(p_now timestamptz, p_limit integer)
    RETURNS TABLE (run jsonb, state jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      r ${s}.tickwork_run;
      v_ids bigint[];
      v_states jsonb;
    BEGIN
      SELECT array_agg(e.id ORDER BY e.lease_expires_at, e.id) INTO v_ids FROM (SELECT x.id, x.lease_expires_at FROM ${s}.tickwork_run x
        WHERE x.status = 'running' AND x.lease_expires_at <= p_now ORDER BY x.lease_expires_at, x.id LIMIT p_limit) e;
      IF v_ids IS NULL THEN RETURN; END IF;
      -- Only the state rows locked here are written below (see the second migration).
      SELECT ${refSet('l')} INTO v_states FROM (SELECT j.code, j.key FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT x.code, x.key FROM ${s}.tickwork_run x WHERE x.id = ANY(v_ids))
        ORDER BY j.code, j.key FOR UPDATE) l;
      PERFORM 1 FROM ${s}.tickwork_run x WHERE x.id = ANY(v_ids) AND x.status = 'running' ORDER BY x.id FOR UPDATE;
      FOR r IN SELECT * FROM ${s}.tickwork_interrupt(v_ids, p_now) i ORDER BY array_position(v_ids, i.id) LOOP
        run := to_jsonb(r);
        state := NULL;
        IF ${inSet('v_states', 'r.code', 'r.key')} THEN
          PERFORM ${s}.tickwork_finish_state(r.code, r.key, r.status, r.finished_at, r.attempt, r.slot_at);
          SELECT to_jsonb(j) INTO state FROM ${s}.tickwork_job_state j WHERE j.code = r.code AND j.key = r.key;
        END IF;
        RETURN NEXT;
      END LOOP;
    END
    $fn$`,
    // As in the second migration, plus the removed schedules' waiting runs, locked by id after their states.
    `CREATE OR REPLACE FUNCTION ${s}.tickwork_remove_schedules(p_refs jsonb, p_channel text)
    RETURNS TABLE (code text, key text) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      g record;
      v_removed bigint := 0;
      v_gone jsonb;
    BEGIN
      PERFORM 1 FROM ${s}.tickwork_schedule_counter FOR UPDATE;
      SELECT ${refSet('l')} INTO v_gone FROM (SELECT x.code, x.key FROM ${s}.tickwork_schedule x
        WHERE (x.code, x.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text))
        ORDER BY x.code, x.key FOR UPDATE) l;
      PERFORM 1 FROM ${s}.tickwork_job_state j WHERE ${inSet('v_gone', 'j.code', 'j.key')}
        AND (j.code, j.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text))
        ORDER BY j.code, j.key FOR UPDATE;
      PERFORM 1 FROM ${s}.tickwork_run x WHERE x.status = 'waiting' AND ${inSet('v_gone', 'x.code', 'x.key')}
        AND (x.code, x.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text))
        ORDER BY x.id FOR UPDATE;
      PERFORM 1 FROM ${s}.tickwork_run_request q WHERE q.consumed_at IS NULL AND ${inSet('v_gone', 'q.code', 'q.key')}
        AND (q.code, q.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text))
        ORDER BY q.id FOR UPDATE;
      FOR g IN
        WITH gone AS (
          DELETE FROM ${s}.tickwork_schedule x
          WHERE (x.code, x.key) IN (SELECT r.code, r.key FROM jsonb_to_recordset(p_refs) AS r(code text, key text))
          RETURNING x.code, x.key),
        states AS (DELETE FROM ${s}.tickwork_job_state j USING gone WHERE j.code = gone.code AND j.key = gone.key),
        waiting AS (DELETE FROM ${s}.tickwork_run x USING gone WHERE x.code = gone.code AND x.key = gone.key AND x.status = 'waiting'),
        requests AS (DELETE FROM ${s}.tickwork_run_request q USING gone
          WHERE q.code = gone.code AND q.key = gone.key AND q.consumed_at IS NULL)
        SELECT gone.code, gone.key FROM gone LOOP
        PERFORM pg_notify(p_channel, json_build_object('type', 'schedule', 'code', g.code, 'key', g.key)::text);
        code := g.code; key := g.key; v_removed := v_removed + 1;
        RETURN NEXT;
      END LOOP;
      IF v_removed > 0 THEN
        UPDATE ${s}.tickwork_schedule_counter SET removals = removals + v_removed;
      END IF;
    END
    $fn$`,
  ];
}
