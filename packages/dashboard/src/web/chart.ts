import { s } from './dom.js';

const COLOURS: Record<string, string> = {
  succeeded: '#2e7d32',
  failed: '#c62828',
  timed_out: '#ef6c00',
  interrupted: '#6a1b9a',
  skipped: '#9e9e9e',
  running: '#1565c0',
};

/** Bars of run durations over time (oldest left), coloured by outcome; inline SVG. */
export function runChart(runs: any[]): SVGElement {
  const width = 720;
  const height = 120;
  const list = [...runs].reverse().slice(-100);
  const max = Math.max(1, ...list.map((r) => r.durationMs ?? 0));
  const step = list.length ? width / list.length : width;
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height + 16}`,
    role: 'img',
    'aria-label': `Durations and outcomes of the ${list.length} runs shown (longest ${max} ms)`,
    class: 'chart-svg',
  });
  list.forEach((run, i) => {
    const h = Math.max(2, ((run.durationMs ?? 0) / max) * height);
    svg.append(
      s(
        'rect',
        {
          x: (i * step + 1).toFixed(1),
          y: (height - h).toFixed(1),
          width: Math.max(1, step - 2).toFixed(1),
          height: h.toFixed(1),
          fill: COLOURS[run.status] ?? '#607d8b',
        },
        s('title', null, `${run.startedAt} ${run.status} ${run.durationMs ?? '—'} ms`),
      ),
    );
  });
  svg.append(
    s('text', { x: 0, y: height + 13, class: 'axis' }, list.length ? 'older' : 'no runs'),
    s('text', { x: width, y: height + 13, 'text-anchor': 'end', class: 'axis' }, `max ${max} ms · newer`),
  );
  return svg;
}
