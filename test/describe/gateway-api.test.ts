import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  deployedService,
  deployedServiceName,
  gatewayAddress,
  hostnameMatches,
  intersectHostnames,
  labelSelectorMatches,
  listenerAccepts,
  namespaceSelected,
  referenceGranted,
  routeExposures,
} from '../../src/describe/gateway-api.js';
import { emptyMeshObjects, type ApiGateway, type ApiRoute, type GatewayClass, type Listener, type ReferenceGrant, type Service } from '../../src/describe/objects.js';
import { fixture, runCli } from '../helpers.js';

const FILES = fixture('describe', 'gateway-api');

test('hostname intersection: wildcards match one label or more, never the apex; the more specific name is kept', () => {
  assert.equal(intersectHostnames(undefined, []), undefined, 'neither restricts: any hostname');
  assert.deepEqual(intersectHostnames('*.example.com', []), ['*.example.com']);
  assert.deepEqual(intersectHostnames(undefined, ['a.example.com', 'B.example.com']), ['a.example.com', 'b.example.com']);
  assert.deepEqual(intersectHostnames('*.example.com', ['shop.example.com', 'a.b.example.com', 'example.com', 'x.other.org']), ['shop.example.com', 'a.b.example.com']);
  assert.deepEqual(intersectHostnames('shop.example.com', ['*.example.com']), ['shop.example.com']);
  assert.deepEqual(intersectHostnames('*.example.com', ['*.shop.example.com']), ['*.shop.example.com']);
  assert.deepEqual(intersectHostnames('*.shop.example.com', ['*.example.com']), ['*.shop.example.com']);
  assert.deepEqual(intersectHostnames('*.example.com', ['*.example.com']), ['*.example.com']);
  assert.deepEqual(intersectHostnames('shop.example.com', ['*.shop.example.com']), [], 'a wildcard does not cover its apex');
  assert.deepEqual(intersectHostnames('shop.example.com', ['web.example.com']), []);
  assert.ok(hostnameMatches('*.example.com', 'a.example.com'));
  assert.ok(!hostnameMatches('*.example.com', 'aexample.com'));
  assert.ok(!hostnameMatches('a.example.com', '*.example.com'));
});

const route = (ns: string, spec: ApiRoute['spec'], status?: ApiRoute['status']): ApiRoute => ({
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: ns },
  spec,
  ...(status ? { status } : {}),
});
const http = (extra: Partial<Listener> = {}): Listener => ({ name: 'http', port: 80, protocol: 'HTTP', ...extra });

test('listeners: protocol, allowedRoutes kinds and namespaces (Same, All, Selector), hostnames', () => {
  const r = route('shop', { hostnames: ['shop.example.com'] });
  assert.deepEqual(listenerAccepts(http(), 'HTTPRoute', r, 'shop', []), { hostnames: ['shop.example.com'] });
  assert.match((listenerAccepts(http(), 'HTTPRoute', r, 'gw', []) as { reason: string }).reason, /from namespace gw only \(from: Same\)/);
  assert.deepEqual(listenerAccepts(http({ allowedRoutes: { namespaces: { from: 'All' } } }), 'HTTPRoute', r, 'gw', []), { hostnames: ['shop.example.com'] });
  assert.match((listenerAccepts(http({ protocol: 'TCP' }), 'HTTPRoute', r, 'shop', []) as { reason: string }).reason, /protocol TCP/);
  assert.ok('hostnames' in listenerAccepts(http({ protocol: 'HTTPS' }), 'GRPCRoute', r, 'shop', []));
  assert.match(
    (listenerAccepts(http({ allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } }), 'HTTPRoute', r, 'shop', []) as { reason: string }).reason,
    /kinds admits only GRPCRoute/,
  );
  assert.match((listenerAccepts(http({ hostname: '*.other.org' }), 'HTTPRoute', r, 'shop', []) as { reason: string }).reason, /hostname \*\.other\.org matches none/);

  const bySelector = http({ allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'shop' } } } } });
  const shopNs = { kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'shop' } } };
  const otherNs = { kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'ops' } } };
  assert.deepEqual(listenerAccepts(bySelector, 'HTTPRoute', r, 'gw', [shopNs]), { hostnames: ['shop.example.com'] });
  assert.match((listenerAccepts(bySelector, 'HTTPRoute', r, 'gw', [otherNs]) as { reason: string }).reason, /does not match allowedRoutes\.namespaces\.selector/);
  assert.match((listenerAccepts(bySelector, 'HTTPRoute', r, 'gw', []) as { unchecked: string }).unchecked, /labels of namespace shop are unknown, not checked/);
});

