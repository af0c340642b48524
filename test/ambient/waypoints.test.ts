import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ambientEnrollment,
  waypointFacts,
  waypointFor,
  type AmbientGateway,
  type AmbientWorld,
  type Obj,
} from '../../src/ambient/index.js';

/** Small worlds built by hand: each test changes one label and checks istiod's answer. */

function ns(name: string, labels: Record<string, string> = {}): Obj {
  return { kind: 'Namespace', metadata: { name, labels } };
}

function gw(namespace: string, name: string, opts: { labels?: Record<string, string>; ready?: boolean; from?: string; selector?: Record<string, string>; cls?: string; programmed?: string } = {}): AmbientGateway {
  const ready = opts.ready ?? true;
  return {
    kind: 'Gateway',
    metadata: { name, namespace, labels: opts.labels ?? {} },
    spec: {
      gatewayClassName: opts.cls ?? 'istio-waypoint',
      listeners: [
        {
          name: 'mesh',
          port: 15008,
          protocol: 'HBONE',
          ...(opts.from ? { allowedRoutes: { namespaces: { from: opts.from, ...(opts.selector ? { selector: { matchLabels: opts.selector } } : {}) } } } : {}),
        },
      ],
    },
    status: {
      ...(ready ? { addresses: [{ type: 'Hostname', value: `${name}.${namespace}.svc.cluster.local` }] } : {}),
      conditions: [{ type: 'Programmed', status: opts.programmed ?? (ready ? 'True' : 'False'), reason: ready ? 'Programmed' : 'NoResources' }],
    },
  };
}

function world(parts: Partial<AmbientWorld>): AmbientWorld {
  return { namespaces: [], pods: [], services: [], gateways: [], gatewayClasses: [], authorizationPolicies: [], ...parts };
}

