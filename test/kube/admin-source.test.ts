import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openLiveAdmin } from '../../src/kube/admin-source.js';
import { type FakeCluster, PRODUCTPAGE, REVIEWS_V1, startCluster } from '../harness/cluster.js';

const opts = (c: FakeCluster, extra: Record<string, unknown> = {}) => ({
  kubeconfig: c.kubeconfig,
  istioNamespace: 'istio-system',
  timeout: '5s',
  ...extra,
});

describe('Envoy admin through a port-forward', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster()));
  after(async () => c.close());

  test('name.namespace: /config_dump arrives whole through client-node PortForward', async () => {
    const admin = await openLiveAdmin(`${PRODUCTPAGE}.default`, opts(c));
    try {
      const dump = await admin.get('/config_dump');
      const parsed = JSON.parse(dump.text) as { configs: { '@type': string }[] };
      assert.equal(parsed.configs[0]['@type'], 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump');
      assert.equal(admin.name, `${PRODUCTPAGE}.default`);
      assert.equal(admin.via, 'port-forward');
      const eds = await admin.get('/config_dump?include_eds');
      assert.match(eds.text, /EndpointsConfigDump/);
      assert.doesNotMatch(dump.text, /EndpointsConfigDump/);
    } finally {
      await admin.close();
    }
    assert.ok(c.api.requests.includes(`GET /api/v1/namespaces/default/pods/${PRODUCTPAGE}`));
    assert.ok(c.api.requests.some((r) => r.startsWith(`WS /api/v1/namespaces/default/pods/${PRODUCTPAGE}/portforward?ports=15000`)));
    assert.deepEqual(c.envoys.get(PRODUCTPAGE)!.requests.slice(-2), ['GET /config_dump', 'GET /config_dump?include_eds']);
  });

  test('deployment/name picks the running, ready pod', async () => {
    const admin = await openLiveAdmin('deployment/reviews-v1', opts(c));
    try {
      assert.equal(admin.pod.name, REVIEWS_V1);
      const info = JSON.parse((await admin.get('/server_info')).text) as { state: string };
      assert.equal(info.state, 'LIVE');
    } finally {
      await admin.close();
    }
  });

  test('-n applies to a bare name; POST /logging sets levels', async () => {
    const admin = await openLiveAdmin(PRODUCTPAGE, opts(c, { namespace: 'default' }));
    try {
      const set = await admin.request('POST', '/logging?level=debug');
      assert.match(set.text, /router: debug/);
    } finally {
      await admin.close();
    }
  });
});
