import { InvalidArgumentError, type RuntimeSchedule, type ScheduleRef } from '@tickwork/core';
import { PARTITION_COUNT, partitionOf, type SchedulePage, type StoreChange } from '@tickwork/core/store';
import { describe, expect, it } from 'vitest';
import { claimFor, instantAt, scheduleInput } from '../claim-for.js';
import type { StoreHarness } from '../fixture.js';
import { countBy, expectClaimed, waitUntil } from '../outcomes.js';

const tenant = (key: string): ScheduleRef => ({ code: 'report', key });
const refOf = (s: ScheduleRef) => ({ code: s.code, key: s.key });

/** Runtime schedules: upsert / remove / get / list, revisions, claims of removed or changed ones, change events. */
export function describeSchedules(h: StoreHarness): void {
  describe('runtime schedules', () => {
    it('upsert stores every field as given and creates a fresh state for the schedule', async () => {
      const input = scheduleInput(tenant('acme'), {
        schedule: { kind: 'daily', times: ['06:00', '18:30'], weekdays: [1, 2, 3], timezone: 'Europe/Paris' },
        timezone: 'America/New_York',
        payload: { tenant: 'acme', ids: [1, 2.5, -3], nested: { ok: true, none: null }, text: 'é ✓ 😀 "quoted" \\ back' },
        startAt: instantAt(60_000),
        expiresAt: instantAt(3_600_000),
        description: 'daily report for acme',
        options: { allowParallelRuns: true, timeoutMs: 30_000, jitterMs: 500, missedRunPolicy: { all: { withinMs: 600_000 } } },
      });
      const [stored] = await h.store.upsertSchedules([input], instantAt(1_000));
      expect(stored).toEqual({ ...input, version: stored?.version, createdAt: instantAt(1_000), updatedAt: instantAt(1_000) });
      expect(Number.isInteger(stored?.version)).toBe(true);
      expect(stored?.version).toBeGreaterThan(0);
      expect(await h.store.getSchedules([tenant('acme')])).toEqual([stored]);
      const [state] = await h.store.getStates([tenant('acme')]);
      expect(state).toMatchObject({
        code: 'report',
        key: 'acme',
        paused: false,
        lastSlotAt: null,
        totalRuns: 0,
        createdAt: instantAt(1_000),
      });
    });

    it('upserting the same definition again changes nothing: same version, updatedAt and revision', async () => {
      const [first] = await h.store.upsertSchedules(
        [scheduleInput(tenant('a'), { payload: { b: 1, a: [1, { y: 2, x: 1 }] } })],
        instantAt(0),
      );
      const revision = await h.store.schedulesRevision();
      // The same payload with its keys in another order is the same definition.
      const [again] = await h.store.upsertSchedules(
        [scheduleInput(tenant('a'), { payload: { a: [1, { x: 1, y: 2 }], b: 1 } })],
        instantAt(5_000),
      );
      expect(again).toEqual(first);
      expect(await h.store.schedulesRevision()).toBe(revision);
      expect((await h.store.listSchedules()).schedules).toHaveLength(1);
    });

    it('a changed definition gets a new, higher version and updatedAt; createdAt and the state are kept', async () => {
      const ref = tenant('acme');
      const [first] = await h.store.upsertSchedules([scheduleInput(ref)], instantAt(0));
      const [outcome] = await h.store.claimSlots([claimFor(ref, instantAt(60_000))], { runnerId: 'r', now: instantAt(60_000) });
      expectClaimed(outcome);
      const [changed] = await h.store.upsertSchedules(
        [scheduleInput(ref, { schedule: { kind: 'cron', expression: '0 * * * *' }, payload: { v: 2 } })],
        instantAt(90_000),
      );
      expect(changed?.version).toBeGreaterThan(first?.version as number);
      expect(changed).toMatchObject({ createdAt: instantAt(0), updatedAt: instantAt(90_000), payload: { v: 2 } });
      expect(changed?.schedule).toEqual({ kind: 'cron', expression: '0 * * * *' });
      const [state] = await h.store.getStates([ref]);
      expect(state?.lastSlotAt).toEqual(instantAt(60_000));
      expect(state?.totalRuns).toBe(1);
    });

    it('versions increase strictly over all schedules and are never reused after a removal', async () => {
      const versions: number[] = [];
      for (const key of ['a', 'b', 'c'])
        versions.push(((await h.store.upsertSchedules([scheduleInput(tenant(key))], instantAt(0)))[0] as RuntimeSchedule).version);
      await h.store.removeSchedules([tenant('c')]);
      const [recreated] = await h.store.upsertSchedules([scheduleInput(tenant('c'))], instantAt(1_000));
      versions.push(recreated?.version as number);
      const [changed] = await h.store.upsertSchedules([scheduleInput(tenant('a'), { enabled: false })], instantAt(2_000));
      versions.push(changed?.version as number);
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
      expect(new Set(versions).size).toBe(versions.length);
    });

    it('turning enabled back on sets the state resumedAt, so slots missed while disabled are not caught up', async () => {
      const ref = tenant('on-off');
      await h.store.upsertSchedules([scheduleInput(ref)], instantAt(0));
      await h.store.upsertSchedules([scheduleInput(ref, { enabled: false })], instantAt(10_000));
      expect((await h.store.getStates([ref]))[0]?.resumedAt).toBeNull();
      const [enabled] = await h.store.upsertSchedules([scheduleInput(ref, { enabled: true })], instantAt(20_000));
      expect((await h.store.getStates([ref]))[0]?.resumedAt).toEqual(instantAt(20_000));
      // The same instant as the definition's updatedAt: core tells slots passed over while disabled from paused ones by it.
      expect(enabled?.updatedAt).toEqual(instantAt(20_000));
    });

    it('getSchedules answers in request order and omits missing ones; key "" is refused', async () => {
      await h.store.upsertSchedules([scheduleInput(tenant('x')), scheduleInput({ code: 'other', key: 'y' })], instantAt(0));
      const found = await h.store.getSchedules([{ code: 'other', key: 'y' }, tenant('missing'), tenant('x')]);
      expect(found.map(refOf)).toEqual([{ code: 'other', key: 'y' }, tenant('x')]);
      expect(await h.store.getSchedules([])).toEqual([]);
      await expect(h.store.getSchedules([{ code: 'report', key: '' }])).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('listSchedules pages through every schedule ordered by code then key, optionally for one code', async () => {
      const refs = [
        ...Array.from({ length: 7 }, (_, i) => ({ code: 'b-job', key: `k${String(i).padStart(2, '0')}` })),
        ...Array.from({ length: 5 }, (_, i) => ({ code: 'a-job', key: `t-${i}` })),
        { code: 'a-job', key: 'T' },
        { code: 'a-job', key: 'a.b' },
      ];
      await h.store.upsertSchedules(
        refs.map((ref) => scheduleInput(ref)),
        instantAt(0),
      );
      const expected = [...refs].sort((x, y) => (x.code === y.code ? (x.key < y.key ? -1 : 1) : x.code < y.code ? -1 : 1));
      const all: ScheduleRef[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await h.store.listSchedules(cursor === null ? { limit: 4 } : { limit: 4, cursor });
        expect(page.schedules.length).toBeLessThanOrEqual(4);
        all.push(...page.schedules.map(refOf));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 100);
      expect(all).toEqual(expected);
      const onlyB = await h.store.listSchedules({ code: 'b-job', limit: 1000 });
      expect(onlyB.schedules.map(refOf)).toEqual(expected.filter((r) => r.code === 'b-job'));
      expect(onlyB.nextCursor).toBeNull();
      expect((await h.store.listSchedules({ code: 'nobody' })).schedules).toEqual([]);
    });

    it('listSchedules with partitions lists only theirs, by partition then code then key, page by page; the same as listing all and filtering', async () => {
      const refs = [
        ...Array.from({ length: 40 }, (_, i) => ({ code: 'a-job', key: `t-${i}` })),
        ...Array.from({ length: 30 }, (_, i) => ({ code: 'b-job', key: `k${i}` })),
      ];
      await h.store.upsertSchedules(
        refs.map((ref) => scheduleInput(ref)),
        instantAt(0),
      );
      const listed: ScheduleRef[] = [];
      let cursor: string | null = null;
      do {
        const page: SchedulePage = await h.store.listSchedules(cursor === null ? { limit: 1000 } : { limit: 1000, cursor });
        listed.push(...page.schedules.map(refOf));
        cursor = page.nextCursor;
      } while (cursor !== null);
      // Every other partition that holds one, one that holds none, given out of order.
      const used = [...new Set(refs.map((r) => partitionOf(r.code, r.key)))].sort((a, b) => a - b);
      const empty = Array.from({ length: PARTITION_COUNT }, (_, i) => i).find((p) => !used.includes(p)) as number;
      const wanted = [empty, ...used.filter((_, i) => i % 2 === 0)].reverse();
      const byPartition = (list: ScheduleRef[], code?: string) =>
        list
          .filter((r) => wanted.includes(partitionOf(r.code, r.key)) && (code === undefined || r.code === code))
          .map((r, i) => ({ r, i, p: partitionOf(r.code, r.key) }))
          .sort((x, y) => x.p - y.p || x.i - y.i)
          .map(({ r }) => r);
      const expected = byPartition(listed);
      expect(expected.length).toBeGreaterThan(10);
      expect(expected.length).toBeLessThan(refs.length);
      for (const code of [undefined, 'b-job']) {
        const got: ScheduleRef[] = [];
        const pages: number[] = [];
        cursor = null;
        do {
          const query = { partitions: wanted, limit: 4, ...(code ? { code } : {}), ...(cursor === null ? {} : { cursor }) };
          const page: SchedulePage = await h.store.listSchedules(query);
          pages.push(page.schedules.length);
          got.push(...page.schedules.map(refOf));
          cursor = page.nextCursor;
        } while (cursor !== null && pages.length < 100);
        expect(got, `code ${code}`).toEqual(byPartition(listed, code));
        // Full pages but the last.
        expect(
          pages.slice(0, -1).every((n) => n === 4),
          `pages ${pages}`,
        ).toBe(true);
      }
      const one = await h.store.listSchedules({ partitions: [used[1] as number], limit: 1000 });
      expect(one.schedules.map(refOf)).toEqual(listed.filter((r) => partitionOf(r.code, r.key) === used[1]));
      expect(one.nextCursor).toBeNull();
      expect(await h.store.listSchedules({ partitions: [], limit: 1000 })).toEqual({ schedules: [], nextCursor: null });
      expect(await h.store.listSchedules({ partitions: [empty] })).toEqual({ schedules: [], nextCursor: null });
      // A cursor of a partition not asked for continues with the later partitions asked for.
      const at = listed.findIndex((r) => !wanted.includes(partitionOf(r.code, r.key)));
      const skipped = listed[at] as ScheduleRef;
      const from = partitionOf(skipped.code, skipped.key);
      // The unfiltered list's cursor after it (opaque, but every store's cursor names the ref it continues after).
      const after = (await h.store.listSchedules({ limit: at + 1 })).nextCursor as string;
      const rest = await h.store.listSchedules({ partitions: wanted, limit: 1000, cursor: after });
      expect(rest.schedules.map(refOf)).toEqual(expected.filter((r) => partitionOf(r.code, r.key) > from));
    });

    it('listSchedules rejects a malformed cursor and a limit outside 1 … 1000', async () => {
      await expect(h.store.listSchedules({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(h.store.listSchedules({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(h.store.listSchedules({ limit: 1001 })).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('removeSchedules answers per ref whether it existed, and drops the state and pending requests', async () => {
      const gone = tenant('gone');
      const kept = tenant('kept');
      await h.store.upsertSchedules([scheduleInput(gone), scheduleInput(kept)], instantAt(0));
      await h.store.requestRun(gone, { now: instantAt(1) });
      const keptRequest = await h.store.requestRun(kept, { now: instantAt(2) });
      expect(await h.store.removeSchedules([gone, tenant('never')])).toEqual([true, false]);
      expect(await h.store.getSchedules([gone, kept])).toHaveLength(1);
      expect((await h.store.getStates([gone, kept])).map(refOf)).toEqual([kept]);
      expect(await h.store.pendingRunRequests()).toEqual([keptRequest]);
      expect(await h.store.removeSchedules([gone])).toEqual([false]);
      await expect(h.store.removeSchedules([{ code: 'report', key: '' }])).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('a schedule created again after its removal starts afresh', async () => {
      const ref = tenant('again');
      await h.store.upsertSchedules([scheduleInput(ref)], instantAt(0));
      expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(60_000))], { runnerId: 'r', now: instantAt(60_000) }))[0]);
      await h.store.removeSchedules([ref]);
      const [recreated] = await h.store.upsertSchedules([scheduleInput(ref)], instantAt(500_000));
      expect(recreated?.createdAt).toEqual(instantAt(500_000));
      const [state] = await h.store.getStates([ref]);
      expect(state).toMatchObject({ lastSlotAt: null, totalRuns: 0, createdAt: instantAt(500_000) });
    });

    it('schedulesRevision moves on every create, change and removal', async () => {
      const seen = [await h.store.schedulesRevision()];
      await h.store.upsertSchedules([scheduleInput(tenant('a'))], instantAt(0));
      seen.push(await h.store.schedulesRevision());
      await h.store.upsertSchedules([scheduleInput(tenant('a'), { payload: 1 })], instantAt(1));
      seen.push(await h.store.schedulesRevision());
      await h.store.upsertSchedules([scheduleInput(tenant('b'))], instantAt(2));
      seen.push(await h.store.schedulesRevision());
      await h.store.removeSchedules([tenant('a')]);
      seen.push(await h.store.schedulesRevision());
      // Remove one and create another: the count is back where it was, the revision is not.
      await h.store.removeSchedules([tenant('b')]);
      seen.push(await h.store.schedulesRevision());
      await h.store.upsertSchedules([scheduleInput(tenant('c'))], instantAt(3));
      seen.push(await h.store.schedulesRevision());
      expect(seen.every((r) => typeof r === 'string')).toBe(true);
      expect(new Set(seen).size).toBe(seen.length);
    });

    describe('claims of runtime schedules', () => {
      it('a missing, disabled or changed-since schedule answers unscheduled and nothing changes', async () => {
        const ref = tenant('c');
        const off = tenant('off');
        const [stored] = await h.store.upsertSchedules([scheduleInput(ref), scheduleInput(off, { enabled: false })], instantAt(0));
        const version = stored?.version as number;
        const outcomes = await h.store.claimSlots(
          [
            claimFor(tenant('missing'), instantAt(60_000)),
            claimFor(off, instantAt(60_000)),
            claimFor(ref, instantAt(60_000), { scheduleVersion: version + 1_000 }),
          ],
          { runnerId: 'r', now: instantAt(60_000) },
        );
        expect(outcomes).toEqual([{ status: 'unscheduled' }, { status: 'unscheduled' }, { status: 'unscheduled' }]);
        expect((await h.store.queryRuns()).runs).toEqual([]);
        expect(await h.store.getStates([tenant('missing')])).toEqual([]);
        expect((await h.store.getStates([ref]))[0]).toMatchObject({ lastSlotAt: null, totalRuns: 0 });
        const [claimed] = await h.store.claimSlots([claimFor(ref, instantAt(60_000), { scheduleVersion: version })], {
          runnerId: 'r',
          now: instantAt(60_000),
        });
        expect(expectClaimed(claimed).run).toMatchObject({ code: 'report', key: 'c' });
      });

      it('an already claimed slot of a removed schedule answers taken; a new slot unscheduled', async () => {
        const ref = tenant('t');
        await h.store.upsertSchedules([scheduleInput(ref)], instantAt(0));
        expectClaimed((await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(0) }))[0]);
        await h.store.removeSchedules([ref]);
        const outcomes = await h.store.claimSlots([claimFor(ref, instantAt(0)), claimFor(ref, instantAt(60_000))], {
          runnerId: 'q',
          now: instantAt(60_000),
        });
        expect(outcomes.map((o) => o.status)).toEqual(['taken', 'unscheduled']);
      });

      it('a run of a removed schedule finishes and is logged; its completion has no state and recreates none', async () => {
        const ref = tenant('removed-while-running');
        await h.store.upsertSchedules([scheduleInput(ref)], instantAt(0));
        const { run, lease } = expectClaimed(
          (await h.store.claimSlots([claimFor(ref, instantAt(0))], { runnerId: 'r', now: instantAt(0) }))[0],
        );
        await h.store.removeSchedules([ref]);
        const [renewed] = await h.store.renewLeases([lease], { now: instantAt(10_000), leaseMs: 60_000 });
        expect(renewed?.runId).toBe(run.id);
        const [done] = await h.store.completeRuns([
          { lease: renewed ?? lease, status: 'failed', finishedAt: instantAt(20_000), error: 'boom' },
        ]);
        expect(done).toMatchObject({ status: 'completed', state: null });
        expect(await h.store.getRun(run.id)).toMatchObject({ status: 'failed', error: 'boom', finishedAt: instantAt(20_000) });
        expect(await h.store.getStates([ref])).toEqual([]);
      });

      it('reaping an expired run of a removed schedule records it interrupted and recreates no state', async () => {
        const ref = tenant('reaped');
        await h.store.upsertSchedules([scheduleInput(ref)], instantAt(0));
        const { run } = expectClaimed(
          (await h.store.claimSlots([claimFor(ref, instantAt(0), { leaseMs: 1_000 })], { runnerId: 'dead', now: instantAt(0) }))[0],
        );
        await h.store.removeSchedules([ref]);
        const reaped = await h.store.reapExpired({ now: instantAt(5_000) });
        expect(reaped.map((r) => [r.run.id, r.run.status, r.state])).toEqual([[run.id, 'interrupted', null]]);
        expect(await h.store.getStates([ref])).toEqual([]);
        expect(await h.store.getStates()).toEqual([]);
      });

      it('racing a removal against claims from N instances: each claim is claimed (and logged) or unscheduled, never a state left behind', async () => {
        const ref = tenant('race');
        await h.store.upsertSchedules([scheduleInput(ref)], instantAt(0));
        const racers = await h.openMany(h.raceInstances);
        const [removed, ...answers] = await Promise.all([
          h.store.removeSchedules([ref]),
          ...racers.map((store, i) =>
            store.claimSlots([claimFor(ref, instantAt(i * 60_000))], { runnerId: `r${i}`, now: instantAt(i * 60_000) }),
          ),
        ]);
        expect(removed).toEqual([true]);
        const statuses = answers.map((a) => (a as { status: string }[])[0]?.status);
        expect(statuses.every((s) => s === 'claimed' || s === 'unscheduled' || s === 'overlap')).toBe(true);
        const logged = (await h.store.queryRuns({ limit: 1000 })).runs;
        expect(logged).toHaveLength(statuses.filter((s) => s !== 'unscheduled').length);
        expect(await h.store.getStates([ref])).toEqual([]);
        expect(await h.store.getSchedules([ref])).toEqual([]);
      });
    });

    describe('concurrency', () => {
      it('concurrent upserts of one key from N instances leave one schedule and one state', async () => {
        const racers = await h.openMany(h.raceInstances);
        const results = await Promise.all(
          racers.map((store, i) => store.upsertSchedules([scheduleInput(tenant('hot'), { payload: { writer: i } })], instantAt(i))),
        );
        const { schedules } = await h.store.listSchedules();
        expect(schedules).toHaveLength(1);
        const finalWriter = ((schedules[0] as RuntimeSchedule).payload as { writer: number }).writer;
        // The survivor is one of the writers' definitions, and it is the one with the highest version handed out.
        const versions = results.map((r) => (r[0] as RuntimeSchedule).version);
        expect(schedules[0]?.version).toBe(Math.max(...versions));
        expect(results.some((r) => ((r[0] as RuntimeSchedule).payload as { writer: number }).writer === finalWriter)).toBe(true);
        expect(await h.store.getStates()).toHaveLength(1);
      });

      it('concurrent upserts of the same definition store it once with one version', async () => {
        const racers = await h.openMany(h.raceInstances);
        const results = await Promise.all(racers.map((store) => store.upsertSchedules([scheduleInput(tenant('same'))], instantAt(0))));
        expect(countBy(results.map((r) => r[0]?.version)).size).toBe(1);
        expect((await h.store.listSchedules()).schedules).toHaveLength(1);
      });
    });

    describe('bad input changes nothing', () => {
      const cases: Array<[string, () => unknown[]]> = [
        ['a key twice in one call', () => [scheduleInput(tenant('dup')), scheduleInput(tenant('dup'), { payload: 2 })]],
        ['a key with a space', () => [scheduleInput(tenant('ok')), scheduleInput(tenant('has space'))]],
        ['a key with braces', () => [scheduleInput(tenant('{tag}'))]],
        ['an empty key', () => [scheduleInput(tenant(''))]],
        ['an empty code', () => [scheduleInput({ code: '', key: 'k' })]],
        ['a payload that is not JSON', () => [scheduleInput(tenant('ok')), { ...scheduleInput(tenant('fn')), payload: { run: () => 1 } }]],
        ['a payload over 64 KiB', () => [scheduleInput(tenant('big'), { payload: 'x'.repeat(70_000) })]],
        ['a schedule that is not a spec', () => [{ ...scheduleInput(tenant('s')), schedule: '* * * * *' }]],
        [
          'a schedule kind this version does not know',
          () => [scheduleInput(tenant('ok')), scheduleInput(tenant('k'), { schedule: { kind: 'lunar' } as never })],
        ],
        ['a malformed cron expression', () => [scheduleInput(tenant('c'), { schedule: { kind: 'cron', expression: '61 * * * *' } })]],
        ['a timezone that does not exist', () => [scheduleInput(tenant('z'), { timezone: 'Mars/Olympus' })]],
        ['enabled that is not a boolean', () => [{ ...scheduleInput(tenant('e')), enabled: 'yes' }]],
        ['an invalid startAt', () => [{ ...scheduleInput(tenant('d')), startAt: new Date(Number.NaN) }]],
        ['more than 1000 schedules', () => Array.from({ length: 1001 }, (_, i) => scheduleInput(tenant(`k${i}`)))],
      ];
      for (const [name, make] of cases) {
        it(`upsertSchedules rejects ${name} with InvalidArgumentError before storing any`, async () => {
          await h.store.upsertSchedules([scheduleInput(tenant('existing'))], instantAt(0));
          const revision = await h.store.schedulesRevision();
          await expect(h.store.upsertSchedules(make() as never, instantAt(1))).rejects.toBeInstanceOf(InvalidArgumentError);
          expect((await h.store.listSchedules()).schedules.map(refOf)).toEqual([tenant('existing')]);
          expect(await h.store.schedulesRevision()).toBe(revision);
          expect((await h.store.getStates()).map(refOf)).toEqual([tenant('existing')]);
        });
      }

      it('requestRun for a runtime schedule that does not exist is refused and files nothing', async () => {
        await expect(h.store.requestRun(tenant('nope'), { now: instantAt(0) })).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(await h.store.pendingRunRequests()).toEqual([]);
      });
    });

    describe('run-now requests by schedule', () => {
      it('pendingRunRequests filters by refs (and codes together) and honours its limit', async () => {
        const refs = [tenant('a'), tenant('b'), { code: 'other', key: 'a' }];
        await h.store.upsertSchedules(
          refs.map((ref) => scheduleInput(ref)),
          instantAt(0),
        );
        const made = [];
        for (const [i, ref] of [...refs, tenant('a'), { code: 'report', key: '' }].entries())
          made.push(await h.store.requestRun(ref, { now: instantAt(i) }));
        expect(await h.store.pendingRunRequests({ limit: 2 })).toEqual(made.slice(0, 2));
        expect(await h.store.pendingRunRequests({ refs: [tenant('a'), { code: 'report', key: '' }] })).toEqual([made[0], made[3], made[4]]);
        expect(await h.store.pendingRunRequests({ refs: [tenant('a'), { code: 'report', key: '' }], limit: 2 })).toEqual([
          made[0],
          made[3],
        ]);
        expect(await h.store.pendingRunRequests({ refs: [tenant('b')], codes: ['other'] })).toEqual([]);
        expect(await h.store.pendingRunRequests({ refs: [] })).toEqual([]);
        expect(await h.store.pendingRunRequests()).toEqual(made);
      });
    });

    describe('change events', () => {
      it('created, changed and removed schedules reach subscribers (or the next read); an unchanged upsert emits nothing', async () => {
        const reader = await h.open();
        const received: StoreChange[] = [];
        const unsubscribe = reader.subscribe ? await reader.subscribe((change) => received.push(change)) : null;
        await h.store.upsertSchedules([scheduleInput(tenant('quiet'))], instantAt(0));
        await h.store.upsertSchedules([scheduleInput(tenant('changed'))], instantAt(0));
        if (unsubscribe) {
          expect(await waitUntil(() => received.filter((c) => c.type === 'schedule').length >= 2)).toBe(true);
          received.length = 0;
        }
        await h.store.upsertSchedules([scheduleInput(tenant('quiet'))], instantAt(1)); // unchanged
        await h.store.upsertSchedules([scheduleInput(tenant('changed'), { payload: 'v2' })], instantAt(2));
        await h.store.removeSchedules([tenant('changed')]);
        if (unsubscribe) {
          const both = () => received.filter((c) => c.type === 'schedule' && c.key === 'changed').length >= 2;
          expect(await waitUntil(both), `received ${JSON.stringify(received)}`).toBe(true);
          // The unchanged upsert came first: had it emitted, its event would have arrived before these.
          expect(received.filter((c) => c.key === 'quiet')).toEqual([]);
          expect(received).toEqual([
            { type: 'schedule', code: 'report', key: 'changed' },
            { type: 'schedule', code: 'report', key: 'changed' },
          ]);
          await unsubscribe();
        }
        expect((await reader.listSchedules()).schedules.map(refOf)).toEqual([tenant('quiet')]);
      });
    });
  });
}
