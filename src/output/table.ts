import Table from 'cli-table3';

export interface TableOptions {
  /** Spaces between columns; istioctl uses Go's tabwriter with padding 5 for most tables, 1 for listeners. */
  padding?: number;
}

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '',
};

/**
 * A borderless, left-aligned table as istioctl prints them (header row, then rows), each line without
 * trailing spaces and ending in a newline. Cells may carry ANSI colour: widths are measured without it.
 */
export function renderTable(headers: string[], rows: string[][], options: TableOptions = {}): string {
  const padding = options.padding ?? 5;
  return renderPlain(headers, rows, padding) ?? renderWithCliTable(headers, rows, padding);
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * Fast path for the common case (printable ASCII, optionally ANSI-coloured): one pass to measure, one
 * to write. Tables of a 10,000-service mesh have hundreds of thousands of cells. Returns undefined
 * for cells needing Unicode width rules or multi-line layout, which cli-table3 handles.
 */
function renderPlain(headers: string[], rows: string[][], padding: number): string | undefined {
  const all = [headers, ...rows];
  const widths: number[] = [];
  const cellWidth = (cell: string): number | undefined => {
    let w = cell.length;
    let hasEscape = false;
    for (let i = 0; i < cell.length; i++) {
      const c = cell.charCodeAt(i);
      if (c === 0x1b) hasEscape = true;
      else if (c < 0x20 || c > 0x7e) return undefined;
    }
    if (hasEscape) w = cell.replace(ANSI, '').length;
    return w;
  };
  const measured: number[][] = new Array(all.length);
  for (let r = 0; r < all.length; r++) {
    const row = all[r];
    const m: number[] = new Array(row.length);
    for (let c = 0; c < row.length; c++) {
      const w = cellWidth(row[c] ?? '');
      if (w === undefined) return undefined;
      m[c] = w;
      if (widths[c] === undefined || w > widths[c]) widths[c] = w;
    }
    measured[r] = m;
  }
  if (all.length === 1 && headers.length === 0) return '';
  const lines: string[] = new Array(all.length);
  for (let r = 0; r < all.length; r++) {
    const row = all[r];
    let line = '';
    const last = row.length - 1;
    for (let c = 0; c <= last; c++) {
      const cell = row[c] ?? '';
      line += c === last ? cell : cell + ' '.repeat(widths[c] - measured[r][c] + padding);
    }
    lines[r] = line.trimEnd();
  }
  return lines.join('\n') + '\n';
}

function renderWithCliTable(headers: string[], rows: string[][], padding: number): string {
  const table = new Table({
    head: headers,
    chars: NO_BORDER,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': padding, compact: true },
    wordWrap: false,
  });
  for (const row of rows) table.push(row.map((c) => c ?? ''));
  const text = table.toString();
  if (text === '') return '';
  return text.split('\n').map((line) => line.trimEnd()).join('\n') + '\n';
}
