/**
 * Statements of the fifth migration (issue #19, runner liveness): the runner table, and on
 * PostgreSQL the presence check (a session advisory lock per runner, held by the connection of
 * the store instance that sent its last heartbeat) and the reap of dead runners' runs. Adds only
 * what older releases never read: an expand migration.
 */

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const refSet = (alias: string) => `coalesce(jsonb_object_agg(jsonb_build_array(${alias}.code, ${alias}.key)::text, true), '{}'::jsonb)`;
const inSet = (set: string, code: string, key: string) => `(${set} -> jsonb_build_array(${code}, ${key})::text) IS NOT NULL`;

/** PostgreSQL statements in `schema`. */
export function runnersPostgres(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `CREATE TABLE ${s}.tickwork_runner (
      runner_id text PRIMARY KEY,
      started_at timestamptz NOT NULL,
      last_heartbeat_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      clock_offset_ms double precision,
      lock_key bigint NOT NULL,
      released boolean NOT NULL DEFAULT false
    )`,
    // The bigint form of an advisory lock shows in pg_locks as classid = high 32 bits, objid = low 32 bits, objsubid 1.
    `CREATE FUNCTION ${s}.tickwork_runner_connected(p_lock_key bigint) RETURNS boolean LANGUAGE sql STABLE COST 1000 AS $fn$
      SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
        AND l.classid = (p_lock_key >> 32)::oid AND l.objid = (p_lock_key & 4294967295)::oid)
    $fn$`,
    // Dead: heartbeat expired and the lock gone. Locks states, then runs, in the order every other function does.
    `CREATE FUNCTION ${s}.tickwork_reap_dead_runners(p_now timestamptz, p_limit integer)
    RETURNS TABLE (run jsonb, state jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      r ${s}.tickwork_run;
      v_dead text[];
      v_ids bigint[];
      v_states jsonb;
    BEGIN
      SELECT array_agg(w.runner_id) INTO v_dead FROM ${s}.tickwork_runner w
        WHERE w.expires_at <= p_now AND NOT w.released AND NOT ${s}.tickwork_runner_connected(w.lock_key);
      IF v_dead IS NULL THEN RETURN; END IF;
      SELECT array_agg(e.id ORDER BY e.id) INTO v_ids FROM (SELECT x.id FROM ${s}.tickwork_run x
        WHERE x.status = 'running' AND x.runner_id = ANY(v_dead) ORDER BY x.id LIMIT p_limit) e;
      -- Every run of theirs handled: later reaps skip these runners until they beat again.
      IF coalesce(array_length(v_ids, 1), 0) < p_limit THEN
        UPDATE ${s}.tickwork_runner w SET released = true WHERE w.runner_id = ANY(v_dead) AND w.expires_at <= p_now;
      END IF;
      IF v_ids IS NULL THEN RETURN; END IF;
      SELECT ${refSet('l')} INTO v_states FROM (SELECT j.code, j.key FROM ${s}.tickwork_job_state j
        WHERE (j.code, j.key) IN (SELECT x.code, x.key FROM ${s}.tickwork_run x WHERE x.id = ANY(v_ids))
        ORDER BY j.code, j.key FOR UPDATE) l;
      PERFORM 1 FROM ${s}.tickwork_run x WHERE x.id = ANY(v_ids) AND x.status = 'running' ORDER BY x.id FOR UPDATE;
      FOR r IN UPDATE ${s}.tickwork_run x SET status = 'interrupted', finished_at = p_now,
          duration_ms = greatest(0, floor(extract(epoch FROM p_now - x.started_at) * 1000))::bigint, lease_expires_at = NULL,
          message = 'interrupted: runner "' || x.runner_id || '" is dead (last heartbeat '
            || to_char(w.last_heartbeat_at AT TIME ZONE 'UTC', ${ISO}) || ', its connection closed)'
        FROM ${s}.tickwork_runner w
        WHERE w.runner_id = x.runner_id AND x.id = ANY(v_ids) AND x.status = 'running'
        RETURNING x.* LOOP
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
  ];
}

/** SQLite statements: the runner table only (no connection outlives a process there: heartbeat presence). */
export function runnersSqlite(): string[] {
  return [
    `CREATE TABLE tickwork_runner (
      runner_id TEXT PRIMARY KEY,
      started_at INTEGER NOT NULL,
      last_heartbeat_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      clock_offset_ms REAL,
      released INTEGER NOT NULL DEFAULT 0
    )`,
  ];
}
