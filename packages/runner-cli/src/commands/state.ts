import { DEFAULT_SCHEDULE_KEY } from '@tickwork/core';
import { assertScheduleKey } from '@tickwork/core/store';
import { CliUsageError } from '../errors.js';
import type { Session } from '../session.js';

/**
 * `tickwork pause|resume|trigger <code>`: one store call each; running daemons pick the change up.
 * They act on the job's own schedule; `trigger --key` files the request for one runtime schedule.
 */
export async function stateCommand(
  session: Session,
  action: 'pause' | 'resume' | 'trigger',
  code: string,
  flags: { note?: string; key?: string },
): Promise<number> {
  const registry = await session.registry();
  const job = registry.get(code); // unknown code: exit 2 listing the known ones, nothing written
  const key = flags.key ?? DEFAULT_SCHEDULE_KEY;
  if (flags.key !== undefined) assertScheduleKey(key, `job "${code}": trigger --key`);
  if (action === 'trigger' && !job.enabled) {
    throw new CliUsageError(`job "${code}" is disabled in code (enabled: false): no runner runs it, so no request was filed`);
  }
  const store = await session.store();
  const ref = { code, key };
  const now = session.clock.now();
  if (action === 'trigger') {
    const own = key === DEFAULT_SCHEDULE_KEY;
    const what = own ? `"${code}"` : `runtime schedule "${key}" of "${code}"`;
    if (!own) {
      const [schedule] = await store.getSchedules([ref]);
      if (!schedule)
        throw new CliUsageError(
          `job "${code}": no runtime schedule with key "${key}"; no request was filed (\`tickwork schedules ${code}\` lists them)`,
        );
      if (!schedule.enabled) throw new CliUsageError(`${what} is disabled (enabled: false): no runner runs it, so no request was filed`);
    }
    const [state] = await store.getStates([ref]);
    const request = await store.requestRun(ref, { now, requestedBy: `cli:${session.io.env.USER ?? 'unknown'}` });
    session.out(
      state?.paused
        ? `requested a run of ${what} (request ${request.id}); the ${own ? 'job' : 'schedule'} is paused, so it runs after ` +
            `\`${own ? `tickwork resume ${code}` : `tickwork schedule resume ${code} ${key}`}\`\n`
        : `requested a run of ${what} (request ${request.id}); a running daemon picks it up within its poll interval,\n` +
            `the next \`tickwork run\` otherwise.${own ? ` Without a daemon, run it here and now: tickwork run ${code} --force` : ''}\n`,
    );
    return 0;
  }
  const state = await store.setPaused(ref, action === 'pause', { now, ...(flags.note !== undefined ? { note: flags.note } : {}) });
  // Each runtime schedule has a state of its own: pausing the job's schedule leaves them running.
  const { schedules } = await store.listSchedules({ code, limit: 1 });
  const others = schedules.length > 0 ? `; its runtime schedules are not affected (\`tickwork schedule ${action} ${code} KEY\`)` : '';
  session.out(
    state.paused
      ? `paused "${code}"${state.pausedNote ? ` (${state.pausedNote})` : ''}; its slots are not run until \`tickwork resume ${code}\`${others}\n`
      : `resumed "${code}"; slots missed while paused are not caught up${others}\n`,
  );
  return 0;
}
