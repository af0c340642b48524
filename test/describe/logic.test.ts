import assert from 'node:assert/strict';
import { exposedUrl, externalAddress } from '../../src/describe/gateways.js';
import { test } from 'node:test';
import { authorizationFor } from '../../src/describe/authz.js';
import { flatten, lookupDestinationRules, matchSubsets } from '../../src/describe/destination-rules.js';
import { hostMatches, mostSpecificHost } from '../../src/resources/hosts.js';
import { defaultMeshSettings, exportedTo, meshSettingsFrom } from '../../src/describe/mesh.js';
import { effectiveMtls, mtlsForPort } from '../../src/describe/mtls.js';
import type { AuthorizationPolicy, DestinationRule, PeerAuthentication } from '../../src/describe/objects.js';
import { byCreation, byCreationNameFirst } from '../../src/describe/objects.js';
import { servicePortProtocol } from '../../src/describe/protocol.js';

const mesh = defaultMeshSettings();
const HOST = 'reviews.bookinfo.svc.cluster.local';

function dr(name: string, ns: string, host: string, extra: Partial<NonNullable<DestinationRule['spec']>> = {}, created?: string): DestinationRule {
  return { kind: 'DestinationRule', metadata: { name, namespace: ns, ...(created ? { creationTimestamp: created } : {}) }, spec: { host, ...extra } };
}

test('protocol from appProtocol, then the name prefix, else auto-detect (well-known ports are TCP)', () => {
  assert.equal(servicePortProtocol({ name: 'http-web', port: 80 }).protocol, 'HTTP');
  assert.equal(servicePortProtocol({ name: 'GRPC-Web-x', port: 80 }).protocol, 'GRPC-Web');
  assert.equal(servicePortProtocol({ name: 'tcp', port: 80, appProtocol: 'grpc' }).protocol, 'GRPC');
  assert.equal(servicePortProtocol({ port: 80, appProtocol: 'kubernetes.io/h2c' }).protocol, 'HTTP2');
  assert.equal(servicePortProtocol({ name: 'web', port: 80 }).protocol, 'auto-detect');
  assert.equal(servicePortProtocol({ name: 'web', port: 80 }).unrecognised, true);
  assert.equal(servicePortProtocol({ port: 80 }).protocol, 'auto-detect');
  assert.equal(servicePortProtocol({ port: 3306 }).protocol, 'TCP');
  assert.equal(servicePortProtocol({ name: 'dns', port: 53, protocol: 'UDP' }).protocol, 'UDP');
});

test('exportTo: *, ., ~ and namespace lists', () => {
  assert.ok(exportedTo(undefined, ['*'], 'a', 'b'));
  assert.ok(!exportedTo(undefined, ['.'], 'a', 'b'));
  assert.ok(exportedTo(['.'], ['*'], 'a', 'a'));
  assert.ok(!exportedTo(['.'], ['*'], 'a', 'b'));
  assert.ok(!exportedTo(['~'], ['*'], 'a', 'a'));
  assert.ok(exportedTo(['b', 'c'], ['*'], 'a', 'c'));
});

test('DestinationRule precedence: client namespace, then service namespace, then root namespace', () => {
  const root = dr('mesh-wide', 'istio-system', '*.svc.cluster.local', { trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } });
  const svcNs = dr('reviews', 'bookinfo', 'reviews');
  const client = dr('from-frontend', 'frontend', 'reviews.bookinfo.svc.cluster.local');
  const all = [root, svcNs, client];
  assert.equal(lookupDestinationRules(all, HOST, 'bookinfo', 'frontend', {}, mesh)?.rules[0], client);
  assert.equal(lookupDestinationRules(all, HOST, 'bookinfo', 'frontend', {}, mesh)?.scope, 'client namespace');
  assert.equal(lookupDestinationRules(all, HOST, 'bookinfo', 'other', {}, mesh)?.rules[0], svcNs);
  assert.equal(lookupDestinationRules([root, client], HOST, 'bookinfo', 'other', {}, mesh)?.scope, 'root namespace');
  assert.equal(lookupDestinationRules([client], HOST, 'bookinfo', 'other', {}, mesh), undefined);
});

