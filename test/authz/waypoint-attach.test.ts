import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import yaml from 'js-yaml';
import { selectPolicies, type Selectable } from '../../src/authz/select.js';
import { loadMeshObjects } from '../../src/describe/load.js';
import { waypointServicesOf } from '../../src/describe/report.js';
import type { KubeObject } from '../harness/apiserver.js';
import { startAmbientCluster, type AmbientCluster } from '../harness/ambient.js';
import { fixture, runCli } from '../helpers.js';

/**
 * Policies a waypoint takes through the services it serves (istiod's ShouldAttachPolicy): a targetRef of
 * kind Service names a Kubernetes Service, one of group networking.istio.io and kind ServiceEntry a
 * ServiceEntry; either only from that service's namespace, and only when the waypoint serves it (its own
 * or its namespace's istio.io/use-waypoint). The same selection from manifests (--files), from the cluster
 * (--use-kube) and in describe pod.
 */

const ap = (name: string, namespace: string, spec: Selectable['spec'] = {}) => ({ metadata: { name, namespace }, spec });
const WP_LABELS = { 'gateway.networking.k8s.io/gateway-name': 'shared', 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint' };
const SE = 'networking.istio.io';

test('selectPolicies: a ServiceEntry targetRef attaches through a served ServiceEntry of the same namespace, with its group', () => {
  const ref = (group: string, kind: string, name: string) => ({ targetRefs: [{ group, kind, name }] });
  const policies = [
    ap('to-se', 'payments', ref(SE, 'ServiceEntry', 'api')),
    ap('to-se-other-ns', 'shop', ref(SE, 'ServiceEntry', 'api')),
    ap('to-se-no-group', 'payments', ref('', 'ServiceEntry', 'api')),
    ap('to-se-wrong-group', 'payments', ref('gateway.networking.k8s.io', 'ServiceEntry', 'api')),
    ap('service-ref-to-se', 'payments', ref('', 'Service', 'api')),
    ap('se-ref-to-service', 'payments', ref(SE, 'ServiceEntry', 'fraud')),
    ap('to-service', 'payments', ref('', 'Service', 'fraud')),
    ap('to-service-core', 'payments', ref('core', 'Service', 'fraud')),
    ap('to-unserved-se', 'payments', ref(SE, 'ServiceEntry', 'other')),
  ];
  const services = [
    { name: 'api', namespace: 'payments', kind: 'ServiceEntry' as const },
    { name: 'fraud', namespace: 'payments', kind: 'Service' as const },
  ];
  const pick = (labels: Record<string, string>, s = services) => selectPolicies(policies, { namespace: 'mesh-waypoints', labels, rootNamespace: 'istio-system', services: s }).map((x) => x.policy.metadata.name);
  assert.deepEqual(pick(WP_LABELS), ['to-se', 'to-service', 'to-service-core']);
  assert.deepEqual(pick(WP_LABELS, []), [], 'a ServiceEntry it does not serve: none');
  // not a waypoint: a Gateway API gateway's pods or a sidecar never take Service or ServiceEntry targetRefs
  assert.deepEqual(pick({ 'gateway.networking.k8s.io/gateway-name': 'shared', 'gateway.networking.k8s.io/gateway-class-name': 'istio' }), []);
  assert.deepEqual(pick({ app: 'api' }), []);
});

test('selectPolicies: Gateway and GatewayClass targetRefs compare the group too (a networking.istio.io Gateway is not the waypoint)', () => {
  const policies = [
    ap('k8s-gateway', 'shop', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }] }),
    ap('istio-gateway', 'shop', { targetRefs: [{ group: 'networking.istio.io', kind: 'Gateway', name: 'waypoint' }] }),
    ap('class-no-group', 'istio-system', { targetRefs: [{ kind: 'GatewayClass', name: 'istio-waypoint' }] }),
  ];
  const wp = { 'gateway.networking.k8s.io/gateway-name': 'waypoint', 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint' };
  assert.deepEqual(selectPolicies(policies, { namespace: 'shop', labels: wp, rootNamespace: 'istio-system' }).map((x) => x.policy.metadata.name), ['k8s-gateway']);
});

