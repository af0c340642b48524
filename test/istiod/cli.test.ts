import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers.js';
import { type FakeCluster, ISTIOD_A, ISTIOD_B, ISTIOD_CANARY, PRODUCTPAGE, REVIEWS_V1, startCluster } from '../harness/cluster.js';

const kc = (c: FakeCluster) => ['--kubeconfig', c.kubeconfig, '--timeout', '10s'];

describe('istiod commands against the stand-in cluster', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster()));
  after(async () => c.close());

  test('proxy-status: syncz of every istiod replica, merged and sorted', async () => {
    const r = await runCli(['proxy-status', ...kc(c)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+ECDS\s+ISTIOD\s+VERSION$/);
    assert.equal(lines.length, 6);
    assert.match(lines[1], new RegExp(`^istio-ingressgateway-6d8c7f9b5-q2w3e\\.istio-system\\s+Kubernetes\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+${ISTIOD_B}\\s+1\\.24\\.0$`));
    assert.match(lines[3], /^ratings-v1-6f5c8d4b9-lab01\.bookinfo-lab\s.*istiod-canary-5b7d6c8f9-kl3mn\s+1\.25\.0-alpha\.0$/);
    assert.match(lines[4], new RegExp(`^${REVIEWS_V1}\\.default\\s+Kubernetes\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+STALE\\s+IGNORED\\s+${ISTIOD_A}\\s+1\\.24\\.0$`));
    assert.match(lines[5], /STALE \(Never Acknowledged\)/);
    // the canary revision's istiod is a replica too unless --revision narrows it
    const a = c.api.requests.filter((q) => q.includes('/portforward?ports=15014'));
    assert.equal(a.length, 3);
  });



  test('proxy-status <pod>: a diff of what istiod sent against what the proxy holds', async () => {
    const r = await runCli(['proxy-status', `deployment/reviews-v1`, ...kc(c)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^--- Istiod Clusters\n\+\+\+ Envoy Clusters\n@@ /);
    assert.match(r.stdout, /^-\s+"name": "outbound\|9080\|\|mongodb\.default\.svc\.cluster\.local",$/m);
    assert.match(r.stdout, /^Clusters Don't Match\nListeners Match\nRoutes Match/m);
  });

  test('istiod registry: a table, -n filter', async () => {
    const r = await runCli(['istiod', 'registry', ...kc(c), '-n', 'istio-system']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout,
      'SERVICE                                   NAMESPACE        ADDRESS        PORTS                                          REGISTRY\n' +
      'istiod.istio-system.svc.cluster.local     istio-system     10.96.0.20     15010/GRPC,15012/GRPC,443/HTTPS,15014/HTTP     Kubernetes\n');
  });

  test('istiod debug: every replica keyed by pod, or one with --istiod', async () => {
    const all = await runCli(['istiod', 'debug', 'adsz', ...kc(c)]);
    assert.equal(all.code, 0, all.stderr);
    const doc = JSON.parse(all.stdout) as Record<string, { totalClients: number }>;
    assert.deepEqual(Object.keys(doc), [ISTIOD_A, ISTIOD_B, ISTIOD_CANARY]);
    assert.equal(doc[ISTIOD_B].totalClients, 2);
  });
});

