import {
  RUNNER_RECORD_RETENTION_MS,
  type ReapedRun,
  type RunnerHeartbeat,
  type RunnerPresence,
  type RunnerRecord,
  type RunRecord,
} from '../store.js';
import type { MemoryData, MemoryRunner } from './backend.js';
import { finishRun } from './leases.js';
import { refKey } from './backend.js';

/** Records one heartbeat (validated by the caller) from the instance `owner`, pruning long-dead records. */
export function recordHeartbeat(data: MemoryData, beat: RunnerHeartbeat, owner: object, presence: RunnerPresence): RunnerRecord {
  const now = beat.now.getTime();
  for (const [id, runner] of data.runners) {
    if (runner.expiresAt.getTime() + RUNNER_RECORD_RETENTION_MS < now) data.runners.delete(id);
  }
  const runner: MemoryRunner = {
    runnerId: beat.runnerId,
    startedAt: new Date(beat.startedAt),
    lastHeartbeatAt: new Date(beat.now),
    expiresAt: new Date(now + beat.ttlMs),
    clockOffsetMs: beat.clockOffsetMs,
    owner,
  };
  data.runners.set(beat.runnerId, runner);
  return runnerRecord(data, runner, beat.now, presence);
}

/** A runner's record as of `now`, per the presence rule of {@link RunnerPresence}. */
export function runnerRecord(data: MemoryData, runner: MemoryRunner, now: Date, presence: RunnerPresence): RunnerRecord {
  const { owner: _owner, ...fields } = runner;
  const connected = presence === 'connection' ? !data.closedOwners.has(runner.owner) : null;
  const expired = runner.expiresAt.getTime() <= now.getTime();
  return { ...fields, connected, alive: !expired || connected === true };
}

/** Interrupts up to `limit` running runs of dead runners (live leases included), in run id order. */
export function interruptDeadRunners(data: MemoryData, now: Date, limit: number, presence: RunnerPresence): ReapedRun[] {
  const dead = new Map<string, MemoryRunner>();
  for (const runner of data.runners.values()) {
    if (!runnerRecord(data, runner, now, presence).alive) dead.set(runner.runnerId, runner);
  }
  if (dead.size === 0 || limit <= 0) return [];
  const runs: RunRecord[] = [];
  for (const ids of data.running.values()) {
    for (const id of ids) {
      const run = data.runs.get(id);
      if (run && dead.has(run.runnerId)) runs.push(run);
    }
  }
  runs.sort((a, b) => Number(a.id) - Number(b.id));
  return runs.slice(0, limit).map((run) => {
    const runner = dead.get(run.runnerId) as MemoryRunner;
    finishRun(data, run, {
      status: 'interrupted',
      finishedAt: now,
      message: `interrupted: runner "${run.runnerId}" is dead (last heartbeat ${runner.lastHeartbeatAt.toISOString()}${presence === 'connection' ? ', its connection closed' : ''})`,
    });
    return { run, state: data.states.get(refKey(run)) ?? null };
  });
}
