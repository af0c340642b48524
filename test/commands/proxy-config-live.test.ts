import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { proxyConfig, type ProxyConfigKind } from '../../src/commands/proxy-config.js';
import { openAdminSource } from '../../src/kube/admin-source.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';
import { isOneLineError, runCli } from '../helpers.js';

/** proxy-config against a pod: the real CLI, through the API-server stand-in's port-forward, on loopback. */
describe('proxy-config live', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster()));
  after(async () => c.close());

  const envoyRequests = () => c.envoys.get(PRODUCTPAGE)!.requests;

  test('the CLI reaches the pod through the port-forward and prints the table', async () => {
    const r = await runCli(['pc', 'clusters', `${PRODUCTPAGE}.default`, '--kubeconfig', c.kubeconfig, '--timeout', '10s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SERVICE FQDN +PORT +SUBSET +DIRECTION +TYPE +DESTINATION RULE\n/);
    assert.equal(envoyRequests().at(-1), 'GET /config_dump');
  });

  test('each view asks the admin API for what it needs: /config_dump, /clusters?format=json, include_eds for all', async () => {
    const run = async (kind: ProxyConfigKind, withHeaders = false) => {
      const source = await openAdminSource(PRODUCTPAGE, { kubeconfig: c.kubeconfig, namespace: 'default', istioNamespace: 'istio-system', timeout: '10s' });
      try {
        return await proxyConfig(kind, { output: 'short', verbose: true, withHeaders }, source);
      } finally {
        await source.close();
      }
    };
    assert.match((await run('listeners')).stdout, /^ADDRESSES +PORT +MATCH +DESTINATION\n/);
    assert.equal(envoyRequests().at(-1), 'GET /config_dump');
    assert.match((await run('endpoints')).stdout, /^ENDPOINT +STATUS +OUTLIER CHECK +CLUSTER\n/);
    assert.equal(envoyRequests().at(-1), 'GET /clusters?format=json');
    assert.match((await run('all', true)).stdout, /------ ENDPOINTS INFO ------/);
    assert.equal(envoyRequests().at(-1), 'GET /config_dump?include_eds');
  });

  test('a pod that does not exist is one clear line, exit 1', async () => {
    const r = await runCli(['pc', 'listeners', 'nope-7d4b8d9b7c-x2x9z.default', '--kubeconfig', c.kubeconfig, '--timeout', '10s']);
    assert.equal(r.code, 1);
    assert.ok(isOneLineError(r.stderr), r.stderr);
    assert.match(r.stderr, /nope-7d4b8d9b7c-x2x9z/);
  });
});
