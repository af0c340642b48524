import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMeshObjects } from '../../src/describe/load.js';
import { defaultMeshSettings } from '../../src/describe/mesh.js';
import { isMeshParent } from '../../src/describe/mesh-routes.js';
import type { KubeObject, MeshObjects, Service } from '../../src/describe/objects.js';
import { describeService } from '../../src/describe/report.js';
import { fixture, runCli } from '../helpers.js';

/** describe on Gateway API routes attached to Services (mesh routing, GAMMA): fixtures/describe/gateway-api-mesh. */
const FILES = fixture('describe', 'gateway-api-mesh');

const describe = (args: string[]) => runCli(['describe', ...args, '--files', FILES]);

test('describe service: each mesh route with its parent port, rules (matches -> backends, weights), status and who applies it', async () => {
  const r = await describe(['service', 'reviews', '-n', 'shop']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /\nHTTPRoute: reviews-split \(mesh route on service reviews, port 9080\)\n {3}Rule 1 \(Match: \/api\* when headers are x-canary=true\) -> reviews-v2:9080 with weight 100%\n {3}Rule 2 \(everything\) -> reviews-v1:9080 with weight 90%, reviews-v2:9080 with weight 10%\n {3}Status: Accepted True \(Accepted\), ResolvedRefs True \(ResolvedRefs\)\n {3}Applied by: sidecar clients\n/,
  );
  // a consumer route: another namespace's route applies to its own clients only
  assert.match(
    r.stdout,
    /\nHTTPRoute: reviews-pin\.frontend \(mesh route on service reviews, all ports\)\n {3}Rule 1 \(everything\) -> reviews-v1:9080 with weight 100%\n {3}Applied by: sidecar clients \(clients in namespace frontend only: a route outside the service's namespace\)\n/,
  );
});

test('describe service: the parentRef mistakes istiod ignores or does not report, and its recorded BackendNotFound', async () => {
  const r = await describe(['service', 'reviews', '-n', 'shop']);
  const lines = r.stdout.split('\n');
  const noGroup = lines.findIndex((l) => l === 'HTTPRoute: reviews-broken (mesh route on service reviews, all ports)');
  assert.ok(noGroup > 0, r.stdout);
  assert.equal(lines[noGroup + 1], '   Rule 1 (Match: /v3) -> reviews-v3:9080 with weight 100%');
  assert.match(lines[noGroup + 2], /^ {3}WARNING: HTTPRoute shop\/reviews-broken: its parentRef to service reviews\.shop has no group \(the API server defaults it to gateway\.networking\.k8s\.io\): istiod takes only group "" for a Service, ignores this parentRef/);
  assert.ok(!lines[noGroup + 2].includes('Applied by'), 'an ignored parentRef is applied by nobody');
  assert.match(r.stdout, /\nHTTPRoute: reviews-broken \(mesh route on service reviews, port 8080\)\n {3}Rule 1 \(Match: \/v3\) -> reviews-v3:9080 with weight 100%\n {3}Status: Accepted True \(Accepted\), ResolvedRefs False \(BackendNotFound\)\n/);
  assert.match(r.stdout, /WARNING: HTTPRoute shop\/reviews-broken: status for this parent: ResolvedRefs False \(BackendNotFound\): backend\(reviews-v3\.shop\.svc\.cluster\.local\) not found\n/);
  assert.match(r.stdout, /WARNING: HTTPRoute shop\/reviews-broken: its parentRef names port 8080, which service reviews\.shop does not have \(ports 9080\): istiod adds port 8080 to every match, so the route never applies/);
  assert.match(r.stdout, /WARNING: HTTPRoute shop\/reviews-broken: rule 1: backendRef to service reviews-v3\.shop, which does not exist \(ResolvedRefs False, BackendNotFound/);
});

test('VirtualService and HTTPRoute for one host: which one sidecars use, per client namespace', async () => {
  const r = await describe(['service', 'reviews', '-n', 'shop']);
  const sidecars = r.stdout.split('\n').filter((l) => l.startsWith('WARNING: sidecars in '));
  assert.deepEqual(
    sidecars.map((l) => l.replace(/ \(istiod uses one VirtualService per host.*$/, '')),
    [
      'WARNING: sidecars in namespace shop route host reviews.shop.svc.cluster.local by HTTPRoute shop/reviews-split (port 9080) alone; VirtualService shop/reviews is not used there',
      'WARNING: sidecars in namespace frontend route host reviews.shop.svc.cluster.local by HTTPRoute frontend/reviews-pin alone; VirtualService shop/reviews, HTTPRoute shop/reviews-split (port 9080) are not used there',
      'WARNING: sidecars in other namespaces route host reviews.shop.svc.cluster.local by VirtualService shop/reviews alone; HTTPRoute shop/reviews-split (port 9080) is not used there',
    ],
  );

  // a VirtualService exported only to its own namespace comes before the routes there
  const objects = await loadMeshObjects([FILES]);
  const vs = objects.virtualServices[0] as KubeObject & { spec: { exportTo?: string[] } };
  vs.spec.exportTo = ['.'];
  const shop = precedence(objects, 'reviews', 'shop');
  assert.match(shop[0], /^sidecars in namespace shop route host reviews\.shop\.svc\.cluster\.local by VirtualService shop\/reviews alone; HTTPRoute shop\/reviews-split \(port 9080\) is not used there/);
  assert.equal(shop.length, 1, 'elsewhere the VirtualService is not visible: no conflict');

  // without creation times the order by age is an assumption, said so
  delete vs.spec.exportTo;
  for (const o of [...objects.virtualServices, ...objects.httpRoutes]) delete o.metadata?.creationTimestamp;
  assert.ok(precedence(objects, 'reviews', 'shop').some((w) => w.startsWith('sidecars in other namespaces') && w.includes('uncertain: a creationTimestamp is missing')));
});

function precedence(objects: MeshObjects, svc: string, ns: string): string[] {
  const s = objects.services.find((x) => x.metadata?.name === svc && x.metadata?.namespace === ns) as Service;
  return describeService(objects, s, { mesh: defaultMeshSettings(), currentNamespace: ns }).warnings.filter((w) => w.startsWith('sidecars in '));
}

test('ambient: a waypoint applies the route; without one, ambient clients get no L7 routing (warned)', async () => {
  const withWaypoint = await describe(['service', 'ratings', '-n', 'amb']);
  assert.match(withWaypoint.stdout, /\nGRPCRoute: ratings \(mesh route on service ratings, all ports\)\n {3}Rule 1 \(Match: method ratings\.v1\.Ratings\/Get\) -> ratings:9090 with weight 100%\n {3}Applied by: sidecar clients, waypoint amb\/waypoint\n/);
  assert.doesNotMatch(withWaypoint.stdout, /route will not be respected/);

  // a waypoint that takes no service traffic applies no route either
  const objects = await loadMeshObjects([FILES]);
  const wp = objects.apiGateways.find((g) => g.metadata?.name === 'waypoint')!;
  wp.metadata!.labels = { 'istio.io/waypoint-for': 'workload' };
  const ratings = describeService(objects, objects.services.find((x) => x.metadata?.name === 'ratings')!, { mesh: defaultMeshSettings(), currentNamespace: 'amb' });
  assert.deepEqual(ratings.service.meshRoutes?.[0].appliedBy, ['sidecar clients']);
  assert.match(ratings.warnings.join('\n'), /GRPCRoute amb\/ratings: service ratings\.amb is in ambient mode and its waypoint amb\/waypoint is not usable \(takes only workload traffic/);

  const without = await describe(['service', 'details', '-n', 'amb']);
  assert.match(without.stdout, /\nTCPRoute: details \(mesh route on service details, port 5432\)\n {3}Rule 1 \(everything\) -> details:5432 with weight 100%\n {3}Status: Accepted True \(Accepted\), ResolvedRefs True \(ResolvedRefs\), ResolvedWaypoints True \(ResolvedWaypoints\)\n {3}Applied by: sidecar clients\n/);
  assert.match(
    without.stdout,
    /WARNING: TCPRoute amb\/details: service details\.amb is in ambient mode and has no waypoint \(istio\.io\/use-waypoint on the service or its namespace\): ztunnel does no L7 routing, so the route is not applied to traffic from ambient clients/,
  );
});

test('describe pod shows the routes of its services; -o json carries them as meshRoutes', async () => {
  const pod = await describe(['pod', 'reviews-v2-0', '-n', 'shop']);
  assert.equal(pod.code, 0, pod.stderr);
  assert.match(pod.stdout, /\n--------------------\nService: reviews\n {3}Port: http 9080\/HTTP targets pod port 9080\nHTTPRoute: reviews-pin\.frontend /);

  const json = await describe(['service', 'ratings', '-n', 'amb', '-o', 'json']);
  const report = JSON.parse(json.stdout) as { service: { meshRoutes: Record<string, unknown>[] } };
  const [route] = report.service.meshRoutes;
  assert.match(String(route.origin), /gateway-api-mesh\/objects\.yaml:\d+$/);
  delete route.origin;
  assert.deepEqual(route, {
    kind: 'GRPCRoute',
    route: 'amb/ratings',
    parent: { group: '' },
    rules: [{ matches: ['method ratings.v1.Ratings/Get'], backends: [{ backend: 'ratings', port: 9090, weight: 100 }] }],
    status: [],
    appliedBy: ['sidecar clients', 'waypoint amb/waypoint'],
    warnings: [],
  });
  // a service without such routes has no meshRoutes at all
  const plain = JSON.parse((await describe(['service', 'reviews-v1', '-n', 'shop', '-o', 'json'])).stdout) as { service: object };
  assert.ok(!('meshRoutes' in plain.service));
});

test('describe service: the mesh routes of other parents (a front Service, a ServiceEntry host) that send traffic to it', async () => {
  const r = await describe(['service', 'reviews-v2', '-n', 'shop']);
  assert.match(
    r.stdout,
    /\nMesh routes to it from other parents:\n {3}HTTPRoute api-to-reviews on ServiceEntry shop\/api: rule 1 \(100%\)\n {3}HTTPRoute reviews-split on service reviews\.shop port 9080: rule 1 \(100%\), rule 2 \(10%\)\n/,
  );
  // reviews-v1 gets 90% of rule 2 and all of the consumer route; the route whose only backend is missing reaches nothing
  const v1 = await describe(['service', 'reviews-v1', '-n', 'shop']);
  assert.match(v1.stdout, /\n {3}HTTPRoute reviews-pin\.frontend on service reviews\.shop: rule 1 \(100%\)\n {3}HTTPRoute reviews-split on service reviews\.shop port 9080: rule 2 \(90%\)\n/);
  assert.doesNotMatch(v1.stdout, /reviews-broken/);
});

test('an HTTPRoute on a port Istio proxies as TCP never matches, its hostnames do not narrow a Service parent: warned', async () => {
  const objects = await loadMeshObjects([FILES]);
  const onDetails = (port?: number) =>
    ({ kind: 'HTTPRoute', metadata: { name: 'h', namespace: 'amb' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'details', ...(port ? { port } : {}) }], rules: [{ backendRefs: [{ name: 'details', port: 5432 }] }] } }) as never;
  objects.httpRoutes.push(onDetails(5432));
  const svc = objects.services.find((x) => x.metadata?.name === 'details')!;
  const report = () => describeService(objects, svc, { mesh: defaultMeshSettings(), currentNamespace: 'amb' });
  assert.ok(report().warnings.includes('HTTPRoute amb/h: port 5432 is TCP (name "tcp-db"): sidecars and waypoints proxy it without HTTP, so this HTTPRoute\'s rules never match there (name the port http-... or grpc-..., or set appProtocol)'));
  // hostnames do not narrow a Service parent
  objects.httpRoutes.push({ ...(onDetails() as object), metadata: { name: 'named', namespace: 'amb' }, spec: { ...(onDetails() as { spec: object }).spec, hostnames: ['db.example.com'] } } as never);
  assert.ok(report().warnings.includes("HTTPRoute amb/named: its hostnames (db.example.com) do not apply to a Service parent: istiod routes the service's own host details.amb.svc.cluster.local whatever the request's Host"));
  svc.spec!.ports![0].name = 'db';
  assert.ok(!report().warnings.some((w) => w.includes('without HTTP')), 'auto-detect may be HTTP');
});

test('mesh parents are istiod\'s: group "" Service and networking.istio.io ServiceEntry, the group compared exactly', () => {
  assert.ok(isMeshParent({ group: '', kind: 'Service', name: 'a' }));
  assert.ok(isMeshParent({ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'a' }));
  assert.ok(!isMeshParent({ kind: 'Service', name: 'a' }));
  assert.ok(!isMeshParent({ group: 'core', kind: 'Service', name: 'a' }));
  assert.ok(!isMeshParent({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'a' }));
});
