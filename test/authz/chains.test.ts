import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ambientParsesAddress, chainedServices, chainForHost, chainPolicies, chainsAlike, servedAddressing, serviceLabel, shadowedNote } from '../../src/authz/chains.js';

/** Which chain of a waypoint a host picks (src/authz/chains.ts), on hand-made Services and ServiceEntries. */

const svc = (name: string, namespace: string, spec: Record<string, unknown>) => ({ metadata: { name, namespace }, spec });
const services = [
  svc('web', 'shop', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00::10'], ports: [{ port: 8080 }, { port: 9090 }] }),
  svc('web', 'blog', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] }),
  svc('headless', 'shop', { clusterIP: 'None', ports: [{ port: 80 }] }),
];
const serviceEntries = [
  svc('wide', 'shop', { hosts: ['*.example.com'], ports: [{ number: 443 }] }),
  svc('narrow', 'shop', { hosts: ['*.api.example.com'], addresses: ['240.0.3.4/32'], ports: [{ number: 443 }] }),
  svc('dup-a', 'shop', { hosts: ['dup.example.org'], ports: [{ number: 443 }] }),
  svc('dup-b', 'blog', { hosts: ['dup.example.org'], ports: [{ number: 443 }] }),
  svc('single', 'shop', { hosts: ['single.example.org'], addresses: ['240.1.0.5'], ports: [{ number: 443 }] }),
  svc('portless', 'shop', { hosts: ['portless.example.org'] }),
];
const S = (name: string, namespace: string) => ({ name, namespace, kind: 'Service' as const });
const E = (name: string, namespace: string) => ({ name, namespace, kind: 'ServiceEntry' as const });
const served = [S('web', 'shop'), S('web', 'blog'), S('headless', 'shop'), E('wide', 'shop'), E('narrow', 'shop'), E('dup-a', 'shop'), E('dup-b', 'blog'), E('single', 'shop'), E('portless', 'shop')];
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

