import { compileSchedule, previousSlot } from '@tickwork/core/schedule';
import { describe, expect, it } from 'vitest';
import { compareZone, ORACLE_CASES, ORACLE_ZONES, oracleSlots, transitionsBetween } from '../src/dst-oracle.js';
import { seededRandom } from '../src/seeded-random.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = Date.UTC(2016, 0, 1);
const TO = Date.UTC(2026, 0, 1);
const SEED = Number(process.env.TICKWORK_CHAOS_SEED ?? 20260308);

describe('the DST oracle itself', () => {
  it('reproduces the worked New York example of docs/schedules.md (gap → 07:00Z once, fall-back first occurrence)', () => {
    const cases = ORACLE_CASES.filter((c) => c.label === 'cron 15 1,2,3 * * *' || c.label === 'cron 30 * * * *');
    const spring = oracleSlots('America/New_York', cases, Date.parse('2026-03-08T05:00:00Z'), Date.parse('2026-03-08T08:00:00Z'));
    expect(spring.map((list) => list.map((t) => new Date(t).toISOString().slice(11, 16)))).toEqual([
      ['06:15', '07:00', '07:15'],
      ['05:30', '06:30', '07:30'],
    ]);
    const fall = oracleSlots('America/New_York', cases, Date.parse('2026-11-01T04:00:00Z'), Date.parse('2026-11-01T08:30:00Z'));
    expect(fall.map((list) => list.map((t) => new Date(t).toISOString().slice(11, 16)))).toEqual([
      ['05:15', '07:15', '08:15'],
      ['04:30', '05:30', '06:30', '07:30', '08:30'],
    ]);
  });

  it('tells a wrong DST rule apart: reading fixed-time schedules as real-time makes core disagree', () => {
    const mutated = ORACLE_CASES.map((c) => (c.rule === 'fixed-time' ? { ...c, rule: 'real-time' as const } : c));
    const verdict = compareZone('America/New_York', Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1), mutated);
    expect(verdict.mismatches.map((m) => m.schedule)).toContain('cron 30 2 * * *');
  });

  it('applies DST policies from their definition: core compiled without the cases’ policies disagrees on each', () => {
    const policyCases = ORACLE_CASES.filter((c) => c.dst !== undefined);
    expect(policyCases.length).toBeGreaterThanOrEqual(4);
    expect(compareZone('America/New_York', Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1), policyCases).mismatches).toEqual([]);
    const withoutPolicy = policyCases.map((c) => {
      const spec: Record<string, unknown> = { ...c.spec };
      delete spec.dst;
      return { ...c, spec: spec as unknown as typeof c.spec };
    });
    const verdict = compareZone('America/New_York', Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1), withoutPolicy);
    expect(verdict.mismatches.map((m) => m.schedule).sort()).toEqual(policyCases.map((c) => c.label).sort());
  });

  it('finds the 2-hour Antarctica/Troll and 30-minute Lord Howe transitions', () => {
    const troll = transitionsBetween('Antarctica/Troll', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
    expect(troll.map((t) => new Date(t).toISOString())).toEqual(['2025-03-30T01:00:00.000Z', '2025-10-26T01:00:00.000Z']);
    const lordHowe = transitionsBetween('Australia/Lord_Howe', Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1));
    expect(lordHowe.map((t) => new Date(t).toISOString())).toEqual(['2026-04-04T15:00:00.000Z', '2026-10-03T15:30:00.000Z']);
  });
});

describe('core agrees with the brute-force oracle around DST transitions (seeded sample of 2016–2025)', () => {
  const random = seededRandom(SEED);
  for (const zone of ORACLE_ZONES) {
    it(`${zone}: 0 mismatches in sampled windows around transitions and at random`, () => {
      const transitions = transitionsBetween(zone, FROM, TO);
      expect(transitions.length).toBeGreaterThan(0);
      const windows: Array<[number, number]> = [];
      for (let k = 0; k < 3; k++) {
        const t = transitions[Math.floor(random() * transitions.length)] as number;
        windows.push([t - 36 * HOUR, t + 36 * HOUR]);
      }
      const anywhere = FROM + Math.floor((random() * (TO - FROM)) / HOUR) * HOUR;
      windows.push([anywhere, anywhere + 2 * DAY]);
      let slots = 0;
      for (const [from, to] of windows) {
        const verdict = compareZone(zone, from, to);
        expect(verdict.mismatches, `seed ${SEED}, window ${new Date(from).toISOString()}`).toEqual([]);
        slots += verdict.slots;
      }
      expect(slots).toBeGreaterThan(100);
    });
  }

  it('Pacific/Apia: the skipped day 2011-12-30 runs each fixed-time schedule once, as the oracle says', () => {
    const verdict = compareZone('Pacific/Apia', Date.UTC(2011, 11, 28), Date.UTC(2012, 0, 2));
    expect(verdict.mismatches).toEqual([]);
  });

  it('previousSlot agrees with the oracle right after transitions', () => {
    for (const zone of ['Australia/Lord_Howe', 'Antarctica/Troll', 'America/Santiago', 'Europe/London']) {
      for (const t of transitionsBetween(zone, Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1))) {
        const expected = oracleSlots(zone, ORACLE_CASES, t - 3 * DAY, t + HOUR);
        ORACLE_CASES.forEach((c, i) => {
          const list = expected[i] as number[];
          const got = previousSlot(compileSchedule(c.spec, { timezone: zone }), new Date(t + HOUR), new Date(t - 3 * DAY));
          expect(got?.getTime() ?? null, `${zone} ${c.label} before ${new Date(t + HOUR).toISOString()}`).toBe(list.at(-1) ?? null);
        });
      }
    }
  });
});
