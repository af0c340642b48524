import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { goSortSlice, goSortStrict } from '../../src/envoy/gosort.js';
import { fixture } from '../helpers.js';

/**
 * Orders produced by a real Go toolchain (go1.19, fixtures/envoy/gosort/main.go) for inputs full of ties,
 * plus istioctl's inconsistent route-name comparator: meshctl must put rows in exactly that order.
 */
type Item = { k: string; id: number };
const cases = JSON.parse(readFileSync(fixture('envoy', 'gosort', 'cases.json'), 'utf8')) as Item[][];
const want = JSON.parse(readFileSync(fixture('envoy', 'gosort', 'go1.19-sorted.json'), 'utf8')) as number[][];

const byKey = (a: Item, b: Item) => a.k < b.k;
const atoi = (s: string) => (/^[+-]?\d+$/.test(s) ? Number(s) : undefined);
const routeLess = (a: Item, b: Item) => {
  const x = atoi(a.k);
  const y = atoi(b.k);
  return x !== undefined && y !== undefined && x < y;
};

test('goSortSlice reproduces Go sort.Slice exactly, ties and inconsistent comparators included', () => {
  assert.equal(cases.length, want.length);
  cases.forEach((c, i) => {
    const got = goSortSlice(c.slice(), i % 2 === 0 ? byKey : routeLess, { xorshift: 'go1.19' }).map((x) => x.id);
    assert.deepEqual(got, want[i], `case ${i} (${c.length} items)`);
  });
});

test('goSortStrict gives goSortSlice results for strict weak orderings, fast path or not', () => {
  cases.forEach((c, i) => {
    if (i % 2 === 1) return; // the route comparator is not a strict weak ordering
    const a = goSortSlice(c.slice(), byKey).map((x) => x.id);
    const b = goSortStrict(c.slice(), byKey).map((x) => x.id);
    assert.deepEqual(b, a, `case ${i}`);
  });
  // with a compare that agrees with less: the same order, ties or not
  const compare = (a: Item, b: Item) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
  cases.forEach((c, i) => {
    if (i % 2 === 1) return;
    assert.deepEqual(goSortStrict(c.slice(), byKey, compare).map((x) => x.id), goSortSlice(c.slice(), byKey).map((x) => x.id), `case ${i} with compare`);
  });
  // all-distinct keys take the engine-sort path
  const distinct = Array.from({ length: 500 }, (_, id) => ({ k: `k${(id * 7919) % 500}`, id }));
  assert.deepEqual(goSortStrict(distinct.slice(), byKey), goSortSlice(distinct.slice(), byKey));
  assert.deepEqual(goSortStrict(distinct.slice(), byKey, compare), goSortSlice(distinct.slice(), byKey));
});