test('chainForHost: addresses — every cluster IP (dual stack), a ServiceEntry address or single-IP CIDR; never clusterIP None', () => {
  assert.equal(pick('10.96.0.10'), 'Service shop/web');
  assert.equal(pick('fd00::10'), 'Service shop/web');
  assert.equal(pick('FD00:0:0::10'), 'Service shop/web', 'an IPv6 address however written');
  assert.equal(pick('240.0.3.4'), 'ServiceEntry shop/narrow', 'a /32 is the one address');
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
  assert.match(pick('single.example.org', { port: 81 }), /ServiceEntry shop\/single has no port 81 \(443\)/);
  // istiod builds a waypoint chain per port: none for a service without ports (listener_waypoint.go)
  assert.equal(pick('portless.example.org'), 'ServiceEntry shop/portless has no ports: istiod builds a waypoint chain per port, so this waypoint has no chain for it');
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
    { metadata: { name: 'tie-a', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { hosts: ['tie.example.net'], ports: [{ number: 443 }] } },
    { metadata: { name: 'tie-b', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { hosts: ['tie.example.net'], ports: [{ number: 443 }] } },
    svc('undated-a', 'shop', { hosts: ['undated.example.net'], ports: [{ number: 443 }] }),
    svc('undated-b', 'shop', { hosts: ['undated.example.net'], ports: [{ number: 443 }] }),
    // one host of its own, one Service's: it keeps a chain for its own
    svc('two-hosts', 'shop', { hosts: ['two.example.net', 'web.shop.svc.cluster.local'], ports: [{ number: 8080 }] }),
    // the same, with an address: ztunnel has it only under the host of its own
    svc('web-plus', 'shop', { hosts: ['web.shop.svc.cluster.local', 'plus.example.net'], addresses: ['240.2.0.2'], ports: [{ number: 8080 }] }),
  ],
};
const everyShared = [S('web', 'shop'), S('cart', 'shop'), ...shared.serviceEntries.map((e) => E(e.metadata.name, e.metadata.namespace))];
const pickShared = (host: string, more: { served?: typeof everyShared; unknown?: ((typeof everyShared)[number] & { reason: string })[]; port?: number } = {}) => {
  const p = chainForHost(host, { served: more.served ?? everyShared, unknown: more.unknown ?? [], ...shared, ...(more.port !== undefined ? { port: more.port } : {}) });
  return p.service ? `${p.service.kind} ${p.service.namespace}/${p.service.name} (${p.how})` : p.reason;
};
const without = (...names: string[]) => everyShared.filter((s) => !names.includes(s.name));

test('chainForHost: a Service and a ServiceEntry of one namespace with one hostname: the Service\'s chain, as istiod keeps it', () => {
  assert.equal(pickShared('web.shop.svc.cluster.local'), 'Service shop/web (host web.shop.svc.cluster.local: Service shop/web, which istiod keeps for that host over ServiceEntry shop/web-alias, ServiceEntry shop/two-hosts, ServiceEntry shop/web-plus of the same namespace)');
  assert.equal(pickShared('10.96.0.10'), 'Service shop/web (address 10.96.0.10)');
  // the ServiceEntry's own address: the ambient index drops its entry for the Service's host (ztunnel does not
  // know the address), and the Service's chain is matched by the Service's addresses: no chain takes it
  assert.equal(
    pickShared('240.2.0.1'),
    "address 240.2.0.1 is the address of ServiceEntry shop/web-alias for host web.shop.svc.cluster.local, which Service shop/web has (addresses 10.96.0.10): istiod's ambient index keeps the Kubernetes Service's entry for a namespace and hostname and drops the ServiceEntry's, so ztunnel knows no service at 240.2.0.1 and sends the request to no waypoint; and the waypoint chain for the hostname, built from the Service, is matched by the Service's own addresses or hostname:port, not 240.2.0.1: the request reaches no chain of this waypoint",
  );
  assert.match(pickShared('240.2.0.1', { served: without('web-alias') }), /reaches no chain of this waypoint$/, 'whoever uses the waypoint');
  // an address of a ServiceEntry with a host of its own too: that host's chain
  const plus = chainForHost('240.2.0.2', { served: everyShared, unknown: [], ...shared });
  assert.deepEqual(plus.service, { ...E('web-plus', 'shop'), host: 'plus.example.net' });
  assert.equal(plus.service && plus.how, 'address 240.2.0.2 (its chain for host plus.example.net)');
  assert.match(pickShared('web.shop.svc.cluster.local', { served: without('web-alias', 'two-hosts') }), /^Service shop\/web /, 'the ServiceEntry not served: the same');
  assert.match(pickShared('web.shop.svc.cluster.local', { port: 8080 }), /^Service shop\/web /);
  // the Service does not use this waypoint (or that is not known): never the ServiceEntry's chain
  assert.match(pickShared('web.shop.svc.cluster.local', { served: without('web') }), /names ServiceEntry shop\/web-alias, ServiceEntry shop\/two-hosts, ServiceEntry shop\/web-plus, which uses this waypoint, but Service shop\/web has the same host in namespace shop and istiod keeps the Kubernetes Service .*the ServiceEntry's is dropped\); that Service does not use this waypoint, so this waypoint has no chain for host web\.shop\.svc\.cluster\.local: the request reaches no chain of this waypoint$/);
  assert.match(pickShared('240.2.0.1', { served: without('web') }), /^address 240\.2\.0\.1 is the address of ServiceEntry shop\/web-alias .*reaches no chain of this waypoint$/);
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

/**
 * What istiod's ambient index gives the waypoint (ambient/services.go): a chain per host of a ServiceEntry,
 * none for a ServiceEntry with an address it cannot parse (helpers.go parseCidrOrIP: an IP or a single-IP
 * CIDR), none for an ExternalName Service; and no chain for UDP ports (listener_waypoint.go).
 */
const index = {
  services: [
    svc('dns', 'shop', { clusterIP: '10.96.0.53', ports: [{ port: 53, protocol: 'UDP' }, { port: 5353, protocol: 'UDP' }] }),
    svc('mixed', 'shop', { clusterIP: '10.96.0.54', ports: [{ port: 514, protocol: 'UDP' }, { port: 8080, protocol: 'TCP' }] }),
    svc('legacy', 'shop', { type: 'ExternalName', externalName: 'legacy.example.com', ports: [{ port: 80 }] }),
    svc('bare-alias', 'shop', { type: 'ExternalName', externalName: 'bare.example.com' }),
    svc('lonely', 'shop', { type: 'ExternalName', externalName: 'lonely.example.com', ports: [{ port: 80 }] }),
  ],
  serviceEntries: [
    svc('multi', 'shop', { hosts: ['a.example.com', 'b.example.com'], addresses: ['240.3.0.1'], ports: [{ number: 443 }, { number: 53, protocol: 'udp' }] }),
    svc('range', 'shop', { hosts: ['range.example.com'], addresses: ['240.4.0.0/16'], ports: [{ number: 443 }] }),
    svc('typo', 'shop', { hosts: ['typo.example.com'], addresses: ['240.5.0.1', '240.5.0.300'], ports: [{ number: 443 }] }),
    // for the ExternalName Services' own hostnames
    svc('legacy-se', 'shop', { hosts: ['legacy.shop.svc.cluster.local'], addresses: ['240.6.0.1'], ports: [{ number: 8443 }] }),
    svc('bare-se', 'shop', { hosts: ['bare-alias.shop.svc.cluster.local'], ports: [{ number: 443 }] }),
  ],
};
const everyIndex = [...index.services.map((s) => S(s.metadata.name, s.metadata.namespace)), ...index.serviceEntries.map((e) => E(e.metadata.name, e.metadata.namespace))];
const pickIndex = (host: string, more: { port?: number; served?: typeof everyIndex } = {}) => {
  const p = chainForHost(host, { served: more.served ?? everyIndex, unknown: [], ...index, ...(more.port !== undefined ? { port: more.port } : {}) });
  return p.service ? `${serviceLabel(p.service)} ports ${p.ports.join(',')}${p.udp.length ? ` udp ${p.udp.join(',')}` : ''} (${p.how})` : p.reason;
};

test('ambientParsesAddress: an IP, or a CIDR of exactly one IP, as istiod parses ServiceEntry addresses for ambient', () => {
  for (const ok of ['240.0.0.1', 'fd00::1', '240.0.0.1/32', 'fd00::1/128', '::ffff:1.2.3.4']) assert.equal(ambientParsesAddress(ok), true, ok);
  for (const bad of ['240.0.0.0/16', '240.0.0.1/31', 'fd00::/64', '240.0.0.300', '240.0.0.1/032', '240.0.0.1/', 'api.example.com', '']) assert.equal(ambientParsesAddress(bad), false, bad);
});

test('chainedServices: a chain per ServiceEntry host; none for an unparseable address, an ExternalName Service alone, or only UDP ports', () => {
  const c = chainedServices(everyIndex, index.services, index.serviceEntries);
  assert.deepEqual(c.services.map(serviceLabel), [
    'Service shop/mixed',
    'ServiceEntry shop/multi (host a.example.com)',
    'ServiceEntry shop/multi (host b.example.com)',
    // legacy-se's hostname is the ExternalName Service's: istiod keeps that Service, and builds the chain from it
    'Service shop/legacy',
  ]);
  const why = Object.fromEntries(c.shadowed.map((x) => [serviceLabel(x.service), shadowedNote(x)]));
  assert.deepEqual(Object.keys(why).sort(), ['Service shop/bare-alias', 'Service shop/dns', 'Service shop/lonely', 'ServiceEntry shop/bare-se', 'ServiceEntry shop/legacy-se', 'ServiceEntry shop/range', 'ServiceEntry shop/typo']);
  assert.match(why['Service shop/dns'], /its ports \(53, 5353\) are all UDP, for which istiod builds no waypoint chain/);
  assert.match(why['Service shop/lonely'], /it is an ExternalName Service, which istiod's ambient index leaves out \(no entry for ztunnel/);
  assert.match(why['ServiceEntry shop/range'], /cannot parse its address 240\.4\.0\.0\/16 \(only an IP or a single-IP CIDR\)/);
  assert.match(why['ServiceEntry shop/typo'], /cannot parse its address 240\.5\.0\.300 /);
  assert.match(why['ServiceEntry shop/legacy-se'], /istiod keeps Service shop\/legacy for its host legacy\.shop\.svc\.cluster\.local/);
  // an ExternalName Service without ports: istiod builds no chain for its hostname at all
  assert.match(why['ServiceEntry shop/bare-se'], /istiod keeps Service shop\/bare-alias/);
  assert.match(why['Service shop/bare-alias'], /ExternalName/);
  assert.deepEqual(servedAddressing(index.services, index.serviceEntries)({ ...E('multi', 'shop'), host: 'b.example.com' }), { host: 'b.example.com', ports: [443], udp: [53] });
});

test('chainForHost: a ServiceEntry host picks its own chain; an address, any of them (alike)', () => {
  assert.equal(pickIndex('b.example.com'), 'ServiceEntry shop/multi (host b.example.com) ports 443 udp 53 (host b.example.com)');
  assert.match(pickIndex('240.3.0.1'), /^ServiceEntry shop\/multi ports 443 udp 53 \(address 240\.3\.0\.1 \(an address of each of its hosts a\.example\.com, b\.example\.com: one chain per host, all with the same policies and ports\)\)$/);
  assert.match(pickIndex('a.example.com', { port: 53 }), /^port 53 of ServiceEntry shop\/multi is UDP: istiod builds no waypoint chain for UDP ports$/);
});

test('chainForHost: UDP ports have no chain', () => {
  assert.match(pickIndex('dns.shop.svc.cluster.local'), /^Service shop\/dns has only UDP ports \(53, 5353\): istiod builds no waypoint chain for UDP ports/);
  assert.match(pickIndex('mixed.shop.svc.cluster.local', { port: 514 }), /^port 514 of Service shop\/mixed is UDP/);
  assert.match(pickIndex('mixed.shop.svc.cluster.local', { port: 9 }), /^Service shop\/mixed has no port 9 \(8080; UDP 514 has no chain\)/);
  assert.equal(pickIndex('10.96.0.54'), 'Service shop/mixed ports 8080 udp 514 (address 10.96.0.54)');
});

test('chainForHost: a ServiceEntry istiod cannot parse, an ExternalName Service: no entry, no chain; an ExternalName kept over a ServiceEntry: its chain, not known to be reached by name, not reached by address', () => {
  assert.match(pickIndex('range.example.com'), /^host range\.example\.com names ServiceEntry shop\/range \(istiod's ambient index cannot parse its address 240\.4\.0\.0\/16 .*\): ztunnel gets no entry for it and the waypoint no chain/);
  assert.match(pickIndex('240.4.1.1'), /^address 240\.4\.1\.1 names ServiceEntry shop\/range /);
  assert.match(pickIndex('lonely.shop.svc.cluster.local'), /^host lonely\.shop\.svc\.cluster\.local names Service shop\/lonely \(it is an ExternalName Service, which istiod's ambient index leaves out\): ztunnel gets no entry/);
  // ztunnel has the ServiceEntry's entry; the waypoint's chain for the hostname is built from the ExternalName
  // Service (its ports and policies, not the ServiceEntry's addresses): whether a request reaches it is not known
  assert.match(pickIndex('legacy.shop.svc.cluster.local'), /^host legacy\.shop\.svc\.cluster\.local: Service shop\/legacy, which istiod keeps for that host over ServiceEntry shop\/legacy-se .*: ztunnel has the entry of ServiceEntry shop\/legacy-se \(address 240\.6\.0\.1, port 8443\), since Service shop\/legacy has none \(it is an ExternalName Service.*\), but the waypoint builds the chain for host legacy\.shop\.svc\.cluster\.local from Service shop\/legacy, .*its ports \(80\) and policies, without the ServiceEntry's addresses.*not established$/);
  // by the ServiceEntry's address: ztunnel sends it to the waypoint, whose chain for the hostname is matched by
  // the ExternalName Service's addresses (none) or hostname:port, not by that address
  assert.match(pickIndex('240.6.0.1'), /^address 240\.6\.0\.1: Service shop\/legacy, which istiod keeps .*ztunnel has the entry of ServiceEntry shop\/legacy-se .*and sends the request to this waypoint, but .* matches it by that Service's addresses \(an ExternalName Service has no cluster IP\) or legacy\.shop\.svc\.cluster\.local:port, not 240\.6\.0\.1: the request reaches no chain of this waypoint$/);
  // the ServiceEntry not served: the ExternalName Service's own label does not matter (it has no entry)
  assert.match(pickIndex('legacy.shop.svc.cluster.local', { served: everyIndex.filter((s) => s.name !== 'legacy-se') }), /names Service shop\/legacy, ServiceEntry shop\/legacy-se, which this waypoint does not serve/);
  assert.match(pickIndex('bare-alias.shop.svc.cluster.local'), /Service shop\/bare-alias has no ports \(other than UDP\), so istiod builds no chain for the hostname/);
});

test('chainedServices: a service whose use of the waypoint is in doubt is not, when it could have no chain anyway', () => {
  const doubt = (s: ReturnType<typeof S> | ReturnType<typeof E>) => ({ ...s, reason: 'namespace shop is not known' });
  const unknown = [doubt(S('dns', 'shop')), doubt(S('lonely', 'shop')), doubt(E('range', 'shop')), doubt(S('mixed', 'shop')), doubt(E('multi', 'shop'))];
  const c = chainedServices([], index.services, index.serviceEntries, unknown);
  assert.deepEqual(c.unknown.map(serviceLabel), ['Service shop/mixed', 'ServiceEntry shop/multi']);
});
