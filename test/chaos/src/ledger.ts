import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One line a chaos handler appended to its process's ledger file. */
export interface LedgerEntry {
  event: 'start' | 'end';
  code: string;
  /** Slot instant, epoch ms. */
  slot: number;
  attempt: number;
  runId: string;
  runner: string;
  pid: number;
  /** When the line was written, epoch ms. */
  at: number;
  aborted?: boolean;
}

/** Every entry of every ledger file in `dir` (a torn last line of a SIGKILLed process is dropped). */
export function readLedger(dir: string): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ndjson'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        entries.push(JSON.parse(line) as LedgerEntry);
      } catch {
        // A process killed mid-append leaves a partial line; it is not a start we can count.
      }
    }
  }
  return entries;
}

/** The ledger compared with the slots the schedule defines. */
export interface Verdict {
  /** Slots expected in the window (jobs × instants). */
  slots: number;
  /** Handler starts seen in the window. */
  starts: number;
  /** (job, slot, attempt) started more than once: always a bug. */
  duplicates: number;
  /** Expected slots with no start at all. */
  misses: number;
  /** Which slots those were. */
  missed: Array<{ code: string; slot: number }>;
  /** Starts with attempt > 1. */
  retries: number;
  /** Start lateness (start − slot) in ms. */
  lateP50: number;
  lateP99: number;
  lateMax: number;
  /** Most handlers of one job running at the same time. */
  maxConcurrentPerJob: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Compares ledger starts with every-`stepMs` slots of `codes` in (from, to]. */
export function judge(entries: readonly LedgerEntry[], codes: readonly string[], from: number, to: number, stepMs = 1000): Verdict {
  const starts = entries.filter((e) => e.event === 'start' && e.slot > from && e.slot <= to);
  const seen = new Map<string, number>();
  for (const s of starts) seen.set(`${s.code}|${s.slot}|${s.attempt}`, (seen.get(`${s.code}|${s.slot}|${s.attempt}`) ?? 0) + 1);
  let duplicates = 0;
  for (const count of seen.values()) if (count > 1) duplicates += count - 1;
  const slotsStarted = new Set(starts.map((s) => `${s.code}|${s.slot}`));
  let slots = 0;
  const missed: Array<{ code: string; slot: number }> = [];
  for (const code of codes) {
    for (let slot = Math.floor(from / stepMs) * stepMs + stepMs; slot <= to; slot += stepMs) {
      if (slot <= from) continue;
      slots++;
      if (!slotsStarted.has(`${code}|${slot}`)) missed.push({ code, slot });
    }
  }
  const late = starts.map((s) => s.at - s.slot).sort((a, b) => a - b);
  return {
    slots,
    starts: starts.length,
    duplicates,
    misses: missed.length,
    missed,
    retries: starts.filter((s) => s.attempt > 1).length,
    lateP50: percentile(late, 50),
    lateP99: percentile(late, 99),
    lateMax: late.at(-1) ?? 0,
    maxConcurrentPerJob: maxConcurrent(entries),
  };
}

/** Most runs of one job whose [start, end] intervals overlap (a run without an end counts until its process's last line). */
function maxConcurrent(entries: readonly LedgerEntry[]): number {
  const ends = new Map<string, number>();
  for (const e of entries) if (e.event === 'end') ends.set(e.runId, e.at);
  const lastLine = new Map<number, number>();
  for (const e of entries) lastLine.set(e.pid, Math.max(lastLine.get(e.pid) ?? 0, e.at));
  const byCode = new Map<string, Array<[number, number]>>();
  for (const e of entries) {
    if (e.event !== 'start') continue;
    const end = ends.get(e.runId) ?? lastLine.get(e.pid) ?? e.at;
    const list = byCode.get(e.code) ?? [];
    list.push([e.at, end]);
    byCode.set(e.code, list);
  }
  let max = 0;
  for (const list of byCode.values()) {
    const points = list
      .flatMap(
        ([a, b]): Array<[number, number]> => [
          [a, 1],
          [b, -1],
        ],
      )
      .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let current = 0;
    for (const [, delta] of points) {
      current += delta;
      max = Math.max(max, current);
    }
  }
  return max;
}
