/**
 * DDL of the ninth migration on PostgreSQL (issue #20, a reason for every slot not run): the
 * run table gains `skip_reason`, `slot_count` and `range_last_slot_at` (a skipped range: one
 * attempt-0 row for any number of contiguous slots), the state `last_skip_reason` and
 * `last_skipped_slot_at`, and a claim function under a new name that records a claim's passed
 * ranges. The exactly-once claim function is left as it is (older releases keep calling it):
 * the new one takes the same locks in the same order first, reads each schedule's
 * `last_slot_at` under them, calls it, and records a claim's ranges only when the claim won
 * and its plan started from the `last_slot_at` it found. Overlap skips keep a null
 * `skip_reason` (older releases write them too): a skipped row without a reason reads as `overlap`.
 * `schema` is a validated schema identifier.
 */

const REASONS = `'overlap', 'paused', 'disabled', 'missed-run-policy', 'window', 'dst-gap', 'store-outage'`;

/** The set of the refs `alias` ranges over, as a jsonb object (see the second migration). */
const refSet = (alias: string) => `coalesce(jsonb_object_agg(jsonb_build_array(${alias}.code, ${alias}.key)::text, true), '{}'::jsonb)`;
const inSet = (set: string, code: string, key: string) => `(${set} -> jsonb_build_array(${code}, ${key})::text) IS NOT NULL`;
const ms = (instant: string) => `(floor(extract(epoch FROM ${instant}) * 1000))::bigint`;

/** Statements of the ninth migration in `schema`. */
export function skippedSlotsPostgres(schema: string): string[] {
  const s = `"${schema}"`;
  const claimsOf = (columns: string) => `jsonb_to_recordset(p_claims) AS y(${columns})`;
  return [
    // Constant defaults and nullable columns: no table rewrite.
    `ALTER TABLE ${s}.tickwork_run ADD COLUMN skip_reason text CHECK (skip_reason IN (${REASONS})),
       ADD COLUMN slot_count integer NOT NULL DEFAULT 1 CHECK (slot_count >= 1),
       ADD COLUMN range_last_slot_at timestamptz`,
    `ALTER TABLE ${s}.tickwork_job_state ADD COLUMN last_skip_reason text CHECK (last_skip_reason IN (${REASONS})),
       ADD COLUMN last_skipped_slot_at timestamptz`,
    `CREATE FUNCTION ${s}.tickwork_claim_slots_passed(p_claims jsonb, p_runner text, p_now timestamptz)
    RETURNS TABLE (ord integer, outcome text, run jsonb, reaped jsonb) LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    DECLARE
      o record;
      c jsonb;
      v_scheduled jsonb;
      v_last jsonb := '{}'::jsonb;
      v_ref text;
      v_prev bigint;
      v_slot bigint;
      v_last_range jsonb;
    BEGIN
      IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_claims) e WHERE e.value ? 'passed') THEN
        -- The claim function's first locks, taken the same way (same sets, same order), so last_slot_at is read
        -- under the lock the claims then hold: no other claim of these schedules moves it before they are decided.
        SELECT ${refSet('l')} INTO v_scheduled FROM (SELECT x.code, x.key FROM ${s}.tickwork_schedule x
          WHERE (x.code, x.key) IN (SELECT y.code, y.key FROM ${claimsOf('code text, key text')} WHERE y.key <> '')
          ORDER BY x.code, x.key FOR KEY SHARE) l;
        INSERT INTO ${s}.tickwork_job_state (code, key, created_at, updated_at)
          SELECT DISTINCT y.code, y.key, p_now, p_now FROM ${claimsOf('code text, key text')}
          WHERE y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')}
          ORDER BY 1, 2
          ON CONFLICT DO NOTHING;
        SELECT coalesce(jsonb_object_agg(jsonb_build_array(l.code, l.key)::text, l.last_ms), '{}'::jsonb) INTO v_last
          FROM (SELECT j.code, j.key, ${ms('j.last_slot_at')} AS last_ms FROM ${s}.tickwork_job_state j
            WHERE (j.code, j.key) IN (SELECT y.code, y.key FROM ${claimsOf('code text, key text')}
              WHERE y.key = '' OR ${inSet('v_scheduled', 'y.code', 'y.key')})
            ORDER BY j.code, j.key FOR UPDATE) l;
      END IF;
      FOR o IN SELECT * FROM ${s}.tickwork_claim_slots(p_claims, p_runner, p_now) z ORDER BY z.ord LOOP
        ord := o.ord; outcome := o.outcome; run := o.run; reaped := o.reaped;
        c := p_claims -> o.ord;
        IF o.outcome IN ('claimed', 'waiting', 'overlap') AND c ->> 'trigger' = 'schedule' THEN
          v_ref := jsonb_build_array(c ->> 'code', c ->> 'key')::text;
          v_slot := ${ms("(c ->> 'slot_at')::timestamptz")};
          IF c ? 'passed' AND v_last ? v_ref THEN
            v_prev := (v_last ->> v_ref)::bigint;
            IF v_prev IS NOT DISTINCT FROM (c -> 'passed' ->> 'after_ms')::bigint AND (v_prev IS NULL OR v_slot > v_prev) THEN
              INSERT INTO ${s}.tickwork_run (code, key, slot_at, attempt, trigger, status, runner_id, token, started_at, finished_at,
                  duration_ms, message, skip_reason, slot_count, range_last_slot_at)
                SELECT c ->> 'code', c ->> 'key', r.first_slot_at, 0, 'schedule', 'skipped', p_runner, 0, r.last_slot_at,
                  greatest(p_now, (c ->> 'slot_at')::timestamptz), 0, r.message, r.reason, r.count, r.last_slot_at
                FROM jsonb_to_recordset(c -> 'passed' -> 'ranges') AS r(first_slot_at timestamptz, last_slot_at timestamptz, count integer, reason text, message text)
                ORDER BY r.first_slot_at
                ON CONFLICT DO NOTHING;
              v_last_range := c -> 'passed' -> 'ranges' -> (jsonb_array_length(c -> 'passed' -> 'ranges') - 1);
              UPDATE ${s}.tickwork_job_state j SET last_skip_reason = v_last_range ->> 'reason',
                  last_skipped_slot_at = greatest(j.last_skipped_slot_at, (v_last_range ->> 'last_slot_at')::timestamptz)
                WHERE j.code = c ->> 'code' AND j.key = c ->> 'key';
            END IF;
          END IF;
          IF v_last ? v_ref THEN
            v_last := jsonb_set(v_last, ARRAY[v_ref], to_jsonb(greatest((v_last ->> v_ref)::bigint, v_slot)));
          END IF;
        END IF;
        IF o.outcome = 'overlap' THEN
          UPDATE ${s}.tickwork_job_state j SET last_skip_reason = 'overlap',
              last_skipped_slot_at = greatest(j.last_skipped_slot_at, (o.run ->> 'slot_at')::timestamptz)
            WHERE j.code = c ->> 'code' AND j.key = c ->> 'key';
        END IF;
        RETURN NEXT;
      END LOOP;
    END
    $fn$`,
  ];
}
