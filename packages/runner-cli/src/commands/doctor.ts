import { describeThrown, isStoreSchemaError, type JobRegistry, type Store, type TickworkConfig } from '@tickwork/core';
import { jobSchedule } from '@tickwork/core/schedule';
import { EXIT } from '../errors.js';
import { renderTable } from '../output/table.js';
import type { Session } from '../session.js';

/** Outcome of one doctor check. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

/** One check in `tickwork doctor --json`. */
export interface DoctorCheck {
  name: 'config' | 'store' | 'schema' | 'clock' | 'timezones';
  status: CheckStatus;
  detail: string;
}

/** The document `tickwork doctor --json` prints. `ok` is false when any check failed. */
export interface DoctorJson {
  ok: boolean;
  checks: DoctorCheck[];
}

/** Skew beyond which the clock check warns, and fails (slots are computed from the local clock). */
const SKEW_WARN_MS = 1_000;
const SKEW_FAIL_MS = 10_000;

/** `tickwork doctor`: config, store reachability and latency, schema, clock skew, timezone data. Exit 1 when a check fails. */
export async function doctorCommand(session: Session, flags: { json?: boolean }): Promise<number> {
  const checks: DoctorCheck[] = [];
  let config: TickworkConfig | null = null;
  let registry: JobRegistry | null = null;
  try {
    config = await session.config();
    registry = await session.registry();
    const timezone = config.timezone ?? 'UTC';
    for (const job of registry.jobs) jobSchedule(job, timezone);
    const where = session.configPath() ?? 'injected config';
    checks.push({ name: 'config', status: 'ok', detail: `${where}: ${registry.jobs.length} job(s), default timezone ${timezone}` });
  } catch (error) {
    checks.push({ name: 'config', status: 'fail', detail: describeThrown(error).message });
  }

  let store: Store | null = null;
  let serverTime: Date | null = null;
  let latencyMs = 0;
  let schemaError: string | null = null;
  if (config) {
    try {
      // Not synced: the clock check compares this machine's clock with the store's.
      store = await session.store({ syncClock: false });
      const sentAt = Date.now();
      const pong = await store.ping();
      latencyMs = pong.latencyMs;
      // Assume the server read its clock halfway through the round trip.
      serverTime = pong.serverTime ? new Date(pong.serverTime.getTime() + (Date.now() - sentAt) / 2) : null;
      checks.push({ name: 'store', status: 'ok', detail: `${store.name} answers in ${latencyMs.toFixed(1)} ms` });
    } catch (error) {
      if (store && isStoreSchemaError(error)) {
        // The store answered, only to say its tables are missing: that is the schema check's failure.
        checks.push({ name: 'store', status: 'ok', detail: `${store.name} answers` });
        schemaError = error.message;
      } else {
        checks.push({ name: 'store', status: 'fail', detail: describeThrown(error).message });
        store = null;
      }
    }
  } else {
    checks.push({ name: 'store', status: 'skipped', detail: 'needs a loadable config' });
  }

  if (schemaError) {
    checks.push({ name: 'schema', status: 'fail', detail: schemaError });
  } else if (store) {
    try {
      await store.queryRuns({ limit: 1 });
      await store.getStates([]);
      checks.push({ name: 'schema', status: 'ok', detail: 'run log and job state are readable' });
    } catch (error) {
      checks.push({ name: 'schema', status: 'fail', detail: `${describeThrown(error).message} (\`tickwork migrate\` creates the tables)` });
    }
  } else {
    checks.push({ name: 'schema', status: 'skipped', detail: 'needs a reachable store' });
  }

  checks.push(schemaError ? { name: 'clock', status: 'skipped', detail: 'needs a usable store' } : clockCheck(session, store, serverTime));
  checks.push(timezoneCheck(config, registry));

  const ok = checks.every((check) => check.status !== 'fail');
  if (flags.json) {
    const json: DoctorJson = { ok, checks };
    session.out(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const { palette } = session;
    const colour = { ok: palette.green, warn: palette.yellow, fail: palette.red, skipped: palette.dim };
    session.out(
      renderTable(
        [{ header: 'CHECK' }, { header: 'STATUS' }, { header: 'DETAIL' }],
        checks.map((c) => [c.name, colour[c.status](c.status), c.detail]),
      ),
    );
  }
  return ok ? EXIT.ok : EXIT.jobFailed;
}

function clockCheck(session: Session, store: Store | null, serverTime: Date | null): DoctorCheck {
  if (!store) return { name: 'clock', status: 'skipped', detail: 'needs a reachable store' };
  if (!serverTime) return { name: 'clock', status: 'skipped', detail: `the ${store.name} store has no clock to compare with` };
  const skew = session.localClock.now().getTime() - serverTime.getTime();
  const hook = session.io.env.TICKWORK_NOW ? ' (TICKWORK_NOW is set: the local clock is shifted on purpose)' : '';
  const detail = `local clock is ${Math.abs(skew)} ms ${skew >= 0 ? 'ahead of' : 'behind'} the store's${hook}`;
  const abs = Math.abs(skew);
  return { name: 'clock', status: abs >= SKEW_FAIL_MS ? 'fail' : abs >= SKEW_WARN_MS ? 'warn' : 'ok', detail };
}

function timezoneCheck(config: TickworkConfig | null, registry: JobRegistry | null): DoctorCheck {
  const zones = new Set<string>([config?.timezone ?? 'UTC']);
  for (const job of registry?.jobs ?? []) {
    if (job.timezone) zones.add(job.timezone);
    const spec = job.schedule;
    if (spec !== null && typeof spec === 'object' && 'timezone' in spec && spec.timezone) zones.add(spec.timezone);
  }
  const bad: string[] = [];
  for (const zone of zones) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone }).format(0);
    } catch {
      bad.push(zone);
    }
  }
  const data = `ICU ${process.versions.icu ?? '?'}, tzdata ${process.versions.tz ?? '?'}`;
  if (bad.length > 0) {
    return {
      name: 'timezones',
      status: 'fail',
      detail: `unknown to this Node (${data}): ${bad.join(', ')}; Node needs full-icu timezone data`,
    };
  }
  return { name: 'timezones', status: 'ok', detail: `${[...zones].join(', ')} known (${data})` };
}
