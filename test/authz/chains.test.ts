import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainedServices, chainForHost, chainPolicies, chainsAlike } from '../../src/authz/chains.js';

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

/**
 * Services sharing a hostname: istiod keeps one per namespace and hostname (a Kubernetes Service over a
 * ServiceEntry, else the oldest: push_context.go) and builds a waypoint one chain per hostname
 * (waypoint.go, findWaypointResources), whichever namespace's comes last when two are served.
 */
const shared = {
  services: [
    svc('web', 'shop', { clusterIP: '10.96.0.10', ports: [{ port: 8080 }] }),
    svc('cart', 'shop', { clusterIP: '10.96.0.12', ports: [{ port: 80 }] }),
  ],
  serviceEntries: [
    // a ServiceEntry of the same namespace for web's name, with an address of its own
    svc('web-alias', 'shop', { hosts: ['web.shop.svc.cluster.local'], addresses: ['240.2.0.1'], ports: [{ number: 8080 }] }),
    // one in another namespace for cart's name
    svc('cart-elsewhere', 'blog', { hosts: ['cart.shop.svc.cluster.local'], ports: [{ number: 80 }] }),
    // ServiceEntries of one namespace with one host: the oldest is kept, when their creation times say it
    { metadata: { name: 'api-new', namespace: 'shop', creationTimestamp: '2026-02-01T00:00:00Z' }, spec: { hosts: ['api.example.net'], ports: [{ number: 443 }] } },
    { metadata: { name: 'api-old', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { hosts: ['api.example.net'], ports: [{ number: 443 }] } },
    { metadata: { name: 'tie-a', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { hosts: ['tie.example.net'] } },
    { metadata: { name: 'tie-b', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { hosts: ['tie.example.net'] } },
    svc('undated-a', 'shop', { hosts: ['undated.example.net'] }),
    svc('undated-b', 'shop', { hosts: ['undated.example.net'] }),
    // one host of its own, one Service's: it keeps a chain for its own
    svc('two-hosts', 'shop', { hosts: ['two.example.net', 'web.shop.svc.cluster.local'] }),
  ],
};
const everyShared = [S('web', 'shop'), S('cart', 'shop'), ...shared.serviceEntries.map((e) => E(e.metadata.name, e.metadata.namespace))];
const pickShared = (host: string, more: { served?: typeof everyShared; unknown?: ((typeof everyShared)[number] & { reason: string })[]; port?: number } = {}) => {
  const p = chainForHost(host, { served: more.served ?? everyShared, unknown: more.unknown ?? [], ...shared, ...(more.port !== undefined ? { port: more.port } : {}) });
  return p.service ? `${p.service.kind} ${p.service.namespace}/${p.service.name} (${p.how})` : p.reason;
};
const without = (...names: string[]) => everyShared.filter((s) => !names.includes(s.name));

test('chainForHost: a Service and a ServiceEntry of one namespace with one hostname: the Service\'s chain, as istiod keeps it', () => {
  assert.equal(pickShared('web.shop.svc.cluster.local'), 'Service shop/web (host web.shop.svc.cluster.local: Service shop/web, which istiod keeps for that host over ServiceEntry shop/web-alias, ServiceEntry shop/two-hosts of the same namespace)');
  assert.match(pickShared('240.2.0.1'), /^Service shop\/web \(address 240\.2\.0\.1: Service shop\/web, which istiod keeps/, "the ServiceEntry's own address: its host is the Service's");
  assert.match(pickShared('web.shop.svc.cluster.local', { served: without('web-alias', 'two-hosts') }), /^Service shop\/web /, 'the ServiceEntry not served: the same');
  assert.match(pickShared('web.shop.svc.cluster.local', { port: 8080 }), /^Service shop\/web /);
  // the Service does not use this waypoint (or that is not known): never the ServiceEntry's chain
  assert.match(pickShared('web.shop.svc.cluster.local', { served: without('web') }), /names ServiceEntry shop\/web-alias, ServiceEntry shop\/two-hosts, which uses this waypoint, but Service shop\/web has the same host in namespace shop and istiod keeps the Kubernetes Service .*not established/);
  assert.match(pickShared('240.2.0.1', { served: without('web') }), /but Service shop\/web has the same host/);
  assert.match(pickShared('web.shop.svc.cluster.local', { served: without('web'), unknown: [{ ...S('web', 'shop'), reason: 'namespace shop is not known' }] }), /names Service shop\/web, whose use of this waypoint cannot be told: namespace shop is not known/);
  // its other host is its own
  assert.match(pickShared('two.example.net'), /^ServiceEntry shop\/two-hosts \(host two\.example\.net\)$/);
});

test('chainForHost: one hostname served from two namespaces: istiod builds one chain for it, which one it leaves open', () => {
  assert.match(pickShared('cart.shop.svc.cluster.local'), /names 2 services this waypoint serves \(Service shop\/cart, ServiceEntry blog\/cart-elsewhere\), all with host cart\.shop\.svc\.cluster\.local: istiod builds a waypoint one chain per hostname, .*not determined/);
  assert.match(pickShared('cart.shop.svc.cluster.local', { served: without('cart-elsewhere') }), /^Service shop\/cart /, 'the other not served: this one');
  assert.match(pickShared('cart.shop.svc.cluster.local', { served: without('cart') }), /^ServiceEntry blog\/cart-elsewhere /);
  const inDoubt = { served: without('cart-elsewhere'), unknown: [{ ...E('cart-elsewhere', 'blog'), reason: 'namespace blog is not known' }] };
  assert.match(pickShared('cart.shop.svc.cluster.local', inDoubt), /names Service shop\/cart and ServiceEntry blog\/cart-elsewhere \(namespace blog\), whose use of this waypoint cannot be told .*namespace blog is not known.*which one is not determined/);
});

test('chainForHost: ServiceEntries of one namespace with one host: the oldest, when their creation times say which', () => {
  assert.equal(pickShared('api.example.net'), 'ServiceEntry shop/api-old (host api.example.net: ServiceEntry shop/api-old, which istiod keeps for that host over ServiceEntry shop/api-new of the same namespace)');
  assert.match(pickShared('tie.example.net'), /tie-a, ServiceEntry shop\/tie-b all have host tie\.example\.net in namespace shop: istiod keeps the oldest, and .* were created in the same second/);
  assert.match(pickShared('undated.example.net'), /undated-a, ServiceEntry shop\/undated-b all have host undated\.example\.net in namespace shop: istiod keeps the oldest, and their creationTimestamps are not all known/);
  // which entry ztunnel is given for the host is not known when they use different waypoints
  assert.match(pickShared('api.example.net', { served: without('api-old') }), /share host api\.example\.net in namespace shop and do not all use this waypoint/);
});

test('chainedServices: a served ServiceEntry whose every host another service holds has no chain; one with a host of its own, or an undecided holder, keeps its', () => {
  const c = chainedServices(everyShared, shared.services, shared.serviceEntries);
  const label = (x: { kind?: string; namespace: string; name: string }) => `${x.kind} ${x.namespace}/${x.name}`;
  assert.deepEqual(c.shadowed.map((x) => [label(x.service), x.by.map(label), x.hosts]), [
    ['ServiceEntry shop/web-alias', ['Service shop/web'], ['web.shop.svc.cluster.local']],
    ['ServiceEntry shop/api-new', ['ServiceEntry shop/api-old'], ['api.example.net']],
  ]);
  assert.deepEqual(
    c.services.map(label),
    everyShared.filter((s) => !['web-alias', 'api-new'].includes(s.name)).map(label),
    'cart-elsewhere (another namespace), tie-*, undated-* and two-hosts keep theirs',
  );
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
