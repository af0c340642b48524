import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeResources, applyDefaultNamespace } from '../../src/analyze/engine.js';
import { parseResources } from '../../src/resources/index.js';

// IST0131 compares HTTP matches by a canonical text (keys sorted, the match name and unset-like
// values left out). These pin what counts as "the same match" so a cheaper key cannot drift.

async function ineffective(first: string, second: string): Promise<string[]> {
  const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: [svc]
  http:
  - name: one
    match: [${first}]
    route: [{destination: {host: svc}}]
  - name: two
    match: [${second}]
    route: [{destination: {host: svc}}]
`;
  const { resources, problems } = parseResources(text, 'vs.yaml');
  assert.deepEqual(problems, []);
  applyDefaultNamespace(resources, 'default');
  const ds = await analyzeResources(resources, { analyzers: ['schema.ValidationAnalyzer.VirtualService'] });
  return ds.filter((d) => d.type.code === 'IST0131').map((d) => d.message);
}

test('the same match with keys in another order, another name, or unset-like extras is ineffective', async () => {
  const same = [
    ['{uri: {exact: /a}, method: {exact: GET}}', '{method: {exact: GET}, uri: {exact: /a}}'],
    ['{name: x, headers: {h: {exact: v}}}', '{name: y, headers: {h: {exact: v}}}'],
    ['{uri: {exact: /a}}', '{uri: {exact: /a}, ignoreUriCase: false, gateways: []}'],
    ['{queryParams: {q: {regex: "a.*"}}, port: 80}', '{port: 80, queryParams: {q: {regex: "a.*"}}, withoutHeaders: null}'],
    ['{gateways: [a, b]}', '{gateways: [a, b]}'],
  ];
  for (const [a, b] of same) assert.equal((await ineffective(a, b)).length, 1, `${a} vs ${b}`);
});

test('matches that differ in a value, a list order or a set flag are both effective', async () => {
  const differ = [
    ['{uri: {exact: /a}}', '{uri: {exact: /b}}'],
    ['{gateways: [a, b]}', '{gateways: [b, a]}'],
    ['{uri: {exact: /a}}', '{uri: {exact: /a}, ignoreUriCase: true}'],
    ['{port: 80}', '{port: "80"}'],
    ['{headers: {h: {exact: v}}}', '{headers: {h: {prefix: v}}}'],
  ];
  for (const [a, b] of differ) assert.deepEqual(await ineffective(a, b), [], `${a} vs ${b}`);
});

test('a prefix shadows a longer prefix only when the rest of the match is the same', async () => {
  assert.equal((await ineffective('{uri: {prefix: /api}, method: {exact: GET}}', '{method: {exact: GET}, uri: {prefix: /api/v2}, name: m}')).length, 1);
  assert.deepEqual(await ineffective('{uri: {prefix: /api}, method: {exact: GET}}', '{uri: {prefix: /api/v2}, method: {exact: POST}}'), []);
  assert.deepEqual(await ineffective('{uri: {prefix: /api/v2}}', '{uri: {prefix: /api}}'), []);
});
