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
metadata: {name: wild-api, namespace: shop}
spec: {hosts: ["*.wild.example.com"], addresses: [240.240.10.7/32], ports: [{number: 80, name: http, protocol: HTTP}], resolution: NONE}
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
  ['wild-no-delete', 'shop', 'DENY', SE, 'ServiceEntry', 'wild-api', 'methods: [DELETE]'],
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
const ATTACHED = ['api-no-admin.shop', 'api-writers.shop', 'shop-waypoint-policy.shop', 'web-readers.shop', 'wild-no-delete.shop'];
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
  assert.deepEqual(served?.services.filter((s) => s.kind === 'ServiceEntry'), [
    { name: 'payments-api', namespace: 'shop', kind: 'ServiceEntry' },
    { name: 'wild-api', namespace: 'shop', kind: 'ServiceEntry' },
  ]);
  assert.ok(served?.services.some((s) => s.kind === 'Service' && s.name === 'web' && s.namespace === 'shop'));
  assert.deepEqual(served?.unknown, []);
});

test('authz check on a waypoint: policies attached to the Services and ServiceEntries it serves, the same from --files and --use-kube', async () => {
  const requests = [
    ['--method', 'GET', '--path', '/'],
    ['--method', 'POST', '--path', '/pay'],
    ['--method', 'POST', '--path', '/admin/x'],
    ['--method', 'DELETE', '--path', '/x', '-o', 'json'],
    ['--method', 'GET', '--path', '/admin/x', '--host', 'web'],
    ['--method', 'GET', '--path', '/admin/x', '-H', 'Host: api.payments.example.com', '-o', 'json'],
    ['--method', 'DELETE', '--path', '/x', '--host', '10.96.20.11:8080'],
    ['--method', 'DELETE', '--path', '/x', '--host', 'a.b.wild.example.com'],
    ['--method', 'GET', '--host', 'cart.shop'],
  ];
  for (const req of requests) {
    const args = ['authz', 'check', WAYPOINT_POD, ...req, '--source-namespace', 'shop', '--source-sa', 'web'];
    const files = await runCli([...args, '--files', dir], { env: env() });
    const live = await runCli([...args, '--use-kube', '--kubeconfig', cluster.kubeconfig], { env: env() });
    assert.equal(files.code, 0, files.stderr);
    assert.equal(live.code, 0, live.stderr);
    assert.equal(live.stdout, files.stdout, `${req.join(' ')}: live and files differ`);
    assert.equal(live.stderr, files.stderr);
    // without a host (or one the waypoint does not serve) the table is every chain's policies
    if (!req.includes('json') && !req.some((a) => /^(--host|-H)$/.test(a))) assert.deepEqual(rows(files.stdout).filter((r) => r !== '_anonymous_match_nothing_').sort(), ATTACHED);
  }
  type Out = { authz: { decision: string; authorizationPolicy: string | null; reason: string }; chain?: { service: string; kind: string; host: string }; chains?: { service: string; kind: string; decision: string; authorizationPolicy: string | null }[] };
  const admin = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'POST', '--path', '/admin/x', '--host', 'api.payments.example.com', '--use-kube', '--kubeconfig', cluster.kubeconfig, '-o', 'json'], { env: env() });
  const a = JSON.parse(admin.stdout) as Out;
  assert.equal(a.authz.authorizationPolicy, 'shop/api-no-admin');
  assert.deepEqual(a.chain, { service: 'shop/payments-api', kind: 'ServiceEntry', host: 'api.payments.example.com' });
  // no host: every chain denies it (web's: no ALLOW matches; payments-api's: api-no-admin), so DENY, each named
  const anyChain = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'POST', '--path', '/admin/x', '--source-namespace', 'shop', '--source-sa', 'web', '--use-kube', '--kubeconfig', cluster.kubeconfig, '-o', 'json'], { env: env() });
  const n = JSON.parse(anyChain.stdout) as Out;
  assert.equal(n.authz.decision, 'DENY');
  assert.deepEqual(
    n.chains?.map((c) => [c.service, c.kind, c.decision, c.authorizationPolicy]),
    [
      ['shop/web', 'Service', 'DENY', null],
      ['shop/payments-api', 'ServiceEntry', 'DENY', 'shop/api-no-admin'],
      ['shop/wild-api', 'ServiceEntry', 'DENY', null],
    ],
  );
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
    const d = JSON.parse(deny.stdout) as { authz: { decision: string; authorizationPolicy: string; reason: string }; notes: string[] };
    // api-no-admin is on payments-api's chain only: the chains of the Services in doubt may decide otherwise
    assert.equal(d.authz.decision, 'UNDECIDED');
    assert.match(d.authz.reason, /may also enforce .*web-readers\.shop.*cannot list services/);
    assert.ok(d.notes.some((n) => /may also enforce .*web-readers\.shop.*cannot list services/.test(n)), d.notes.join('\n'));
    // for a request to payments-api its chain decides: the policies of the services in doubt are not on it
    const forApi = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'POST', '--path', '/admin/x', '--host', 'api.payments.example.com', '--use-kube', '--kubeconfig', c2.kubeconfig, '-o', 'json'], { env: env() });
    const f = JSON.parse(forApi.stdout) as { authz: { decision: string; authorizationPolicy: string } };
    assert.deepEqual([f.authz.decision, f.authz.authorizationPolicy], ['DENY', 'shop/api-no-admin']);
    // and a Service's name cannot be resolved when Services cannot be read: no guess
    const forWeb = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'GET', '--host', 'web.shop', '--use-kube', '--kubeconfig', c2.kubeconfig, '-o', 'json'], { env: env() });
    const w = JSON.parse(forWeb.stdout) as { authz: { decision: string; reason: string } };
    assert.equal(w.authz.decision, 'UNDECIDED');
    assert.match(w.authz.reason, /web\.shop names no Service or ServiceEntry/);
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