/** ServiceEntries and policies added to fixtures/ambient: shop's namespace label names shop/waypoint. */
const EXTRA = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments-api, namespace: shop}
spec: {hosts: [api.payments.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS, location: MESH_EXTERNAL}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ledger-api
  namespace: shop
  labels: {istio.io/use-waypoint: ledger-wp, istio.io/use-waypoint-namespace: payments}
spec: {hosts: [ledger.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: opted-out
  namespace: shop
  labels: {istio.io/use-waypoint: none}
spec: {hosts: [opted-out.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: batch-api, namespace: batch}
spec: {hosts: [batch.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
${[
  ['web-readers', 'shop', 'ALLOW', '""', 'Service', 'web', 'methods: [GET]'],
  ['api-writers', 'shop', 'ALLOW', SE, 'ServiceEntry', 'payments-api', 'methods: [POST]'],
  ['api-no-admin', 'shop', 'DENY', SE, 'ServiceEntry', 'payments-api', 'paths: ["/admin/*"]'],
  ['api-no-group', 'shop', 'DENY', '""', 'ServiceEntry', 'payments-api', 'methods: [GET]'],
  ['api-as-service', 'shop', 'DENY', '""', 'Service', 'payments-api', 'methods: [GET]'],
  ['ledger-api-deny', 'shop', 'DENY', SE, 'ServiceEntry', 'ledger-api', 'methods: [GET]'],
  ['opted-out-deny', 'shop', 'DENY', SE, 'ServiceEntry', 'opted-out', 'methods: [GET]'],
  ['batch-api-deny', 'batch', 'DENY', SE, 'ServiceEntry', 'batch-api', 'methods: [GET]'],
  ['cross-namespace', 'payments', 'DENY', SE, 'ServiceEntry', 'payments-api', 'methods: [GET]'],
]
  .map(
    ([name, ns, action, group, kind, target, op]) => `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec:
  targetRefs:
  - {group: ${group}, kind: ${kind}, name: ${target}}
  action: ${action}
  rules:
  - to:
    - operation: {${op}}
`,
  )
  .join('')}`;

const WAYPOINT_POD = 'waypoint-6d8f9b7c5-wp001.shop';
const ATTACHED = ['api-no-admin.shop', 'api-writers.shop', 'shop-waypoint-policy.shop', 'web-readers.shop'];
let dir: string;
let home: string;
let cluster: AmbientCluster;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'meshctl-wp-attach-'));
  home = mkdtempSync(path.join(tmpdir(), 'meshctl-wp-home-'));
  for (const f of readdirSync(fixture('ambient'))) copyFileSync(path.join(fixture('ambient'), f), path.join(dir, f));
  writeFileSync(path.join(dir, 'extra.yaml'), EXTRA);
  cluster = await startAmbientCluster({ extra: yaml.loadAll(EXTRA).filter((o) => o) as KubeObject[] });
});
after(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const env = () => ({ HOME: home, KUBECONFIG: undefined });
const rows = (stdout: string) => stdout.split('\n').filter((l) => /^(ALLOW|DENY|LOG) /.test(l)).map((l) => l.split(/ +/)[1]);

test('the ServiceEntries shop/waypoint serves: its namespace label, not one naming another waypoint or none, not another namespace', async () => {
  const objects = await loadMeshObjects([dir]);
  const served = waypointServicesOf(objects, 'shop', { 'gateway.networking.k8s.io/gateway-name': 'waypoint', 'gateway.istio.io/managed': 'istio.io-mesh-controller' });
  assert.deepEqual(served?.services.filter((s) => s.kind === 'ServiceEntry'), [{ name: 'payments-api', namespace: 'shop', kind: 'ServiceEntry' }]);
  assert.ok(served?.services.some((s) => s.kind === 'Service' && s.name === 'web' && s.namespace === 'shop'));
  assert.deepEqual(served?.unknown, []);
});

test('authz check on a waypoint: policies attached to the Services and ServiceEntries it serves, the same from --files and --use-kube', async () => {
  const requests = [
    ['--method', 'GET', '--path', '/'],
    ['--method', 'POST', '--path', '/pay'],
    ['--method', 'POST', '--path', '/admin/x'],
    ['--method', 'DELETE', '--path', '/x', '-o', 'json'],
  ];
  for (const req of requests) {
    const args = ['authz', 'check', WAYPOINT_POD, ...req, '--source-namespace', 'shop', '--source-sa', 'web'];
    const files = await runCli([...args, '--files', dir], { env: env() });
    const live = await runCli([...args, '--use-kube', '--kubeconfig', cluster.kubeconfig], { env: env() });
    assert.equal(files.code, 0, files.stderr);
    assert.equal(live.code, 0, live.stderr);
    assert.equal(live.stdout, files.stdout, `${req.join(' ')}: live and files differ`);
    assert.equal(live.stderr, files.stderr);
    if (!req.includes('json')) assert.deepEqual(rows(files.stdout).filter((r) => r !== '_anonymous_match_nothing_').sort(), ATTACHED);
  }
  const admin = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'POST', '--path', '/admin/x', '--use-kube', '--kubeconfig', cluster.kubeconfig, '-o', 'json'], { env: env() });
  assert.equal((JSON.parse(admin.stdout) as { authz: { decision: string; authorizationPolicy: string } }).authz.authorizationPolicy, 'shop/api-no-admin');
  // the live path read the kinds it needs, through the API
  for (const p of ['/api/v1/services', '/api/v1/namespaces', '/apis/gateway.networking.k8s.io/v1/gateways', '/apis/networking.istio.io/v1/serviceentries']) {
    assert.ok(cluster.api.requests.some((q) => q.split('?')[0] === `GET ${p}`), `${p} not read: ${cluster.api.requests.join('\n')}`);
  }
});

test('describe pod on a waypoint lists the policies authz check gives it (Service- and ServiceEntry-attached), offline and live', async () => {
  const check = await runCli(['authz', 'check', WAYPOINT_POD, '--files', dir], { env: env() });
  const expected = rows(check.stdout).filter((r) => r !== '_anonymous_match_nothing_').sort();
  assert.deepEqual(expected, ATTACHED);
  const listed = (stdout: string) => [...stdout.matchAll(/^ +(?:ALLOW|DENY|CUSTOM|AUDIT) (\S+) \(targetRef/gm)].map((m) => m[1]).sort();
  const offline = await runCli(['describe', 'pod', WAYPOINT_POD, '--files', dir], { env: env() });
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(listed(offline.stdout), expected);
  const live = await runCli(['describe', 'pod', WAYPOINT_POD, '--kubeconfig', cluster.kubeconfig], { env: env() });
  assert.equal(live.code, 0, live.stderr);
  assert.deepEqual(listed(live.stdout), expected);
});

test('which services a waypoint serves not known (a list refused, a namespace missing): the left-out policies named, the verdict UNDECIDED', async () => {
  const c = await startAmbientCluster({ extra: yaml.loadAll(EXTRA).filter((o) => o) as KubeObject[], deny: [{ verb: 'list', resource: 'serviceentries' }] });
  try {
    const r = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'POST', '--path', '/pay', '--source-namespace', 'shop', '--source-sa', 'web', '--use-kube', '--kubeconfig', c.kubeconfig, '-o', 'json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { authz: { decision: string; reason: string }; notes: string[] };
    assert.equal(out.authz.decision, 'UNDECIDED');
    assert.match(out.authz.reason, /may also enforce .*api-writers\.shop/);
    assert.ok(out.notes.some((n) => /cannot list serviceentries\.networking\.istio\.io: .*forbidden/.test(n)), out.notes.join('\n'));
  } finally {
    await c.close();
  }
  // Services unreadable: a DENY policy (here ServiceEntry-attached) that matches denies whatever else applies
  const c2 = await startAmbientCluster({ extra: yaml.loadAll(EXTRA).filter((o) => o) as KubeObject[], deny: [{ verb: 'list', resource: 'services' }] });
  try {
    const deny = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'POST', '--path', '/admin/x', '--use-kube', '--kubeconfig', c2.kubeconfig, '-o', 'json'], { env: env() });
    assert.equal(deny.code, 0, deny.stderr);
    const d = JSON.parse(deny.stdout) as { authz: { decision: string; authorizationPolicy: string }; notes: string[] };
    assert.deepEqual([d.authz.decision, d.authz.authorizationPolicy], ['DENY', 'shop/api-no-admin']);
    assert.ok(d.notes.some((n) => /may also enforce .*web-readers\.shop.*cannot list services/.test(n)), d.notes.join('\n'));
  } finally {
    await c2.close();
  }
  // offline, without shop's Namespace: whether its ServiceEntry uses the waypoint cannot be told
  const partial = mkdtempSync(path.join(tmpdir(), 'meshctl-wp-partial-'));
  try {
    for (const f of readdirSync(dir).filter((f) => f !== 'namespaces.yaml')) copyFileSync(path.join(dir, f), path.join(partial, f));
    const r = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'POST', '--path', '/pay', '--files', partial], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /note: the waypoint may also enforce .*api-writers\.shop.*ServiceEntry payments-api\.shop: namespace shop is not known/);
    assert.match(r.stdout, /Decision: UNDECIDED/);
    // audit.payments names its waypoint with its own label (another one): its policy is known not to apply
    assert.doesNotMatch(r.stdout, /audit-external/);
    const d = await runCli(['describe', 'pod', WAYPOINT_POD, '--files', partial], { env: env() });
    assert.match(d.stdout, /WARNING: the waypoint may also enforce .*api-writers\.shop/);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
});

test('live describe of a waypoint reads each list once, and says a refused one once', async () => {
  const c = await startAmbientCluster({ extra: yaml.loadAll(EXTRA).filter((o) => o) as KubeObject[], deny: [{ verb: 'list', resource: 'gateways' }] });
  try {
    const r = await runCli(['describe', 'pod', WAYPOINT_POD, '--kubeconfig', c.kubeconfig], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const lists = c.api.requests.map((q) => q.split('?')[0]).filter((q) => /^GET \/(api\/v1\/services|apis\/gateway\.networking\.k8s\.io\/v1\/gateway(class)?es|apis\/networking\.istio\.io\/v1\/serviceentries)$/.test(q));
    const counts = new Map<string, number>();
    for (const q of lists) counts.set(q, (counts.get(q) ?? 0) + 1);
    assert.deepEqual([...counts].filter(([, n]) => n > 1), [], `listed more than once: ${lists.join(', ')}`);
    assert.ok(counts.has('GET /apis/networking.istio.io/v1/serviceentries'), 'the ServiceEntries a waypoint may serve were not read');
    const refused = (r.stdout + r.stderr).match(/cannot list gateways\.gateway\.networking\.k8s\.io/g) ?? [];
    assert.equal(refused.length, 1, r.stdout + r.stderr);
  } finally {
    await c.close();
  }
});
