import { StoreUnavailableError } from '@tickwork/core';
import type { RunnerRecord } from '@tickwork/core/store';
import { formatInstant, relativeTime } from '../output/relative-time.js';
import { renderTable } from '../output/table.js';
import type { Session } from '../session.js';

/** One runner as `tickwork runners --json` prints it. */
export interface RunnerView {
  runnerId: string;
  startedAt: string;
  lastHeartbeatAt: string;
  expiresAt: string;
  clockOffsetMs: number | null;
  /** null on stores whose presence is the heartbeat alone (SQLite). */
  connected: boolean | null;
  alive: boolean;
}

/** The document `tickwork runners --json` prints. */
export interface RunnersJson {
  now: string;
  /** How the store tells a dead runner from a live one. */
  presence: 'connection' | 'heartbeat';
  runners: RunnerView[];
}

const view = (r: RunnerRecord): RunnerView => ({
  runnerId: r.runnerId,
  startedAt: r.startedAt.toISOString(),
  lastHeartbeatAt: r.lastHeartbeatAt.toISOString(),
  expiresAt: r.expiresAt.toISOString(),
  clockOffsetMs: r.clockOffsetMs,
  connected: r.connected,
  alive: r.alive,
});

/**
 * `tickwork runners`: the runners the store knows (daemons heartbeat; `tickwork run` does not):
 * id, started, last heartbeat, clock offset, alive or dead. Exit 3 on a store without runner presence.
 */
export async function runnersCommand(session: Session, flags: { json?: boolean }): Promise<number> {
  const store = await session.store();
  const presence = store.capabilities.runnerPresence;
  if (!presence || !store.listRunners) {
    throw new StoreUnavailableError(`store "${store.name}" keeps no runner presence (capabilities.runnerPresence); it cannot list runners`);
  }
  const now = session.clock.now();
  const runners = await store.listRunners({ now });
  if (flags.json) {
    const doc: RunnersJson = { now: now.toISOString(), presence, runners: runners.map(view) };
    session.out(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  if (runners.length === 0) {
    session.out('no runner has sent a heartbeat to this store (daemons do; `tickwork run` does not)\n');
    return 0;
  }
  const { palette } = session;
  const offset = (ms: number | null) => (ms === null ? palette.dim('—') : `${ms >= 0 ? '+' : ''}${Math.round(ms)} ms`);
  const rows = runners.map((r) => [
    r.runnerId,
    r.alive ? palette.green('alive') : palette.red('dead'),
    formatInstant(r.startedAt),
    relativeTime(r.lastHeartbeatAt, now),
    offset(r.clockOffsetMs),
    r.connected === null ? palette.dim('—') : r.connected ? 'yes' : 'no',
  ]);
  session.out(
    renderTable(
      [
        { header: 'RUNNER' },
        { header: 'STATUS' },
        { header: 'STARTED' },
        { header: 'LAST HEARTBEAT' },
        { header: 'CLOCK OFFSET', align: 'right' },
        { header: 'CONNECTED' },
      ],
      rows,
    ),
  );
  const alive = runners.filter((r) => r.alive).length;
  session.out(
    `${alive} alive, ${runners.length - alive} dead (presence: ${presence === 'connection' ? 'heartbeat TTL and connection' : 'heartbeat TTL'})\n`,
  );
  return 0;
}
