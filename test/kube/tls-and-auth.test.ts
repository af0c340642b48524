import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
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

test('an exec credential plugin (as EKS and GKE use) supplies the token', async () => {
  const c = await startCluster();
  try {
    const plugin = path.join(c.dir, 'plugin.mjs');
    writeFileSync(plugin, `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 'harness-token' } }));\n`);
    const kubeconfig = path.join(c.dir, 'exec-kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: cloud',
      `clusters: [{name: c, cluster: {server: "${c.api.url}", insecure-skip-tls-verify: true}}]`,
      `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: "${process.execPath}", args: ["${plugin}"], interactiveMode: Never}}}]`,
      'contexts: [{name: cloud, context: {cluster: c, user: u, namespace: default}}]', '',
    ].join('\n'));
    const admin = await openLiveAdmin(PRODUCTPAGE, { kubeconfig, istioNamespace: 'istio-system', timeout: '10s' });
    try {
      assert.match((await admin.get('/server_info')).text, /"state": "LIVE"/);
    } finally {
      await admin.close();
    }
  } finally {
    await c.close();
  }
});