test('DestinationRule exportTo hides a service-namespace rule from other namespaces, the root one then applies', () => {
  const root = dr('mesh-wide', 'istio-system', '*');
  const priv = dr('reviews', 'bookinfo', 'reviews', { exportTo: ['.'] });
  assert.equal(lookupDestinationRules([root, priv], HOST, 'bookinfo', 'bookinfo', {}, mesh)?.rules[0], priv);
  assert.equal(lookupDestinationRules([root, priv], HOST, 'bookinfo', 'frontend', {}, mesh)?.rules[0], root);
  const listed = dr('reviews', 'bookinfo', 'reviews', { exportTo: ['frontend'] });
  assert.equal(lookupDestinationRules([root, listed], HOST, 'bookinfo', 'frontend', {}, mesh)?.rules[0], listed);
  assert.equal(lookupDestinationRules([root, listed], HOST, 'bookinfo', 'ops', {}, mesh)?.rules[0], root);
});

test('DestinationRules for one host in one namespace merge: oldest first, conflict and duplicate subsets warned', () => {
  const a = dr('a', 'bookinfo', 'reviews', { trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }] }, '2026-01-02T00:00:00Z');
  const b = dr('b', 'bookinfo', HOST, { trafficPolicy: { tls: { mode: 'DISABLE' } }, subsets: [{ name: 'v1', labels: { version: 'x' } }, { name: 'v2', labels: { version: 'v2' } }] }, '2026-01-01T00:00:00Z');
  const found = lookupDestinationRules([a, b], HOST, 'bookinfo', 'bookinfo', {}, mesh)!;
  assert.deepEqual(found.rules.map((r) => r.metadata?.name), ['b', 'a']);
  assert.equal(found.warnings.length, 2);
  assert.match(found.warnings[0], /conflicting DestinationRules .*b, a.*traffic policy of b wins/);
  assert.match(found.warnings[1], /subset "v1" is defined by both b and a/);
  // the subset v1 used is b's (version x), so a v1 pod matches only... nothing named v1
  assert.deepEqual(matchSubsets(found.rules, [{ version: 'v1' }]), { matching: [], nonMatching: ['v1', 'v2'] });
});

test('a DestinationRule with a workloadSelector applies only to the workloads it selects', () => {
  const general = dr('general', 'bookinfo', 'reviews');
  const special = dr('special', 'bookinfo', 'reviews', { workloadSelector: { matchLabels: { app: 'productpage' } } });
  assert.equal(lookupDestinationRules([general, special], HOST, 'bookinfo', 'bookinfo', { app: 'productpage' }, mesh)?.rules[0], special);
  assert.equal(lookupDestinationRules([general, special], HOST, 'bookinfo', 'bookinfo', { app: 'ratings' }, mesh)?.rules[0], general);
});

test('flatten renders policies as key=value', () => {
  assert.equal(flatten({ simple: 'LEAST_REQUEST' }), 'LEAST_REQUEST');
  assert.equal(flatten({ tcp: { maxConnections: 1 }, http: { h2UpgradePolicy: 'UPGRADE' } }), 'tcp.maxConnections=1, http.h2UpgradePolicy=UPGRADE');
});

function pa(name: string, ns: string, mode: string | undefined, selector?: Record<string, string>, ports?: Record<string, string>, created?: string): PeerAuthentication {
  return {
    kind: 'PeerAuthentication',
    metadata: { name, namespace: ns, ...(created ? { creationTimestamp: created } : {}) },
    spec: {
      ...(selector ? { selector: { matchLabels: selector } } : {}),
      ...(mode ? { mtls: { mode } } : {}),
      ...(ports ? { portLevelMtls: Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, { mode: v }])) } : {}),
    },
  };
}

