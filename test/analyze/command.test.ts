import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { runAnalyze } from './run.js';
import { scratchDir } from '../helpers.js';

// In-process runs of the command (the CLI wiring itself is covered by cli.test.ts).
const BAD = 'fixtures/analyze/cases/IST0101-vs-host.bad.yaml';
const PORTNAME = 'fixtures/analyze/cases/IST0118-portname.bad.yaml';
const tmp = scratchDir('meshctl-analyze-');

const run = runAnalyze;

test('-o json has istioctl fields; -o yaml the same data; no findings is []', async () => {
  const r = await run([BAD], { output: 'json' });
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
  const y = await run([BAD], { output: 'yaml' });
  assert.deepEqual(yaml.load(y.stdout), data);
  const none = await run(['fixtures/analyze/good'], { output: 'json', recursive: true });
  assert.deepEqual(JSON.parse(none.stdout), []);
  assert.equal(none.stderr, '');
  assert.equal(none.code, 0);
});

test('-o sarif is SARIF 2.1.0 with rules and physical locations', async () => {
  const r = await run([BAD], { output: 'sarif' });
  assert.equal(r.code, 79);
  const s = JSON.parse(r.stdout);
  assert.equal(s.version, '2.1.0');
  const sarifRun = s.runs[0];
  assert.deepEqual(sarifRun.tool.driver.rules.map((x: { id: string; name: string }) => `${x.id} ${x.name}`), ['IST0101 ReferencedResourceNotFound']);
  assert.equal(sarifRun.results.length, 3);
  assert.equal(sarifRun.results[0].level, 'error');
  assert.deepEqual(sarifRun.results[1].locations[0].physicalLocation, { artifactLocation: { uri: BAD }, region: { startLine: 28 } });
});

test('-o github prints workflow annotations', async () => {
  const r = await run([BAD], { output: 'github' });
  assert.equal(r.code, 79);
  assert.equal(
    r.stdout.split('\n')[1],
    `::error file=${BAD},line=28,title=IST0101 ReferencedResourceNotFound::Referenced host not found: "reviews.bogus" (VirtualService default/reviews)`,
  );
  const info = await run([PORTNAME], { output: 'github' });
  assert.match(info.stdout, /^::notice file=.*,title=IST0118 PortNameIsNotUnderNamingConvention::Port name web/m);
});

test('thresholds: Info passes by default, fails with --failure-threshold Info, hides with --output-threshold', async () => {
  const dflt = await run([PORTNAME]);
  assert.equal(dflt.code, 0);
  assert.match(dflt.stdout, /^Info \[IST0118\] \(Service default\/web .*:8\) Port name web \(port: 80, targetPort: 8080\)/);
  assert.match(dflt.stdout, /Port name {2}\(port: 9000, targetPort: 9000\)/);
  assert.equal((await run([PORTNAME], { failureThreshold: 'info' })).code, 79);
  const quiet = await run([PORTNAME], { outputThreshold: 'Warning' });
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stdout, '');
  // hidden findings still count toward the failure threshold
  assert.equal((await run([PORTNAME], { outputThreshold: 'Error', failureThreshold: 'Info' })).code, 79);
  const bad = await run([PORTNAME], { failureThreshold: 'Severe' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --failure-threshold "Severe"/);
});

test('-S suppresses by code and resource with wildcards; the suppress annotation works too', async () => {
  const all = await run([BAD], { suppress: ['IST0101=VirtualService default/*'] });
  assert.equal(all.code, 0);
  assert.equal(all.stdout, '');
  assert.equal((await run([BAD], { suppress: ['IST0101=VirtualService reviews.default'] })).code, 0);
  assert.equal((await run([BAD], { suppress: ['IST01*=VirtualService *'] })).code, 0);
  assert.equal((await run([BAD], { suppress: ['IST0101=VirtualService other/*', 'IST0102=Namespace default'] })).code, 79);
  const invalid = await run([BAD], { suppress: ['IST0101'] });
  assert.equal(invalid.code, 2);
  const file = path.join(tmp, 'annotated.yaml');
  writeFileSync(file, readFileSync(BAD, 'utf8').replace('  name: reviews\nspec:\n  hosts', '  name: reviews\n  annotations:\n    galley.istio.io/analyze-suppress: "IST0106,IST0101"\nspec:\n  hosts'));
  const anno = await run([file]);
  assert.equal(anno.code, 0, anno.stdout);
  assert.equal(anno.stdout, '');
  writeFileSync(file, readFileSync(BAD, 'utf8').replace('  name: reviews\nspec:\n  hosts', '  name: reviews\n  annotations:\n    galley.istio.io/analyze-suppress: "IST0102"\nspec:\n  hosts'));
  assert.equal((await run([file])).code, 79);
});

