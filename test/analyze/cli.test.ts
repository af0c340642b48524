import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { isOneLineError, runCli } from '../helpers.js';

const BAD = 'fixtures/analyze/cases/IST0101-vs-host.bad.yaml';
const GOOD = 'fixtures/analyze/good';

test('good config: no findings, exit 0, istioctl-style confirmation on stderr', async () => {
  const r = await runCli(['analyze', '-R', GOOD]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '\u2714 No validation issues found when analyzing all namespaces.\n');
});

test('findings print in istioctl log format with file:line, exit 79', async () => {
  const r = await runCli(['analyze', BAD]);
  assert.equal(r.code, 79);
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(lines, [
    `Error [IST0101] (VirtualService default/reviews ${BAD}:23) Referenced host:port not found: "reviews:9999"`,
    `Error [IST0101] (VirtualService default/reviews ${BAD}:28) Referenced host not found: "reviews.bogus"`,
    `Error [IST0101] (VirtualService default/reviews ${BAD}:30) Referenced mirror host not found: "reviewz"`,
  ]);
  assert.match(r.stderr, /^Error: Analyzers found issues when analyzing all namespaces\.\n/);
});

test('-o json has istioctl fields; -o yaml the same data', async () => {
  const r = await runCli(['analyze', BAD, '-o', 'json']);
  assert.equal(r.code, 79);
  const data = JSON.parse(r.stdout) as Record<string, string>[];
  assert.equal(data.length, 3);
  assert.deepEqual(data[1], {
    code: 'IST0101',
    documentationUrl: 'https://istio.io/latest/docs/reference/config/analysis/ist0101/',
    level: 'Error',
    message: 'Referenced host not found: "reviews.bogus"',
    origin: 'VirtualService default/reviews',
    reference: `${BAD}:28`,
  });
  const y = await runCli(['analyze', BAD, '-o', 'yaml']);
  assert.deepEqual(yaml.load(y.stdout), data);
  const none = await runCli(['analyze', '-R', GOOD, '-o', 'json']);
  assert.deepEqual(JSON.parse(none.stdout), []);
  assert.equal(none.stderr, '');
});

test('-o sarif is SARIF 2.1.0 with rules and physical locations', async () => {
  const r = await runCli(['analyze', BAD, '-o', 'sarif']);
  assert.equal(r.code, 79);
  const s = JSON.parse(r.stdout);
  assert.equal(s.version, '2.1.0');
  const run = s.runs[0];
  assert.deepEqual(run.tool.driver.rules.map((x: { id: string; name: string }) => `${x.id} ${x.name}`), ['IST0101 ReferencedResourceNotFound']);
  assert.equal(run.results.length, 3);
  assert.equal(run.results[0].level, 'error');
  assert.deepEqual(run.results[1].locations[0].physicalLocation, { artifactLocation: { uri: BAD }, region: { startLine: 28 } });
});

test('-o github prints workflow annotations, escaped', async () => {
  const r = await runCli(['analyze', BAD, '-o', 'github']);
  assert.equal(r.code, 79);
  const second = r.stdout.split('\n')[1];
  assert.equal(
    second,
    `::error file=${BAD},line=28,title=IST0101 ReferencedResourceNotFound::Referenced host not found: "reviews.bogus" (VirtualService default/reviews)`,
  );
  const info = await runCli(['analyze', 'fixtures/analyze/cases/IST0118-portname.bad.yaml', '-o', 'github']);
  assert.match(info.stdout, /^::notice file=.*,title=IST0118 PortNameIsNotUnderNamingConvention::Port name web/m);
});

test('thresholds: Info findings pass by default, fail with --failure-threshold Info, hide with --output-threshold', async () => {
  const f = 'fixtures/analyze/cases/IST0118-portname.bad.yaml';
  const dflt = await runCli(['analyze', f]);
  assert.equal(dflt.code, 0);
  assert.match(dflt.stdout, /^Info \[IST0118\] \(Service default\/web .*:8\) Port name web \(port: 80, targetPort: 8080\)/);
  assert.match(dflt.stdout, /Port name {2}\(port: 9000, targetPort: 9000\)/);
  const strict = await runCli(['analyze', f, '--failure-threshold', 'info']);
  assert.equal(strict.code, 79);
  const quiet = await runCli(['analyze', f, '--output-threshold', 'Warning']);
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stdout, '');
  // hidden findings still count toward the failure threshold
  const hiddenFail = await runCli(['analyze', f, '--output-threshold', 'Error', '--failure-threshold', 'Info']);
  assert.equal(hiddenFail.code, 79);
  const bad = await runCli(['analyze', f, '--failure-threshold', 'Severe']);
  assert.equal(bad.code, 2);
  assert.ok(isOneLineError(bad.stderr), bad.stderr);
});

