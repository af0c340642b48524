import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { fixture, isOneLineError, runCli } from '../helpers.js';

const load = (text: string) => yaml.loadAll(text).filter((d) => d !== null);
const read = (name: string) => readFileSync(fixture('inject', name), 'utf8');

test('kube-inject -f - reads stdin and writes the injected manifest to stdout', async () => {
  const r = await runCli(['kube-inject', '-f', '-', '--offline'], { stdin: read('shop-web.yaml') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(load(r.stdout), load(read('shop-web.injected.yaml')));
});

test('without settings or --offline, a note says the built-in settings were used', async () => {
  const r = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml')]);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /built-in injection settings \(docker\.io\/istio\/proxyv2:/);
});

test('-o writes the file atomically; on an error nothing is written and an old file is kept', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshctl-inject-'));
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

test('a Deployment without containers and a non-mapping template are clear errors', async () => {
  const noContainers = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: empty}\nspec:\n  template:\n    spec: {containers: []}\n';
  const r = await runCli(['kube-inject', '-f', '-', '--offline'], { stdin: noContainers });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /document 1 \(Deployment "empty"\): has no containers \(spec\.template\.spec\.containers\)/);
  const cron = 'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: "* * * * *"}\n';
  const c = await runCli(['kube-inject', '-f', '-', '--offline'], { stdin: cron });
  assert.equal(c.code, 1);
  assert.match(c.stderr, /CronJob "c"\): has no job template/);
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

test('--injectConfigFile brings values, revision, neverInjectSelector and injectedAnnotations', async () => {
  const r = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--injectConfigFile', fixture('inject', 'injector-configmap.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(load(r.stdout), load(read('shop-web.canary.injected.yaml')));
  assert.match(r.stderr, /template texts are not interpreted/);
  const never = read('shop-web.yaml').replace('app.kubernetes.io/version: v2.3.1', 'app.kubernetes.io/version: v2.3.1\n        shop.example/no-mesh: "yes"');
  const n = await runCli(['kube-inject', '-f', '-', '--injectConfigFile', fixture('inject', 'injector-configmap.yaml')], { stdin: never });
  assert.equal(n.code, 0);
  assert.equal(n.stdout, never);
  assert.match(n.stderr, /neverInjectSelector/);
});

test('--revision, --image, --hub and --tag', async () => {
  const r = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--offline', '--revision', 'blue', '--hub', 'h.example/i', '--tag', '7']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /istio\.io\/rev: blue/);
  assert.match(r.stdout, /value: istiod-blue\.istio-system\.svc:15012/);
  assert.match(r.stdout, /"revision":"blue"/);
  assert.match(r.stdout, /image: h\.example\/i\/proxyv2:7/);
  const i = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--offline', '--image', 'x.example/proxy:dev']);
  assert.equal((i.stdout.match(/image: x\.example\/proxy:dev/g) ?? []).length, 2);
  const both = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--offline', '--image', 'a/b:c', '--tag', '1']);
  assert.equal(both.code, 2);
  assert.ok(isOneLineError(both.stderr));
});

test('missing -f, a missing settings file and a malformed settings file are clear errors', async () => {
  const none = await runCli(['kube-inject', '--offline']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /-f FILE/);
  const missing = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--valuesFile', 'nope.yaml']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error: nope\.yaml: no such file/);
  const bad = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--meshConfigFile', fixture('inject', 'shop-list.yaml')]);
  assert.equal(bad.code, 0, 'a mapping is accepted as mesh config');
  const cm = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--meshConfigFile', fixture('inject', 'injector-configmap.yaml')]);
  assert.equal(cm.code, 1);
  assert.match(cm.stderr, /has no data\.mesh key/);
});

test('live mode without cluster access support is a clear error, not a silent fallback', async () => {
  const r = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--context', 'prod']);
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.equal(r.stdout, '');
});

test('kube-inject then uninject gives back the original objects', async () => {
  for (const name of ['shop-web.yaml', 'shop-mixed.yaml', 'shop-list.yaml']) {
    const injected = await runCli(['kube-inject', '-f', fixture('inject', name), '--offline']);
    const back = await runCli(['uninject', '-f', '-'], { stdin: injected.stdout });
    assert.equal(back.code, 0, back.stderr);
    let original = read(name);
    // the one documented loss: a probe on a named port comes back with the port's number
    if (name === 'shop-web.yaml') original = original.replace('path: /ready\n              port: http', 'path: /ready\n              port: 8080');
    assert.deepEqual(load(back.stdout), load(original), name);
  }
});

test('uninject leaves objects without a sidecar as they are, with a note', async () => {
  const r = await runCli(['uninject', '-f', fixture('inject', 'shop-web.yaml')]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, read('shop-web.yaml'));
  assert.match(r.stderr, /not injected/);
});
