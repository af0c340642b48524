import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainForHost, chainPolicies, chainsAlike } from '../../src/authz/chains.js';

/** Which chain of a waypoint a host picks (src/authz/chains.ts), on hand-made Services and ServiceEntries. */

const svc = (name: string, namespace: string, spec: Record<string, unknown>) => ({ metadata: { name, namespace }, spec });
const services = [
  svc('web', 'shop', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00::10'], ports: [{ port: 8080 }, { port: 9090 }] }),
  svc('web', 'blog', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] }),
  svc('headless', 'shop', { clusterIP: 'None', ports: [{ port: 80 }] }),
];
const serviceEntries = [
  svc('wide', 'shop', { hosts: ['*.example.com'], ports: [{ number: 443 }] }),
  svc('narrow', 'shop', { hosts: ['*.api.example.com'], addresses: ['240.0.0.0/16'], ports: [{ number: 443 }] }),
  svc('dup-a', 'shop', { hosts: ['dup.example.org'] }),
  svc('dup-b', 'blog', { hosts: ['dup.example.org'] }),
  svc('single', 'shop', { hosts: ['single.example.org'], addresses: ['240.1.0.5'] }),
];
const S = (name: string, namespace: string) => ({ name, namespace, kind: 'Service' as const });
const E = (name: string, namespace: string) => ({ name, namespace, kind: 'ServiceEntry' as const });
const served = [S('web', 'shop'), S('web', 'blog'), S('headless', 'shop'), E('wide', 'shop'), E('narrow', 'shop'), E('dup-a', 'shop'), E('dup-b', 'blog'), E('single', 'shop')];
const pick = (host: string, more: { sourceNamespace?: string; port?: number; served?: typeof served; unknown?: ((typeof served)[number] & { reason: string })[] } = {}) => {
  const p = chainForHost(host, { served: more.served ?? served, unknown: more.unknown ?? [], services, serviceEntries, ...more });
  return p.service ? `${p.service.kind} ${p.service.namespace}/${p.service.name}` : p.reason;
};

test('chainForHost: relative names in the client namespace; without one, a served Service of that name only if it is the only one', () => {
  assert.equal(pick('web', { sourceNamespace: 'blog' }), 'Service blog/web');
  assert.equal(pick('web.shop', { sourceNamespace: 'blog' }), 'Service shop/web');
  assert.match(pick('web'), /names 2 services this waypoint serves \(Service shop\/web, Service blog\/web\)/);
  assert.equal(pick('headless.shop.svc.cluster.local'), 'Service shop/headless');
});

test('chainForHost: addresses — every cluster IP (dual stack), a ServiceEntry address or CIDR; never clusterIP None', () => {
  assert.equal(pick('10.96.0.10'), 'Service shop/web');
  assert.equal(pick('fd00::10'), 'Service shop/web');
  assert.equal(pick('FD00:0:0::10'), 'Service shop/web', 'an IPv6 address however written');
  assert.equal(pick('240.0.3.4'), 'ServiceEntry shop/narrow');
  assert.equal(pick('240.1.0.5'), 'ServiceEntry shop/single');
  assert.match(pick('240.1.0.6'), /names no Service or ServiceEntry/);
  assert.match(pick('None'), /names no Service or ServiceEntry/);
});

test('chainForHost: ServiceEntry hosts exact first, then the most specific wildcard; two services for one host are not a guess', () => {
  assert.equal(pick('v1.api.example.com'), 'ServiceEntry shop/narrow');
  assert.equal(pick('www.example.com'), 'ServiceEntry shop/wide');
  assert.match(pick('example.com'), /names no Service or ServiceEntry/);
  assert.match(pick('dup.example.org'), /names 2 services this waypoint serves/);
  assert.equal(pick('dup.example.org', { served: served.filter((s) => s.name !== 'dup-b') }), 'ServiceEntry shop/dup-a', 'the one this waypoint serves');
});

test('chainForHost: not served, in doubt, or without that port: a reason, never a chain', () => {
  assert.match(pick('single.example.org', { served: [] }), /names ServiceEntry shop\/single, which this waypoint does not serve/);
  assert.match(pick('single.example.org', { served: [], unknown: [{ ...E('single', 'shop'), reason: 'namespace shop is not known' }] }), /whose use of this waypoint cannot be told: namespace shop is not known/);
  assert.equal(pick('web.shop', { port: 9090 }), 'Service shop/web');
  assert.match(pick('web.shop', { port: 81 }), /Service shop\/web has no port 81 \(8080, 9090\)/);
  assert.equal(pick('single.example.org', { port: 81 }), 'ServiceEntry shop/single', 'a service without ports: any port');
});

test("chainPolicies / chainsAlike: Gateway- and GatewayClass-attached policies on every chain, a service's only on its own", () => {
  const wp = { 'gateway.networking.k8s.io/gateway-name': 'waypoint', 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint' };
  const w = { namespace: 'shop', labels: wp, rootNamespace: 'istio-system' };
  const ap = (name: string, namespace: string, ref: Record<string, string>) => ({ metadata: { name, namespace }, spec: { targetRefs: [ref] } });
  const all = [
    ap('gw', 'shop', { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }),
    ap('class', 'istio-system', { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }),
    ap('to-web', 'shop', { group: '', kind: 'Service', name: 'web' }),
    ap('to-single', 'shop', { group: 'networking.istio.io', kind: 'ServiceEntry', name: 'single' }),
  ];
  const names = (xs: { metadata: { name: string } }[]) => xs.map((x) => x.metadata.name);
  assert.deepEqual(names(chainPolicies(all, w, null)), ['gw', 'class']);
  assert.deepEqual(names(chainPolicies(all, w, S('web', 'shop'))), ['gw', 'class', 'to-web']);
  assert.deepEqual(names(chainPolicies(all, w, E('single', 'shop'))), ['gw', 'class', 'to-single']);
  assert.deepEqual(names(chainPolicies(all, w, S('web', 'blog'))), ['gw', 'class'], "another namespace's web");
  assert.equal(chainsAlike(all, w, all), false);
  assert.equal(chainsAlike(all, w, all.slice(0, 2)), true);
});
