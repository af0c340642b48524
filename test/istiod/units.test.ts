import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { unifiedDiff } from '../../src/istiod/diff.js';
import { statusRow, xdsStatus } from '../../src/istiod/syncz.js';
import { fanout, stderrProgress } from '../../src/kube/fanout.js';

test('xDS status words as istioctl prints them', () => {
  assert.equal(xdsStatus(undefined, undefined), 'NOT SENT');
  assert.equal(xdsStatus('a', 'a'), 'SYNCED');
  assert.equal(xdsStatus('a', undefined), 'STALE (Never Acknowledged)');
  assert.equal(xdsStatus('b', 'a'), 'STALE');
  const legacy = statusRow({ proxy: 'p.ns', cluster_sent: 'x', cluster_acked: 'x', proxy_version: '1.1.0' }, 'istiod-1');
  assert.deepEqual([legacy.cds, legacy.lds, legacy.ecds, legacy.version], ['SYNCED', 'NOT SENT', 'NOT SENT', '1.1.0*']);
  const watched = statusRow({ proxy: 'p.ns', resources: { 'type.googleapis.com/envoy.config.listener.v3.Listener': { sent: 'n', acked: 'n' } } }, 'i');
  assert.deepEqual([watched.cds, watched.lds], ['IGNORED', 'SYNCED']);
});

test('unified diff: hunks with context and line numbers', () => {
  const a = 'abcdefghijkl'.split('');
  const b = 'abcDefghijklm'.split('');
  assert.equal(unifiedDiff(a, a, 'x', 'y'), '');
  // changes 8 lines apart: two hunks; 6 apart (2 × context): one, as diff -u does
  assert.equal(unifiedDiff(a, b, 'x', 'y'), '--- x\n+++ y\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n@@ -10,3 +10,4 @@\n j\n k\n l\n+m\n');
  assert.equal(unifiedDiff(a.slice(0, 10), b.slice(0, 10).concat('k'), 'x', 'y'), '--- x\n+++ y\n@@ -1,10 +1,11 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n i\n j\n+k\n');
});

test('unified diff: applying the hunks to the old lines gives the new ones', () => {
  const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 });
  fc.assert(fc.property(lines, lines, (a, b) => {
    const diff = unifiedDiff(a, b, 'x', 'y');
    if (diff === '') return assert.deepEqual(a, b);
    const out: string[] = [];
    let pos = 0;
    for (const line of diff.split('\n').slice(2, -1)) {
      const h = /^@@ -(\d+)(?:,(\d+))? /.exec(line);
      if (h) {
        const start = h[2] === '0' ? Number(h[1]) : Number(h[1]) - 1;
        while (pos < start) out.push(a[pos++]);
        continue;
      }
      if (line[0] === ' ') {
        assert.equal(a[pos], line.slice(1));
        out.push(a[pos++]);
      } else if (line[0] === '-') {
        assert.equal(a[pos], line.slice(1));
        pos++;
      } else out.push(line.slice(1));
    }
    while (pos < a.length) out.push(a[pos++]);
    assert.deepEqual(out, b);
  }));
});

test('fanout keeps order, bounds concurrency and keeps errors per item', async () => {
  let running = 0;
  let peak = 0;
  const progress: number[] = [];
  const results = await fanout([1, 2, 3, 4, 5, 6, 7], async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setImmediate(r));
    running--;
    if (n === 3) throw new Error('three');
    return n * 2;
  }, { limit: 3, onProgress: (d) => progress.push(d) });
  assert.equal(peak, 3);
  assert.deepEqual(results.map((r) => (r.ok ? r.value : (r.error as Error).message)), [2, 4, 'three', 8, 10, 12, 14]);
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);
});

test('progress goes to stderr only when it is a terminal', () => {
  const written: string[] = [];
  const tty = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const report = stderrProgress('asking istiod', tty)!;
  report(1, 2);
  report(2, 2);
  assert.match(written[0], /^\rasking istiod \[#+·+\] 1\/2/);
  assert.equal(written.at(-1), '\r\x1b[K');
  assert.equal(stderrProgress('x', { isTTY: false } as unknown as NodeJS.WriteStream), undefined);
});
