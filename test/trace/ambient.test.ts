import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ambientTraceOffline } from '../../src/commands/trace-ambient.js';
import type { TraceOptions } from '../../src/commands/trace.js';
import type { AmbientResult } from '../../src/trace/ambient.js';
import type { TraceOutput, TraceStep } from '../../src/trace/trace.js';
import { fixture, isOneLineError, runCli } from '../helpers.js';

/**
 * The ambient trace (src/trace/ambient.ts) offline on the generated ambient mesh (fixtures/ztunnel): ztunnel
 * dumps of the two worker nodes, the waypoints' Envoy dumps. Each case checks the hops and why.
 */

const Z = (f: string) => fixture('ztunnel', f);
const W1 = Z('ztunnel-worker-config_dump.json');
const W2 = Z('ztunnel-worker2-config_dump.json');
const REVIEWS_WP = Z('waypoint-bookinfo-reviews-waypoint-config_dump.json');
const NS_WP = Z('waypoint-bookinfo-waypoint-config_dump.json');
const PAYMENTS_WP = Z('waypoint-payments-payments-waypoint-config_dump.json');
const PRODUCTPAGE = 'productpage-v1-5b8d7f9c6d-k2lxp.bookinfo';
const FRONTEND = 'frontend-6b9f8c7d5-q9z2m.shop';

type Out = TraceOutput & { result: TraceOutput['result'] & { ambient: AmbientResult } };

async function trace(pod: string, target: string, o: Partial<TraceOptions> = {}): Promise<Out> {
  const { out } = await ambientTraceOffline({ ztunnelFile: W1, dstZtunnelFile: [W2], waypointFile: [REVIEWS_WP, NS_WP, PAYMENTS_WP], output: 'json', pod, target, ...o });
  return out as Out;
}

const stages = (t: TraceOutput) => t.steps.map((s) => s.stage);
const at = (t: TraceOutput, s: TraceStep['stage']) => t.steps.filter((x) => x.stage === s);
const hops = (t: TraceOutput) => [...new Set(t.steps.map((s) => s.at?.split(' ').slice(0, -1).join(' ')))];