test('--analyzer runs just the named analyzers; unknown names are usage errors', async () => {
  const one = await run(['fixtures/analyze/cases/IST0106-schema.bad.yaml'], { analyzer: ['schema.ValidationAnalyzer.Gateway'] });
  assert.equal(one.code, 79);
  assert.deepEqual(one.stdout.trimEnd().split('\n').map((l) => l.slice(0, 44)), ['Error [IST0106] (Gateway default/no-servers ']);
  const unknown = await run([BAD], { analyzer: ['nope'] });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown analyzer "nope"/);
});

test('-n sets the namespace of resources that give none and narrows the report to it', async () => {
  const r = await run([BAD], { namespace: 'shop', output: 'json' });
  const data = JSON.parse(r.stdout) as { origin: string }[];
  assert.deepEqual([...new Set(data.map((d) => d.origin))], ['VirtualService shop/reviews']);
  assert.equal((await run([BAD], { namespace: 'shop', allNamespaces: true })).code, 2);
  const elsewhere = await run(['fixtures/analyze/good'], { recursive: true, namespace: 'shop', output: 'json' });
  assert.deepEqual(JSON.parse(elsewhere.stdout), []);
  const target = await run([PORTNAME], { namespace: 'default' });
  assert.match(target.stdout, /Service default\/web/);
});

test('--use-kube: explicit true without a cluster says what is missing; false analyzes the files', async () => {
  const kubeconfig = path.join(tmp, 'no-kubeconfig');
  const k = await run([BAD], { useKube: true, kubeconfig });
  assert.equal(k.code, 1);
  assert.match(k.stderr, /^cannot read the cluster: kubeconfig .*no-kubeconfig: no such file; run with --use-kube=false to analyze the files alone$/);
  assert.equal((await run([BAD], { useKube: false })).code, 79);
  const none = await run([], { kubeconfig });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /pass the manifests to analyze/);
  const nothing = await run([], { useKube: false });
  assert.equal(nothing.code, 2);
});

