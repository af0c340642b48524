import assert from 'node:assert/strict';
import { test } from 'node:test';
import Table from 'cli-table3';
import fc from 'fast-check';
import { renderTable } from '../../src/output/table.js';

// renderTable lays large tables out itself instead of through cli-table3 (see bench/RESULTS.md):
// it must stay byte-for-byte what cli-table3 printed before.
function viaCliTable3(headers: string[], rows: string[][], padding: number): string {
  const none = '';
  const chars = { top: none, 'top-mid': none, 'top-left': none, 'top-right': none, bottom: none, 'bottom-mid': none, 'bottom-left': none, 'bottom-right': none, left: none, 'left-mid': none, mid: none, 'mid-mid': none, right: none, 'right-mid': none, middle: none };
  const table = new Table({ head: headers, chars, style: { head: [], border: [], 'padding-left': 0, 'padding-right': padding, compact: true }, wordWrap: false });
  for (const row of rows) table.push(row);
  const text = table.toString();
  return text === '' ? '' : text.split('\n').map((l) => l.trimEnd()).join('\n') + '\n';
}

const ESC = '\u001b[';
const piece = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: fc.constantFrom(...'abcxyz-|.:/0123456789 *'.split('')), maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(`${ESC}31m`, `${ESC}32m`, `${ESC}39m`, `${ESC}1m`, `${ESC}22m`, `${ESC}4m`, `${ESC}24m`, `${ESC}0m`, `${ESC}m`, `${ESC}41m`, `${ESC}49m`, `${ESC}90m`, `${ESC}2m`, `${ESC}38;5;12m`, `${ESC}7m`, `${ESC}9m`) },
  { weight: 1, arbitrary: fc.constantFrom('é', '中文', '\t', ' ', '\n', '🙂') },
);
const cell = fc.array(piece, { maxLength: 4 }).map((xs) => xs.join(''));

test('renderTable is byte-for-byte what cli-table3 prints (random cells, colour, padding)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }).chain((cols) =>
        fc.tuple(
          fc.array(cell, { minLength: cols, maxLength: cols }),
          fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { maxLength: 6 }),
          fc.integer({ min: 0, max: 6 }),
        ),
      ),
      ([headers, rows, padding]) => {
        assert.equal(renderTable(headers, rows, { padding }), viaCliTable3(headers, rows, padding));
      },
    ),
    { numRuns: 400 },
  );
});

test('renderTable: a tab in a row whose last cell is empty is measured as cli-table3 does (regression: trimming hid it)', () => {
  const cases: Array<[string[], string[][], number]> = [
    [['', '', ''], [['', '', 'a'], ['', '\t', '']], 1],
    [['A', 'B'], [['x', 'y\t'], ['\t', '']], 3],
  ];
  for (const [headers, rows, padding] of cases) assert.equal(renderTable(headers, rows, { padding }), viaCliTable3(headers, rows, padding));
});

test('renderTable lays out a table of 20,000 rows like cli-table3 does (first rows compared)', () => {
  const rows = Array.from({ length: 20000 }, (_, i) => [`outbound|80|v${i % 3}|svc-${i}.ns.svc.cluster.local`, String(80 + (i % 7)), i % 2 ? '-' : `\u001b[32mv${i}\u001b[39m`]);
  const out = renderTable(['NAME', 'PORT', 'SUBSET'], rows);
  const lines = out.split('\n');
  assert.equal(lines.length, 20002);
  // column widths come from the longest cell anywhere in the table
  const head = viaCliTable3(['NAME', 'PORT', 'SUBSET'], rows.slice(0, 3), 5).split('\n')[0];
  assert.notEqual(lines[0], head);
  assert.equal(lines[0], 'NAME' + ' '.repeat(rows[19999][0].length + 1) + 'PORT     SUBSET');
});
