import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isOneLineError, runCli } from '../helpers.js';
import { ISTIOD_B, PRODUCTPAGE, startCluster } from '../harness/cluster.js';

describe('istiod replicas that fail', () => {
  test('one replica down: the others answer, the missing one is named', async () => {
    const c = await startCluster({ istiodDown: [ISTIOD_B] });
    try {
      const r = await runCli(['proxy-status', '--kubeconfig', c.kubeconfig, '--timeout', '10s']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`^warning: istiod ${ISTIOD_B} did not answer, its data is missing: port-forward to pod ${ISTIOD_B}\\.istio-system port 15014 failed: .*connection refused\\n$`));
      assert.doesNotMatch(r.stdout, /reviews-v2/);
      assert.match(r.stdout, new RegExp(PRODUCTPAGE));
    } finally {
      await c.close();
    }
  });

  test('forbidden to list pods in istio-system: one line naming verb and resource', async () => {
    const c = await startCluster({ deny: [{ verb: 'list', resource: 'pods' }] });
    try {
      const r = await runCli(['istiod', 'registry', '--kubeconfig', c.kubeconfig]);
      assert.equal(r.code, 1);
      assert.ok(isOneLineError(r.stderr), r.stderr);
      assert.match(r.stderr, /^Error: forbidden \(403\): .* may not list pods in namespace istio-system: RBAC needs verb "list" on resource "pods" in namespace istio-system\n$/);
    } finally {
      await c.close();
    }
  });

  test('an API server that never answers: --timeout ends the command, and the process exits', async () => {
    const c = await startCluster({ hangPaths: ['/api/v1/namespaces/istio-system/pods'] });
    try {
      const r = await runCli(['proxy-status', '--kubeconfig', c.kubeconfig, '--timeout', '500ms'], { timeoutMs: 20_000 });
      assert.equal(r.code, 1, 'exited by itself, not killed');
      assert.match(r.stderr, /^Error: timed out after 500ms waiting for the API server at http:\/\/127\.0\.0\.1:\d+ to list pods in namespace istio-system \(raise --timeout\)\n$/);
    } finally {
      await c.close();
    }
  });
});