test('namespace selectors: matchLabels, matchExpressions, and the name label every namespace has', () => {
  const labels = { team: 'shop', tier: 'front' };
  assert.ok(labelSelectorMatches({ matchExpressions: [{ key: 'team', operator: 'In', values: ['shop', 'cart'] }] }, labels));
  assert.ok(!labelSelectorMatches({ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['shop'] }] }, labels));
  assert.ok(labelSelectorMatches({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, labels));
  assert.ok(!labelSelectorMatches({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, labels));
  assert.ok(!labelSelectorMatches({ matchLabels: { tier: 'back' } }, labels));
  assert.equal(namespaceSelected({ matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, 'shop', []), true, 'decided without the Namespace object');
  assert.equal(namespaceSelected({ matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, 'cart', []), false);
  assert.equal(namespaceSelected({ matchLabels: { team: 'shop' } }, 'shop', []), undefined);
});

test('ReferenceGrant: in the Service namespace, from the route kind and namespace, to Services (all or by name)', () => {
  const grant = (ns: string, from: { group?: string; kind?: string; namespace?: string }, to: { group?: string; kind?: string; name?: string }): ReferenceGrant => ({
    kind: 'ReferenceGrant',
    metadata: { name: 'g', namespace: ns },
    spec: { from: [from], to: [to] },
  });
  const from = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'ingress' };
  assert.ok(referenceGranted([grant('shop', from, { group: '', kind: 'Service' })], 'HTTPRoute', 'ingress', 'shop', 'web'));
  assert.ok(referenceGranted([grant('shop', from, { kind: 'Service', name: 'web' })], 'HTTPRoute', 'ingress', 'shop', 'web'));
  assert.ok(!referenceGranted([grant('shop', from, { kind: 'Service', name: 'cart' })], 'HTTPRoute', 'ingress', 'shop', 'web'), 'named for another service');
  assert.ok(!referenceGranted([grant('ingress', from, { kind: 'Service' })], 'HTTPRoute', 'ingress', 'shop', 'web'), 'grant in the wrong namespace');
  assert.ok(!referenceGranted([grant('shop', { ...from, namespace: 'other' }, { kind: 'Service' })], 'HTTPRoute', 'ingress', 'shop', 'web'));
  assert.ok(!referenceGranted([grant('shop', from, { kind: 'Service' })], 'GRPCRoute', 'ingress', 'shop', 'web'), 'granted to HTTPRoute only');
  assert.ok(!referenceGranted([grant('shop', { ...from, group: '' }, { kind: 'Service' })], 'HTTPRoute', 'ingress', 'shop', 'web'));
  assert.ok(!referenceGranted([grant('shop', from, { kind: 'Secret' })], 'HTTPRoute', 'ingress', 'shop', 'web'));
});

test('gateway address: status, then spec, then the <name>-<class> Service (load balancer, external IP, cluster IP)', () => {
  const gw = (extra: Partial<ApiGateway> = {}): ApiGateway => ({ kind: 'Gateway', metadata: { name: 'pub', namespace: 'gw' }, spec: { gatewayClassName: 'istio' }, ...extra });
  const svc = (spec: Service['spec'], status?: Service['status'], name = 'pub-istio'): Service => ({ kind: 'Service', metadata: { name, namespace: 'gw' }, spec, ...(status ? { status } : {}) });
  const lb = svc({ clusterIP: '10.0.0.1', externalIPs: ['198.51.100.1'] }, { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } });
  assert.deepEqual(gatewayAddress(gw({ status: { addresses: [{ value: '203.0.113.9' }] }, spec: { gatewayClassName: 'istio', addresses: [{ value: '1.1.1.1' }] } }), [lb]), { addresses: ['203.0.113.9'] });
  assert.deepEqual(gatewayAddress(gw({ spec: { gatewayClassName: 'istio', addresses: [{ value: '1.1.1.1' }] } }), [lb]), { addresses: ['1.1.1.1'] });
  assert.deepEqual(gatewayAddress(gw(), [lb]), { addresses: ['lb.example.com'], service: 'pub-istio.gw' });
  assert.deepEqual(gatewayAddress(gw(), [svc({ clusterIP: '10.0.0.1', externalIPs: ['198.51.100.1'] })]), { addresses: ['198.51.100.1'], service: 'pub-istio.gw' });
  assert.deepEqual(gatewayAddress(gw(), [svc({ clusterIP: '10.0.0.1' })]), { addresses: ['10.0.0.1'], service: 'pub-istio.gw' });
  assert.deepEqual(gatewayAddress(gw(), [svc({ clusterIP: '10.0.0.1' }, undefined, 'pub-other')]), { addresses: [] }, 'another class\'s Service is not this gateway\'s');
});

