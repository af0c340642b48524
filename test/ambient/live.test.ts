import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { KubeOptions } from '../../src/kube/options.js';
import { loadLive } from '../../src/describe/live.js';
import { loadMeshObjects } from '../../src/describe/load.js';
import { defaultMeshSettings } from '../../src/describe/mesh.js';
import type { Pod } from '../../src/describe/objects.js';
import { describePod } from '../../src/describe/report.js';
import { writeKubeconfig, type ApiServerOptions } from '../harness/apiserver.js';
import { startAmbientCluster, type AmbientCluster } from '../harness/ambient.js';
import { GATEWAY_API, GATEWAY_API_V1BETA1, notInstalled } from '../harness/served.js';
import { fixture, isOneLineError, runCli } from '../helpers.js';

/** `waypoint list|status` and ambient `describe pod` against the API-server stand-in serving fixtures/ambient. */
const AMBIENT = fixture('ambient');
const clusters: AmbientCluster[] = [];
let dir: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-ambient-live-'));
});
after(async () => {
  await Promise.all(clusters.map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function cluster(options: Partial<ApiServerOptions> & { namespace?: string } = {}): Promise<AmbientCluster> {
  const c = await startAmbientCluster(options);
  clusters.push(c);
  return c;
}

const env = () => ({ HOME: dir, KUBECONFIG: undefined });

test('live waypoint list -A and status: the same tables and problems as from the files', async () => {
  const c = await cluster();
  for (const args of [['waypoint', 'list', '-A', '-o', 'wide'], ['waypoint', 'status', '-A']]) {
    const live = await runCli([...args, '--kubeconfig', c.kubeconfig], { env: env() });
    const offline = await runCli([...args.filter((a) => a !== '-A'), '--files', AMBIENT], { env: env() });
    assert.equal(live.code, 0, live.stderr);
    assert.equal(live.stdout, offline.stdout);
    assert.equal(live.stderr, offline.stderr);
    assert.match(live.stdout, /\nshop +waypoint +/);
  }
});

test('live waypoint list: the context namespace, reading only labelled objects and the labelled namespaces', async () => {
  const c = await cluster({ namespace: 'payments' });
  const r = await runCli(['waypoint', 'list', '-o', 'wide', '--kubeconfig', c.kubeconfig], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'NAME          REVISION     TRAFFIC TYPE     PROGRAMMED     USED BY\nledger-wp     canary       all              True           service ledger.payments, pod ledger-v1-8c9d7b6f5-pqrst.payments\n');
  const reqs = c.api.requests;
  assert.ok(reqs.includes('GET /apis/gateway.networking.k8s.io/v1/namespaces/payments/gateways?limit=500'), reqs.join('\n'));
  assert.ok(reqs.includes('GET /api/v1/pods?labelSelector=istio.io%2Fuse-waypoint&limit=500'), reqs.join('\n'));
  assert.ok(!reqs.some((q) => /^GET \/api\/v1\/(pods|services)(\?limit=\d+)?$/.test(q)), 'never every pod or service of the cluster');
  // -n names another namespace: shop inherits its waypoint from its label, so its objects are read
  const shop = await runCli(['waypoint', 'list', '-n', 'shop', '-o', 'json', '--kubeconfig', c.kubeconfig], { env: env() });
  const data = JSON.parse(shop.stdout) as { waypoints: { usedBy: Record<string, string[]> }[] };
  assert.deepEqual(data.waypoints[0].usedBy, { namespaces: ['shop'], services: ['shop/web'], workloads: [] });
  assert.ok(c.api.requests.includes('GET /api/v1/namespaces/shop/services?limit=500'), c.api.requests.join('\n'));
});

test('live waypoint: Gateway API not installed, only v1beta1, forbidden lists', async () => {
  const none = await cluster({ served: notInstalled(GATEWAY_API) });
  const a = await runCli(['waypoint', 'list', '-A', '--kubeconfig', none.kubeconfig], { env: env() });
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, 'No waypoints found.\n');
  assert.equal(a.stderr, 'Warning: the cluster serves no Gateway API Gateways (gateways.gateway.networking.k8s.io: 404): waypoints need the Gateway API CRDs\n');

  const old = await cluster({ served: GATEWAY_API_V1BETA1 });
  const b = await runCli(['waypoint', 'list', '-A', '--kubeconfig', old.kubeconfig], { env: env() });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /\nshop +waypoint +default +service +True\n/);
  assert.deepEqual(old.api.requests.filter((q) => q.includes('/gateways')), ['GET /apis/gateway.networking.k8s.io/v1/gateways?limit=500', 'GET /apis/gateway.networking.k8s.io/v1beta1/gateways?limit=500']);

  const denied = await cluster({ deny: [{ verb: 'list', resource: 'gateways' }] });
  const d = await runCli(['waypoint', 'status', '-n', 'shop', '--kubeconfig', denied.kubeconfig], { env: env() });
  assert.equal(d.code, 1);
  assert.ok(isOneLineError(d.stderr), d.stderr);
  assert.match(d.stderr, /^Error: forbidden \(403\): user "[^"]+" may not list gateways in namespace shop: RBAC needs verb "list" on resource "gateways" in API group "gateway\.networking\.k8s\.io"/);

  const partial = await cluster({ deny: [{ verb: 'list', resource: 'namespaces' }, { verb: 'list', resource: 'pods' }] });
  const p = await runCli(['waypoint', 'list', '-n', 'shop', '-o', 'wide', '--kubeconfig', partial.kubeconfig], { env: env() });
  assert.equal(p.code, 0, p.stderr);
  // its own namespace is still read (get), and the services: the table is there
  assert.match(p.stdout, /\nwaypoint +default +service +True +namespace shop, service web\.shop\n/);
  assert.match(p.stderr, /^Warning: cannot list namespaces \(forbidden \(403\)[^\n]*\): waypoints used through other namespaces' labels are not shown$/m);
  assert.match(p.stderr, /^Warning: cannot list pods in all namespaces \(forbidden \(403\)[^\n]*\): only those in shop are checked$/m);
  assert.match(p.stderr, /^Warning: cannot list pods in namespace shop: forbidden \(403\)/m);
});

test('live waypoint status --wait: returns once programmed, else times out with the table and one error line', async () => {
  const c = await cluster();
  const ok = await runCli(['waypoint', 'status', '-n', 'shop', '--wait', '--kubeconfig', c.kubeconfig], { env: env() });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /\nwaypoint +True +Programmed /);
  const late = await runCli(['waypoint', 'status', '-n', 'inventory', '-w', '--waypoint-timeout', '1s', '--kubeconfig', c.kubeconfig], { env: env() });
  assert.equal(late.code, 1);
  assert.match(late.stdout, /\ninventory-wp +False +Programmed +NoResources /);
  assert.match(late.stderr, /^Error: timed out after 1s waiting for waypoint inventory\/inventory-wp to be programmed\n$/m);
  assert.ok(c.api.requests.filter((q) => q === 'GET /apis/gateway.networking.k8s.io/v1/namespaces/inventory/gateways?limit=500').length >= 2, 'polled');
});

test('live waypoint: API server down is one clear line', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const kubeconfig = await writeKubeconfig(path.join(dir, 'down'), { server: `http://127.0.0.1:${port}` });
  const r = await runCli(['waypoint', 'list', '--kubeconfig', kubeconfig, '--timeout', '5s'], { env: env() });
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: connection refused/);
});

