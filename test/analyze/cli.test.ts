import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isOneLineError, runCli } from '../helpers.js';

// End-to-end through bin/meshctl.js: the few behaviours only the real process shows (exit codes,
// stdin, commander's own checks). Everything else runs in-process in command.test.ts.
const BAD = 'fixtures/analyze/cases/IST0101-vs-host.bad.yaml';

test('good config: no findings, exit 0, istioctl-style confirmation on stderr', async () => {
  const r = await runCli(['analyze', '-R', 'fixtures/analyze/good']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '\u2714 No validation issues found when analyzing all namespaces.\n');
});

test('findings print in istioctl log format with file:line, exit 79', async () => {
  const r = await runCli(['analyze', BAD]);
  assert.equal(r.code, 79);
  assert.deepEqual(r.stdout.trimEnd().split('\n'), [
    `Error [IST0101] (VirtualService default/reviews ${BAD}:23) Referenced host:port not found: "reviews:9999"`,
    `Error [IST0101] (VirtualService default/reviews ${BAD}:28) Referenced host not found: "reviews.bogus"`,
    `Error [IST0101] (VirtualService default/reviews ${BAD}:30) Referenced mirror host not found: "reviewz"`,
  ]);
  assert.match(r.stderr, /^Error: Analyzers found issues when analyzing all namespaces\.\n/);
});

test('stdin with a broken document: exit 1, problem named by line, other findings shown, no stack', async () => {
  const text = readFileSync(BAD, 'utf8') + '\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n';
  const r = await runCli(['analyze', '-'], { stdin: text });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /\(VirtualService default\/reviews stdin:28\) Referenced host not found/);
  assert.match(r.stderr, /^Error: stdin:3[0-9]: invalid YAML: /m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('usage errors exit 2 with one line', async () => {
  const format = await runCli(['analyze', BAD, '-o', 'table']);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /argument 'table' is invalid/);
  const kube = await runCli(['analyze', BAD, '--use-kube=maybe']);
  assert.equal(kube.code, 2);
  assert.ok(isOneLineError(kube.stderr), kube.stderr);
});

test('-L lists analyzers with the codes they report', async () => {
  const list = await runCli(['analyze', '-L']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^Available analyzers:\n/);
  assert.match(list.stdout, /\* virtualservice\.DestinationHostAnalyzer \[IST0101, IST0112, IST0140\]:\n {4}Checks the destination hosts/);
  assert.match(list.stdout, /\* schema\.ValidationAnalyzer\.VirtualService \[IST0106, IST0130, IST0131\]/);
});
