/**
 * A daemon claims a slot ahead of its instant; before the instant the schedule is paused, its
 * runtime schedule disabled or removed. At the instant the handler must not be called: the run is
 * recorded `skipped` (reason `paused` / `disabled`), its lease released, and the next slot of the
 * schedule, once resumed or enabled again, runs. Real stores (memory, Redis, PostgreSQL, SQLite);
 * the daemon's clock is held one second before the instant until the change is honoured, so the
 * order claim → change → instant never depends on timing.
 */
import {
  createMemoryBackend,
  createMemoryStore,
  createScheduler,
  defineJob,
  silentLogger,
  type Clock,
  type RunContext,
  type RunRecord,
} from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { createDaemon, type DaemonHandle } from '../src/index.js';
import { allRuns, sleep, type StoreKit } from './cluster.js';
import { postgresKit, redisKit, sqliteKit } from './store-kits.js';

/** Real time, except while held: then it reads the held instant; released, it goes on from there. */
class HeldClock implements Clock {
  private held: number | null = null;
  private shift = 0;

  now(): Date {
    return new Date(this.held ?? Date.now() + this.shift);
  }

  hold(atMs: number): void {
    this.held = atMs;
  }

  release(): void {
    if (this.held === null) return;
    this.shift = this.held - Date.now();
    this.held = null;
  }
}

function memoryKit(): StoreKit {
  const backend = createMemoryBackend();
  return {
    name: 'memory',
    spec: {},
    pushesChanges: true,
    async setup() {},
    async open() {
      return createMemoryStore({ backend, changeSubscription: true });
    },
    async teardown() {},
  };
}

