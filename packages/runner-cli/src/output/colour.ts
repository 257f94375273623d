import type { OutputStream } from '../io.js';

/** Colour functions; identity when colours are off. */
export interface Palette {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const plain: Palette = { red: (t) => t, green: (t) => t, yellow: (t) => t, dim: (t) => t, bold: (t) => t };

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const ansi: Palette = { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };

/** Colours on a TTY only; `NO_COLOR` (any value) turns them off, `FORCE_COLOR` (not "0") on. */
export function paletteFor(stream: OutputStream, env: Readonly<Record<string, string | undefined>>): Palette {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return plain;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false' ? plain : ansi;
  return stream.isTTY ? ansi : plain;
}

/** The colour a run status or tick outcome is shown in. */
export function statusColour(palette: Palette, status: string): (text: string) => string {
  if (status === 'succeeded') return palette.green;
  if (status === 'failed' || status === 'timed_out' || status === 'interrupted') return palette.red;
  if (status === 'running' || status === 'would-run') return palette.bold;
  if (status === 'paused' || status === 'skipped' || status === 'taken') return palette.yellow;
  return palette.dim;
}
