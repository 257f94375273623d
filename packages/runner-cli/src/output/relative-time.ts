const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1_000],
];

/** "in 3 min", "2 h ago", "now" (under a second): `instant` relative to `now`, largest whole unit. */
export function relativeTime(instant: Date, now: Date): string {
  const delta = instant.getTime() - now.getTime();
  const abs = Math.abs(delta);
  if (abs < 1_000) return 'now';
  const [unit, size] = UNITS.find(([, ms]) => abs >= ms) ?? ['s', 1_000];
  const amount = Math.floor(abs / size);
  return delta > 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
}

/** "1.2 s", "340 ms", "2 min 5 s": a duration for humans. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1_000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/** "2026-01-05 10:00:00Z": a compact UTC instant for tables. */
export function formatInstant(instant: Date): string {
  return instant
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$/, 'Z')
    .replace(/\.(\d{3})Z$/, '.$1Z');
}
