import { CliUsageError } from '../errors.js';
import { DEFAULT_SCHEDULE_KEY } from '@tickwork/core';
import type { Session } from '../session.js';

/** `tickwork pause|resume|trigger <code>`: one store call each; running daemons pick the change up. */
export async function stateCommand(
  session: Session,
  action: 'pause' | 'resume' | 'trigger',
  code: string,
  flags: { note?: string },
): Promise<number> {
  const registry = await session.registry();
  const job = registry.get(code); // unknown code: exit 2 listing the known ones, nothing written
  if (action === 'trigger' && !job.enabled) {
    throw new CliUsageError(`job "${code}" is disabled in code (enabled: false): no runner runs it, so no request was filed`);
  }
  const store = await session.store();
  const ref = { code, key: DEFAULT_SCHEDULE_KEY };
  const now = session.clock.now();
  if (action === 'trigger') {
    const [state] = await store.getStates([ref]);
    const request = await store.requestRun(ref, { now, requestedBy: `cli:${session.io.env.USER ?? 'unknown'}` });
    session.out(
      state?.paused
        ? `requested a run of "${code}" (request ${request.id}); the job is paused, so it runs after \`tickwork resume ${code}\`\n`
        : `requested a run of "${code}" (request ${request.id}); a running daemon picks it up within its poll interval,\n` +
            `the next \`tickwork run\` otherwise. Without a daemon, run it here and now: tickwork run ${code} --force\n`,
    );
    return 0;
  }
  const state = await store.setPaused(ref, action === 'pause', { now, ...(flags.note !== undefined ? { note: flags.note } : {}) });
  session.out(
    state.paused
      ? `paused "${code}"${state.pausedNote ? ` (${state.pausedNote})` : ''}; its slots are not run until \`tickwork resume ${code}\`\n`
      : `resumed "${code}"; slots missed while paused are not caught up\n`,
  );
  return 0;
}