test('service-bound waypoint: client ztunnel → HBONE → waypoint Envoy (route, RBAC, endpoint) → HBONE → destination ztunnel → pod', async () => {
  const t = await trace(PRODUCTPAGE, 'http://reviews:9080/reviews/0', { random: 95 });
  const a = t.result.ambient;
  assert.deepEqual(hops(t), ['client ztunnel', 'waypoint', 'destination ztunnel']);
  // source: the client's identity and certificate from its node's ztunnel
  const src = at(t, 'source')[0];
  assert.ok(src.matched.includes('identity spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage'));
  assert.ok(src.matched.some((m) => /certificate .*bookinfo-productpage: Available/.test(m)));
  // destination: the short name completed in the client's namespace to the service VIP
  assert.equal(at(t, 'destination')[0].chosen, '10.96.74.131:9080');
  // the client ztunnel: the service's waypoint (by hostname), its one instance
  assert.equal(a.path, 'service-waypoint');
  assert.equal(a.service, 'bookinfo/reviews.bookinfo.svc.cluster.local');
  assert.deepEqual(a.waypoint && { name: a.waypoint.name, boundTo: a.waypoint.boundTo, instance: a.waypoint.instance }, { name: 'reviews-waypoint', boundTo: 'service', instance: 'bookinfo/reviews-waypoint-7b9c8d6f4-m5zqt' });
  // two tunnels: to the waypoint with the VIP as :authority, then from the waypoint to the chosen pod
  assert.deepEqual(a.hbone.map((h) => [h.to, h.authority, h.clientIdentity]), [
    ['10.244.1.20:15008', '10.96.74.131:9080', 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage'],
    ['10.244.2.13:15008', '10.244.2.13:9080', 'spiffe://cluster.local/ns/bookinfo/sa/reviews-waypoint'],
  ]);
  // the waypoint's Envoy: connect_terminate → main_internal, the VirtualService's split decided by --random 95
  const listeners = at(t, 'listener').map((s) => s.chosen);
  assert.deepEqual(listeners, ['connect_terminate', 'main_internal']);
  assert.equal(t.result.route, 'split');
  assert.equal(t.result.cluster, 'inbound-vip|9080|http/v2|reviews.bookinfo.svc.cluster.local');
  // the waypoint's RBAC saw the client's principal carried by the tunnel
  const rbac = at(t, 'authz').find((s) => s.at?.startsWith('waypoint'))!;
  assert.match(rbac.summary, /ALLOW/);
  assert.ok(rbac.matched.some((m) => m.includes('principal spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage')));
  // the destination ztunnel (worker2's dump) decides for the waypoint's identity
  assert.equal(a.inbound?.decision, 'ALLOW');
  assert.equal(a.inbound?.ztunnel, W2);
  assert.equal(a.inbound?.peerIdentity, 'spiffe://cluster.local/ns/bookinfo/sa/reviews-waypoint');
  // both verdicts kept: the waypoint's L7 one and the destination ztunnel's L4 one
  assert.deepEqual([a.waypoint?.authz?.decision, a.waypoint?.authz?.authorizationPolicy], ['ALLOW', 'bookinfo/reviews-viewer']);
  assert.deepEqual(a.destination, { workload: 'bookinfo/reviews-v2-6f8d9c7b5-m4kzp', address: '10.244.2.13:9080', node: 'ambient-worker2', protocol: 'HBONE' });
  assert.equal(stages(t).at(-1), 'delivery');
  assert.deepEqual(t.result.uncertain, []);
});

test('the waypoint routes by header: end-user jason goes to v2 without a random pick', async () => {
  const t = await trace(PRODUCTPAGE, 'http://reviews:9080/reviews/0', { header: ['end-user: jason'] });
  assert.equal(t.result.route, 'jason');
  assert.equal(t.result.ambient.destination?.workload, 'bookinfo/reviews-v2-6f8d9c7b5-m4kzp');
});

test('denied by the waypoint RBAC: POST to reviews stops at the waypoint with 403, no tunnel to the pod', async () => {
  const t = await trace(PRODUCTPAGE, 'http://reviews:9080/reviews/0', { method: 'POST', random: 1 });
  assert.equal(t.result.authz?.decision, 'DENY');
  assert.equal(t.result.authz?.filter, 'envoy.filters.http.rbac');
  assert.equal(t.result.ambient.waypoint?.authz?.decision, 'DENY');
  assert.equal(t.result.ambient.hbone.length, 1);
  assert.equal(t.result.ambient.destination, null);
  assert.equal(t.result.ambient.inbound, null);
  assert.ok(!stages(t).includes('delivery'));
  assert.ok(t.steps.at(-1)!.at?.startsWith('waypoint'));
});

test('denied by the waypoint RBAC: a DENY policy of the namespace waypoint (DELETE on details)', async () => {
  const t = await trace(PRODUCTPAGE, 'http://details:9080/details/0', { method: 'DELETE' });
  assert.equal(t.result.ambient.path, 'service-waypoint');
  assert.equal(t.result.ambient.waypoint?.name, 'waypoint');
  // the namespace waypoint is referenced by its service's VIP (address form)
  assert.equal(t.result.ambient.waypoint?.reference, '/10.96.40.10');
  assert.equal(t.result.authz?.decision, 'DENY');
  assert.match(t.result.authz?.authorizationPolicy ?? '', /details-read-only/);
  const get = await trace(PRODUCTPAGE, 'http://details:9080/details/0');
  assert.equal(get.result.authz?.decision, 'ALLOW');
  assert.equal(get.result.ambient.destination?.workload, 'bookinfo/details-v1-7f9d6c8b5-qx8mz');
});

test('no waypoint: straight to the destination ztunnel, which allows an mTLS peer (shop/require-mtls)', async () => {
  const t = await trace(FRONTEND, 'http://catalog.shop:8080/');
  assert.equal(t.result.ambient.path, 'direct');
  assert.equal(t.result.ambient.waypoint, null);
  assert.deepEqual(stages(t), ['source', 'destination', 'ztunnel', 'hbone', 'authz', 'delivery']);
  assert.equal(t.result.ambient.hbone[0].to, '10.244.2.40:15008');
  assert.equal(t.result.authz?.decision, 'ALLOW');
  assert.equal(t.result.authz?.authorizationPolicy, 'shop/require-mtls');
  assert.equal(t.result.ambient.destination?.address, '10.244.2.40:8080');
  assert.deepEqual(t.result.uncertain, []);
});

test('denied by the destination ztunnel: a pod addressed directly skips its service waypoint and meets ratings-allow-reviews', async () => {
  const t = await trace(FRONTEND, 'tcp://10.244.2.12:9080');
  assert.equal(t.result.ambient.path, 'direct');
  assert.match(at(t, 'ztunnel')[0].summary, /straight to workload ratings-v1/);
  const z = at(t, 'authz')[0];
  assert.ok(z.at?.startsWith('destination ztunnel'));
  assert.equal(t.result.authz?.decision, 'DENY');
  assert.equal(t.result.authz?.filter, 'ztunnel');
  assert.ok(z.notes.some((n) => n.includes('bookinfo/ratings-allow-reviews')));
  assert.ok(z.notes.some((n) => /refuses the HBONE CONNECT/.test(n)));
  assert.ok(!stages(t).includes('delivery'));
  // the same connection from reviews' identity is allowed
  const ok = await ambientTraceOffline({ ztunnelFile: W1, dstZtunnelFile: [W2], output: 'json', pod: 'reviews-v1-8b5c7d9f6-2xw9q.bookinfo', target: 'tcp://10.244.2.12:9080' });
  assert.equal(ok.out.result.authz?.decision, 'ALLOW');
});

test('not captured: a pod outside ambient sends plaintext; the destination ztunnel denies it (no principal for require-mtls)', async () => {
  const { out } = await ambientTraceOffline({ ztunnelFile: W2, output: 'json', pod: 'legacy-app-6d9b8c7f5-v5r2n.legacy', target: 'http://catalog.shop:8080/' });
  const a = (out as Out).result.ambient;
  assert.equal(a.path, 'not-captured');
  assert.equal(a.source.captured, false);
  assert.equal(a.hbone.length, 0);
  assert.equal(a.inbound?.peerIdentity, null);
  assert.equal(out.result.authz?.decision, 'DENY');
  assert.match(out.result.authz?.reason ?? '', /ALLOW/);
});

test("workload-bound waypoint: traffic to the ledger pod's address goes through payments-waypoint; to its service it does not", async () => {
  const t = await trace(FRONTEND, 'http://10.244.1.30:8080/');
  assert.equal(t.result.ambient.path, 'workload-waypoint');
  assert.equal(t.result.ambient.waypoint?.boundTo, 'workload');
  assert.equal(t.result.ambient.hbone[0].to, '10.244.1.21:15008');
  assert.ok(at(t, 'authz').some((s) => s.at?.startsWith('waypoint') && /payments\/ledger-callers/.test(s.summary)));
  assert.equal(t.result.ambient.destination?.workload, 'payments/ledger-7d6c5b8f9-r2x4k');
  // addressed to the service: ztunnel load-balances itself and skips the endpoints' workload waypoint
  const svc = await trace(FRONTEND, 'http://ledger.payments:8080/', { random: 1 });
  assert.equal(svc.result.ambient.path, 'direct');
  assert.ok(at(svc, 'ztunnel')[0].notes.some((n) => /workload waypoint only for traffic addressed to the workload/.test(n)));
});

test('uncertain: a random endpoint pick is said, and --random decides it', async () => {
  const t = await trace(FRONTEND, 'http://ledger.payments:8080/');
  assert.ok(t.result.uncertain.some((u) => /picks one of 2 at random/.test(u)));
  const picks = new Set<string | undefined>();
  for (const r of [0, 1]) {
    const d = await trace(FRONTEND, 'http://ledger.payments:8080/', { random: r });
    assert.deepEqual(d.result.uncertain, []);
    picks.add(d.result.ambient.destination?.workload);
  }
  assert.equal(picks.size, 2);
});

test('uncertain: a waypoint whose dump was not given stops there, said as uncertain, no verdict guessed', async () => {
  const { out } = await ambientTraceOffline({ ztunnelFile: W1, dstZtunnelFile: [W2], output: 'json', pod: PRODUCTPAGE, target: 'http://ratings:9080/ratings/0' });
  const t = out as Out;
  assert.equal(t.result.ambient.waypoint?.name, 'waypoint');
  assert.equal(t.result.authz, null);
  assert.equal(t.result.ambient.destination, null);
  assert.ok(t.result.uncertain.some((u) => /config dump of waypoint waypoint-6d8c9f7b5-p2kx9\.bookinfo was not given/.test(u)));
});

test("uncertain: without the destination node's ztunnel, policies are decided on the client's view and its state is said unknown", async () => {
  const { out } = await ambientTraceOffline({ ztunnelFile: W1, output: 'json', pod: FRONTEND, target: 'http://catalog.shop:8080/' });
  assert.equal(out.result.authz?.decision, 'ALLOW');
  assert.ok(out.result.uncertain.some((u) => /ztunnel of node ambient-worker2 was not given/.test(u)));
});

test('uncertain: a host without a VIP is not resolved offline (--dst-ip decides)', async () => {
  const t = await trace(FRONTEND, 'https://api.payments-provider.example/');
  assert.ok(t.result.uncertain.some((u) => /not known offline|--dst-ip/.test(u)));
  assert.equal(t.result.ambient.hbone.length, 0);
});

test('the source: a client whose certificate is Unavailable cannot open HBONE; a Pending pod is said not redirected yet', async () => {
  const { out } = await ambientTraceOffline({ ztunnelFile: W1, output: 'json', pod: 'ledger-db-1.payments', target: 'tcp://ledger.payments:8080' });
  assert.equal(out.steps.length, 1);
  assert.match(out.steps[0].summary, /no certificate .*Unavailable/);
  const cart = await ambientTraceOffline({ ztunnelFile: W1, dstZtunnelFile: [W2], output: 'json', pod: 'cart-5f7d9c8b6-l8k3v.shop', target: 'http://catalog.shop:8080/' });
  assert.ok(cart.out.steps[0].notes.some((n) => /Pending|not set up yet/.test(n)));
});

test('--files: the labels that bind each waypoint (src/ambient) say why, and a label naming a missing waypoint explains its absence', async () => {
  const files = [Z('resources.yaml')];
  const reviews = await trace(PRODUCTPAGE, 'http://reviews:9080/', { files, random: 0 });
  assert.ok(at(reviews, 'ztunnel')[0].matched.includes('why: service reviews.bookinfo is bound to waypoint bookinfo/reviews-waypoint by its own istio.io/use-waypoint label (waypoint-for service, Programmed True)'));
  const details = await trace(PRODUCTPAGE, 'http://details:9080/', { files });
  assert.ok(at(details, 'ztunnel')[0].matched.some((m) => /details\.bookinfo is bound to waypoint bookinfo\/waypoint by its namespace's istio\.io\/use-waypoint label/.test(m)));
  const catalog = await trace(FRONTEND, 'http://catalog.shop:8080/', { files });
  assert.equal(catalog.result.ambient.path, 'direct');
  assert.ok(at(catalog, 'ztunnel')[0].notes.some((n) => /names waypoint shop\/catalog-wp, which does not exist; istiod reports WaypointIsNotReady/.test(n)));
  const ledger = await trace(FRONTEND, 'http://10.244.1.30:8080/', { files });
  assert.ok(at(ledger, 'ztunnel')[0].matched.some((m) => /pod ledger-7d6c5b8f9-r2x4k\.payments is bound to waypoint payments\/payments-waypoint by its own/.test(m)));
  // without the files, no why
  const bare = await trace(PRODUCTPAGE, 'http://reviews:9080/', { random: 0 });
  assert.ok(!at(bare, 'ztunnel')[0].matched.some((m) => m.startsWith('why:')));
});

test('--files: labels that disagree with ztunnel are said, ztunnel is followed; an L7 policy on a pod without a waypoint is explained at its ztunnel', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-ambient-files-'));
  try {
    const file = path.join(dir, 'r.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}',
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: bookinfo, labels: {istio.io/dataplane-mode: ambient}}',
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy, labels: {istio-injection: enabled}}',
        'apiVersion: v1\nkind: Pod\nmetadata: {name: legacy-app-6d9b8c7f5-v5r2n, namespace: legacy}\nspec: {containers: [{name: app}]}',
        'apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: bookinfo}\nspec: {selector: {app: reviews}}',
        'apiVersion: v1\nkind: Pod\nmetadata: {name: catalog-v1-9c8b7d6f5-j6t4s, namespace: shop, labels: {app: catalog}}\nspec: {containers: [{name: catalog}]}',
        'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: catalog-get, namespace: shop}\nspec: {selector: {matchLabels: {app: catalog}}, action: ALLOW, rules: [{to: [{operation: {methods: [GET]}}]}]}',
      ].join('\n---\n'),
    );
    const reviews = await trace(PRODUCTPAGE, 'http://reviews:9080/', { files: [file], random: 0 });
    assert.equal(reviews.result.ambient.path, 'service-waypoint');
    assert.ok(at(reviews, 'ztunnel')[0].notes.some((n) => /the labels read give no waypoint, but ztunnel has waypoint reviews-waypoint: the trace follows ztunnel/.test(n)));
    const catalog = await trace(FRONTEND, 'http://catalog.shop:8080/', { files: [file] });
    const z = at(catalog, 'authz')[0];
    assert.ok(z.notes.some((n) => /AuthorizationPolicy catalog-get\.shop \(ALLOW\) uses L7 attributes \(methods\)/.test(n)), z.notes.join('\n'));
    // the source: why it is not captured, by istio-cni's enrolment rule
    const legacy = await ambientTraceOffline({ ztunnelFile: W2, files: [file], output: 'json', pod: 'legacy-app-6d9b8c7f5-v5r2n.legacy', target: 'http://catalog.shop:8080/' });
    assert.ok(legacy.out.steps[0].matched.includes('why: not enrolled in ambient: neither the pod nor namespace legacy has istio.io/dataplane-mode=ambient'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: text output names each hop; -o json has result.ambient', async () => {
  const base = ['trace', '--ztunnel-file', W1, '--dst-ztunnel-file', W2, '--waypoint-file', REVIEWS_WP, PRODUCTPAGE, 'http://reviews:9080/', '--random', '3'];
  const text = await runCli(base);
  assert.equal(text.code, 0, text.stderr);
  for (const h of ['at client ztunnel', 'at waypoint reviews-waypoint-7b9c8d6f4-m5zqt.bookinfo', 'at destination ztunnel']) assert.ok(text.stdout.includes(h), h);
  assert.match(text.stdout, /ambient path\s+through the service's waypoint/);
  assert.match(text.stdout, /\n  waypoint authz +ALLOW by bookinfo\/reviews-viewer\n  ztunnel authz +ALLOW by bookinfo\/allow-bookinfo\n/);
  const json = await runCli([...base, '-o', 'json']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as Out;
  assert.equal(parsed.result.ambient.destination?.workload, 'bookinfo/reviews-v1-8b5c7d9f6-2xw9q');
});

test('CLI: bad input is one line on stderr and a non-zero exit', async () => {
  const cases: [string[], RegExp][] = [
    [['--ztunnel-file', fixture('live', 'productpage-config_dump.json'), PRODUCTPAGE, 'http://reviews:9080/'], /Envoy config dump .* not a ztunnel's/],
    [['--ztunnel-file', W1, '--waypoint-file', W2, PRODUCTPAGE, 'http://reviews:9080/'], /ztunnel's config dump, not an Envoy's/],
    [['--ztunnel-file', W1, 'nosuch.bookinfo', 'http://reviews:9080/'], /nosuch\.bookinfo is not a workload of/],
    [['--ztunnel-file', W1, '--from', 'sleep.legacy', PRODUCTPAGE, 'http://reviews:9080/'], /identity is the one ztunnel gives it/],
    [['--ztunnel-file', W1, PRODUCTPAGE, 'ftp://reviews/'], /unsupported scheme/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(['trace', ...args]);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.ok(isOneLineError(r.stderr), r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '');
  }
  const truncated = await runCli(['trace', '--ztunnel-file', '-', PRODUCTPAGE, 'http://reviews:9080/'], { stdin: '{"workloads": [' });
  assert.notEqual(truncated.code, 0);
  assert.ok(isOneLineError(truncated.stderr), truncated.stderr);
  assert.match(truncated.stderr, /truncated/);
});

test('-o dot|mermaid: client ztunnel → the waypoint Envoy path → destination ztunnel → pod; a refusal ends in connection reset', async () => {
  const { ambientTraceGraph } = await import('../../src/diagram/ambient-graph.js');
  const path = (g: ReturnType<typeof ambientTraceGraph>) => {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    return g.edges.filter((e) => e.onPath).map((e) => `${byId.get(e.from)!.kind}>${byId.get(e.to)!.kind}`);
  };
  const through = ambientTraceGraph(await trace(PRODUCTPAGE, 'http://reviews:9080/reviews/0', { random: 95 }));
  assert.deepEqual(path(through), [
    'request>ztunnel', 'ztunnel>listener', 'listener>filterChain', 'filterChain>routeConfig', 'routeConfig>virtualHost', 'virtualHost>route', 'route>authz', 'authz>cluster', 'cluster>endpoints', 'endpoints>ztunnelIn', 'ztunnelIn>pod',
  ]);
  assert.ok(through.edges.some((e) => e.label === 'HBONE 10.244.1.20:15008 (waypoint reviews-waypoint)'));
  const refused = ambientTraceGraph(await trace(FRONTEND, 'tcp://10.244.2.12:9080'));
  assert.deepEqual(path(refused), ['request>ztunnel', 'ztunnel>ztunnelIn', 'ztunnelIn>outcome']);
  assert.equal(refused.nodes.find((n) => n.kind === 'ztunnelIn')?.status, 'bad');
  const r = await runCli(['trace', '--ztunnel-file', W1, '--dst-ztunnel-file', W2, FRONTEND, 'http://catalog.shop:8080/', '-o', 'mermaid']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /CLIENT ZTUNNEL[\s\S]*DESTINATION ZTUNNEL[\s\S]*<b>POD<\/b>/);
});

test('uncertain: a destination dump that does not name its node is used for the node, and said so', async () => {
  const { readFileSync } = await import('node:fs');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-ambient-nonode-'));
  try {
    const dump = JSON.parse(readFileSync(W2, 'utf8')) as { config: Record<string, unknown> };
    delete dump.config.localNode;
    const file = path.join(dir, 'w2.json');
    writeFileSync(file, JSON.stringify(dump));
    const { out } = await ambientTraceOffline({ ztunnelFile: W1, dstZtunnelFile: [file], output: 'json', pod: FRONTEND, target: 'http://catalog.shop:8080/' });
    assert.equal(out.result.authz?.decision, 'ALLOW');
    assert.deepEqual(out.result.uncertain, [`${file} does not say its node (no config.localNode): taken as the ztunnel of ambient-worker2`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
