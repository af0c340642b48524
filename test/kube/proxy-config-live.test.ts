import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { proxyConfig } from '../../src/commands/proxy-config.js';
import { fileAdminSource } from '../../src/source/envoy-admin.js';
import { fixture, runCli } from '../helpers.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';

let c: FakeCluster;
before(async () => (c = await startCluster()));
after(async () => c.close());

test('meshctl proxy-config clusters <pod>.default --kubeconfig: live through the stand-in, same table as the saved dump, and the process exits', async () => {
  const live = await runCli(['proxy-config', 'clusters', `${PRODUCTPAGE}.default`, '--kubeconfig', c.kubeconfig], { timeoutMs: 30_000 });
  assert.equal(live.code, 0, live.stderr);
  assert.equal(live.stderr, '');
  const saved = await proxyConfig('clusters', { output: 'short', verbose: true }, fileAdminSource(fixture('live', 'productpage-config_dump.json')));
  assert.equal(live.stdout, saved.stdout);
  assert.match(live.stdout, /^reviews\.default\.svc\.cluster\.local\s+9080\s+v1\s+outbound\s+EDS\s/m);
  assert.ok(c.api.requests.includes(`WS /api/v1/namespaces/default/pods/${PRODUCTPAGE}/portforward?ports=15000`));
});

test('proxy-config endpoints deploy/… reads /clusters?format=json live', async () => {
  const live = await runCli(['pc', 'endpoints', 'deploy/productpage-v1', '-n', 'default', '--kubeconfig', c.kubeconfig]);
  assert.equal(live.code, 0, live.stderr);
  const saved = await proxyConfig('endpoints', { output: 'short', verbose: true }, fileAdminSource(fixture('live', 'productpage-clusters.json')));
  assert.equal(live.stdout, saved.stdout);
  assert.ok(c.envoys.get(PRODUCTPAGE)!.requests.includes('GET /clusters?format=json'));
});

test('proxy-config log is registered under proxy-config; a missing pod is one line', async () => {
  const r = await runCli(['proxy-config', 'log', `${PRODUCTPAGE}.default`, '--kubeconfig', c.kubeconfig, '--level', 'router:debug']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}router: debug$/m);
  const missing = await runCli(['pc', 'clusters', 'productpage-v9.default', '--kubeconfig', c.kubeconfig]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `Error: pod productpage-v9 not found in namespace default\n`);
});