test('--meshConfigFile: DNS auto-allocation makes ServiceEntry addresses optional', async () => {
  const se = 'fixtures/analyze/cases/IST0134-seaddresses.bad.yaml';
  assert.equal((JSON.parse((await run([se], { output: 'json' })).stdout) as unknown[]).length, 1);
  const mesh = 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"\n    ISTIO_META_DNS_AUTO_ALLOCATE: "true"\n';
  const cm = path.join(tmp, 'istio-cm.yaml');
  writeFileSync(cm, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\ndata:\n  mesh: |\n${mesh.replace(/^/gm, '    ')}`);
  const withCm = await run([se], { output: 'json', meshConfigFile: cm });
  assert.deepEqual(JSON.parse(withCm.stdout), [], withCm.stderr);
  const raw = path.join(tmp, 'mesh.yaml');
  writeFileSync(raw, mesh);
  assert.deepEqual(JSON.parse((await run([se], { output: 'json', meshConfigFile: raw })).stdout), []);
  const missing = await run([se], { meshConfigFile: 'fixtures/nope.yaml' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope.yaml: no such file/);
});

test('a broken document is reported with its file and line, and the other documents are still analyzed', async () => {
  const file = path.join(tmp, 'mixed.yaml');
  writeFileSync(file, readFileSync(BAD, 'utf8') + '\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n');
  const r = await run([file, 'fixtures/no-such.yaml']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout.trimEnd().split('\n').length, 3);
  assert.match(r.stderr, new RegExp(`^Error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3[0-9]: invalid YAML: `, 'm'));
  assert.match(r.stderr, /^Error: fixtures\/no-such.yaml: no such file or directory$/m);
  assert.match(r.stderr, /^Error: 2 input problems; the findings above cover only the documents that could be read$/m);
});

test('--partial: checks that need the whole mesh report only where the files show that part', async () => {
  // a Gateway, a Sidecar and a policy whose workloads, secrets and namespaces are not in the file
  const file = path.join(tmp, 'partial.yaml');
  writeFileSync(file, [
    'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: public\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: SIMPLE, credentialName: web-cert}\n',
    'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: web\nspec:\n  workloadSelector:\n    labels: {app: web}\n',
    'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: from-frontend\nspec:\n  rules:\n  - from:\n    - source: {namespaces: [frontend]}\n',
  ].join('---\n'));
  const whole = await run([file]);
  assert.equal(whole.code, 79);
  assert.deepEqual(whole.lines.map((l) => l.replace(/ \/\S+:\d+\)/, ')')), [
    'Error [IST0101] (AuthorizationPolicy default/from-frontend) Referenced namespace not found: "frontend"',
    'Error [IST0101] (Gateway default/public) Referenced selector not found: "istio=ingressgateway"',
    'Error [IST0101] (Sidecar default/web) Referenced selector not found: "app=web"',
  ]);
  const partial = await run([file], { partial: true });
  assert.equal(partial.code, 0, partial.stdout);
  assert.deepEqual(partial.lines, []);
});

test('--analyzer: a meshctl addition runs only when named; an older istioctl name still selects its analyzer', async () => {
  const egress = 'fixtures/analyze/cases/IST0101-sidecar-egress.bad.yaml';
  const all = await run([egress]);
  assert.ok(!all.lines.some((l) => l.includes('Referenced host not found')), all.stdout);
  const named = await run([egress], { analyzer: ['sidecar.EgressHostAnalyzer'] });
  assert.ok(named.lines.length > 0 && named.lines.every((l) => l.includes('Referenced host not found')), named.stdout);
  const old = await run(['fixtures/analyze/cases/IST0111-sidecardefault.bad.yaml'], { analyzer: ['sidecar.DefaultSelectorAnalyzer'] });
  assert.equal(old.code, 79);
  assert.ok(old.lines.length === 2 && old.lines.every((l) => l.startsWith('Error [IST0111] (Sidecar default/')), old.stdout);
  const list = await run([], { listAnalyzers: true });
  assert.match(list.stdout, /\* sidecar\.EgressHostAnalyzer \[IST0101\]:\n {4}.*\(a meshctl addition\)\n {4}\(not run by default: --analyzer sidecar\.EgressHostAnalyzer runs it\)\n/);
  for (const name of ['telemetry.ProviderAnalyzer', 'telemetry.SelectorAnalyzer', 'telemetry.DefaultSelectorAnalyzer', 'telemetry.LightstepAnalyzer', 'k8sgateway.SelectorAnalyzer', 'k8sgateway.CRDVersionAnalyzer', 'sidecar.SelectorAnalyzer']) {
    assert.match(list.stdout, new RegExp(`\\* ${name.replace('.', '\\.')} \\[`), name);
  }
  assert.doesNotMatch(list.stdout, /sidecar\.DefaultSelectorAnalyzer/);
});

test('IST0111 and IST0110 name the Sidecars and the pod as istioctl does: names without namespace', async () => {
  const r = await run(['fixtures/analyze/cases/IST0110-sidecarselectors.bad.yaml']);
  assert.ok(r.lines.some((l) => l.includes('The Sidecars [by-app by-tier] in namespace "default" select the same workload pod "web-1"')), r.stdout);
  const d = await run(['fixtures/analyze/cases/IST0111-sidecardefault.bad.yaml']);
  assert.ok(d.lines.some((l) => l.includes('The Sidecars [default restrictive] in namespace "default" have no workload selector')), d.stdout);
});
