import { createRequire } from 'node:module';
import type TableType from 'cli-table3';

// cli-table3 is loaded only for tables the fast path cannot lay out (start-up time matters)
const requireCjs = createRequire(import.meta.url);

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
// eslint-disable-next-line no-control-regex
const NOT_PLAIN = /[^\x20-\x7e]/;
// eslint-disable-next-line no-control-regex
const NOT_PLAIN_OR_ESC = /[^\x20-\x7e\u001b]/;

/**
 * Fast path for the common case (printable ASCII, optionally ANSI-coloured): one pass to measure, one
 * to write. Tables of a 10,000-service mesh have hundreds of thousands of cells. Returns undefined
 * for cells needing Unicode width rules or multi-line layout, which cli-table3 handles.
 */
function renderPlain(headers: string[], rows: string[][], padding: number): string | undefined {
  if (headers.length === 0 && rows.length === 0) return '';
  const widths: number[] = [];
  let coloured = false;
  const measure = (row: string[]): boolean => {
    for (let c = 0; c < row.length; c++) {
      const cell = row[c] ?? '';
      let w = cell.length;
      if (NOT_PLAIN.test(cell)) {
        if (NOT_PLAIN_OR_ESC.test(cell)) return false;
        coloured = true;
        w = cell.replace(ANSI, '').length;
      }
      if (widths[c] === undefined || w > widths[c]) widths[c] = w;
    }
    return true;
  };
  if (!measure(headers)) return undefined;
  for (let r = 0; r < rows.length; r++) if (!measure(rows[r])) return undefined;
  const width = coloured ? (cell: string) => cell.replace(ANSI, '').length : (cell: string) => cell.length;
  const pads = widths.map((w) => ' '.repeat(w + padding));
  const line = (row: string[]): string => {
    let out = '';
    const last = row.length - 1;
    for (let c = 0; c < last; c++) {
      const cell = row[c] ?? '';
      out += cell + pads[c].slice(width(cell));
    }
    out += row[last] ?? '';
    return out.trimEnd();
  };
  const lines: string[] = new Array(rows.length + 1);
  lines[0] = line(headers);
  for (let r = 0; r < rows.length; r++) lines[r + 1] = line(rows[r]);
  return lines.join('\n') + '\n';
}

function renderWithCliTable(headers: string[], rows: string[][], padding: number): string {
  const Table = requireCjs('cli-table3') as typeof TableType;
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
