import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Chalk } from 'chalk';
import type { Diagnostic } from '../../src/analyze/analyzer.js';
import { formatTemplate, messageType } from '../../src/analyze/messages.js';
import { logLine, render } from '../../src/analyze/render.js';
import { parseResources } from '../../src/resources/index.js';

test('Go-style templates: %s, %q, %v of slices, %d', () => {
  assert.equal(formatTemplate('Referenced %s not found: %q', ['host', 'a"b']), 'Referenced host not found: "a\\"b"');
  assert.equal(formatTemplate('ports %v, port %d', [[80, 443], 9080]), 'ports [80 443], port 9080');
  assert.equal(formatTemplate('%s and %s', ['one']), 'one and %!s(MISSING)');
});

function diag(level: 'Error' | 'Warning' | 'Info', code: string, message: string): Diagnostic {
  const r = parseResources('apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n', 'svc.yaml').resources[0];
  return { type: { ...messageType(code), level }, message, resource: r, line: 4 };
}

test('log lines are coloured by level on a terminal and plain otherwise', () => {
  const c = new Chalk({ level: 1 });
  const e = diag('Error', 'IST0101', 'Referenced host not found: "x"');
  assert.equal(logLine(e), 'Error [IST0101] (Service shop/web svc.yaml:4) Referenced host not found: "x"');
  assert.equal(logLine(e, c), '\u001b[31mError [IST0101]\u001b[39m (Service shop/web svc.yaml:4) Referenced host not found: "x"');
  assert.match(logLine(diag('Warning', 'IST0103', 'w'), c), /^\u001b\[33mWarning/);
  assert.match(logLine(diag('Info', 'IST0118', 'i'), c), /^\u001b\[36mInfo/);
  assert.equal(logLine(e, new Chalk({ level: 0 })), logLine(e));
});

test('github annotations escape newlines, percent signs, and commas/colons in properties', () => {
  const d = diag('Warning', 'IST0103', '50% of\nthings');
  d.resource!.origin!.file = 'dir,with:odd.yaml';
  assert.equal(render([d], 'github'), '::warning file=dir%2Cwith%3Aodd.yaml,line=4,title=IST0103 PodMissingProxy::50%25 of%0Athings (Service shop/web)\n');
});

test('findings on resources without a file (from a cluster) have no reference', () => {
  const d = diag('Error', 'IST0101', 'm');
  delete d.resource!.origin;
  assert.equal(logLine(d), 'Error [IST0101] (Service shop/web) m');
  assert.deepEqual(JSON.parse(render([d], 'json'))[0].reference, undefined);
});
