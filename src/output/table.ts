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