test('mTLS: default PERMISSIVE; mesh, namespace, workload override in turn; UNSET inherits; ports inherit', () => {
  const labels = { app: 'reviews' };
  assert.equal(effectiveMtls([], 'bookinfo', labels, 'istio-system').mode, 'PERMISSIVE');
  assert.equal(effectiveMtls([], 'bookinfo', labels, 'istio-system').decidedBy, 'default');
  const meshStrict = pa('default', 'istio-system', 'STRICT');
  const nsPermissive = pa('ns', 'bookinfo', 'PERMISSIVE');
  const wlUnset = pa('wl', 'bookinfo', undefined, { app: 'reviews' }, { '9080': 'DISABLE', '9090': 'UNSET' });
  let m = effectiveMtls([meshStrict], 'bookinfo', labels, 'istio-system');
  assert.deepEqual([m.mode, m.decidedBy], ['STRICT', 'mesh']);
  m = effectiveMtls([meshStrict, nsPermissive], 'bookinfo', labels, 'istio-system');
  assert.deepEqual([m.mode, m.decidedBy], ['PERMISSIVE', 'namespace']);
  m = effectiveMtls([meshStrict, nsPermissive, wlUnset], 'bookinfo', labels, 'istio-system');
  assert.deepEqual([m.mode, m.decidedBy], ['PERMISSIVE', 'namespace']);
  assert.equal(mtlsForPort(m, 9080), 'DISABLE');
  assert.equal(mtlsForPort(m, 9090), 'PERMISSIVE');
  assert.equal(mtlsForPort(m, 1234), 'PERMISSIVE');
  // a policy for another workload, or in another namespace, does not apply
  m = effectiveMtls([pa('x', 'bookinfo', 'DISABLE', { app: 'ratings' }), pa('y', 'other', 'DISABLE')], 'bookinfo', labels, 'istio-system');
  assert.equal(m.mode, 'PERMISSIVE');
  assert.equal(m.applied.length, 0);
});

test('mTLS: among policies at one level the oldest wins, with a warning', () => {
  const older = pa('older', 'bookinfo', 'STRICT', undefined, undefined, '2026-01-01T00:00:00Z');
  const newer = pa('newer', 'bookinfo', 'DISABLE', undefined, undefined, '2026-02-01T00:00:00Z');
  const m = effectiveMtls([newer, older], 'bookinfo', {}, 'istio-system');
  assert.equal(m.mode, 'STRICT');
  assert.match(m.warnings[0], /only the oldest, older.bookinfo, counts/);
  assert.deepEqual(m.applied.map((a) => a.effective), [true, false]);
});

test('authorization: mesh, namespace and selected policies count by action; ALLOW without rules denies all', () => {
  const ap = (name: string, ns: string, action?: string, selector?: Record<string, string>, rules?: unknown[]): AuthorizationPolicy => ({
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: ns },
    spec: { ...(action ? { action } : {}), ...(selector ? { selector: { matchLabels: selector } } : {}), ...(rules ? { rules } : {}) },
  });
  const all = [
    ap('mesh-deny', 'istio-system', 'DENY', undefined, [{}]),
    ap('root-selected', 'istio-system', 'AUDIT', { app: 'reviews' }, [{}]),
    ap('ns-allow', 'bookinfo', undefined, undefined, [{ from: [] }]),
    ap('other-app', 'bookinfo', 'DENY', { app: 'ratings' }, [{}]),
    ap('other-ns', 'elsewhere', 'DENY', undefined, [{}]),
    ap('nothing', 'bookinfo', 'ALLOW', { app: 'reviews' }),
  ];
  const a = authorizationFor(all, 'bookinfo', { app: 'reviews' }, 'istio-system');
  assert.deepEqual(a.counts, { ALLOW: 2, DENY: 1, CUSTOM: 0, AUDIT: 1 });
  assert.deepEqual(a.policies.map((p) => p.name), ['mesh-deny', 'root-selected', 'nothing', 'ns-allow']);
  assert.equal(a.defaultDecision, 'deny');
  assert.equal(a.warnings.length, 1);
  assert.match(a.warnings[0], /nothing.bookinfo is ALLOW with no rules/);
});

test('mesh config: root namespace and exportTo defaults from the istio ConfigMap; bad YAML is a warning', () => {
  const cm = (mesh: string) => ({ kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh } });
  const ok = meshSettingsFrom([cm('rootNamespace: istio-config\ndefaultDestinationRuleExportTo: ["."]')], 'istio-system');
  assert.equal(ok.settings.rootNamespace, 'istio-config');
  assert.deepEqual(ok.settings.defaultDestinationRuleExportTo, ['.']);
  const bad = meshSettingsFrom([cm('rootNamespace: [')], 'istio-system');
  assert.equal(bad.settings.rootNamespace, 'istio-system');
  assert.match(bad.warning ?? '', /ConfigMap istio.istio-system: mesh config is not valid YAML/);
  assert.equal(meshSettingsFrom([cm('rootNamespace: x')], 'istio-system', 'canary').settings.rootNamespace, 'istio-system');
});

