import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/kube/config.js';
import { parseDuration } from '../../src/kube/duration.js';
import { labelSelectorString, parsePodRef } from '../../src/kube/pods.js';
import { writeKubeconfig } from '../harness/apiserver.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-kc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('KUBECONFIG with several files: first definition and first current-context win, missing files skipped', async () => {
  const a = await writeKubeconfig(path.join(dir, 'a'), { server: 'http://127.0.0.1:1', context: 'alpha', namespace: 'team-a' });
  const b = await writeKubeconfig(path.join(dir, 'b'), {
    server: 'http://127.0.0.1:2', context: 'beta', otherContexts: [{ name: 'alpha', namespace: 'shadowed' }],
  });
  const env = { KUBECONFIG: [path.join(dir, 'missing'), a, b].join(path.delimiter), HOME: dir };
  const loaded = loadKubeConfig({}, KubeConfig, env);
  assert.equal(loaded.contextName, 'alpha');
  assert.equal(loaded.namespace, 'team-a');
  assert.equal(loaded.server, 'http://127.0.0.1:1');
  assert.deepEqual(loaded.sources, [a, b]);
  const beta = loadKubeConfig({ context: 'beta' }, KubeConfig, env);
  assert.equal(beta.server, 'http://127.0.0.1:2');
  assert.equal(beta.namespace, 'default');
  assert.equal(loadKubeConfig({ context: 'beta', namespace: 'ns1' }, KubeConfig, env).namespace, 'ns1');
});

test('--kubeconfig beats KUBECONFIG; ~/.kube/config is the fallback', async () => {
  const a = await writeKubeconfig(path.join(dir, 'flag'), { server: 'http://127.0.0.1:3', context: 'flag' });
  const home = path.join(dir, 'home');
  await writeKubeconfig(path.join(home, '.kube', 'config'), { server: 'http://127.0.0.1:4', context: 'home' });
  assert.equal(loadKubeConfig({ kubeconfig: a }, KubeConfig, { KUBECONFIG: path.join(dir, 'b'), HOME: home }).contextName, 'flag');
  assert.equal(loadKubeConfig({}, KubeConfig, { HOME: home }).contextName, 'home');
});

test('clear errors: missing file, unknown context, no current-context, bad YAML, nothing at all', async () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as Error).message;
    }
    return assert.fail('expected an error');
  };
  assert.equal(err(() => loadKubeConfig({ kubeconfig: path.join(dir, 'nope') }, KubeConfig, {})), `kubeconfig ${path.join(dir, 'nope')}: no such file`);
  const a = await writeKubeconfig(path.join(dir, 'ctx'), { server: 'http://127.0.0.1:1', context: 'one' });
  assert.match(err(() => loadKubeConfig({ kubeconfig: a, context: 'two' }, KubeConfig, {})), /--context "two" is not in .* \(contexts: one\)/);
  const none = await writeKubeconfig(path.join(dir, 'nocur'), { server: 'http://127.0.0.1:1', context: 'one', currentContext: null });
  assert.match(err(() => loadKubeConfig({ kubeconfig: none }, KubeConfig, {})), /no current-context set; pass --context \(contexts: one\)/);
  const bad = path.join(dir, 'bad');
  writeFileSync(bad, 'clusters: [\n');
  assert.match(err(() => loadKubeConfig({ kubeconfig: bad }, KubeConfig, {})), /^kubeconfig .*bad: /);
  assert.match(err(() => loadKubeConfig({}, KubeConfig, { HOME: path.join(dir, 'empty-home') })), /^no kubeconfig: pass --kubeconfig/);
  const plain = path.join(dir, 'plain');
  writeFileSync(plain, 'clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
  assert.match(err(() => loadKubeConfig({ kubeconfig: plain }, KubeConfig, {})), /uses plain HTTP .* insecure-skip-tls-verify/);
});

test('pod references split as istioctl does', () => {
  assert.deepEqual(parsePodRef('productpage-v1-abc', 'ns0'), { kind: 'pod', name: 'productpage-v1-abc', namespace: 'ns0' });
  assert.deepEqual(parsePodRef('productpage-v1-abc.default', 'ns0'), { kind: 'pod', name: 'productpage-v1-abc', namespace: 'default' });
  assert.deepEqual(parsePodRef('deploy/reviews-v1.bookinfo', 'ns0'), { kind: 'deployment', name: 'reviews-v1', namespace: 'bookinfo' });
  assert.deepEqual(parsePodRef('deployment.apps/reviews', 'ns0'), { kind: 'deployment', name: 'reviews', namespace: 'ns0' });
  assert.deepEqual(parsePodRef('svc/reviews', 'ns0'), { kind: 'service', name: 'reviews', namespace: 'ns0' });
  assert.deepEqual(parsePodRef('sts/db-0.data', 'ns0'), { kind: 'statefulset', name: 'db-0', namespace: 'data' });
  assert.throws(() => parsePodRef('', 'ns0'), /empty pod reference/);
  assert.throws(() => parsePodRef('foo/bar', 'ns0'), /unsupported resource kind "foo"/);
});

test('label selectors and durations', () => {
  assert.equal(labelSelectorString({ matchLabels: { app: 'a', v: '1' }, matchExpressions: [
    { key: 'tier', operator: 'In', values: ['x', 'y'] }, { key: 'gone', operator: 'DoesNotExist' }, { key: 'has', operator: 'Exists' },
  ] }), 'app=a,v=1,tier in (x,y),!gone,has');
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2'), 2000);
  assert.throws(() => parseDuration('soon'), /--timeout: "soon" is not a duration/);
  assert.throws(() => parseDuration('0s'), /greater than zero/);
});

test('in-cluster: the service account token, CA and namespace when nothing else is configured', () => {
  const prefix = path.join(dir, 'pod-root');
  const sa = path.join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(sa, { recursive: true });
  writeFileSync(path.join(sa, 'token'), 'sa-token');
  writeFileSync(path.join(sa, 'ca.crt'), 'not used before a request');
  writeFileSync(path.join(sa, 'namespace'), 'bookinfo');
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
  process.env.KUBERNETES_SERVICE_PORT = '443';
  try {
    const loaded = loadKubeConfig({}, KubeConfig, { KUBERNETES_SERVICE_HOST: '10.96.0.1', HOME: path.join(dir, 'nohome') }, prefix);
    assert.deepEqual([loaded.server, loaded.namespace, loaded.sources], ['https://10.96.0.1:443', 'bookinfo', ['in-cluster']]);
    assert.equal(loadKubeConfig({ namespace: 'other' }, KubeConfig, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, prefix).namespace, 'other');
  } finally {
    for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
