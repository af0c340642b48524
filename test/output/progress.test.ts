import assert from 'node:assert/strict';
import test from 'node:test';
import { fanout } from '../../src/kube/fanout.js';
import { fanoutProgress, startProgress } from '../../src/output/progress.js';

function stream(isTTY: boolean, columns = 80): { s: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  return { s: { isTTY, columns, write: (t: string) => written.push(t) } as unknown as NodeJS.WriteStream, written };
}

test('progress on a terminal: a bar redrawn in place, erased at the end', () => {
  const { s, written } = stream(true);
  const p = startProgress('collecting', 4, { stream: s, interval: 0 });
  p.tick('pod-a.default');
  p.tick('pod-b.default');
  p.tick();
  p.tick();
  assert.equal(written.length, 5);
  assert.match(written[0], /^\rcollecting \[#+·+\] 1\/4 pod-a\.default\x1b\[K$/);
  assert.match(written[3], /^\rcollecting \[#+\] 4\/4\x1b\[K$/);
  assert.equal(written[4], '\r\x1b[K');
  p.done();
  p.tick();
  assert.equal(written.length, 5, 'nothing after the end');
});

test('progress on a terminal is throttled but always shows the last count', () => {
  const { s, written } = stream(true);
  let t = 0;
  const p = startProgress('x', 100, { stream: s, now: () => t });
  for (let i = 0; i < 100; i++) {
    t += 10; // 10 ms per item: one redraw every 10 items
    p.tick();
  }
  const draws = written.filter((w) => w.includes('/100'));
  assert.ok(draws.length >= 9 && draws.length <= 11, `${draws.length} redraws`);
  assert.match(draws.at(-1)!, / 100\/100/);
});

test('progress lines are cut to the terminal width and carry no control characters from names', () => {
  const { s, written } = stream(true, 40);
  const p = startProgress('collecting', 2, { stream: s, interval: 0 });
  p.tick('evil\x1b[2J\nname-that-is-very-long-indeed-and-longer');
  const line = written[0].replace(/^\r/, '').replace(/\x1b\[K$/, '');
  assert.ok(line.length <= 39, line);
  assert.ok(!line.includes('\x1b') && !line.includes('\n'), JSON.stringify(line));
});

test('progress in a pipe: quiet by default, a bounded number of plain lines when asked', () => {
  const quiet = stream(false);
  const p = startProgress('x', 3, { stream: quiet.s });
  p.tick();
  p.tick();
  p.tick();
  p.done();
  assert.deepEqual(quiet.written, []);
  assert.equal(fanoutProgress('x', { stream: quiet.s }), undefined);

  const lines = stream(false);
  const q = startProgress('collecting', 1000, { stream: lines.s, plain: 'lines' });
  for (let i = 0; i < 1000; i++) q.tick(`pod-${i}`);
  q.done();
  assert.equal(lines.written.length, 10);
  assert.equal(lines.written[0], 'collecting: 100/1000 (10%)\n');
  assert.equal(lines.written.at(-1), 'collecting: 1000/1000 (100%)\n');
  assert.ok(lines.written.every((l) => !l.includes('\r')));
});

test('fanout reports through the progress module', async () => {
  const { s, written } = stream(true);
  await fanout([1, 2, 3], async (n) => n, { limit: 2, onProgress: fanoutProgress('asking', { stream: s, interval: 0 }) });
  assert.match(written.join(''), /asking \[#+\] 3\/3/);
  assert.equal(written.at(-1), '\r\x1b[K');
});