test("a waypoint's chains: the request's host picks its service's chain; a policy attached to one service never decides for another", async () => {
  type Out = { authz: { decision: string; authorizationPolicy: string | null; reason: string }; chain?: { service: string; kind: string; host: string }; chains?: unknown[]; notes?: string[]; request: { port: number } };
  const check = async (...args: string[]) => {
    const r = await runCli(['authz', 'check', WAYPOINT_POD, '--files', dir, '-o', 'json', ...args], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Out;
  };
  const web = ['--source-namespace', 'shop', '--source-sa', 'web'];
  // api-no-admin (DENY /admin/*) is attached to ServiceEntry payments-api: GET /admin/x to web is web's chain's to decide
  const toWeb = await check('--method', 'GET', '--path', '/admin/x', '--host', 'web', ...web);
  assert.deepEqual([toWeb.authz.decision, toWeb.authz.authorizationPolicy], ['ALLOW', 'shop/web-readers']);
  assert.deepEqual(toWeb.chain, { service: 'shop/web', kind: 'Service', host: 'web' });
  assert.equal(toWeb.request.port, 8080, "the port is the service's when neither --port nor the host gives one");
  const toApi = await check('--method', 'GET', '--path', '/admin/x', '--host', 'api.payments.example.com', ...web);
  assert.deepEqual([toApi.authz.decision, toApi.authz.authorizationPolicy], ['DENY', 'shop/api-no-admin']);
  // no host: the chains decide differently, so no single answer; the reason names each
  const noHost = await check('--method', 'GET', '--path', '/admin/x', ...web);
  assert.equal(noHost.authz.decision, 'UNDECIDED');
  assert.match(noHost.authz.reason, /Service shop\/web: ALLOW by shop\/web-readers/);
  assert.match(noHost.authz.reason, /ServiceEntry shop\/payments-api: DENY by shop\/api-no-admin/);
  assert.match(noHost.authz.reason, /pass --host/);
  assert.equal(noHost.chains?.length, 3);
  // the names a client's resolver completes, addresses, ServiceEntry hosts and wildcards
  const chainOf = async (host: string, ...more: string[]) => {
    const o = await check('--method', 'GET', '--host', host, ...more);
    return o.chain?.service ?? o.authz.reason;
  };
  for (const h of ['web', 'web.shop', 'web.shop.svc', 'web.shop.svc.cluster.local', 'Web.Shop.svc.cluster.local.', 'web.shop:8080', '10.96.20.11', '10.96.20.11:8080']) {
    assert.equal(await chainOf(h, ...web), 'shop/web', h);
  }
  assert.equal(await chainOf('web'), 'shop/web', 'no source namespace: the served Service of that name');
  assert.match(await chainOf('web', '--source-namespace', 'payments', '--source-sa', 'x'), /^web names no Service or ServiceEntry this waypoint serves \(nor any other known one; resolved as a client in namespace payments would: web\.payments\.svc\.cluster\.local, /, "a short name resolves in the client's namespace");
  assert.equal(await chainOf('api.payments.example.com:80'), 'shop/payments-api');
  assert.equal(await chainOf('a.wild.example.com'), 'shop/wild-api');
  assert.equal(await chainOf('x.y.wild.example.com'), 'shop/wild-api', '*. covers any depth, as Istio matches hosts');
  assert.equal(await chainOf('240.240.10.7'), 'shop/wild-api', 'the address of a single-IP CIDR');
  assert.match(await chainOf('wild.example.com'), /names no Service or ServiceEntry/, '*.wild.example.com does not cover wild.example.com');
  const wild = await check('--method', 'DELETE', '--host', 'a.wild.example.com');
  assert.deepEqual([wild.authz.decision, wild.authz.authorizationPolicy], ['DENY', 'shop/wild-no-delete']);
  // hosts the waypoint does not serve: never a guess
  assert.match(await chainOf('cart.shop'), /names Service shop\/cart, which this waypoint does not serve/);
  assert.match(await chainOf('search.shop.svc.cluster.local'), /names Service shop\/search, which this waypoint does not serve/);
  assert.match(await chainOf('ledger.example.com'), /names ServiceEntry shop\/ledger-api, which this waypoint does not serve/);
  assert.match(await chainOf('nope.example.com'), /nope\.example\.com names no Service or ServiceEntry/);
  assert.match(await chainOf('web.shop:9999'), /Service shop\/web has no port 9999 \(8080\)/);
  assert.match(await chainOf('web.shop', '--port', '9999'), /Service shop\/web has no port 9999/);
  for (const h of ['cart.shop', 'nope.example.com', 'web.shop:9999']) assert.equal((await check('--host', h)).authz.decision, 'UNDECIDED', h);
  // the table is that chain's policies, and a note says which chain
  const text = await runCli(['authz', 'check', WAYPOINT_POD, '--files', dir, '--method', 'GET', '-H', 'host: web.shop.svc.cluster.local:8080'], { env: env() });
  assert.equal(text.code, 0, text.stderr);
  assert.deepEqual(rows(text.stdout).filter((r) => r !== '_anonymous_match_nothing_'), ['shop-waypoint-policy.shop', 'web-readers.shop']);
  assert.match(text.stdout, /note: evaluated the waypoint's chain for Service shop\/web \(host web\.shop\.svc\.cluster\.local\)/);
  // bad input: one line, non-zero
  const malformed = /--host \(or a Host header\) ".*": not a host name or IP address, with an optional :port/;
  for (const [h, msg] of [['', /--host \(or a Host header\) is empty/], ['web:0', /bad port 0/], ['[::1', malformed], ['a:b', malformed], ['10.244.1.11:abc', malformed], ['web..shop', malformed], [' ', malformed]] as const) {
    const bad = await runCli(['authz', 'check', WAYPOINT_POD, '--files', dir, '--host', h], { env: env() });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, msg);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
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

test("a waypoint's chains are per service port: a policy on ports decides each chain at its service's port, not the waypoint pod's", async () => {
  // shop/waypoint serves Service web (8080) and ServiceEntry payments-api (80), among others
  const d = mkdtempSync(path.join(tmpdir(), 'meshctl-wp-ports-'));
  try {
    for (const f of readdirSync(dir)) copyFileSync(path.join(dir, f), path.join(d, f));
    writeFileSync(
      path.join(d, 'ports.yaml'),
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: port-8080-only, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: waypoint}]
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/client"]}}]
    to: [{operation: {ports: ["8080"]}}]
`,
    );
    const check = async (...more: string[]) => {
      const r = await runCli(['authz', 'check', WAYPOINT_POD, '--files', d, '--method', 'GET', '--path', '/x', '--source-namespace', 'shop', '--source-sa', 'client', '-o', 'json', ...more], { env: env() });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { request: { port: number }; authz: { decision: string; authorizationPolicy: string | null; reason: string }; chains?: { service: string; port: number; decision: string }[] };
    };
    const web = await check('--host', 'web.shop');
    assert.deepEqual([web.request.port, web.authz.decision, web.authz.authorizationPolicy], [8080, 'ALLOW', 'shop/port-8080-only']);
    const api = await check('--host', 'api.payments.example.com');
    assert.deepEqual([api.request.port, api.authz.decision], [80, 'DENY']);
    // no host: each chain at its own port, so they differ
    const none = await check();
    assert.equal(none.authz.decision, 'UNDECIDED');
    assert.match(none.authz.reason, /Service shop\/web port 8080: ALLOW by shop\/port-8080-only/);
    assert.match(none.authz.reason, /ServiceEntry shop\/payments-api port 80: DENY/);
    const webChain = none.chains?.find((c) => c.service === 'shop/web');
    assert.deepEqual([webChain?.port, webChain?.decision], [8080, 'ALLOW']);
    // --port given: one port for every chain
    const given = await check('--port', '80');
    assert.equal(given.request.port, 80);
    assert.notEqual(given.authz.decision, 'ALLOW');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a waypoint check without a host: one service gives its name and port; several alike chains name no port', async () => {
  const d = mkdtempSync(path.join(tmpdir(), 'meshctl-wp-anyport-'));
  try {
    for (const f of readdirSync(fixture('ambient'))) copyFileSync(path.join(fixture('ambient'), f), path.join(d, f));
    const args = ['authz', 'check', WAYPOINT_POD, '--files', d, '--source-namespace', 'shop', '--source-sa', 'web'];
    const one = await runCli(args, { env: env() });
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /\nRequest: GET \/ to port 8080 \(host web\.shop\.svc\.cluster\.local:8080\) from /);
    // a ServiceEntry served too (shop's namespace label), and only the Gateway's policy: every chain alike
    writeFileSync(path.join(d, 'se.yaml'), 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: payments-api, namespace: shop}\nspec: {hosts: [api.payments.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}\n');
    const two = await runCli([...args, '-o', 'json'], { env: env() });
    assert.equal(two.code, 0, two.stderr);
    const out = JSON.parse(two.stdout) as { request: { port: number | null; host: string | null }; chains?: unknown };
    assert.deepEqual([out.request.port, out.request.host, out.chains], [null, null, undefined]);
    const text = await runCli(args, { env: env() });
    assert.match(text.stdout, /\nRequest: GET \/ to any service port \(no policy looks at ports\) from /);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

/** payments/ledger-wp (waypoint-for: all) with its pod, and policies on its Gateway and on the Service it serves. */
const LEDGER_WP = `apiVersion: v1
kind: Pod
metadata:
  name: ledger-wp-7c8d9e0f1-lw001
  namespace: payments
  labels: {gateway.istio.io/managed: istio.io-mesh-controller, gateway.networking.k8s.io/gateway-name: ledger-wp, gateway.networking.k8s.io/gateway-class-name: istio-waypoint, istio.io/dataplane-mode: none}
spec:
  nodeName: worker-1
  serviceAccountName: ledger-wp
  containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.24.0, args: [proxy, waypoint], ports: [{containerPort: 15021, name: status-port}]}]
status: {phase: Running, podIP: 10.244.1.30}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ledger-wp-no-delete, namespace: payments}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: ledger-wp}]
  action: DENY
  rules: [{to: [{operation: {methods: [DELETE]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ledger-service-readers, namespace: payments}
spec:
  targetRefs: [{group: "", kind: Service, name: ledger}]
  action: ALLOW
  rules: [{to: [{operation: {methods: [GET]}}]}]
`;

test("a request to a pod's own IP takes the waypoint's direct-access chain (Gateway-level policies only) when the pod uses it for its own traffic", async () => {
  const d = mkdtempSync(path.join(tmpdir(), 'meshctl-wp-direct-'));
  const c = await startAmbientCluster({ extra: yaml.loadAll(LEDGER_WP).filter((o) => o) as KubeObject[] });
  try {
    for (const f of readdirSync(fixture('ambient'))) copyFileSync(path.join(fixture('ambient'), f), path.join(d, f));
    writeFileSync(path.join(d, 'ledger-wp.yaml'), LEDGER_WP);
    const check = async (host: string, ...more: string[]) => {
      const args = ['authz', 'check', 'ledger-wp-7c8d9e0f1-lw001.payments', '--host', host, '--source-namespace', 'shop', '--source-sa', 'web', '-o', 'json', ...more];
      const files = await runCli([...args, '--files', d], { env: env() });
      const live = await runCli([...args, '--use-kube', '--kubeconfig', c.kubeconfig], { env: env() });
      assert.equal(files.code, 0, files.stderr);
      assert.equal(live.stdout, files.stdout, `${host}: live and files differ`);
      return JSON.parse(files.stdout) as { request: { port: number }; authz: { decision: string; authorizationPolicy: string | null; reason: string }; chain?: Record<string, string>; notes?: string[] };
    };
    // the ledger pod names ledger-wp itself: its IP takes the direct chain, where the Service's ALLOW is not
    const post = await check('10.244.1.21', '--method', 'POST');
    assert.deepEqual(post.chain, { pod: 'payments/ledger-v1-8c9d7b6f5-pqrst', kind: 'Pod', host: '10.244.1.21' });
    assert.equal(post.authz.decision, 'ALLOW', 'no ALLOW policy on the direct chain: allowed');
    assert.equal(post.request.port, 9090, "the pod's container port");
    assert.ok(post.notes?.some((n) => /direct-access chain .*pod payments\/ledger-v1-8c9d7b6f5-pqrst/.test(n)), post.notes?.join('\n'));
    const del = await check('10.244.1.21:9090', '--method', 'DELETE');
    assert.deepEqual([del.authz.decision, del.authz.authorizationPolicy], ['DENY', 'payments/ledger-wp-no-delete']);
    // by the Service's name, the service chain: its ALLOW applies, so POST is denied there
    const bySvc = await check('ledger.payments', '--method', 'POST');
    assert.equal(bySvc.authz.decision, 'DENY');
    // a pod that does not use this waypoint for its own traffic: no chain, said why
    const other = await check('10.244.1.11');
    assert.equal(other.authz.decision, 'UNDECIDED');
    assert.match(other.authz.reason, /10\.244\.1\.11 is the address of pod shop\/web-7f9c5d8b6-abcde, which uses no waypoint for its own traffic: a request to it does not go through this waypoint/);
    // the live check asked for the pods of that IP only
    assert.ok(c.api.requests.some((q) => q.startsWith('GET /api/v1/pods?') && q.includes('fieldSelector=status.podIP%3D10.244.1.21')), c.api.requests.filter((q) => q.includes('/pods')).join('\n'));
  } finally {
    await c.close();
    rmSync(d, { recursive: true, force: true });
  }
  // the pods cannot be listed: not guessed, and said why
  const denied = await startAmbientCluster({ extra: yaml.loadAll(LEDGER_WP).filter((o) => o) as KubeObject[], deny: [{ verb: 'list', resource: 'pods' }] });
  try {
    const r = await runCli(['authz', 'check', 'ledger-wp-7c8d9e0f1-lw001.payments', '--host', '10.244.1.21', '--use-kube', '--kubeconfig', denied.kubeconfig, '-o', 'json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { authz: { decision: string; reason: string } };
    assert.equal(out.authz.decision, 'UNDECIDED');
    assert.match(out.authz.reason, /whether it is the address of a pod this waypoint serves cannot be told \(cannot list the pods with IP 10\.244\.1\.21: .*forbidden/);
  } finally {
    await denied.close();
  }
});

/** A ServiceEntry of shop for web's own hostname, with policies attached to each (shop's label names shop/waypoint). */
const WEB_ALIAS = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web-alias, namespace: shop}
spec: {hosts: [web.shop.svc.cluster.local], ports: [{number: 8080, name: http, protocol: HTTP}], resolution: DNS}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: alias-no-get, namespace: shop}
spec:
  targetRefs: [{group: networking.istio.io, kind: ServiceEntry, name: web-alias}]
  action: DENY
  rules: [{to: [{operation: {methods: [GET]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web-get, namespace: shop}
spec:
  targetRefs: [{group: "", kind: Service, name: web}]
  action: ALLOW
  rules: [{to: [{operation: {methods: [GET]}}]}]
`;

test("a Service and a ServiceEntry of one namespace with one hostname: the Service's chain (istiod keeps the Kubernetes Service); the ServiceEntry's policies are on no chain", async () => {
  const d = mkdtempSync(path.join(tmpdir(), 'meshctl-wp-alias-'));
  const c = await startAmbientCluster({ extra: yaml.loadAll(WEB_ALIAS).filter((o) => o) as KubeObject[] });
  try {
    for (const f of readdirSync(fixture('ambient'))) copyFileSync(path.join(fixture('ambient'), f), path.join(d, f));
    writeFileSync(path.join(d, 'alias.yaml'), WEB_ALIAS);
    type Out = { authz: { decision: string; authorizationPolicy: string | null }; chain?: { service: string; kind: string }; chains?: unknown[]; notes?: string[] };
    const web = ['--source-namespace', 'shop', '--source-sa', 'web'];
    for (const where of [['--files', d], ['--use-kube', '--kubeconfig', c.kubeconfig]]) {
      const r = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'GET', '--host', 'web.shop.svc.cluster.local', ...web, ...where, '-o', 'json'], { env: env() });
      assert.equal(r.code, 0, r.stderr);
      const o = JSON.parse(r.stdout) as Out;
      assert.deepEqual([o.authz.decision, o.authz.authorizationPolicy, o.chain?.service, o.chain?.kind], ['ALLOW', 'shop/web-get', 'shop/web', 'Service'], where[0]);
    }
    // no host: the waypoint has one chain (web's); alias-no-get is on none, and a note says why
    const any = await runCli(['authz', 'check', WAYPOINT_POD, '--method', 'GET', ...web, '--files', d], { env: env() });
    assert.equal(any.code, 0, any.stderr);
    assert.deepEqual(rows(any.stdout).filter((r) => r !== '_anonymous_match_nothing_').sort(), ['shop-waypoint-policy.shop', 'web-get.shop']);
    assert.match(any.stdout, /note: ServiceEntry shop\/web-alias uses this waypoint but has no chain of its own: istiod keeps Service shop\/web for its host web\.shop\.svc\.cluster\.local/);
    assert.match(any.stdout, /Decision: ALLOW/);
    const described = await runCli(['describe', 'pod', WAYPOINT_POD, '--files', d], { env: env() });
    assert.equal(described.code, 0, described.stderr);
    assert.doesNotMatch(described.stdout, /alias-no-get/);
    assert.match(described.stdout, /WARNING: ServiceEntry shop\/web-alias uses this waypoint but has no chain of its own/);
  } finally {
    await c.close();
    rmSync(d, { recursive: true, force: true });
  }
});
