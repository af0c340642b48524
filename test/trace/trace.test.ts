import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfigDump } from '../../src/envoy/index.js';
import { worldFromConfigDump } from '../../src/trace/dump-world.js';
import { traceRequest, type TraceOutput, type TraceRequest } from '../../src/trace/trace.js';
import { MESH_DUMP, meshDumpText } from './mesh-dump.js';

const dump = JSON.parse(readFileSync(MESH_DUMP, 'utf8'));
const world = worldFromConfigDump(parseConfigDump(dump, 'mesh'));
const run = (r: TraceRequest) => traceRequest(world, r);
const step = (t: TraceOutput, stage: string) => {
  const s = t.steps.find((x) => x.stage === stage);
  assert.ok(s, `no ${stage} step`);
  return s;
};
const R = 'reviews.default.svc.cluster.local';

test('the committed mesh fixture is what test/trace/mesh-dump.ts builds', () => {
  assert.equal(readFileSync(MESH_DUMP, 'utf8'), meshDumpText());
});

test('weighted route: --random decides, every candidate is listed with its weight', () => {
  const t = run({ target: 'http://reviews:9080/api/v1', random: 90 });
  assert.equal(t.result.listener, '0.0.0.0_9080');
  assert.equal(t.result.routeConfig, '9080');
  assert.equal(t.result.virtualHost, `${R}:9080`);
  assert.equal(t.result.route, 'split');
  assert.equal(t.result.cluster, `outbound|9080|v3|${R}`);
  assert.deepEqual(t.result.weightedClusters, [
    { name: `outbound|9080|v1|${R}`, weight: 80 },
    { name: `outbound|9080|v3|${R}`, weight: 20 },
  ]);
  assert.equal(run({ target: 'http://reviews:9080/api/v1', random: 79 }).result.cluster, `outbound|9080|v1|${R}`);
  const route = step(t, 'route');
  assert.match(route.losers.map((l) => `${l.name}: ${l.reason}`).join('\n'), /route 1 \(api-v2\) `prefix \/api\/v2`: prefix \/api\/v2 does not match path "\/api\/v1"/);
  assert.match(route.losers.map((l) => `${l.name}: ${l.reason}`).join('\n'), /route 0 \(jason\) `prefix \/`: header end-user exact "jason": header absent/);
  assert.match(step(t, 'routeAction').summary, /VirtualService default\/reviews/);
  assert.deepEqual(t.result.endpoints?.map((e) => `${e.address} ${e.health}`), ['10.244.2.7:9080 UNHEALTHY', '10.244.2.9:9080 HEALTHY']);
});

test('without --random the weighted choice is reported as undecided', () => {
  const t = run({ target: 'http://reviews:9080/' });
  assert.equal(t.result.cluster, null);
  assert.equal(t.result.endpoints, null);
  assert.equal(t.result.weightedClusters?.length, 2);
  assert.ok(t.result.uncertain.some((u) => /weighted choice among 2 clusters; pass --random N/.test(u)));
});

test('header match sends jason to v2; the destination IP comes from the virtual host domains', () => {
  const t = run({ target: 'http://reviews:9080/', headers: [['End-User', 'jason']] });
  assert.equal(t.result.route, 'jason');
  assert.equal(t.result.cluster, `outbound|9080|v2|${R}`);
  const dst = step(t, 'destination');
  assert.equal(dst.chosen, '10.96.0.31:9080');
  assert.match(dst.matched[0], /10\.96\.0\.31 from the domains of virtual host reviews\.default\.svc\.cluster\.local:9080/);
});

test('prefix rewrite keeps the query string; retries and timeout of the route', () => {
  const t = run({ target: 'http://reviews.default:9080/api/v2/reviews/1?page=2' });
  assert.equal(t.result.route, 'api-v2');
  assert.equal(t.result.pathRewrite, '/api/reviews/1?page=2');
  const a = step(t, 'routeAction');
  assert.ok(a.matched.includes('timeout 3s'));
  assert.ok(a.matched.includes('retries: 3 on 5xx, per try 1s'));
});

test('fault injection is shown with the route that carries it', () => {
  const t = run({ target: 'http://ratings:9080/ratings/0', headers: [['end-user', 'jason']] });
  assert.equal(t.result.route, 'ratings-fault');
  assert.ok(step(t, 'routeAction').matched.includes('fault: delay 7s for 100% of requests'));
});

test('redirect: the full Location, no cluster and no endpoints', () => {
  const t = run({ target: 'http://legacy.example.com:9080/old/page?y=1' });
  assert.equal(t.result.redirect, 'http://details.default.svc.cluster.local:9080/details?y=1');
  assert.equal(t.result.cluster, null);
  assert.equal(t.result.endpoints, null);
  assert.equal(step(t, 'routeAction').data?.redirectStatus, 301);
});

test('an unknown host takes the allow_any virtual host to PassthroughCluster and the original destination', () => {
  const t = run({ target: 'http://unknown.example:9080/', dstIp: '93.184.216.34' });
  assert.equal(t.result.virtualHost, 'allow_any');
  assert.equal(t.result.cluster, 'PassthroughCluster');
  assert.deepEqual(t.result.endpoints?.map((e) => e.address), ['93.184.216.34:9080']);
  assert.match(step(t, 'virtualHost').summary, /domain \* matches host unknown\.example:9080 \(catch-all\)/);
});