test('most specific host: always a match, exact wins, never shorter than another matching wildcard (property)', async () => {
  const fc = (await import('fast-check')).default;
  const label = fc.constantFrom('a', 'b', 'reviews', 'default', 'svc', 'cluster', 'local');
  const hostArb = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.'));
  const candArb = fc.array(
    fc.oneof(hostArb, hostArb.map((h) => `*.${h}`), fc.constant('*')),
    { maxLength: 8 },
  );
  fc.assert(
    fc.property(hostArb, candArb, (host, cands) => {
      const best = mostSpecificHost(host, cands);
      const matching = cands.filter((c) => hostMatches(c, host));
      if (matching.length === 0) return best === undefined;
      if (best === undefined || !hostMatches(best, host)) return false;
      if (cands.includes(host)) return best === host;
      return matching.every((m) => m.length <= best.length);
    }),
  );
});

test('exposure URLs: IPv6 in brackets, default ports left out, a load balancer before external IPs', () => {
  assert.equal(exposedUrl('http', '203.0.113.7', 80), 'http://203.0.113.7');
  assert.equal(exposedUrl('https', 'lb.example.com', 443), 'https://lb.example.com');
  assert.equal(exposedUrl('https', '2001:db8::7', 8443), 'https://[2001:db8::7]:8443');
  assert.equal(exposedUrl('http', '[2001:db8::7]', 8080), 'http://[2001:db8::7]:8080');
  assert.equal(externalAddress({ status: { loadBalancer: { ingress: [{}, { hostname: 'lb.example.com' }] } }, spec: { externalIPs: ['198.51.100.1'] } }), 'lb.example.com');
  assert.equal(externalAddress({ spec: { externalIPs: ['198.51.100.1'] } }), '198.51.100.1');
  assert.equal(externalAddress({ spec: {} }), undefined);
});

test("authorization on a waypoint: each service chain's default, when only some chains hold an ALLOW policy", () => {
  const wp = { 'gateway.networking.k8s.io/gateway-name': 'waypoint', 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint' };
  const pol = (name: string, action: string, ref: Record<string, string>) =>
    ({ metadata: { name, namespace: 'shop' }, spec: { action, targetRefs: [ref], rules: [{ to: [{ operation: { methods: ['GET'] } }] }] } }) as unknown as AuthorizationPolicy;
  const toService = (name: string) => ({ group: '', kind: 'Service', name });
  const served = { services: [{ name: 'web', namespace: 'shop' }, { name: 'cart', namespace: 'shop' }, { name: 'api', namespace: 'shop', kind: 'ServiceEntry' as const }], unknown: [] };
  const onWeb = authorizationFor([pol('web-get', 'ALLOW', toService('web')), pol('cart-deny', 'DENY', toService('cart'))], 'shop', wp, 'istio-system', served);
  assert.deepEqual(onWeb.chainDefaults, { deny: ['Service shop/web'], allow: ['Service shop/cart', 'ServiceEntry shop/api'] });
  // an ALLOW on the Gateway is on every chain: all deny by default, nothing to split
  const everywhere = authorizationFor([pol('web-get', 'ALLOW', toService('web')), pol('gw', 'ALLOW', { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' })], 'shop', wp, 'istio-system', served);
  assert.equal(everywhere.chainDefaults, undefined);
  assert.equal(everywhere.defaultDecision, 'deny');
});

test('creation order: ties by namespace then name for Gateway API objects, by name then namespace for istiod config', () => {
  const t = '2026-01-01T00:00:00Z';
  const obj = (namespace: string, name: string, creationTimestamp?: string) => ({ metadata: { namespace, name, ...(creationTimestamp ? { creationTimestamp } : {}) } });
  const list = [obj('zulu', 'a', t), obj('alpha', 'b', t), obj('alpha', 'c'), obj('mike', 'z', '2025-12-31T23:59:59Z')];
  const names = (l: typeof list) => l.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  assert.deepEqual(names([...list].sort(byCreation)), ['mike/z', 'alpha/b', 'zulu/a', 'alpha/c']);
  assert.deepEqual(names([...list].sort(byCreationNameFirst)), ['mike/z', 'zulu/a', 'alpha/b', 'alpha/c']);
});
