import { createRequire } from 'node:module';
import type CliTable3 from 'cli-table3';

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
 *
 * cli-table3 takes minutes on the tens of thousands of rows of a large mesh's dump, so tables of
 * single-line printable-ASCII cells (with or without colour) are laid out here, byte for byte as
 * cli-table3 would; anything else (wide or combining characters, multi-line cells, ragged rows) still
 * goes to cli-table3.
 */
export function renderTable(headers: string[], rows: string[][], options: TableOptions = {}): string {
  const padding = options.padding ?? 5;
  return renderPlain(headers, rows, padding) ?? renderFast(headers, rows, padding) ?? renderWithCliTable(headers, rows, padding);
}

function renderWithCliTable(headers: string[], rows: string[][], padding: number): string {
  const Table = createRequire(import.meta.url)('cli-table3') as typeof CliTable3;
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

// the SGR sequences cli-table3 recognises, and the cells whose width is their length
const SGR = /\u001b\[((?:\d*;){0,5}\d*)m/g;
const PRINTABLE = /^[\x20-\x7e]*$/;
const NOT_PLAIN = /[^\x20-\x7e\n]/;

/**
 * The common case, a table of plain printable-ASCII cells, in as few steps per cell as possible (a
 * large mesh's tables have ~100,000 cells, laid out once, mostly before V8 has optimised this code):
 * widths, then each line, then one check of the whole text. A table that is not all printable ASCII
 * (colour, other characters, a line break in a cell) goes to renderFast. The work per row is in small
 * functions of its own: V8 optimises a small function once, quickly, and for every table, where
 * optimising the whole loop (on-stack replacement) took longer than the loop itself.
 */
function renderPlain(headers: string[], rows: string[][], padding: number): string | null {
  const n = headers.length;
  if (n === 0 || padding < 1) return null;
  const widths = new Array<number>(n).fill(0);
  widen(widths, headers);
  for (let r = 0; r < rows.length; r++) if (!widen(widths, rows[r])) return null;
  // pads[k]: k spaces, so a cell's padding is a lookup, not a new string
  const pads: string[] = [''];
  for (let k = 1, max = Math.max(...widths) + padding; k <= max; k++) pads.push(pads[k - 1] + ' ');
  const lines = new Array<string>(rows.length + 1);
  lines[0] = plainLine(headers, widths, pads, padding);
  for (let r = 0; r < rows.length; r++) lines[r + 1] = plainLine(rows[r], widths, pads, padding);
  // checked once on the whole text: printable ASCII and line breaks only, and no line break but
  // those between the lines (a cell with a line break is a multi-line row, for renderFast)
  const text = lines.join('\n');
  if (NOT_PLAIN.test(text)) return null;
  let breaks = 0;
  for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) breaks++;
  return breaks === rows.length ? text + '\n' : null;
}

/** Widths grown to fit a row's cells; false for a row with another number of cells. */
function widen(widths: number[], row: string[]): boolean {
  const n = widths.length;
  if (row.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const len = (row[i] ?? '').length;
    if (len > widths[i]) widths[i] = len;
  }
  return true;
}

function plainLine(row: string[], widths: number[], pads: string[], padding: number): string {
  const last = widths.length - 1;
  let line = '';
  for (let i = 0; i < last; i++) {
    const cell = row[i] ?? '';
    line += cell + pads[widths[i] + padding - cell.length];
  }
  const end = row[last] ?? '';
  line += end;
  // cli-table3's lines are trimmed at the end: only an empty last cell (the padding before it) or
  // one ending in a space leaves spaces there; looking at the cell spares flattening the line
  // Only spaces are trimmed here: trimEnd would also drop a trailing tab (or other whitespace) of a
  // cell, which the whole-text check must see to send the table to the slower paths.
  return end.length === 0 || end.charCodeAt(end.length - 1) === 32 ? trimSpaces(line) : line;
}

function trimSpaces(line: string): string {
  let e = line.length;
  while (e > 0 && line.charCodeAt(e - 1) === 32) e--;
  return e === line.length ? line : line.slice(0, e);
}

function renderFast(headers: string[], rows: string[][], padding: number): string | null {
  // cli-table3 drops lines that come out empty, which only padding 0 makes possible
  if (headers.length === 0 || padding < 1) return null;
  const n = headers.length;
  const widths = new Array<number>(n).fill(0);
  const table: string[][] = [];
  const lengths: number[][] = [];
  for (const row of [headers, ...rows]) {
    if (row.length !== n) return null;
    const texts = new Array<string>(n);
    const lens = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const cell = row[i] ?? '';
      let text = cell;
      let len = cell.length;
      if (cell.includes('\u001b')) {
        const visible = cell.replace(SGR, '');
        if (!PRINTABLE.test(visible)) return null;
        text = closeStyles(cell);
        len = visible.length;
      } else if (!PRINTABLE.test(cell)) {
        return null;
      }
      texts[i] = text;
      lens[i] = len;
      if (len > widths[i]) widths[i] = len;
    }
    table.push(texts);
    lengths.push(lens);
  }
  const spaces = ' '.repeat(Math.max(...widths) + padding);
  const lines = new Array<string>(table.length);
  for (let r = 0; r < table.length; r++) {
    let line = '';
    const texts = table[r];
    const lens = lengths[r];
    for (let i = 0; i < n; i++) line += texts[i] + spaces.slice(0, widths[i] + padding - lens[i]);
    lines[r] = line.trimEnd();
  }
  return lines.join('\n') + '\n';
}

const STYLE_OFF: Record<string, [name: string, on: boolean]> = {
  '\u001b[1m': ['bold', true], '\u001b[22m': ['bold', false],
  '\u001b[3m': ['italics', true], '\u001b[23m': ['italics', false],
  '\u001b[4m': ['underline', true], '\u001b[24m': ['underline', false],
  '\u001b[7m': ['inverse', true], '\u001b[27m': ['inverse', false],
  '\u001b[9m': ['strikethrough', true], '\u001b[29m': ['strikethrough', false],
};
const OFF_CODE: Record<string, string> = { bold: '\u001b[22m', italics: '\u001b[23m', underline: '\u001b[24m', inverse: '\u001b[27m', strikethrough: '\u001b[29m' };

/** What cli-table3 does to a one-line cell: styles left open at its end are closed there. */
function closeStyles(cell: string): string {
  const flags = new Map<string, boolean>();
  let fg = '';
  let bg = '';
  for (const m of cell.matchAll(SGR)) {
    const code = m[1] ? parseInt(m[1].split(';')[0], 10) : 0;
    if ((code >= 30 && code <= 39) || (code >= 90 && code <= 97)) fg = m[0];
    else if ((code >= 40 && code <= 49) || (code >= 100 && code <= 107)) bg = m[0];
    else if (code === 0) {
      flags.clear();
      fg = bg = '';
    } else {
      const style = STYLE_OFF[m[0]];
      if (style) {
        // cli-table3 keeps its state in an object: a key keeps its place unless deleted
        flags.set(style[0], style[1]);
      }
    }
  }
  let out = cell;
  for (const [name, on] of flags) if (on) out += OFF_CODE[name];
  if (bg && bg !== '\u001b[49m') out += '\u001b[49m';
  if (fg && fg !== '\u001b[39m') out += '\u001b[39m';
  return out;
}