const svc = (namespace: string, labels: Record<string, string> = {}) => ({ kind: 'Service', metadata: { name: 'reviews', namespace, labels } });
const pod = (namespace: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({
  kind: 'Pod',
  metadata: { name: 'reviews-v1-abc', namespace, labels, annotations },
  spec: { nodeName: 'n1', containers: [{ name: 'reviews' }] },
});

test('a service uses its own use-waypoint label before its namespace one; none opts out', () => {
  const w = world({ namespaces: [ns('shop', { 'istio.io/use-waypoint': 'ns-wp' })], gateways: [gw('shop', 'ns-wp'), gw('shop', 'svc-wp')] });
  assert.deepEqual(pick(waypointFor(w, svc('shop'), 'service')), { state: 'bound', waypoint: 'shop/ns-wp', source: 'namespace' });
  assert.deepEqual(pick(waypointFor(w, svc('shop', { 'istio.io/use-waypoint': 'svc-wp' }), 'service')), { state: 'bound', waypoint: 'shop/svc-wp', source: 'service' });
  assert.deepEqual(pick(waypointFor(w, svc('shop', { 'istio.io/use-waypoint': 'none' }), 'service')), { state: 'opt-out', source: 'service' });
  // none on a namespace is no waypoint either
  const none = world({ namespaces: [ns('shop', { 'istio.io/use-waypoint': 'none' })], gateways: [gw('shop', 'none')] });
  assert.equal(waypointFor(none, svc('shop'), 'service').state, 'none');
});

test('a label naming a waypoint that is missing or not ready does not fall back to the namespace waypoint', () => {
  const w = world({ namespaces: [ns('shop', { 'istio.io/use-waypoint': 'ns-wp' })], gateways: [gw('shop', 'ns-wp'), gw('shop', 'cold', { ready: false })] });
  const missing = waypointFor(w, svc('shop', { 'istio.io/use-waypoint': 'ghost' }), 'service');
  assert.deepEqual(pick(missing), { state: 'problem', waypoint: 'shop/ghost', source: 'service', reason: 'WaypointIsNotReady' });
  assert.equal(missing.message, 'does not exist');
  const cold = waypointFor(w, svc('shop', { 'istio.io/use-waypoint': 'cold' }), 'service');
  assert.equal(cold.reason, 'WaypointIsNotReady');
  assert.match(cold.message!, /^is not ready: no address in its status yet, Programmed is False \(NoResources\)$/);
});

test('use-waypoint-namespace: attachment follows the HBONE listener allowedRoutes (Same by default, All, Selector)', () => {
  const label = { 'istio.io/use-waypoint': 'wp', 'istio.io/use-waypoint-namespace': 'infra' };
  const base = { namespaces: [ns('shop', { team: 'a' }), ns('infra')] };
  const same = waypointFor(world({ ...base, gateways: [gw('infra', 'wp')] }), svc('shop', label), 'service');
  assert.deepEqual(pick(same), { state: 'problem', waypoint: 'infra/wp', source: 'service', reason: 'AttachmentDenied' });
  assert.match(same.message!, /does not admit namespace shop \(allowedRoutes\.namespaces\.from Same/);
  assert.equal(waypointFor(world({ ...base, gateways: [gw('infra', 'wp', { from: 'All' })] }), svc('shop', label), 'service').state, 'bound');
  assert.equal(waypointFor(world({ ...base, gateways: [gw('infra', 'wp', { from: 'Selector', selector: { team: 'a' } })] }), svc('shop', label), 'service').state, 'bound');
  assert.equal(waypointFor(world({ ...base, gateways: [gw('infra', 'wp', { from: 'Selector', selector: { team: 'b' } })] }), svc('shop', label), 'service').reason, 'AttachmentDenied');
  // the selector needs the namespace's labels: without the Namespace, it cannot be told
  const unknown = waypointFor(world({ namespaces: [], gateways: [gw('infra', 'wp', { from: 'Selector', selector: { team: 'a' } })] }), svc('shop', label), 'service');
  assert.equal(unknown.state, 'unknown');
});

test('waypoint-for: the Gateway label, else its GatewayClass label, else service; a mismatch on the object itself is a problem', () => {
  const cls = { kind: 'GatewayClass', metadata: { name: 'istio-waypoint', labels: { 'istio.io/waypoint-for': 'workload' } } };
  assert.deepEqual([waypointFacts(gw('a', 'w'), []).trafficType, waypointFacts(gw('a', 'w'), []).trafficTypeFrom], ['service', 'default']);
  assert.deepEqual([waypointFacts(gw('a', 'w'), [cls]).trafficType, waypointFacts(gw('a', 'w'), [cls]).trafficTypeFrom], ['workload', 'gatewayclass']);
  const own = gw('a', 'w', { labels: { 'istio.io/waypoint-for': 'all' } });
  assert.deepEqual([waypointFacts(own, [cls]).trafficType, waypointFacts(own, [cls]).trafficTypeFrom], ['all', 'gateway']);

  const w = world({ namespaces: [ns('shop', { 'istio.io/use-waypoint': 'wp' })], gateways: [gw('shop', 'wp')] });
  // the namespace's service waypoint: its pods simply have no workload waypoint
  const inherited = waypointFor(w, pod('shop'), 'workload');
  assert.deepEqual(pick(inherited), { state: 'none', waypoint: 'shop/wp', source: 'namespace' });
  // the pod's own label naming it is a mistake istiod reports
  const own2 = waypointFor(w, pod('shop', { 'istio.io/use-waypoint': 'wp' }), 'workload');
  assert.deepEqual(pick(own2), { state: 'problem', waypoint: 'shop/wp', source: 'pod', reason: 'UnsupportedTrafficType' });
  assert.equal(own2.message, 'takes only service traffic (istio.io/waypoint-for: service), not workload traffic');
  const all = world({ namespaces: [ns('shop', { 'istio.io/use-waypoint': 'wp' })], gateways: [gw('shop', 'wp', { labels: { 'istio.io/waypoint-for': 'all' } })] });
  assert.equal(waypointFor(all, pod('shop'), 'workload').state, 'bound');
  const none = world({ namespaces: [], gateways: [gw('shop', 'wp', { labels: { 'istio.io/waypoint-for': 'none' } })] });
  assert.match(waypointFor(none, svc('shop', { 'istio.io/use-waypoint': 'wp' }), 'service').message!, /^takes no traffic/);
});

test('a waypoint itself never goes through a waypoint; an unknown namespace is unknown, not none', () => {
  const w = world({ namespaces: [ns('shop', { 'istio.io/use-waypoint': 'wp' })], gateways: [gw('shop', 'wp')] });
  const own = svc('shop', { 'gateway.istio.io/managed': 'istio.io-mesh-controller' });
  assert.equal(waypointFor(w, own, 'service').state, 'none');
  assert.equal(waypointFor(world({}), svc('elsewhere'), 'service').state, 'unknown');
  // a Gateway of another class named by a label binds (istiod does not check the class) but is flagged
  const other = world({ namespaces: [ns('shop')], gateways: [gw('shop', 'ingress', { cls: 'istio' })] });
  const b = waypointFor(other, svc('shop', { 'istio.io/use-waypoint': 'ingress' }), 'service');
  assert.equal(b.state, 'bound');
  assert.equal(b.message, 'is of class istio, not istio-waypoint');
});

test('waypoint facts: istioctl REVISION and PROGRAMMED, the hostname address first', () => {
  const g = gw('shop', 'wp', { labels: { 'istio.io/rev': 'canary' } });
  g.status!.addresses = [{ type: 'IPAddress', value: '10.0.0.9' }, { type: 'Hostname', value: 'wp.shop.svc.cluster.local' }];
  const f = waypointFacts(g, []);
  assert.equal(f.revision, 'canary');
  assert.equal(f.programmed, 'True');
  assert.equal(f.address, 'wp.shop.svc.cluster.local');
  const bare: AmbientGateway = { metadata: { name: 'x', namespace: 'a' }, spec: { gatewayClassName: 'istio-waypoint' } };
  assert.deepEqual([waypointFacts(bare, []).revision, waypointFacts(bare, []).programmed, waypointFacts(bare, []).ready], ['default', 'False', false]);
});

test('enrolment: namespace or pod label; sidecar, host network, ztunnel and pod opt-outs; unknown namespace', () => {
  const amb = [ns('shop', { 'istio.io/dataplane-mode': 'ambient' }), ns('plain')];
  assert.deepEqual(enrol(pod('shop'), amb), [true, 'namespace shop has istio.io/dataplane-mode=ambient']);
  assert.deepEqual(enrol(pod('plain', { 'istio.io/dataplane-mode': 'ambient' }), amb), [true, 'pod has istio.io/dataplane-mode=ambient']);
  assert.deepEqual(enrol(pod('shop', { 'istio.io/dataplane-mode': 'none' }), amb), [false, 'pod opts out with istio.io/dataplane-mode=none']);
  assert.deepEqual(enrol(pod('shop', {}, { 'ambient.istio.io/redirection': 'disabled' }), amb)[0], false);
  assert.deepEqual(enrol(pod('shop', {}, { 'sidecar.istio.io/status': '{}' }), amb), [false, 'it has an Istio sidecar; ambient does not capture sidecar pods']);
  const hostNet = { ...pod('shop'), spec: { hostNetwork: true } };
  assert.equal(enrol(hostNet, amb)[0], false);
  assert.equal(enrol(pod('plain'), amb)[0], false);
  assert.deepEqual(enrol(pod('gone'), amb), [undefined, 'namespace gone is not known, nor whether it has istio.io/dataplane-mode=ambient']);
  const e = ambientEnrollment(pod('shop', {}, { 'sidecar.istio.io/status': '{}' }), amb);
  assert.deepEqual([e.sidecar, e.namespaceAmbient], [true, true]);
  // a waypoint's own Envoy is no sidecar
  const wpPod = pod('shop', { 'gateway.istio.io/managed': 'istio.io-mesh-controller', 'gateway.networking.k8s.io/gateway-name': 'waypoint' }, { 'sidecar.istio.io/status': '{}' });
  assert.deepEqual([ambientEnrollment(wpPod, amb).sidecar, ambientEnrollment(wpPod, amb).waypointInstance], [false, 'shop/waypoint']);
});

function enrol(p: ReturnType<typeof pod> | object, namespaces: Obj[]): [boolean | undefined, string] {
  const e = ambientEnrollment(p as ReturnType<typeof pod>, namespaces);
  return [e.enrolled, e.reason];
}

function pick(b: { state: string; waypoint?: string; source?: string; reason?: string }) {
  const out: Record<string, string> = { state: b.state };
  if (b.waypoint) out.waypoint = b.waypoint;
  if (b.source) out.source = b.source;
  if (b.reason) out.reason = b.reason;
  return out;
}