/** Polls an async probe until it returns a value (a safety net of 30 s, not a speed assertion). */
async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after 30 s waiting for ${what}`);
    await sleep(20);
  }
}

async function scenario(kit: StoreKit): Promise<void> {
  await kit.setup();
  const admin = await kit.open();
  const daemonStore = await kit.open();
  let daemon: DaemonHandle | null = null;
  const clock = new HeldClock();
  // Slots every 2 s from T; the clock is held 1 s before T, so only T is claimed (preClaimMs 2 s) until it is released.
  const T = Math.ceil((Date.now() + 5_000) / 2_000) * 2_000;
  clock.hold(T - 1_000);
  const starts: { code: string; key: string; slot: number }[] = [];
  const record = (ctx: RunContext) => void starts.push({ code: ctx.code, key: ctx.key, slot: ctx.slot.getTime() });
  const tenant = defineJob({ code: 'tenant', schedule: null, run: record });
  const own = defineJob({ code: 'own', schedule: '*/2 * * * * *', startAt: new Date(T), run: record });
  const scheduler = createScheduler({ jobs: [tenant, own], store: admin, clock });
  const schedules = scheduler.schedules('tenant');
  const keys = ['kept', 'disabled', 'removed', 'paused'];
  const definition = (key: string, enabled = true) => ({ key, schedule: '*/2 * * * * *', startAt: new Date(T), enabled });
  try {
    await schedules.upsert(keys.map((key) => definition(key)));
    daemon = createDaemon(
      { jobs: [tenant, own], store: daemonStore },
      { clock, logger: silentLogger, runnerId: `${kit.name}-held`, pollIntervalMs: 200, preClaimMs: 2_000 },
    );
    await daemon.ready;
    const d = daemon;

    // 1. Every schedule's slot T is claimed ahead (clock held at T − 1 s): five running runs.
    const claimed = await until(async () => {
      const running = [...(await allRuns(admin, 'tenant')), ...(await allRuns(admin, 'own'))].filter(
        (r) => r.status === 'running' && r.slotAt.getTime() === T,
      );
      return running.length === 5 ? running : undefined;
    }, 'slot T of five schedules to be pre-claimed');
    expect(claimed.every((r) => r.runnerId === `${kit.name}-held`)).toBe(true);

    // 2. Before the instant: disable, remove, pause (a runtime schedule and the job's own), and wait until the daemon holds it so.
    await schedules.upsert(definition('disabled', false));
    expect(await schedules.remove('removed')).toBe(true);
    await schedules.pause('paused', { note: 'maintenance' });
    await admin.setPaused({ code: 'own', key: '' }, true, { now: clock.now() });
    await until(() => {
      const held = (key: string, code = 'tenant') => d.loadedSchedule({ code, key });
      const honoured =
        held('disabled')?.enabled === false &&
        held('removed') === null &&
        held('paused')?.paused === true &&
        held('', 'own')?.paused === true;
      return honoured ? true : undefined;
    }, 'the daemon to hold the changes');

    // 3. The instant comes: only the untouched schedule runs.
    clock.release();
    const runsAtT = await until(async () => {
      const runs = [...(await allRuns(admin, 'tenant')), ...(await allRuns(admin, 'own'))].filter(
        (r) => r.slotAt.getTime() === T && r.attempt === 1,
      );
      return runs.length === 5 && runs.every((r) => r.status !== 'running') ? runs : undefined;
    }, 'the five runs of slot T to end');
    const at = (code: string, key: string) => runsAtT.find((r) => r.code === code && r.key === key) as RunRecord;
    expect(starts.filter((s) => s.slot === T)).toEqual([{ code: 'tenant', key: 'kept', slot: T }]);
    expect(at('tenant', 'kept')).toMatchObject({ status: 'succeeded', skipReason: null });
    expect(at('tenant', 'disabled')).toMatchObject({ status: 'skipped', skipReason: 'disabled', durationMs: 0, error: null });
    expect(at('tenant', 'disabled').message).toContain('disabled');
    expect(at('tenant', 'removed')).toMatchObject({ status: 'skipped', skipReason: 'disabled' });
    expect(at('tenant', 'removed').message).toContain('removed');
    expect(at('tenant', 'paused')).toMatchObject({ status: 'skipped', skipReason: 'paused' });
    expect(at('tenant', 'paused').message).toContain('maintenance');
    expect(at('own', '')).toMatchObject({ status: 'skipped', skipReason: 'paused' });
    // Not a failure: no streak; the skip is the state's last one.
    const [pausedState] = await admin.getStates([{ code: 'tenant', key: 'paused' }]);
    expect(pausedState).toMatchObject({ consecutiveFailures: 0, lastStatus: null, lastSkipReason: 'paused', totalRuns: 0 });
    expect(pausedState?.lastSkippedSlotAt?.getTime()).toBe(T);

    // 4. Nothing lost: enabled and resumed again, each runs a later slot (the skipped run holds no lease).
    await schedules.upsert(definition('disabled', true));
    await schedules.resume('paused');
    await admin.setPaused({ code: 'own', key: '' }, false, { now: clock.now() });
    await until(async () => {
      const ran = (runs: RunRecord[]) => runs.some((r) => r.slotAt.getTime() > T && r.status === 'succeeded');
      const done =
        ran(await allRuns(admin, 'tenant', 'disabled')) &&
        ran(await allRuns(admin, 'tenant', 'paused')) &&
        ran(await allRuns(admin, 'own', ''));
      return done ? true : undefined;
    }, 'a later slot of each re-enabled or resumed schedule to succeed');
    await d.stop();
    // Each slot started at most once, and the removed schedule never again.
    const ids = starts.map((s) => `${s.code}/${s.key}@${s.slot}`);
    expect(ids.length - new Set(ids).size).toBe(0);
    expect(starts.filter((s) => s.key === 'removed')).toEqual([]);
  } finally {
    await daemon?.stop();
    await daemonStore.close();
    await admin.close();
    await kit.teardown();
  }
}

describe('a slot claimed ahead whose schedule is paused, disabled or removed before its instant', () => {
  const kits: [string, () => StoreKit][] = [
    ['memory', memoryKit],
    ['redis', redisKit],
    ['postgresql', postgresKit],
    ['sqlite', sqliteKit],
  ];
  for (const [name, kit] of kits) {
    it(`is not run but recorded skipped with its reason, and the next slot runs once enabled again (${name})`, async () => {
      await scenario(kit());
    }, 90_000);
  }
});