test('TCP: the listener bound to the service VIP, found by its tcp_proxy cluster', () => {
  const t = run({ target: 'mysql:3306' });
  assert.equal(step(t, 'destination').chosen, '10.96.0.40:3306');
  assert.equal(t.result.listener, '10.96.0.40_3306');
  assert.equal(t.result.cluster, 'outbound|3306||mysql.default.svc.cluster.local');
  assert.equal(t.result.routeConfig, null);
  assert.deepEqual(t.result.endpoints?.map((e) => e.address), ['10.244.3.3:3306']);
});

test('headless services: a per-endpoint TCP listener, or an endpoint of the cluster, said so', () => {
  const tcp = run({ target: 'mongo:27017' });
  assert.equal(step(tcp, 'destination').chosen, '10.244.4.4:27017');
  assert.match(step(tcp, 'destination').matched[0], /10\.244\.4\.4: listener 10\.244\.4\.4_27017 proxies to outbound\|27017\|\|mongo/);
  assert.equal(tcp.result.cluster, 'outbound|27017||mongo.default.svc.cluster.local');
  const http = run({ target: 'http://web:9080/' });
  const d = step(http, 'destination');
  assert.equal(d.chosen, '10.244.5.5:9080');
  assert.match(d.matched[0], /first endpoint of cluster outbound\|9080\|\|web\.default\.svc\.cluster\.local \(EDS in the config dump\); no service VIP/);
  assert.equal(http.result.cluster, 'outbound|9080||web.default.svc.cluster.local');
  // only the wildcard 0.0.0.0:9080 listener serves the port, so which endpoint DNS returns changes nothing
  assert.ok(!http.result.uncertain.some((u) => /DNS may return/.test(u)));
});

test('TLS passthrough chains by SNI: exact, wildcard, else the default chain', () => {
  assert.equal(run({ target: 'https://httpbin.org/get' }).result.cluster, 'outbound|443||httpbin.org');
  const wild = run({ target: 'https://storage.googleapis.com/' });
  assert.equal(wild.result.cluster, 'outbound|443||*.googleapis.com');
  const other = run({ target: 'https://example.org/', dstIp: '93.184.216.34' });
  assert.equal(other.result.filterChain, 'PassthroughFilterChain');
  assert.equal(other.result.cluster, 'PassthroughCluster');
  assert.match(step(other, 'filterChain').notes.join('\n'), /default_filter_chain/);
});

test('no listener for the destination port: the virtual outbound listener passes it through', () => {
  const t = run({ target: '1.2.3.4:5555' });
  assert.equal(t.result.listener, 'virtualOutbound');
  assert.equal(t.result.filterChain, 'virtualOutbound-catchall-tcp');
  assert.equal(t.result.cluster, 'PassthroughCluster');
  assert.match(step(t, 'listener').summary, /no listener for 1\.2\.3\.4:5555 or 0\.0\.0\.0:5555/);
});

test('inbound with mTLS: the HTTP chain of port 9080, its inline routes, the inbound cluster', () => {
  const t = run({ target: 'http://productpage:9080/productpage', direction: 'inbound' });
  assert.equal(step(t, 'destination').chosen, '10.244.0.12:9080');
  assert.equal(t.result.captured, 'REDIRECT 15006');
  assert.equal(t.result.listener, 'virtualInbound');
  const fc = step(t, 'filterChain');
  assert.match(fc.summary, /mTLS \(client certificate required\)/);
  assert.deepEqual(fc.data?.alpn, ['istio-http/1.1', 'istio', 'http/1.1']);
  assert.equal(t.result.routeConfig, 'inbound|9080||');
  assert.equal(t.result.cluster, 'inbound|9080||');
  assert.deepEqual(t.result.endpoints?.map((e) => e.address), ['10.244.0.12:9080']);
  const plain = run({ target: 'http://productpage:9080/productpage', direction: 'inbound', plaintext: true });
  assert.match(step(plain, 'filterChain').summary, /no TLS termination/);
  assert.equal(plain.result.cluster, 'inbound|9080||');
  const tcp = run({ target: '10.244.0.12:9080', direction: 'inbound' });
  assert.equal(tcp.result.routeConfig, null, 'TCP over mTLS: the tcp_proxy chain');
  assert.equal(tcp.result.cluster, 'inbound|9080||');
  const other = run({ target: '10.244.0.12:7070', direction: 'inbound' });
  assert.equal(other.result.cluster, 'InboundPassthroughClusterIpv4');
});

test('the result has exactly the contract keys', () => {
  const t = run({ target: 'http://reviews:9080/' });
  assert.deepEqual(Object.keys(t.result), [
    'captured', 'listener', 'filterChain', 'routeConfig', 'virtualHost', 'route', 'cluster', 'weightedClusters',
    'pathRewrite', 'hostRewrite', 'redirect', 'directResponse', 'endpoints', 'authz', 'uncertain',
  ]);
  for (const s of t.steps) assert.deepEqual(Object.keys(s).slice(0, 7), ['stage', 'chosen', 'summary', 'matched', 'losers', 'notes', 'uncertain']);
});

test('bad targets are refused with a reason', () => {
  assert.throws(() => run({ target: 'ftp://x/' }), /unsupported scheme ftp/);
  assert.throws(() => run({ target: 'reviews' }), /expected a URL .* or host:port/);
  assert.throws(() => run({ target: 'reviews:99999' }), /port out of range/);
});