test('-S suppresses by code and resource with wildcards; the suppress annotation works too', async () => {
  const all = await runCli(['analyze', BAD, '-S', 'IST0101=VirtualService default/*']);
  assert.equal(all.code, 0);
  assert.equal(all.stdout, '');
  const legacy = await runCli(['analyze', BAD, '-S', 'IST0101=VirtualService reviews.default']);
  assert.equal(legacy.code, 0);
  const other = await runCli(['analyze', BAD, '-S', 'IST0101=VirtualService other/*', '-S', 'IST0102=Namespace default']);
  assert.equal(other.code, 79);
  const invalid = await runCli(['analyze', BAD, '-S', 'IST0101']);
  assert.equal(invalid.code, 2);
  assert.ok(isOneLineError(invalid.stderr));
  const text = readFileSync(BAD, 'utf8').replace('  name: reviews\nspec:\n  hosts', '  name: reviews\n  annotations:\n    galley.istio.io/analyze-suppress: "IST0106,IST0101"\nspec:\n  hosts');
  const anno = await runCli(['analyze', '-'], { stdin: text });
  assert.equal(anno.code, 0, anno.stdout);
  assert.equal(anno.stdout, '');
});

test('-L lists analyzers with codes; --analyzer runs just one; unknown names are usage errors', async () => {
  const list = await runCli(['analyze', '-L']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^Available analyzers:\n/);
  assert.match(list.stdout, /\* virtualservice\.DestinationHostAnalyzer \[IST0101, IST0112\]:\n {4}Checks the destination hosts/);
  assert.match(list.stdout, /\* schema\.ValidationAnalyzer\.VirtualService \[IST0106, IST0130, IST0131\]/);
  const one = await runCli(['analyze', 'fixtures/analyze/cases/IST0106-schema.bad.yaml', '--analyzer', 'schema.ValidationAnalyzer.Gateway']);
  assert.equal(one.code, 79);
  assert.deepEqual(one.stdout.trimEnd().split('\n').map((l) => l.slice(0, 44)), ['Error [IST0106] (Gateway default/no-servers ']);
  const unknown = await runCli(['analyze', BAD, '--analyzer', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown analyzer "nope"/);
});

test('broken input: exit 1, each problem named by file and line, findings in the other documents still shown', async () => {
  const text = readFileSync(BAD, 'utf8') + '\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n';
  const r = await runCli(['analyze', '-', 'fixtures/no-such.yaml'], { stdin: text });
  assert.equal(r.code, 1);
  assert.equal(r.stdout.trimEnd().split('\n').length, 3);
  assert.match(r.stdout, /Referenced host not found: "reviews.bogus"/);
  assert.match(r.stdout, /\(VirtualService default\/reviews stdin:28\)/);
  assert.match(r.stderr, /^Error: stdin:3[0-9]: invalid YAML: /m);
  assert.match(r.stderr, /^Error: fixtures\/no-such.yaml: no such file or directory$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('-n sets the namespace of resources that give none and narrows the report to it', async () => {
  const r = await runCli(['analyze', BAD, '-n', 'shop', '-o', 'json']);
  const data = JSON.parse(r.stdout) as { origin: string }[];
  assert.deepEqual([...new Set(data.map((d) => d.origin))], ['VirtualService shop/reviews']);
  const both = await runCli(['analyze', BAD, '-n', 'shop', '-A']);
  assert.equal(both.code, 2);
  const elsewhere = await runCli(['analyze', 'fixtures/analyze/good', '-R', '-n', 'shop', '-o', 'json']);
  assert.deepEqual(JSON.parse(elsewhere.stdout), []);
});

test('--use-kube without a cluster says what is missing; no files is a clear error', async () => {
  const k = await runCli(['analyze', BAD, '-k']);
  assert.equal(k.code, 1);
  assert.ok(isOneLineError(k.stderr), k.stderr);
  assert.match(k.stderr, /--use-kube=false/);
  const off = await runCli(['analyze', BAD, '--use-kube=false']);
  assert.equal(off.code, 79);
  const none = await runCli(['analyze']);
  assert.equal(none.code, 1);
  assert.ok(isOneLineError(none.stderr));
  const badBool = await runCli(['analyze', BAD, '--use-kube=maybe']);
  assert.equal(badBool.code, 2);
});

test('--meshConfigFile: DNS auto-allocation makes ServiceEntry addresses optional', async () => {
  const se = 'fixtures/analyze/cases/IST0134-seaddresses.bad.yaml';
  const without = await runCli(['analyze', se, '-o', 'json']);
  assert.equal((JSON.parse(without.stdout) as unknown[]).length, 1);
  const mesh = 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"\n    ISTIO_META_DNS_AUTO_ALLOCATE: "true"\n';
  const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\ndata:\n  mesh: |\n${mesh.replace(/^/gm, '    ')}`;
  const withCm = await runCli(['analyze', se, '-o', 'json', '--meshConfigFile', '-'], { stdin: cm });
  assert.deepEqual(JSON.parse(withCm.stdout), [], withCm.stderr);
  const missing = await runCli(['analyze', se, '--meshConfigFile', 'fixtures/nope.yaml']);
  assert.equal(missing.code, 1);
  assert.ok(isOneLineError(missing.stderr));
});
