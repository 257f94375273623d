/** A table column: header and alignment. */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

// Escape sequences take no room on screen, so widths are measured without them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes this strips
const ANSI = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/** Renders rows as an aligned plain-text table (two spaces between columns, no trailing blanks). */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) => Math.max(visibleLength(column.header), ...rows.map((row) => visibleLength(row[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(cell));
        return column.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n') + '\n';
}
