/**
 * DDL of the run-partitions migration on PostgreSQL (issue #23): the run log becomes a table
 * partitioned by RANGE on `slot_at`, one partition a calendar month (UTC), plus a default
 * partition for rows outside every month partition.
 *
 * Why `slot_at`: the run log is also the claim ledger. A claim is deduplicated by the unique
 * index on (code, key, slot_at, attempt), and a unique index of a partitioned table must contain
 * the partition key; on `slot_at` it does, so the index stays exactly what it was, global across
 * partitions, and a claim's lookups of its slot touch one month's partition only. The primary key
 * becomes (id, slot_at); ids stay globally unique because every one comes from the table's one
 * identity sequence (GENERATED ALWAYS: an insert cannot supply its own), and a lookup by id is
 * one probe of each partition's primary-key index. A run-now request's run is unique by
 * (request_id, slot_at); a second run of one request is prevented as before by the claim's lock
 * on the request row and its consumed check.
 *
 * Rows are moved from the old table (ids, and the identity sequence past them, kept); the
 * functions are recreated from their own definitions so that every session compiles them
 * against the new table. `schema` is a validated schema identifier.
 */

/** Months before the current one that the migration gives their own partition (older rows go to the default partition). */
const HISTORY_MONTHS = 36;

/** The functions the migration adds, for `down()`. */
export const RUN_PARTITION_FUNCTIONS = [
  'tickwork_run_ensure_partition(timestamptz)',
  'tickwork_run_partitions_ahead(timestamptz)',
  'tickwork_run_drop_partitions(timestamptz, integer)',
];

/** The partitioned table's indexes, as the unpartitioned one had them (the two unique ones with `slot_at`). */
function indexes(s: string): string[] {
  return [
    `CREATE INDEX tickwork_run_started_idx ON ${s}.tickwork_run (started_at DESC, id DESC)`,
    `CREATE INDEX tickwork_run_schedule_started_idx ON ${s}.tickwork_run (code, key, started_at DESC, id DESC)`,
    `CREATE INDEX tickwork_run_running_idx ON ${s}.tickwork_run (code, key) WHERE status = 'running'`,
    `CREATE INDEX tickwork_run_finished_idx ON ${s}.tickwork_run (finished_at) WHERE status <> 'running'`,
    `CREATE UNIQUE INDEX tickwork_run_slot_unique ON ${s}.tickwork_run (code, key, slot_at, attempt) WHERE request_id IS NULL`,
    `CREATE INDEX tickwork_run_waiting_idx ON ${s}.tickwork_run (code, key, slot_at, id) WHERE status = 'waiting'`,
  ];
}

/** Recreates every PL/pgSQL function of the schema from its own definition, so no session keeps one compiled against the old table. */
function recompileFunctions(schema: string): string {
  return `DO $do$
    DECLARE f record;
    BEGIN
      FOR f IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
          WHERE n.nspname = '${schema}' AND l.lanname IN ('plpgsql', 'sql') AND p.prokind = 'f' LOOP
        EXECUTE pg_get_functiondef(f.oid);
      END LOOP;
    END
  $do$`;
}

/** The interrupt function of the exactly-once migration: it returns the run table's row type, so it is dropped with the old table. */
function interruptFunction(s: string): string {
  return `CREATE FUNCTION ${s}.tickwork_interrupt(p_ids bigint[], p_now timestamptz)
    RETURNS SETOF ${s}.tickwork_run LANGUAGE sql AS $fn$
      UPDATE ${s}.tickwork_run x SET status = 'interrupted', finished_at = p_now,
          duration_ms = greatest(0, floor(extract(epoch FROM p_now - x.started_at) * 1000))::bigint, lease_expires_at = NULL,
          message = 'interrupted: the lease of runner ' || x.runner_id || ' expired at '
            || to_char(x.lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' without being renewed'
        WHERE x.id = ANY(p_ids) AND x.status = 'running' AND x.lease_expires_at <= p_now
        RETURNING x.*
    $fn$`;
}

