import { describe, expect, it } from 'vitest';
import { backoffDelay, decideFailureMessage, parseRetryAfter, type StreakFacts } from '../src/index.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const HOUR = { everyMs: 3_600_000 };

function facts(n: number, failedMin: number, previousMin: number | null, threshold = 1, startMin: number | null = 0): StreakFacts {
  return {
    consecutiveFailures: n,
    failuresBeforeAlert: threshold,
    failedAt: at(failedMin),
    previousFailureAt: previousMin === null ? null : at(previousMin),
    streakStartedAt: startMin === null ? null : at(startMin),
  };
}

/** Every message a streak of failures at these minutes sends, as [failure number, kind/reminder]. */
function messages(minutes: readonly number[], rule: Parameters<typeof decideFailureMessage>[1], threshold = 1): [number, string][] {
  const sent: [number, string][] = [];
  minutes.forEach((minute, i) => {
    const decision = decideFailureMessage(
      facts(i + 1, minute, i === 0 ? null : (minutes[i - 1] as number), threshold, minutes[0] as number),
      rule,
    );
    if (decision) sent.push([i + 1, decision.kind === 'reminder' ? `reminder ${decision.reminder}` : decision.kind]);
  });
  return sent;
}

describe('the streak rule', () => {
  it('sends one message per streak without reminders', () => {
    expect(messages([0, 1, 2, 3, 200], null)).toEqual([[1, 'failure']]);
  });

  it('opens at the threshold, never before it', () => {
    expect(messages([0, 5, 10, 15], null, 3)).toEqual([[3, 'failure']]);
  });

  it('reminds at streak start + k · interval, once per due instant', () => {
    const everyFiveMinutes = Array.from({ length: 40 }, (_, i) => i * 5); // 0 … 195 min
    expect(messages(everyFiveMinutes, HOUR)).toEqual([
      [1, 'failure'],
      [13, 'reminder 1'],
      [25, 'reminder 2'],
      [37, 'reminder 3'],
    ]);
  });

  it('sends one reminder for failures further apart than the interval, not one per instant slept through', () => {
    expect(messages([0, 30, 250, 251, 400], HOUR)).toEqual([
      [1, 'failure'],
      [3, 'reminder 4'],
      [5, 'reminder 6'],
    ]);
  });

  it('times reminders from the first failure when the threshold opened the streak later', () => {
    expect(messages([0, 20, 40, 59, 61, 80, 121], HOUR, 3)).toEqual([
      [3, 'failure'],
      [5, 'reminder 1'],
      [7, 'reminder 2'],
    ]);
  });

  it('reminds every k failures after the opening', () => {
    expect(
      messages(
        Array.from({ length: 12 }, (_, i) => i),
        { everyFailures: 4 },
        2,
      ),
    ).toEqual([
      [2, 'failure'],
      [6, 'reminder 1'],
      [10, 'reminder 2'],
    ]);
  });

  it('sends no time reminder when the streak’s start or previous failure is unknown', () => {
    expect(decideFailureMessage(facts(5, 120, 119, 1, null), HOUR)).toBeNull();
    expect(decideFailureMessage(facts(5, 120, null, 1, 0), HOUR)).toBeNull();
    expect(decideFailureMessage(facts(5, 120, 59, 1, 0), HOUR)).toEqual({ kind: 'reminder', reminder: 2 });
  });
});

describe('retry timing', () => {
  it('doubles the delay up to the cap, with half of it random', () => {
    const delivery = { backoffMs: 1000, maxBackoffMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { ...delivery, random: () => 0 }))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { ...delivery, random: () => 0.999999 }))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-03-02T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 02 Mar 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 02 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
