/**
 * SQL of the schedule-partitions migration (issue #23), free of MikroORM: the SQLite store runs
 * {@link SQLITE_FILL_PARTS} itself (see the migration).
 */
import { PARTITION_COUNT } from '@tickwork/core/store';

// FNV-1a (32 bits) as core's partitionOf: codes and keys are ASCII (JOB_CODE_PATTERN, SCHEDULE_KEY_PATTERN), so
// their characters are its UTF-16 code units; the NUL between them only multiplies (h XOR 0 = h).
const OFFSET = 2166136261;
const PRIME = 16777619;
const MASK = 4294967295;

/** The PostgreSQL function, trigger and index, for the quoted schema `s`. */
export function schedulePartitionsPostgres(s: string): string[] {
  return [
    `CREATE FUNCTION ${s}.tickwork_partition_of(p_code text, p_key text) RETURNS smallint
     LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
     DECLARE
       h bigint := ${OFFSET};
     BEGIN
       FOR i IN 1 .. length(p_code) LOOP h := ((h # ascii(substr(p_code, i, 1))) * ${PRIME}) & ${MASK}; END LOOP;
       h := (h * ${PRIME}) & ${MASK};
       FOR i IN 1 .. length(p_key) LOOP h := ((h # ascii(substr(p_key, i, 1))) * ${PRIME}) & ${MASK}; END LOOP;
       RETURN (h % ${PARTITION_COUNT})::smallint;
     END
     $fn$`,
    `ALTER TABLE ${s}.tickwork_schedule ADD COLUMN part smallint`,
    `CREATE FUNCTION ${s}.tickwork_schedule_part() RETURNS trigger LANGUAGE plpgsql AS $fn$
     BEGIN
       NEW.part := ${s}.tickwork_partition_of(NEW.code, NEW.key);
       RETURN NEW;
     END
     $fn$`,
    `CREATE TRIGGER tickwork_schedule_part BEFORE INSERT OR UPDATE OF code, key, part ON ${s}.tickwork_schedule
     FOR EACH ROW EXECUTE FUNCTION ${s}.tickwork_schedule_part()`,
    `UPDATE ${s}.tickwork_schedule SET part = ${s}.tickwork_partition_of(code, key)`,
    `ALTER TABLE ${s}.tickwork_schedule ALTER COLUMN part SET NOT NULL`,
    `CREATE INDEX tickwork_schedule_part_idx ON ${s}.tickwork_schedule (part, code, key)`,
  ];
}

/** One character's code of `code NUL key` at 0-based position `i`, of the row `t`. */
const SQLITE_CHAR = `CASE WHEN i < length(t.code) THEN unicode(substr(t.code, i + 1, 1)) WHEN i = length(t.code) THEN 0
  ELSE unicode(substr(t.key, i - length(t.code), 1)) END`;

/**
 * Fills in the partition of every SQLite row that lacks it (inserted by an older release), in SQL:
 * FNV-1a over the row's characters by a recursive CTE (XOR as (a | b) - (a & b)).
 */
export const SQLITE_FILL_PARTS = `UPDATE tickwork_schedule AS t SET part = (
  WITH RECURSIVE f(i, h) AS (SELECT 0, ${OFFSET} UNION ALL
    SELECT i + 1, (((h | ${SQLITE_CHAR}) - (h & ${SQLITE_CHAR})) * ${PRIME}) & ${MASK} FROM f WHERE i < length(t.code) + 1 + length(t.key))
  SELECT h % ${PARTITION_COUNT} FROM f ORDER BY i DESC LIMIT 1)
  WHERE t.part IS NULL`;