/** Statements of the run-partitions migration in `schema`. */
export function runPartitionsPostgres(schema: string): string[] {
  const s = `"${schema}"`;
  const lit = `'${schema}'`;
  return [
    // Nothing writes the run log while it moves (the migration is one transaction; readers of the old table wait too).
    `LOCK TABLE ${s}.tickwork_run IN ACCESS EXCLUSIVE MODE`,
    `ALTER TABLE ${s}.tickwork_run RENAME TO tickwork_run_unpartitioned`,
    // LIKE keeps the column order (functions and to_jsonb(run) see the same row), defaults, CHECKs and the identity.
    `CREATE TABLE ${s}.tickwork_run (LIKE ${s}.tickwork_run_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY,
       CONSTRAINT tickwork_run_partitioned_pkey PRIMARY KEY (id, slot_at)) PARTITION BY RANGE (slot_at)`,
    `CREATE TABLE ${s}.tickwork_run_default PARTITION OF ${s}.tickwork_run DEFAULT WITH (fillfactor = 70)`,
    // One month's partition, created on its own and attached, so rows of that month already in the default partition move into it.
    `CREATE FUNCTION ${s}.tickwork_run_ensure_partition(p_at timestamptz) RETURNS boolean LANGUAGE plpgsql AS $fn$
    DECLARE
      v_lo timestamp := date_trunc('month', p_at AT TIME ZONE 'UTC');
      v_hi timestamp := date_trunc('month', p_at AT TIME ZONE 'UTC') + interval '1 month';
      v_name text := 'tickwork_run_p' || to_char(date_trunc('month', p_at AT TIME ZONE 'UTC'), 'YYYYMM');
      v_from text := to_char(date_trunc('month', p_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') || ' 00:00:00+00';
      v_to text := to_char(date_trunc('month', p_at AT TIME ZONE 'UTC') + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
    BEGIN
      IF to_regclass(${lit} || '.' || v_name) IS NOT NULL THEN RETURN false; END IF;
      EXECUTE format('CREATE TABLE ${s}.%I (LIKE ${s}.tickwork_run INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 70)', v_name);
      EXECUTE format('WITH moved AS (DELETE FROM ${s}.tickwork_run_default WHERE slot_at >= %L AND slot_at < %L RETURNING *)
        INSERT INTO ${s}.%I SELECT * FROM moved', v_from, v_to, v_name);
      EXECUTE format('ALTER TABLE ${s}.tickwork_run ATTACH PARTITION ${s}.%I FOR VALUES FROM (%L) TO (%L)', v_name, v_from, v_to);
      RETURN true;
    END
    $fn$`,
    // The partitions of p_now's month and the next one; a lock not had within the caller's lock_timeout leaves them for the next call.
    `CREATE FUNCTION ${s}.tickwork_run_partitions_ahead(p_now timestamptz) RETURNS integer LANGUAGE plpgsql AS $fn$
    DECLARE
      v_created integer := 0;
      v_at timestamptz;
    BEGIN
      FOREACH v_at IN ARRAY ARRAY[p_now, (date_trunc('month', p_now AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'] LOOP
        BEGIN
          IF ${s}.tickwork_run_ensure_partition(v_at) THEN v_created := v_created + 1; END IF;
        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
          NULL;
        END;
      END LOOP;
      RETURN v_created;
    END
    $fn$`,
    // Retention by whole partitions: a month partition ending at or before p_older_than (and before this
    // month) whose every run prune would delete (none running or waiting, every one finished before
    // p_older_than) is dropped. Checked and counted under a SHARE lock on the partition (no write can come
    // in between), then every such partition dropped under one short ACCESS EXCLUSIVE lock on the run log.
    // A lock not had within p_lock_timeout_ms leaves the partition whole ('busy') for the next prune.
    `CREATE FUNCTION ${s}.tickwork_run_drop_partitions(p_older_than timestamptz, p_lock_timeout_ms integer)
    RETURNS TABLE (partition_name text, range_start timestamptz, range_end timestamptz, outcome text, runs bigint) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      p record;
      v_blocked boolean;
      v_names text[] := '{}';
      v_starts timestamptz[] := '{}';
      v_ends timestamptz[] := '{}';
      v_runs bigint[] := '{}';
      v_count bigint;
      v_dropped text := 'dropped';
      v_timeout text := current_setting('lock_timeout');
      v_probe text := 'SELECT EXISTS (SELECT 1 FROM ${s}.%1$I WHERE status = ''running'')
        OR EXISTS (SELECT 1 FROM ${s}.%1$I WHERE status <> ''running'' AND (finished_at IS NULL OR finished_at >= $1))';
    BEGIN
      PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
      FOR p IN SELECT c.relname AS name, to_date(substr(c.relname, 15), 'YYYYMM')::timestamp AT TIME ZONE 'UTC' AS lo
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = '${s}.tickwork_run'::regclass AND c.relname ~ '^tickwork_run_p[0-9]{6}$' ORDER BY c.relname LOOP
        partition_name := p.name; range_start := p.lo; range_end := (p.lo AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC'; runs := NULL;
        -- The partitions of this month and the next (kept ahead for the claims to come) are never dropped.
        IF range_end > least(p_older_than, date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') THEN CONTINUE; END IF;
        EXECUTE format(v_probe, p.name) INTO v_blocked USING p_older_than;
        IF NOT v_blocked THEN
          BEGIN
            EXECUTE format('LOCK TABLE ${s}.%I IN SHARE MODE', p.name);
            EXECUTE format(v_probe, p.name) INTO v_blocked USING p_older_than;
            IF NOT v_blocked THEN
              EXECUTE format('SELECT count(*) FROM ${s}.%I', p.name) INTO v_count;
              v_names := v_names || p.name; v_starts := v_starts || range_start; v_ends := v_ends || range_end; v_runs := v_runs || v_count;
              CONTINUE;
            END IF;
          EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
            outcome := 'busy'; RETURN NEXT; CONTINUE;
          END;
        END IF;
        outcome := 'kept'; RETURN NEXT;
      END LOOP;
      IF cardinality(v_names) > 0 THEN
        BEGIN
          LOCK TABLE ${s}.tickwork_run IN ACCESS EXCLUSIVE MODE;
          FOR i IN 1 .. cardinality(v_names) LOOP
            EXECUTE format('DROP TABLE ${s}.%I', v_names[i]);
          END LOOP;
        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
          v_dropped := 'busy';
        END;
        FOR i IN 1 .. cardinality(v_names) LOOP
          partition_name := v_names[i]; range_start := v_starts[i]; range_end := v_ends[i]; outcome := v_dropped;
          runs := CASE WHEN v_dropped = 'dropped' THEN v_runs[i] END;
          RETURN NEXT;
        END LOOP;
      END IF;
      PERFORM set_config('lock_timeout', v_timeout, true);
    END
    $fn$`,
    // Partitions for the months holding rows (at most ${HISTORY_MONTHS} back; older rows, and rows after next month, go to the
    // default partition), and for this month and the next.
    `DO $do$
    DECLARE
      v_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
      v_at timestamp;
    BEGIN
      FOR v_at IN SELECT m FROM (SELECT DISTINCT date_trunc('month', slot_at AT TIME ZONE 'UTC') AS m FROM ${s}.tickwork_run_unpartitioned) x
          WHERE m >= v_month - interval '${HISTORY_MONTHS} months' AND m < v_month
        UNION SELECT v_month UNION SELECT v_month + interval '1 month' ORDER BY 1 LOOP
        PERFORM ${s}.tickwork_run_ensure_partition(v_at AT TIME ZONE 'UTC');
      END LOOP;
    END
    $do$`,
    `INSERT INTO ${s}.tickwork_run OVERRIDING SYSTEM VALUE SELECT * FROM ${s}.tickwork_run_unpartitioned`,
    // The next id continues the old sequence (which may have handed out ids of rows since deleted or never committed).
    `DO $do$
    BEGIN
      EXECUTE format('ALTER TABLE ${s}.tickwork_run ALTER COLUMN id RESTART WITH %s',
        greatest(nextval(pg_get_serial_sequence('${s}.tickwork_run_unpartitioned', 'id')),
          (SELECT coalesce(max(id), 0) + 1 FROM ${s}.tickwork_run)));
    END
    $do$`,
    `DROP FUNCTION ${s}.tickwork_interrupt(bigint[], timestamptz)`,
    `DROP TABLE ${s}.tickwork_run_unpartitioned`,
    `ALTER INDEX ${s}.tickwork_run_partitioned_pkey RENAME TO tickwork_run_pkey`,
    ...indexes(s),
    `CREATE UNIQUE INDEX tickwork_run_request_unique ON ${s}.tickwork_run (request_id, slot_at) WHERE request_id IS NOT NULL`,
    interruptFunction(s),
    recompileFunctions(schema),
  ];
}