test('gateway address: every usable address of the first source that has one (dual-stack, hostnames), in order', () => {
  const gw = (extra: Partial<ApiGateway> = {}): ApiGateway => ({ kind: 'Gateway', metadata: { name: 'pub', namespace: 'gw' }, spec: { gatewayClassName: 'istio' }, ...extra });
  const svc = (spec: Service['spec'], status?: Service['status']): Service => ({ kind: 'Service', metadata: { name: 'pub-istio', namespace: 'gw' }, spec, ...(status ? { status } : {}) });
  const dualStatus = { addresses: [{ type: 'IPAddress', value: '203.0.113.9' }, { type: 'IPAddress', value: '2001:db8::9' }, { type: 'Hostname', value: 'pub-istio.gw.svc.cluster.local' }] };
  assert.deepEqual(gatewayAddress(gw({ status: dualStatus }), []).addresses, ['203.0.113.9', '2001:db8::9', 'pub-istio.gw.svc.cluster.local']);
  assert.deepEqual(
    gatewayAddress(gw({ status: { addresses: [{ type: 'example.com/custom', value: 'blue' }, { value: '203.0.113.9' }, { value: '203.0.113.9' }] } }), []).addresses,
    ['203.0.113.9'],
    'an address type a URL cannot carry is left out, a repeated one shown once',
  );
  assert.deepEqual(
    gatewayAddress(gw({ status: { addresses: [{ type: 'example.com/custom', value: 'blue' }] }, spec: { gatewayClassName: 'istio', addresses: [{ value: '1.1.1.1' }] } }), []).addresses,
    ['1.1.1.1'],
    'status with nothing usable falls through to spec',
  );
  const dualLb = svc({ clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1', 'fd00::1'] }, { loadBalancer: { ingress: [{ ip: '203.0.113.8' }, { ip: '2001:db8::8' }] } });
  assert.deepEqual(gatewayAddress(gw(), [dualLb]), { addresses: ['203.0.113.8', '2001:db8::8'], service: 'pub-istio.gw' });
  assert.deepEqual(gatewayAddress(gw(), [svc({ externalIPs: ['198.51.100.1', '2001:db8::1'] })]).addresses, ['198.51.100.1', '2001:db8::1']);
  assert.deepEqual(gatewayAddress(gw(), [svc({ clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1', 'fd00::1'] })]).addresses, ['10.0.0.1', 'fd00::1']);
});

test('deployed Service name: name-override, waypoint and east-west classes without suffix, GatewayClass controllers', () => {
  const gw = (name: string, cls: string, annotations?: Record<string, string>, addresses?: { type?: string; value?: string }[]): ApiGateway => ({
    kind: 'Gateway',
    metadata: { name, namespace: 'gw', ...(annotations ? { annotations } : {}) },
    spec: { gatewayClassName: cls, ...(addresses ? { addresses } : {}) },
  });
  const klass = (name: string, controllerName: string): GatewayClass => ({ kind: 'GatewayClass', metadata: { name }, spec: { controllerName } });
  assert.equal(deployedServiceName(gw('pub', 'istio')), 'pub-istio');
  assert.equal(deployedServiceName(gw('pub', 'istio', { 'gateway.istio.io/name-override': 'edge-lb' })), 'edge-lb');
  assert.equal(deployedServiceName(gw('pub', 'istio', { 'gateway.istio.io/name-override': '' })), 'pub-istio', 'an empty override is no override');
  assert.equal(deployedServiceName(gw('waypoint', 'istio-waypoint')), 'waypoint');
  assert.equal(deployedServiceName(gw('waypoint', 'istio-waypoint', { 'gateway.istio.io/name-override': 'wp' })), 'wp');
  assert.equal(deployedServiceName(gw('eastwest', 'istio-east-west')), 'eastwest');
  assert.equal(deployedServiceName(gw('remote', 'istio-remote')), undefined, 'nothing is deployed for a remote gateway');
  assert.equal(deployedServiceName(gw('pub', 'custom')), 'pub-custom', 'a class not among the objects: the default controller\'s rule');
  assert.equal(deployedServiceName(gw('wp', 'my-waypoints'), [klass('my-waypoints', 'istio.io/mesh-controller')]), 'wp', 'the class\'s controller decides');
  assert.equal(deployedServiceName(gw('pub', 'internal'), [klass('internal', 'istio.io/gateway-controller')]), 'pub-internal');
  assert.deepEqual(deployedService(gw('pub', 'nginx'), [klass('nginx', 'k8s.nginx.org/nginx-gateway-controller')]), {
    none: 'its class nginx belongs to controller k8s.nginx.org/nginx-gateway-controller, not to Istio',
  });
  assert.equal(deployedServiceName(gw('pub', 'istio', undefined, [{ type: 'Hostname', value: 'lb.example.com' }])), undefined, 'an unmanaged gateway: Istio deploys nothing');
  assert.equal(deployedServiceName(gw('pub', 'istio', undefined, [{ type: 'IPAddress', value: '203.0.113.1' }])), 'pub-istio', 'a single IP becomes the Service\'s loadBalancerIP');

  // the Service found is the one under that name: the waypoint's own, the override's, never `<name>-<class>`
  const svc = (name: string, clusterIP: string): Service => ({ kind: 'Service', metadata: { name, namespace: 'gw' }, spec: { clusterIP } });
  assert.deepEqual(gatewayAddress(gw('waypoint', 'istio-waypoint'), [svc('waypoint-istio-waypoint', '10.0.0.2'), svc('waypoint', '10.0.0.3')]), {
    addresses: ['10.0.0.3'],
    service: 'waypoint.gw',
  });
  assert.deepEqual(gatewayAddress(gw('pub', 'istio', { 'gateway.istio.io/name-override': 'edge-lb' }), [svc('pub-istio', '10.0.0.4'), svc('edge-lb', '10.0.0.5')]), {
    addresses: ['10.0.0.5'],
    service: 'edge-lb.gw',
  });
});

test('routes: sectionName and port pick listeners, status conditions, backend port and weight, IPv6 URLs', () => {
  const objects = emptyMeshObjects();
  const web: Service = { kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 8080 }] } };
  objects.apiGateways.push({
    kind: 'Gateway',
    metadata: { name: 'pub', namespace: 'shop' },
    spec: { gatewayClassName: 'istio', listeners: [http(), { name: 'https', port: 443, protocol: 'HTTPS' }] },
    status: { addresses: [{ value: '2001:db8::7' }] },
  });
  const backendRefs = [{ name: 'web', port: 8080 }];
  objects.httpRoutes.push(
    route('shop', {
      parentRefs: [{ name: 'pub', sectionName: 'https' }, { name: 'pub', sectionName: 'admin' }, { name: 'pub', port: 8443 }, { name: 'pub', port: 80, sectionName: 'http' }],
      rules: [{ backendRefs }],
    }, { parents: [{ parentRef: { name: 'pub', sectionName: 'https' }, conditions: [{ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: 'gone' }, { type: 'Accepted', status: 'True' }] }] }),
  );
  const [e] = routeExposures(objects, [web]);
  assert.deepEqual(e.urls.map((u) => `${u.url} ${u.listener} ${u.hostname ?? 'any'}`), ['https://[2001:db8::7] https any', 'http://[2001:db8::7] http any']);
  assert.deepEqual(e.warnings, [
    'HTTPRoute shop/r: gateway shop/pub reports ResolvedRefs False (BackendNotFound): gone',
    'HTTPRoute shop/r: gateway shop/pub has no listener named "admin" (Accepted False, NoMatchingParent)',
    'HTTPRoute shop/r: gateway shop/pub has no listener on port 8443 (Accepted False, NoMatchingParent)',
  ]);

  objects.httpRoutes[0] = route('shop', { parentRefs: [{ name: 'pub' }], rules: [{ backendRefs: [{ name: 'web', port: 9999 }, { name: 'web', port: 8080, weight: 0 }] }] });
  const [bad] = routeExposures(objects, [web]);
  assert.deepEqual(bad.urls, [], 'no backendRef carries traffic to the service');
  assert.deepEqual(bad.warnings, [
    'HTTPRoute shop/r: backendRef to service web.shop port 9999 names a port the service does not have (ports 8080)',
    'HTTPRoute shop/r: backendRef to service web.shop port 8080 has weight 0: it gets no traffic',
  ]);
  objects.httpRoutes[0] = route('shop', { parentRefs: [{ name: 'pub' }], rules: [{ backendRefs: [{ name: 'web', kind: 'ServiceImport', group: 'multicluster.x-k8s.io' }] }] });
  assert.deepEqual(routeExposures(objects, [web]), [], 'a backendRef of another kind is not the Service');
  objects.httpRoutes[0] = route('shop', { parentRefs: [{ group: '', kind: 'Service', name: 'web' }], rules: [{ backendRefs }] });
  assert.deepEqual(routeExposures(objects, [web]), [], 'a mesh (Service parent) route exposes nothing');
  objects.httpRoutes[0] = route('shop', { rules: [{ backendRefs }] });
  assert.deepEqual(routeExposures(objects, [web])[0].warnings, ['HTTPRoute shop/r has no parentRefs: it is attached to no gateway']);
  objects.apiGateways[0].status = { conditions: [{ type: 'Programmed', status: 'False', reason: 'Invalid', message: 'no address' }, { type: 'Accepted', status: 'True' }] };
  objects.httpRoutes[0] = route('shop', { parentRefs: [{ name: 'pub', sectionName: 'http' }], rules: [{ backendRefs }] });
  const [unprogrammed] = routeExposures(objects, [web]);
  assert.deepEqual(unprogrammed.warnings, [
    'gateway shop/pub is not programmed (Programmed False, Invalid): no address',
    'gateway shop/pub has no address yet (no status.addresses, no spec.addresses, no Service pub-istio in shop)',
  ]);
  assert.deepEqual(unprogrammed.urls.map((u) => u.url), ['http://unknown']);
});

test('CLI describe service: Gateway API exposure lines and warnings, offline', async () => {
  const r = await runCli(['describe', 'service', 'web', '-n', 'shop', '--files', FILES]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.stdout.includes(
      '--------------------\n' +
        'Exposed on Gateway API gateway istio-ingress/public http://203.0.113.7 (hostname shop.example.com) via HTTPRoute shop/web\n' +
        'Exposed on Gateway API gateway istio-ingress/public https://203.0.113.7 (hostname shop.example.com) via HTTPRoute shop/web\n' +
        'HTTPRoute: shop/web via Gateways istio-ingress/public (service public-istio.istio-ingress), istio-ingress/internal, istio-ingress/ghost\n' +
        // istiod compares hostnames before namespaces (referenceAllowed): the status it wrote and meshctl's verdict agree
        'WARNING: HTTPRoute shop/web: gateway istio-ingress/internal reports Accepted False (NoMatchingListenerHostname): no hostnames matched parent hostname "*.internal.example.com"\n' +
        "WARNING: HTTPRoute shop/web is not accepted by gateway istio-ingress/internal (Accepted False, NoMatchingListenerHostname): listener http: hostname *.internal.example.com matches none of the route's hostnames (shop.example.com)\n" +
        'WARNING: HTTPRoute shop/web has parent gateway istio-ingress/ghost, which does not exist\n',
    ),
    r.stdout,
  );
  assert.match(r.stdout, /WARNING: HTTPRoute istio-ingress\/legacy-web: backendRef to service web\.shop port 8080 is in another namespace and no ReferenceGrant in shop permits HTTPRoute from istio-ingress/);
  assert.doesNotMatch(r.stdout, /Exposed on .* via HTTPRoute istio-ingress\/legacy-web/);
  assert.equal(r.stdout.match(/WARNING: HTTPRoute shop\/web has parent gateway/g)?.length, 1, 'each warning printed once');

  const cart = await runCli(['describe', 'service', 'cart.shop', '--files', FILES]);
  assert.match(cart.stdout, /\nExposed on Gateway API gateway istio-ingress\/public http:\/\/203\.0\.113\.7 \(hostname cart\.example\.com\) via HTTPRoute istio-ingress\/cart\n/);
  assert.doesNotMatch(cart.stdout, /cart\.other\.org|WARNING: HTTPRoute/);
  const catalog = await runCli(['describe', 'service', 'catalog.shop', '--files', FILES]);
  assert.match(catalog.stdout, /\nExposed on Gateway API gateway istio-ingress\/public http:\/\/203\.0\.113\.7 \(hostname \*\.example\.com\) via GRPCRoute shop\/catalog\n/);
});

test('CLI describe pod -o json: gatewayApiExposures; absent when no Gateway API object reaches the workload', async () => {
  const r = await runCli(['describe', 'pod', 'web-0.shop', '--files', FILES, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(r.stdout);
  const web = data.gatewayApiExposures.find((e: { route: string }) => e.route === 'shop/web');
  assert.equal(web.kind, 'HTTPRoute');
  assert.deepEqual(web.urls[0], { gateway: 'istio-ingress/public', listener: 'http', url: 'http://203.0.113.7', hostname: 'shop.example.com' });
  assert.deepEqual(web.gateways[0], { gateway: 'istio-ingress/public', gatewayService: 'public-istio.istio-ingress', addresses: ['203.0.113.7'] });
  assert.match(web.origin, /gateway-api[/\\]objects\.yaml:\d+$/);
  assert.ok(data.warnings.includes('HTTPRoute shop/web has parent gateway istio-ingress/ghost, which does not exist'));
  const text = await runCli(['describe', 'pod', 'web-0.shop', '--files', FILES]);
  assert.match(text.stdout, /\nExposed on Gateway API gateway istio-ingress\/public https:\/\/203\.0\.113\.7 \(hostname shop\.example\.com\) via HTTPRoute shop\/web\n/);

  const bookinfo = await runCli(['describe', 'pod', 'productpage-v1-7d4b8d9b7c-x2x9z', '--files', fixture('describe', 'bookinfo'), '-o', 'json']);
  assert.equal(bookinfo.code, 0, bookinfo.stderr);
  assert.ok(!('gatewayApiExposures' in JSON.parse(bookinfo.stdout)));
});

test('CLI describe service: a name-override gateway\'s Service and every address of dual-stack gateways, IPv6 in brackets', async () => {
  const files = fixture('describe', 'gateway-api-addresses');
  const r = await runCli(['describe', 'service', 'web', '-n', 'shop', '--files', files]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.stdout.includes(
      '--------------------\n' +
        'Exposed on Gateway API gateway istio-ingress/edge http://203.0.113.20 (any hostname) via HTTPRoute shop/web\n' +
        'Exposed on Gateway API gateway istio-ingress/edge http://[2001:db8::20] (any hostname) via HTTPRoute shop/web\n' +
        'Exposed on Gateway API gateway istio-ingress/dual http://203.0.113.30:8080 (any hostname) via HTTPRoute shop/web\n' +
        'Exposed on Gateway API gateway istio-ingress/dual http://[2001:db8::30]:8080 (any hostname) via HTTPRoute shop/web\n' +
        'HTTPRoute: shop/web via Gateways istio-ingress/edge (service edge-lb.istio-ingress), istio-ingress/dual\n',
    ),
    r.stdout,
  );
  assert.doesNotMatch(r.stdout, /198\.51\.100\.99|edge-istio|WARNING: .*gateway/, 'the Service under the overridden name is not the gateway\'s');

  const json = await runCli(['describe', 'service', 'web', '-n', 'shop', '--files', files, '-o', 'json']);
  assert.equal(json.code, 0, json.stderr);
  const [e] = JSON.parse(json.stdout).gatewayApiExposures;
  assert.deepEqual(e.gateways, [
    { gateway: 'istio-ingress/edge', gatewayService: 'edge-lb.istio-ingress', addresses: ['203.0.113.20', '2001:db8::20'] },
    { gateway: 'istio-ingress/dual', addresses: ['203.0.113.30', '2001:db8::30'] },
  ]);
  assert.deepEqual(e.urls[1], { gateway: 'istio-ingress/edge', listener: 'http', url: 'http://[2001:db8::20]' });
});

test('a route whose parentRef is a waypoint Gateway: istiod ignores it (no route binds to a waypoint listener), never "not accepted"', () => {
  const objects = emptyMeshObjects();
  const reviews: Service = { kind: 'Service', metadata: { name: 'reviews', namespace: 'bookinfo' }, spec: { ports: [{ port: 9080 }] } };
  const mesh: Listener = { name: 'mesh', port: 15008, protocol: 'HBONE' };
  objects.apiGateways.push(
    { kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'bookinfo' }, spec: { gatewayClassName: 'istio-waypoint', listeners: [mesh] } },
    { kind: 'Gateway', metadata: { name: 'custom-wp', namespace: 'bookinfo' }, spec: { gatewayClassName: 'my-waypoints', listeners: [mesh] } },
    { kind: 'Gateway', metadata: { name: 'odd', namespace: 'bookinfo' }, spec: { gatewayClassName: 'istio', listeners: [mesh] } },
  );
  objects.gatewayClasses.push({ kind: 'GatewayClass', metadata: { name: 'my-waypoints' }, spec: { controllerName: 'istio.io/mesh-controller' } });
  const backendRefs = [{ name: 'reviews', port: 9080 }];
  objects.httpRoutes.push(route('bookinfo', { parentRefs: [{ name: 'waypoint' }, { name: 'custom-wp', sectionName: 'mesh' }], rules: [{ backendRefs }] }));
  const [e] = routeExposures(objects, [reviews]);
  assert.deepEqual(e.urls, []);
  assert.deepEqual(e.gateways.map((g) => [g.gateway, /^it is a waypoint/.test(g.ignored ?? '')]), [['bookinfo/waypoint', true], ['bookinfo/custom-wp', true]]);
  assert.deepEqual(e.warnings, [
    'HTTPRoute bookinfo/r: istiod ignores its parentRef to gateway bookinfo/waypoint: it is a waypoint (class istio-waypoint, controller istio.io/mesh-controller), whose listener takes no route: the route does not apply to traffic through the waypoint and istiod reports no status for this parent; for L7 routing in the waypoint, give it a parentRef of kind Service (or ServiceEntry) that uses the waypoint (istio.io/use-waypoint)',
    'HTTPRoute bookinfo/r: istiod ignores its parentRef to gateway bookinfo/custom-wp: it is a waypoint (class my-waypoints, controller istio.io/mesh-controller), whose listener takes no route: the route does not apply to traffic through the waypoint and istiod reports no status for this parent; for L7 routing in the waypoint, give it a parentRef of kind Service (or ServiceEntry) that uses the waypoint (istio.io/use-waypoint)',
  ]);
  assert.ok(!e.warnings.some((w) => /not accepted|protocol HBONE/.test(w)));

  // an HBONE listener on a gateway of class istio: istiod builds the listener, which admits no route kind
  objects.httpRoutes[0] = route('bookinfo', { parentRefs: [{ name: 'odd' }], rules: [{ backendRefs }] });
  assert.deepEqual(routeExposures(objects, [reviews])[0].warnings, [
    'HTTPRoute bookinfo/r is not accepted by gateway bookinfo/odd (Accepted False, NotAllowedByListeners): listener mesh: protocol HBONE takes no route, no HTTPRoutes (HTTPRoute and GRPCRoute bind to HTTP and HTTPS listeners)',
  ]);
  // east-west and remote gateways take no route either
  objects.apiGateways[2].spec!.gatewayClassName = 'istio-east-west';
  assert.match(routeExposures(objects, [reviews])[0].warnings[0], /^HTTPRoute bookinfo\/r: istiod ignores its parentRef to gateway bookinfo\/odd: it is an ambient east-west gateway \(class istio-east-west/);
  objects.apiGateways[2].spec!.gatewayClassName = 'istio-remote';
  assert.match(routeExposures(objects, [reviews])[0].warnings[0], /istiod ignores its parentRef to gateway bookinfo\/odd: it is a remote gateway/);
});

test('listener protocols as istiod reads them: exact names, TCP and TLS take no HTTPRoute', () => {
  const r = route('shop', {});
  assert.ok('hostnames' in listenerAccepts(http(), 'GRPCRoute', r, 'shop', []));
  const lower = listenerAccepts(http({ protocol: 'http' }), 'HTTPRoute', r, 'shop', []);
  assert.ok('reason' in lower && lower.condition === 'NotAllowedByListeners');
  assert.match((lower as { reason: string }).reason, /protocol http takes no route, no HTTPRoutes .*istiod reads protocols case-sensitively: "HTTP"/);
  assert.match((listenerAccepts(http({ protocol: 'TCP' }), 'GRPCRoute', r, 'shop', []) as { reason: string }).reason, /protocol TCP takes only TCPRoute, no GRPCRoutes/);
  // the hostname is compared first: its reason is istiod's even when the namespace is not admitted either
  const both = listenerAccepts(http({ hostname: 'a.example.com' }), 'HTTPRoute', route('shop', { hostnames: ['b.example.com'] }), 'gw', []);
  assert.equal((both as { condition: string }).condition, 'NoMatchingListenerHostname');
});

test('CLI describe service: an HTTPRoute parented to the waypoint Gateway is shown as ignored by istiod', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-wp-route-'));
  try {
    writeFileSync(
      path.join(dir, 'objects.yaml'),
      [
        'apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: bookinfo}\nspec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}',
        'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: waypoint, namespace: bookinfo}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{name: mesh, port: 15008, protocol: HBONE}]',
        'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: reviews, namespace: bookinfo}\nspec:\n  parentRefs: [{name: waypoint}]\n  rules: [{backendRefs: [{name: reviews, port: 9080}]}]',
      ].join('\n---\n'),
    );
    const r = await runCli(['describe', 'service', 'reviews', '-n', 'bookinfo', '--files', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nHTTPRoute: bookinfo\/reviews via Gateway bookinfo\/waypoint \(ignored by istiod\)\nWARNING: HTTPRoute bookinfo\/reviews: istiod ignores its parentRef to gateway bookinfo\/waypoint: it is a waypoint /);
    assert.doesNotMatch(r.stdout, /Exposed on Gateway API|not accepted|protocol HBONE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
