import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openLiveAdmin } from '../../src/kube/admin-source.js';
import { proxyStatus } from '../../src/commands/proxy-status.js';
import { PRODUCTPAGE, startCluster } from '../harness/cluster.js';

test('HTTPS API server: REST, port-forward (wss) and exec verify the server with the kubeconfig CA', async () => {
  const c = await startCluster({ tls: true, deny: [{ verb: 'create', resource: 'pods/portforward' }] });
  try {
    assert.match(c.api.url, /^https:/);
    const admin = await openLiveAdmin(`${PRODUCTPAGE}.default`, { kubeconfig: c.kubeconfig, istioNamespace: 'istio-system', timeout: '10s' });
    try {
      assert.match((await admin.get('/server_info')).text, /"state": "LIVE"/);
      assert.equal(admin.via, 'exec');
    } finally {
      await admin.close();
    }
  } finally {
    await c.close();
  }
  const c2 = await startCluster({ tls: true });
  try {
    const rows = JSON.parse(await proxyStatus(undefined, { kubeconfig: c2.kubeconfig, istioNamespace: 'istio-system', output: 'json' })) as unknown[];
    assert.equal(rows.length, 5);
  } finally {
    await c2.close();
  }
});

test('a server certificate from an unknown authority is one clear TLS error', async () => {
  const c = await startCluster({ tls: true, trustedCa: 'other-ca' });
  try {
    await assert.rejects(openLiveAdmin(PRODUCTPAGE, { kubeconfig: c.kubeconfig, istioNamespace: 'istio-system', timeout: '10s' }), (err: Error) => {
      assert.match(err.message, /^TLS error talking to the API server at https:\/\/127\.0\.0\.1:\d+: unable to verify the first certificate \(check certificate-authority of context "harness"\)$/);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  } finally {
    await c.close();
  }
});
