import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { KubeObject } from '../harness/apiserver.js';
import { startCluster } from '../harness/cluster.js';
import { fixture, isOneLineError, runCli } from '../helpers.js';

/**
 * The ambient trace live, against the API-server stand-in's ambient mesh (fixtures/ztunnel): the client's
 * ztunnel found by its node, the destination node's ztunnel, the waypoint pod's Envoy admin (its generated
 * dump), all read through the cluster as a user's run would.
 */

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-ambient-trace-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));
const env = () => ({ HOME: dir, KUBECONFIG: undefined });

const PRODUCTPAGE = 'productpage-v1-5b8d7f9c6d-k2lxp.bookinfo';
const WAYPOINT = 'reviews-waypoint-7b9c8d6f4-m5zqt';

test('live: a pod without a sidecar is traced through its ztunnel, the waypoint pod and the destination ztunnel', async () => {
  const c = await startCluster();
  try {
    const r = await runCli(['trace', PRODUCTPAGE, 'http://reviews:9080/reviews/0', '--random', '95', '-o', 'json', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as { steps: { at?: string; stage: string }[]; result: { cluster: string; ambient: { source: { ztunnel: string }; waypoint: { dump: string }; inbound: { ztunnel: string; decision: string }; destination: { workload: string } } } };
    const a = t.result.ambient;
    // the ztunnel on productpage's node (ambient-worker), the one on reviews-v2's (ambient-worker2)
    assert.equal(a.source.ztunnel, 'ztunnel-n4xw8.istio-system');
    assert.equal(a.inbound.ztunnel, 'ztunnel-r9c5t.istio-system');
    assert.equal(a.inbound.decision, 'ALLOW');
    assert.equal(a.waypoint.dump, `${WAYPOINT}.bookinfo`);
    assert.equal(t.result.cluster, 'inbound-vip|9080|http/v2|reviews.bookinfo.svc.cluster.local');
    assert.equal(a.destination.workload, 'bookinfo/reviews-v2-6f8d9c7b5-m4kzp');
    assert.ok(t.steps.some((s) => s.at === `waypoint ${WAYPOINT}.bookinfo` && s.stage === 'route'));
    // what was read: each ztunnel's dump once, the waypoint's dump with its endpoints
    assert.deepEqual(c.ztunnels.get('ztunnel-n4xw8')!.requests, ['GET /config_dump']);
    assert.deepEqual(c.ztunnels.get('ztunnel-r9c5t')!.requests, ['GET /config_dump']);
    assert.deepEqual(c.envoys.get(WAYPOINT)!.requests, ['GET /config_dump?include_eds']);
    assert.deepEqual(c.ztunnels.get('ztunnel-7kq2p')!.requests, []);

    // without a waypoint: two ztunnels only
    const direct = await runCli(['trace', 'frontend-6b9f8c7d5-q9z2m.shop', 'http://catalog:8080/', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stdout, /at client ztunnel ztunnel-n4xw8\.istio-system\n/);
    assert.match(direct.stdout, /at destination ztunnel ztunnel-r9c5t\.istio-system\n/);
    assert.match(direct.stdout, /authorization\s+ALLOW by shop\/require-mtls \(ztunnel\)/);

    // a missing pod: one line
    const missing = await runCli(['trace', 'nosuch.bookinfo', 'http://reviews:9080/', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.notEqual(missing.code, 0);
    assert.ok(isOneLineError(missing.stderr), missing.stderr);
    assert.match(missing.stderr, /nosuch/);
  } finally {
    await c.close();
  }
});

test('live: a waypoint whose admin answers garbage is uncertain, not guessed', async () => {
  const c = await startCluster({ waypointGarble: 'html' });
  try {
    const r = await runCli(['trace', PRODUCTPAGE, 'http://reviews:9080/reviews/0', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`\\? the Envoy of waypoint ${WAYPOINT}\\.bookinfo could not be read: `));
    assert.doesNotMatch(r.stdout, /authorization {5}/);
    assert.doesNotMatch(r.stdout, /Delivery/);
  } finally {
    await c.close();
  }
});

test('live: the labels read from the cluster say why the waypoint is bound (src/ambient), per namespace', async () => {
  // the Gateways, GatewayClass and Services behind the ztunnel mesh (its Namespaces and Pods the harness has already)
  const objects = (yaml.loadAll(readFileSync(fixture('ztunnel', 'resources.yaml'), 'utf8')) as KubeObject[]).filter((o) => !['Namespace', 'Pod'].includes(o.kind));
  const c = await startCluster({ extraObjects: objects });
  try {
    const r = await runCli(['trace', PRODUCTPAGE, 'http://reviews:9080/reviews/0', '--random', '1', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ why: service reviews\.bookinfo is bound to waypoint bookinfo\/reviews-waypoint by its own istio\.io\/use-waypoint label/);
    const catalog = await runCli(['trace', 'frontend-6b9f8c7d5-q9z2m.shop', 'http://catalog:8080/', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.equal(catalog.code, 0, catalog.stderr);
    assert.match(catalog.stdout, /names waypoint shop\/catalog-wp, which does not exist; istiod reports WaypointIsNotReady/);
  } finally {
    await c.close();
  }
});

test('live: a pod with neither a sidecar nor a ztunnel on the cluster is one clear line', async () => {
  const { startAmbientCluster } = await import('../harness/ambient.js');
  const c = await startAmbientCluster();
  try {
    const r = await runCli(['trace', 'web-7f9c5d8b6-abcde.shop', 'http://search:8080/', '--kubeconfig', c.kubeconfig], { env: env() });
    assert.equal(r.code, 1);
    assert.ok(isOneLineError(r.stderr), r.stderr);
    assert.match(r.stderr, /web-7f9c5d8b6-abcde\.shop has no istio-proxy sidecar, and there is no ztunnel DaemonSet in namespace istio-system/);
  } finally {
    await c.close();
  }
});