/** Statements turning the partitioned run log back into one table (the migration's `down()`). */
export function runPartitionsPostgresDown(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `LOCK TABLE ${s}.tickwork_run IN ACCESS EXCLUSIVE MODE`,
    `ALTER TABLE ${s}.tickwork_run RENAME TO tickwork_run_partitioned`,
    `CREATE TABLE ${s}.tickwork_run (LIKE ${s}.tickwork_run_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)
       WITH (fillfactor = 70)`,
    `INSERT INTO ${s}.tickwork_run OVERRIDING SYSTEM VALUE SELECT * FROM ${s}.tickwork_run_partitioned`,
    `DO $do$
    BEGIN
      EXECUTE format('ALTER TABLE ${s}.tickwork_run ALTER COLUMN id RESTART WITH %s',
        greatest(nextval(pg_get_serial_sequence('${s}.tickwork_run_partitioned', 'id')),
          (SELECT coalesce(max(id), 0) + 1 FROM ${s}.tickwork_run)));
    END
    $do$`,
    `DROP FUNCTION ${s}.tickwork_interrupt(bigint[], timestamptz)`,
    ...RUN_PARTITION_FUNCTIONS.map((fn) => `DROP FUNCTION ${s}.${fn}`),
    `DROP TABLE ${s}.tickwork_run_partitioned CASCADE`,
    `ALTER TABLE ${s}.tickwork_run ADD CONSTRAINT tickwork_run_pkey PRIMARY KEY (id)`,
    ...indexes(s),
    `CREATE UNIQUE INDEX tickwork_run_request_unique ON ${s}.tickwork_run (request_id) WHERE request_id IS NOT NULL`,
    interruptFunction(s),
    recompileFunctions(schema),
  ];
}
