import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MeshctlError } from '../../src/errors.js';
import {
  looksLikeZtunnelDump,
  parseZtunnelDump,
  splitNetworkAddress,
  workloadIdentity,
  workloadIps,
  ZtunnelModel,
  type ZtunnelWorkload,
} from '../../src/ztunnel/index.js';
import { fixture } from '../helpers.js';

const read = (name: string) => JSON.parse(readFileSync(fixture('ztunnel', name), 'utf8')) as Record<string, unknown>;
const load = (name: string) => new ZtunnelModel(parseZtunnelDump(read(name), name));
const worker = load('ztunnel-worker-config_dump.json');
const one = (m: ZtunnelModel, name: string, ns: string): ZtunnelWorkload => {
  const list = m.workloadsByName(name, ns);
  assert.equal(list.length, 1, `${ns}/${name}`);
  return list[0];
};

describe('ztunnel model: lookups as ztunnel makes them', () => {
  test('workloads by address, UID and name; the services they back', () => {
    const pp = worker.workloadByAddress('10.244.1.12')!;
    assert.equal(pp.name, 'productpage-v1-5b8d7f9c6d-k2lxp');
    assert.equal(worker.workloadByUid('Kubernetes//Pod/bookinfo/productpage-v1-5b8d7f9c6d-k2lxp'), pp);
    assert.equal(one(worker, 'productpage-v1-5b8d7f9c6d-k2lxp', 'bookinfo'), pp);
    assert.deepEqual(worker.servicesOf(pp).map((s) => s.name), ['productpage']);
    // a dual-stack pod answers on both addresses; another network does not know it
    const catalog = worker.workloadByAddress('fd00:10:244:2::28')!;
    assert.equal(catalog.name, 'catalog-v1-9c8b7d6f5-j6t4s');
    assert.equal(worker.workloadByAddress('10.244.2.40'), catalog);
    assert.equal(worker.workloadByAddress('10.244.1.12', 'other-network'), undefined);
    assert.equal(workloadIdentity(pp), 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage');
  });

  test('among workloads sharing an address, a Pod in HBONE wins (ztunnel\'s ranking)', () => {
    const doc = {
      workloads: [
        { uid: 'c/networking.istio.io/WorkloadEntry/a/we', name: 'we', namespace: 'a', workloadIps: ['10.1.1.1'], protocol: 'HBONE', status: 'Healthy' },
        { uid: 'c//Pod/a/tcp', name: 'tcp', namespace: 'a', workloadIps: ['10.1.1.1'], protocol: 'TCP', status: 'Healthy' },
        { uid: 'c//Pod/a/mesh', name: 'mesh', namespace: 'a', workloadIps: ['10.1.1.1'], protocol: 'HBONE', status: 'Healthy' },
        { uid: 'c//Pod/a/host', name: 'host', namespace: 'a', workloadIps: ['10.1.1.1'], protocol: 'HBONE', networkMode: 'HostNetwork' },
      ],
    };
    const m = new ZtunnelModel(parseZtunnelDump(doc, 'x'));
    assert.equal(m.workloadByAddress('10.1.1.1')!.name, 'mesh');
    assert.deepEqual(m.workloadsByAddress('10.1.1.1').map((w) => w.name), ['we', 'tcp', 'mesh']);
  });

  test('services by VIP (either family) and by namespace/hostname; endpoints with their workloads', () => {
    assert.equal(worker.serviceByVip('10.96.74.131')!.name, 'reviews');
    assert.equal(worker.serviceByVip('fd00:10:96::3c0c')!.name, 'catalog');
    assert.equal(worker.serviceByNamespacedHostname('shop/api.payments-provider.example')!.name, 'payments-provider');
    assert.deepEqual(worker.servicesByHostname('reviews.bookinfo.svc.cluster.local').map((s) => s.namespace), ['bookinfo']);
    const db = worker.endpointsOf(worker.serviceByVip('10.96.52.21')!);
    assert.deepEqual(db.map((e) => [e.workload?.name, e.status]).sort(), [['ledger-db-0', 'Healthy'], ['ledger-db-1', 'Unhealthy']]);
  });

  test('waypoints: service-bound by address and by hostname, workload-bound, none', () => {
    const svc = (ip: string) => worker.serviceByVip(ip)!;
    const details = worker.serviceWaypoint(svc('10.96.200.228'))!;
    assert.equal(details.form, 'address');
    assert.equal(details.service!.name, 'waypoint');
    assert.equal(details.port, 15008);
    const reviews = worker.serviceWaypoint(svc('10.96.74.131'))!;
    assert.equal(reviews.form, 'hostname');
    assert.equal(reviews.service!.name, 'reviews-waypoint');
    const ledger = worker.workloadWaypoint(one(worker, 'ledger-7d6c5b8f9-r2x4k', 'payments'))!;
    assert.equal(ledger.service!.name, 'payments-waypoint');
    assert.equal(worker.workloadWaypoint(one(worker, 'frontend-6b9f8c7d5-q9z2m', 'shop')), undefined);
    assert.equal(worker.serviceWaypoint(svc('10.96.60.12')), undefined);
    // an address that is a workload's resolves to the workload (ztunnel looks workloads up first)
    const direct = worker.resolveGateway({ destination: '/10.244.1.21', hboneMtlsPort: 15008 });
    assert.equal(direct.workload!.name, 'payments-waypoint-5c7b9d8f6-x3q8w');
    const unknown = worker.resolveGateway({ destination: 'nowhere/wp.nowhere.svc.cluster.local', hboneMtlsPort: 15009 });
    assert.equal(unknown.service, undefined);
    assert.equal(unknown.workload, undefined);
    assert.equal(unknown.port, 15009);
    assert.equal(worker.waypointDisplayName(unknown.gateway), 'NA');
  });

  test('policies that apply to a workload: global, its namespace, its selector policies', () => {
    const ratings = worker.policiesFor(one(worker, 'ratings-v1-6c9b8d7f5-w7p4n', 'bookinfo'));
    assert.deepEqual(ratings.global.map((p) => p.name), ['deny-blocked-namespace']);
    assert.deepEqual(ratings.namespace.map((p) => p.name), ['allow-bookinfo']);
    assert.deepEqual(ratings.selector.map((p) => p.name), ['ratings-allow-reviews']);
    assert.deepEqual(ratings.missing, []);
    const frontend = worker.policiesFor(one(worker, 'frontend-6b9f8c7d5-q9z2m', 'shop'));
    assert.deepEqual(frontend.namespace.map((p) => `${p.name}${p.dryRun ? ' (dry run)' : ''}`), ['audit-outsiders (dry run)', 'require-mtls']);
    assert.deepEqual(frontend.selector, []);
    assert.deepEqual(worker.policiesInNamespace('payments').map((p) => p.name), ['ledger-deny-outside']);
    assert.deepEqual(worker.policiesByScope('Global').map((p) => p.namespace), ['istio-system']);
    const orphan = { ...one(worker, 'frontend-6b9f8c7d5-q9z2m', 'shop'), authorizationPolicies: ['shop/not-pushed-yet'] };
    assert.deepEqual(worker.policiesFor(orphan).missing, ['shop/not-pushed-yet']);
  });

  test("certificates by identity and per-pod state and connections (this node's pods only)", () => {
    const pp = one(worker, 'productpage-v1-5b8d7f9c6d-k2lxp', 'bookinfo');
    assert.equal(worker.certificateFor(workloadIdentity(pp))!.state, 'Available');
    assert.equal(worker.certificateFor('spiffe://cluster.local/ns/shop/sa/cart')!.state, 'Initializing');
    assert.equal(worker.stateOf('cart-5f7d9c8b6-l8k3v', 'shop')!.state, 'Pending');
    const c = worker.connectionsOf(pp.name, 'bookinfo');
    assert.equal(c.inbound.length, 2);
    assert.equal(c.outbound.length, 2);
    // details runs on the other node: this ztunnel keeps nothing for it
    assert.deepEqual(worker.connectionsOf('details-v1-7f9d6c8b5-qx8mz', 'bookinfo'), { inbound: [], outbound: [] });
    const worker2 = load('ztunnel-worker2-config_dump.json');
    assert.equal(worker2.connectionsOf('details-v1-7f9d6c8b5-qx8mz', 'bookinfo').inbound.length, 1);
  });

  test('a pod as its ztunnel sees it: protocol, identity, waypoints of its own and of its services, policies, certificate, state', () => {
    const ledger = worker.podView('ledger-7d6c5b8f9-r2x4k', 'payments')!;
    assert.equal(ledger.protocol, 'HBONE');
    assert.equal(ledger.identity, 'spiffe://cluster.local/ns/payments/sa/ledger');
    assert.equal(ledger.waypoint!.service!.name, 'payments-waypoint');
    assert.deepEqual(ledger.services.map((s) => [s.service.name, s.waypoint?.service?.name]), [['ledger', undefined]]);
    assert.deepEqual(ledger.policies.selector.map((p) => p.name), ['ledger-deny-outside']);
    assert.equal(ledger.certificate!.state, 'Available');
    assert.equal(ledger.state!.state, 'Up');
    const reviews = worker.podView('reviews-v2-6f8d9c7b5-m4kzp', 'bookinfo')!;
    assert.equal(reviews.waypoint, undefined);
    assert.deepEqual(reviews.services.map((s) => [s.service.name, s.waypoint?.form, s.waypoint?.service?.name]), [['reviews', 'hostname', 'reviews-waypoint']]);
    // on another node: this ztunnel neither holds its certificate nor tracks its connections
    assert.equal(reviews.certificate?.identity, 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews', 'same identity as reviews-v1 here');
    assert.equal(reviews.state, undefined);
    const sleep = worker.podView('sleep-7b8c9d6f5-g2h4j', 'legacy')!;
    assert.equal(sleep.protocol, 'TCP');
    assert.equal(worker.podView('nope', 'bookinfo'), undefined);
  });

  test('the older map form reads as the list form: same workloads (once each, dual-stack too), services, policies', () => {
    const legacy = load('legacy-map-config_dump.json');
    assert.equal(legacy.workloads.length, worker.workloads.length);
    assert.deepEqual(legacy.workloads.map((w) => w.uid).sort(), worker.workloads.map((w) => w.uid).sort());
    assert.equal(legacy.services.length, worker.services.length);
    assert.equal(legacy.policies.length, worker.policies.length);
    assert.equal(legacy.has('workloadState'), false);
    assert.equal(legacy.serviceWaypoint(legacy.serviceByVip('10.96.74.131')!)!.service!.name, 'reviews-waypoint');
  });

  test('network addresses: network/IP for both families, anything else is not one', () => {
    assert.deepEqual(splitNetworkAddress('/10.96.0.1'), { network: '', ip: '10.96.0.1' });
    assert.deepEqual(splitNetworkAddress('net-2/fd00::1'), { network: 'net-2', ip: 'fd00::1' });
    assert.equal(splitNetworkAddress('bookinfo/reviews.bookinfo.svc.cluster.local'), undefined);
    assert.equal(splitNetworkAddress('10.96.0.1'), undefined);
    assert.deepEqual(workloadIps({ workloadIp: '10.0.0.1' } as unknown as ZtunnelWorkload), ['10.0.0.1']);
  });
});

describe('ztunnel dump: reading untrusted input', () => {
  test('broken entries are skipped with a reason naming them; the rest is kept', () => {
    const doc = read('ztunnel-worker-config_dump.json');
    const workloads = doc.workloads as Record<string, unknown>[];
    workloads[0] = { ...workloads[0], workloadIps: '10.0.0.1' };
    workloads[1] = 'not a workload' as unknown as Record<string, unknown>;
    (doc.services as Record<string, unknown>[])[0].waypoint = { hboneMtlsPort: 15008 };
    (doc.policies as Record<string, unknown>[])[0].rules = [['not a clause']];
    (doc.workloadState as Record<string, unknown>)['bad-uid'] = { state: 'Up' };
    const p = parseZtunnelDump(doc, 'doctored.json');
    assert.equal(p.workloads.length, workloads.length - 2);
    const reasons = p.problems.map((x) => `${x.what}: ${x.reason}`);
    assert.ok(reasons.some((r) => /^workload ".+": workloadIps is a string, expected a list of addresses$/.test(r)), reasons.join('\n'));
    assert.ok(reasons.includes('workload #2: it is a string, expected an object'), reasons.join('\n'));
    assert.ok(reasons.some((r) => /^service ".+": waypoint is an object, expected an object with a destination$/.test(r)), reasons.join('\n'));
    assert.ok(reasons.some((r) => /^policy ".+": rules is a list/.test(r)), reasons.join('\n'));
    assert.ok(reasons.includes('workload state "bad-uid": it has no info'), reasons.join('\n'));
  });

  test('unknown fields (a newer ztunnel) are kept as they are and do not disturb the model', () => {
    const doc = read('ztunnel-worker-config_dump.json');
    doc.someFutureSection = { x: 1 };
    const w = (doc.workloads as Record<string, unknown>[])[0];
    w.futureField = ['a'];
    const p = parseZtunnelDump(doc, 'future.json');
    assert.deepEqual(p.problems, []);
    assert.deepEqual((p.workloads[0] as unknown as Record<string, unknown>).futureField, ['a']);
  });

  test('a section of the wrong type is unusable, the others still read', () => {
    const doc = read('ztunnel-worker-config_dump.json');
    doc.services = 'oops';
    const m = new ZtunnelModel(parseZtunnelDump(doc, 'x.json'));
    assert.equal(m.has('services'), false);
    assert.equal(m.parsed.unusable.get('services'), 'it is a string, expected a list or a map');
    assert.ok(m.workloads.length > 0);
  });

  test('documents of the wrong kind are refused with what they are', () => {
    const envoy = JSON.parse(readFileSync(fixture('bookinfo', 'productpage-config_dump.json'), 'utf8'));
    assert.throws(() => parseZtunnelDump(envoy, 'pp.json'), (e: Error) => e instanceof MeshctlError && /pp\.json: this is an Envoy config dump/.test(e.message));
    assert.throws(() => parseZtunnelDump([1, 2], 'l.json'), /l\.json: not a ztunnel config dump \(the document is a list, expected an object\)/);
    assert.throws(() => parseZtunnelDump({ kind: 'Pod' }, 'p.yaml'), /p\.yaml: not a ztunnel config dump \(none of workloads, services, policies, certificates, workloadState; it has kind\)/);
    assert.throws(() => parseZtunnelDump({}, 'e.json'), /it is empty/);
    assert.equal(looksLikeZtunnelDump(envoy), false);
    assert.equal(looksLikeZtunnelDump(read('legacy-map-config_dump.json')), true);
  });
});
