/**
 * DDL of the fifth migration on PostgreSQL (issue #18, limited runs): the state's
 * `scheduled_runs` counter, and the claim and upsert functions under their names and
 * signatures, now counting scheduled runs (and refusing one past a claim's `max_runs` with
 * `ended`) and resetting the counter with a fresh state. An expand: older releases send no
 * `max_runs` and never read the column, so their claims behave as before (and are counted).
 *
 * The two functions are the shipped ones (migrations are never edited, so their text is fixed)
 * with the few changes below applied; each change must apply exactly once, or building the
 * migration fails — a silent no-op would ship a claim that does not count.
 * `schema` is a validated schema identifier.
 */
import { PREFIX } from '../errors.js';
import { exactlyOncePostgres } from './exactly-once-postgres.js';
import { schedulesPostgres } from './schedules-postgres.js';

/** `text` with each `[from, to]` replaced, each occurring exactly once. */
export function amended(text: string, what: string, changes: readonly (readonly [string, string])[]): string {
  let out = text;
  for (const [from, to] of changes) {
    const at = out.indexOf(from);
    if (at < 0 || out.indexOf(from, at + 1) >= 0)
      throw new Error(`${PREFIX} limited-runs migration: ${what} does not hold exactly one "${from.slice(0, 60)}"`);
    out = out.slice(0, at) + to + out.slice(at + from.length);
  }
  return out;
}

/** The one statement of `statements` that starts with `prefix` (after whitespace). */
export function statement(statements: readonly string[], prefix: string): string {
  const found = statements.filter((sql) => sql.trimStart().startsWith(prefix));
  if (found.length !== 1) throw new Error(`${PREFIX} limited-runs migration: ${found.length} statements start with "${prefix}"`);
  return found[0] as string;
}

/** Statements of the fifth migration in `schema`. */
export function limitedRunsPostgres(schema: string): string[] {
  const s = `"${schema}"`;
  const claim = amended(statement(exactlyOncePostgres(schema), `CREATE FUNCTION ${s}.tickwork_claim_slots(`), 'tickwork_claim_slots', [
    [`CREATE FUNCTION ${s}.tickwork_claim_slots(`, `CREATE OR REPLACE FUNCTION ${s}.tickwork_claim_slots(`],
    [
      `lease_ms bigint, schedule_version bigint) ORDER BY x.ord LOOP`,
      `lease_ms bigint, schedule_version bigint, max_runs bigint) ORDER BY x.ord LOOP`,
    ],
    [
      `IF st.paused THEN
            outcome := 'paused'; EXIT decide;
          END IF;`,
      `IF st.paused THEN
            outcome := 'paused'; EXIT decide;
          END IF;
          -- Ended: a limited schedule's scheduled runs were all claimed (a waiting run counted when it was queued).
          IF c.trigger = 'schedule' AND NOT v_named AND c.max_runs IS NOT NULL AND st.scheduled_runs >= c.max_runs THEN
            outcome := 'ended'; EXIT decide;
          END IF;`,
    ],
    [
      `SET waiting_slot_at = least(j.waiting_slot_at, c.slot_at) WHERE`,
      `SET waiting_slot_at = least(j.waiting_slot_at, c.slot_at),
                  scheduled_runs = j.scheduled_runs + (c.trigger = 'schedule')::integer WHERE`,
    ],
    [
      `total_runs = j.total_runs + 1,`,
      `total_runs = j.total_runs + 1,
              scheduled_runs = j.scheduled_runs + (c.trigger = 'schedule' AND NOT v_named)::integer,`,
    ],
  ]);
  const upsert = amended(
    statement(schedulesPostgres(schema), `CREATE FUNCTION ${s}.tickwork_upsert_schedules(`),
    'tickwork_upsert_schedules',
    [
      [`CREATE FUNCTION ${s}.tickwork_upsert_schedules(`, `CREATE OR REPLACE FUNCTION ${s}.tickwork_upsert_schedules(`],
      [
        `consecutive_failures = 0, total_runs = 0, created_at = p_now`,
        `consecutive_failures = 0, total_runs = 0, scheduled_runs = 0, created_at = p_now`,
      ],
    ],
  );
  return [
    // A constant default: metadata only, no table rewrite. Schedules older than this count from the upgrade
    // (the run log may have been pruned, so it cannot tell how many ran before).
    `ALTER TABLE ${s}.tickwork_job_state ADD COLUMN scheduled_runs bigint NOT NULL DEFAULT 0`,
    claim,
    upsert,
  ];
}
