import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { fixture, isOneLineError, runCli, scratchDir } from '../helpers.js';

const load = (text: string) => yaml.loadAll(text).filter((d) => d !== null);
const read = (name: string) => readFileSync(fixture('inject', name), 'utf8');

test('kube-inject -f - reads stdin and writes to stdout; a note says the built-in settings were used', async (t) => {
  const home = scratchDir('meshctl-home-', t);
  const env = { HOME: home, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined };
  const r = await runCli(['kube-inject', '-f', '-'], { stdin: read('shop-web.yaml'), env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(load(r.stdout), load(read('shop-web.injected.yaml')));
  assert.match(r.stderr, /^note: no kubeconfig found; using Istio's built-in injection settings \(docker\.io\/istio\/proxyv2:1\.28\.0\)/);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1);
});

test('-o writes the file atomically; on an error nothing is written and an old file is kept', async (t) => {
  const dir = scratchDir('meshctl-inject-', t);
  const out = path.join(dir, 'out.yaml');
  const ok = await runCli(['kube-inject', '-f', fixture('inject', 'shop-mixed.yaml'), '-o', out, '--offline']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, '');
  assert.deepEqual(load(readFileSync(out, 'utf8')), load(read('shop-mixed.injected.yaml')));
  assert.match(ok.stderr, /document 8 \(DaemonSet "node-agent"\): not injected: it uses host networking/);

  writeFileSync(out, 'previous\n');
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, read('shop-web.yaml') + '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec: {replicas: 1}\n');
  const r = await runCli(['kube-inject', '-f', bad, '-o', out, '--offline']);
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /^Error: .*bad\.yaml: document 2 \(Deployment "broken"\): has no pod template \(spec\.template\)/);
  assert.equal(readFileSync(out, 'utf8'), 'previous\n');
  assert.deepEqual(readdirSync(dir).sort(), ['bad.yaml', 'out.yaml'], 'no temp file left behind');

  const fresh = path.join(dir, 'fresh.yaml');
  const r2 = await runCli(['kube-inject', '-f', bad, '-o', fresh, '--offline']);
  assert.equal(r2.code, 1);
  assert.equal(existsSync(fresh), false);
});

test('bad YAML is one error naming the file, the document and the line', async () => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n   bad: indent\n';
  const r = await runCli(['kube-inject', '-f', '-', '--offline'], { stdin: text });
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /^Error: stdin: document 2: .*line 9/);
  assert.equal(r.stdout, '');
});

test('a Deployment without containers is a clear error', async () => {
  const noContainers = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: empty}\nspec:\n  template:\n    spec: {containers: []}\n';
  const r = await runCli(['kube-inject', '-f', '-', '--offline'], { stdin: noContainers });
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /document 1 \(Deployment "empty"\): has no containers \(spec\.template\.spec\.containers\)/);
});

test('--meshConfigFile and --valuesFile (plain or ConfigMap) shape the sidecar', async () => {
  const r = await runCli([
    'kube-inject', '-f', fixture('inject', 'shop-web.yaml'),
    '--meshConfigFile', fixture('inject', 'mesh-configmap.yaml'),
    '--valuesFile', fixture('inject', 'values.yaml'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no defaults note when files are given');
  assert.deepEqual(load(r.stdout), load(read('shop-web.mesh-values.injected.yaml')));
  assert.match(r.stdout, /value: shop\.example/);
  assert.match(r.stdout, /image: registry\.example\.com\/istio\/proxyv2:1\.27\.3/);
});

test('--image with --tag is a usage error', async () => {
  const both = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--offline', '--image', 'a/b:c', '--tag', '1']);
  assert.equal(both.code, 2);
  assert.ok(isOneLineError(both.stderr));
});

test('a file without workloads is written back unchanged, with a note', async () => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: s}  # as written\n';
  const r = await runCli(['kube-inject', '-f', '-', '--offline'], { stdin: text });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, text);
  assert.match(r.stderr, /^note: stdin: no workload to inject/);
});

test('missing -f is a usage error', async () => {
  const none = await runCli(['kube-inject', '--offline']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /-f FILE/);
});

test('kube-inject then uninject gives back the original objects', async () => {
  const injected = await runCli(['kube-inject', '-f', fixture('inject', 'shop-mixed.yaml'), '--offline']);
  const back = await runCli(['uninject', '-f', '-'], { stdin: injected.stdout });
  assert.equal(back.code, 0, back.stderr);
  assert.deepEqual(load(back.stdout), load(read('shop-mixed.yaml')));
});

test('uninject leaves objects without a sidecar as they are, with a note', async () => {
  const r = await runCli(['uninject', '-f', fixture('inject', 'shop-web.yaml')]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, read('shop-web.yaml'));
  assert.match(r.stderr, /not injected/);
});
