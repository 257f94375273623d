import { describe, expect, it } from 'vitest';
import { clockFromEnv } from '../src/clock.js';
import { parseSince } from '../src/commands/logs.js';
import { paletteFor } from '../src/output/colour.js';
import { formatDuration, relativeTime } from '../src/output/relative-time.js';
import { renderTable } from '../src/output/table.js';

const now = new Date('2026-01-05T10:00:00Z');

describe('relative times', () => {
  it('says "in 3 min" for a future instant and "2 h ago" for a past one', () => {
    expect(relativeTime(new Date('2026-01-05T10:03:30Z'), now)).toBe('in 3 min');
    expect(relativeTime(new Date('2026-01-05T07:59:00Z'), now)).toBe('2 h ago');
    expect(relativeTime(new Date('2026-01-07T10:00:00Z'), now)).toBe('in 2 d');
    expect(relativeTime(new Date('2026-01-05T10:00:00.400Z'), now)).toBe('now');
    expect(relativeTime(new Date('2026-01-05T09:59:50Z'), now)).toBe('10 s ago');
  });

  it('formats durations for humans', () => {
    expect(formatDuration(340)).toBe('340 ms');
    expect(formatDuration(1_240)).toBe('1.2 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });
});

describe('tables', () => {
  it('aligns columns by their visible width, ignoring colour codes', () => {
    const palette = paletteFor({ write: () => true, isTTY: true }, {});
    const text = renderTable(
      [{ header: 'JOB' }, { header: 'N', align: 'right' }, { header: 'STATUS' }],
      [
        ['a', '1', palette.green('ok')],
        ['longer-code', '100', 'failed'],
      ],
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes this strips
    const plain = text.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
    expect(plain[0]).toBe('JOB            N  STATUS');
    expect(plain[1]).toBe('a              1  ok');
    expect(plain[2]).toBe('longer-code  100  failed');
  });
});

describe('colours', () => {
  const tty = { write: () => true, isTTY: true };
  const pipe = { write: () => true, isTTY: false };
  it('colours a TTY only, unless NO_COLOR or FORCE_COLOR say otherwise', () => {
    expect(paletteFor(tty, {}).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(paletteFor(pipe, {}).red('x')).toBe('x');
    expect(paletteFor(tty, { NO_COLOR: '1' }).red('x')).toBe('x');
    expect(paletteFor(pipe, { FORCE_COLOR: '1' }).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(paletteFor(tty, { FORCE_COLOR: '0' }).red('x')).toBe('x');
  });
});

describe('--since', () => {
  it('accepts an ISO instant or a duration ago', () => {
    expect(parseSince('2026-01-01T00:00:00Z', now).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseSince('2h', now).toISOString()).toBe('2026-01-05T08:00:00.000Z');
    expect(parseSince('1h30m', now).toISOString()).toBe('2026-01-05T08:30:00.000Z');
  });

  it('rejects anything else, naming the flag', () => {
    expect(() => parseSince('yesterday', now)).toThrow(/--since: "yesterday" is neither an ISO instant/);
    expect(() => parseSince('2026-13-45', now)).toThrow(/--since: "2026-13-45" is not a valid ISO instant/);
  });
});

describe('TICKWORK_NOW (test hook)', () => {
  it('fixes the clock at the given instant', () => {
    const clock = clockFromEnv({ TICKWORK_NOW: '2030-06-01T12:00:00Z' });
    expect(clock.now().toISOString()).toBe('2030-06-01T12:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2030-06-01T12:00:00.000Z');
  });

  it('uses the real clock without it and rejects a bad instant', () => {
    expect(Math.abs(clockFromEnv({}).now().getTime() - Date.now())).toBeLessThan(5_000);
    expect(() => clockFromEnv({ TICKWORK_NOW: 'soon' })).toThrow(/TICKWORK_NOW: "soon" is not an ISO instant/);
  });
});