test('live describe pod in ambient: the ztunnel of its node, its waypoints, as from the files', async () => {
  const c = await cluster();
  const options: KubeOptions = { kubeconfig: c.kubeconfig, istioNamespace: 'istio-system', timeout: '20s' };
  const offline = await loadMeshObjects([AMBIENT]);
  const opts = { mesh: defaultMeshSettings(), currentNamespace: 'shop' };
  for (const ref of ['web-7f9c5d8b6-abcde.shop', 'stock-6a7b8c9d0-efghi.inventory', 'ledger-v1-8c9d7b6f5-pqrst.payments']) {
    const live = await loadLive('pod', ref, options, false, false);
    assert.deepEqual(live.warnings, []);
    assert.equal(live.ztunnelsKnown, true);
    const fromCluster = describePod(live.objects, live.target as Pod, { ...opts, ztunnelsKnown: live.ztunnelsKnown });
    const [name, ns] = ref.split('.');
    const pod = offline.pods.find((p) => p.metadata?.name === name && p.metadata?.namespace === ns)!;
    const fromFiles = describePod(offline, pod, opts);
    assert.ok(fromCluster.ambient, ref);
    assert.deepEqual(fromCluster.ambient, fromFiles.ambient, ref);
  }
  assert.ok(c.api.requests.includes('GET /api/v1/pods?labelSelector=app%3Dztunnel&limit=500'), c.api.requests.join('\n'));
  assert.ok(c.api.requests.includes('GET /apis/gateway.networking.k8s.io/v1/gatewayclasses?limit=500'));

  const r = await runCli(['describe', 'pod', 'stock-6a7b8c9d0-efghi', '-n', 'inventory', '--kubeconfig', c.kubeconfig], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n   Ambient: enrolled \(namespace inventory has istio\.io\/dataplane-mode=ambient\), redirected by istio-cni\n   ztunnel: none on node worker-3\n/);
  assert.match(r.stdout, /\nWARNING: no ztunnel runs on node worker-3: the traffic of ambient pod stock-6a7b8c9d0-efghi\.inventory is not carried/);
});


test('live describe pod in ambient reads the ztunnel of its node (the fake cluster of fixtures/ztunnel)', async () => {
  const { startCluster } = await import('../harness/cluster.js');
  const c = await startCluster();
  try {
    const r = await runCli(['describe', 'pod', 'frontend-6b9f8c7d5-q9z2m.shop', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\n   ztunnel: istio-system\/ztunnel-n4xw8 on node ambient-worker\n   ztunnel view: protocol HBONE, waypoint None \(from istio-system\/ztunnel-n4xw8\)\n/);
    // that ztunnel binds the ledger pods to a workload waypoint no label read explains
    const ledger = await runCli(['describe', 'pod', 'ledger-7d6c5b8f9-h7w2c.payments', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.match(ledger.stdout, /\n   ztunnel view: protocol HBONE, waypoint payments-waypoint \(from istio-system\/ztunnel-r9c5t\)\n/);
    assert.match(ledger.stdout, /\nWARNING: ztunnel istio-system\/ztunnel-r9c5t sends traffic to pod ledger-7d6c5b8f9-h7w2c\.payments through waypoint payments-waypoint, but the labels read give none/);
  } finally {
    await c.close();
  }
  const down = await startCluster({ ztunnelGarble: 'html' });
  try {
    const r = await runCli(['describe', 'pod', 'frontend-6b9f8c7d5-q9z2m.shop', '--kubeconfig', down.kubeconfig], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nWARNING: cannot read the config dump of ztunnel ztunnel-n4xw8\.istio-system: /);
    assert.doesNotMatch(r.stdout, /ztunnel view:/);
  } finally {
    await down.close();
  }
});
