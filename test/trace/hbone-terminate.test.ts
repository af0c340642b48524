import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { matchWaypoint, waypointView } from '../../src/commands/trace-ambient.js';
import { traceAmbient, type AmbientResult, type AmbientSources } from '../../src/trace/ambient.js';
import type { TraceOutput, TraceStep } from '../../src/trace/trace.js';
import { connectUpgrade } from '../../src/trace/upgrade.js';
import { localNode, parseZtunnelDump, ZtunnelModel } from '../../src/ztunnel/index.js';
import { fixture } from '../helpers.js';

/**
 * The waypoint's HBONE termination read from its dump (src/trace/hbone-terminate.ts): the CONNECT through
 * connect_terminate by the trace engine, the internal-listener hop to main_internal. Each case breaks one
 * piece of a real-shaped waypoint dump (fixtures/ztunnel) and checks the trace says so where it happens.
 */

const Z = (f: string) => fixture('ztunnel', f);
const read = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const zt = (f: string) => ({ model: new ZtunnelModel(parseZtunnelDump(read(f), f)), name: f });
const W1 = zt(Z('ztunnel-worker-config_dump.json'));
const W2 = zt(Z('ztunnel-worker2-config_dump.json'));
const REVIEWS_WP = Z('waypoint-bookinfo-reviews-waypoint-config_dump.json');
type Dump = { configs: Record<string, any>[] };
type Out = TraceOutput & { result: TraceOutput['result'] & { ambient: AmbientResult } };

/** productpage → reviews (through reviews-waypoint), with the waypoint's dump changed by `edit` first. */
async function trace(edit?: (d: Dump) => void, o: { file?: string; target?: string; source?: string } = {}): Promise<Out> {
  const dump = read(o.file ?? REVIEWS_WP) as Dump;
  edit?.(dump);
  const view = waypointView(dump, 'reviews-waypoint.json');
  const sources: AmbientSources = {
    client: W1,
    ztunnelOn: async (node) => ([W1, W2].find((v) => localNode(v.model) === node) ?? { missing: node }),
    waypoint: async (inst, gw) => matchWaypoint([view], inst, gw),
  };
  const [name, namespace] = (o.source ?? 'productpage-v1-5b8d7f9c6d-k2lxp.bookinfo').split('.');
  return (await traceAmbient(sources, { target: o.target ?? 'http://reviews:9080/reviews/0', source: { name, namespace }, random: 95 })) as Out;
}
/** frontend → the ledger pod's address, through its workload waypoint (main_internal's direct-http chain, cluster encap). */
const toLedger = (edit?: (d: Dump) => void) => trace(edit, { file: Z('waypoint-payments-payments-waypoint-config_dump.json'), target: 'http://10.244.1.30:8080/', source: 'frontend-6b9f8c7d5-q9z2m.shop' });

const section = (d: Dump, type: string) => d.configs.find((c) => String(c['@type']).endsWith(type))!;
const listeners = (d: Dump) => section(d, 'ListenersConfigDump').dynamic_listeners as { name: string; active_state: { listener: any } }[];
const listener = (d: Dump, name: string) => listeners(d).find((l) => l.name === name)!.active_state.listener;
const hcm = (d: Dump) => listener(d, 'connect_terminate').filter_chains[0].filters[0].typed_config;
const connectRoute = (d: Dump) => hcm(d).route_config.virtual_hosts[0].routes[0];
const clusters = (d: Dump) => section(d, 'ClustersConfigDump').dynamic_active_clusters as { cluster: any }[];
const cluster = (d: Dump, name: string) => clusters(d).find((c) => c.cluster.name === name)!.cluster;
/** The waypoint's steps before main_internal takes over (the HBONE termination). */
const tunnel = (t: TraceOutput) => t.steps.filter((s) => s.data?.tunnel === true);
const wp = (t: TraceOutput) => t.steps.filter((s) => s.at?.startsWith('waypoint'));
const stopsAtWaypoint = (t: Out) => {
  assert.equal(t.result.ambient.hbone.length, 1, 'no second tunnel');
  assert.equal(t.result.ambient.destination, null);
  assert.ok(!wp(t).some((s) => s.chosen === 'main_internal' && s.stage === 'listener'), 'main_internal is not reached');
};

test('the CONNECT walks the real connect_terminate: listener, chain, connection manager, CONNECT route, cluster main_internal, then the internal listener', async () => {
  const t = await trace();
  const steps = tunnel(t);
  assert.deepEqual(
    steps.map((s) => [s.stage, s.chosen]),
    [
      ['listener', 'connect_terminate'],
      ['filterChain', 'default'],
      ['networkFilters', 'http_connection_manager'],
      ['routeConfig', 'default'],
      ['virtualHost', 'default'],
      ['route', '0'],
      ['routeAction', 'main_internal'],
      ['cluster', 'main_internal'],
      ['endpoints', '1 endpoint(s)'],
    ],
  );
  const by = (stage: TraceStep['stage']) => steps.find((s) => s.stage === stage)!;
  assert.match(by('listener').summary, /bound to 0\.0\.0\.0:15008/);
  assert.match(by('filterChain').summary, /mTLS \(client certificate required\)/);
  // the CONNECT target is the :authority, matched by connect_matcher
  assert.match(by('virtualHost').summary, /matches host 10\.96\.74\.131:9080/);
  assert.match(by('route').summary, /`CONNECT` is the first that matches CONNECT 10\.96\.74\.131:9080/);
  assert.ok(by('routeAction').matched.some((m) => /connect_config: Envoy terminates the CONNECT/.test(m)));
  assert.deepEqual(by('routeAction').data?.connect, { enabled: true, terminated: true });
  assert.match(by('cluster').summary, /^STATIC cluster/);
  assert.deepEqual(by('endpoints').matched, ['envoy://main_internal UNKNOWN']);
  // the hop: main_internal is entered with the facts that carried the :authority across
  const inner = wp(t).find((s) => s.stage === 'listener' && s.chosen === 'main_internal')!;
  assert.equal(inner.data?.tunnel, undefined);
  assert.deepEqual(inner.matched, [
    "cluster main_internal's endpoint is envoy_internal_address main_internal: Envoy hands the stream to its internal listener main_internal in user space",
    'bootstrap extension envoy.bootstrap.internal_listener: internal listeners are reachable',
    'http filter connect_authority keeps the :authority 10.96.74.131:9080 as filter state envoy.filters.listener.original_dst.local_ip, shared with the upstream',
    'transport socket internal_upstream: the filter state shared with the upstream crosses to main_internal',
    'listener filter original_dst of main_internal: its destination is 10.96.74.131:9080, read from that filter state',
  ]);
  // the result is main_internal's, as before
  assert.equal(t.result.listener, 'main_internal');
  assert.equal(t.result.cluster, 'inbound-vip|9080|http/v2|reviews.bookinfo.svc.cluster.local');
  assert.deepEqual(t.result.uncertain, []);
});

test('a connect_terminate route that does not match CONNECT: 404 at the waypoint, the tunnel is refused', async () => {
  const t = await trace((d) => (connectRoute(d).match = { prefix: '/' }));
  const route = tunnel(t).find((s) => s.stage === 'route')!;
  assert.equal(route.chosen, null);
  assert.match(route.summary, /no route of virtual host default matches CONNECT 10\.96\.74\.131:9080: Envoy answers 404/);
  assert.ok(route.losers.some((l) => /prefix \/ does not match path ""/.test(l.reason)));
  assert.ok(route.notes.includes('the waypoint does not accept the CONNECT: the client ztunnel cannot open its tunnel'));
  stopsAtWaypoint(t);
  // the result says where it ended
  assert.deepEqual([t.result.listener, t.result.virtualHost, t.result.route, t.result.cluster], ['connect_terminate', 'default', null, null]);
  // drawn as a refusal at the waypoint, not as an unknown configuration
  const { ambientTraceGraph } = await import('../../src/diagram/ambient-graph.js');
  const end = ambientTraceGraph(t).nodes.find((n) => n.kind === 'outcome')!;
  assert.deepEqual([end.label, end.status], ['waypoint reviews-waypoint', 'bad']);
  assert.match(end.details.join(' '), /404/);
});

test('connect_terminate without a connection manager (a tcp_proxy chain): uncertain, not followed', async () => {
  const t = await trace((d) => {
    listener(d, 'connect_terminate').filter_chains[0].filters = [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'x', cluster: 'main_internal' } }];
  });
  assert.deepEqual(t.result.uncertain, ['connect_terminate passes the connection to main_internal without an HTTP connection manager: nothing ends the CONNECT there; not simulated further']);
  stopsAtWaypoint(t);
});

test("a virtual host whose domains do not take the CONNECT's :authority: 404", async () => {
  const t = await trace((d) => (hcm(d).route_config.virtual_hosts[0].domains = ['10.96.0.1:9080']));
  const vh = tunnel(t).find((s) => s.stage === 'virtualHost')!;
  assert.equal(vh.chosen, null);
  assert.match(vh.summary, /matches host 10\.96\.74\.131:9080: Envoy answers 404/);
  stopsAtWaypoint(t);
});

test('CONNECT not enabled (no upgrade_configs on the route or the connection manager): Envoy answers 403', async () => {
  const t = await trace((d) => {
    delete connectRoute(d).route.upgrade_configs;
    delete hcm(d).upgrade_configs;
  });
  const action = tunnel(t).find((s) => s.stage === 'routeAction')!;
  assert.equal(action.chosen, 'direct_response 403');
  assert.match(action.matched[0], /neither the connection manager nor the route enables CONNECT/);
  stopsAtWaypoint(t);
  assert.deepEqual(t.result.directResponse, { status: 403, body: null });
  assert.equal(t.result.route, 0);
});

test('CONNECT enabled by the connection manager but not terminated (no connect_config): uncertain, not followed', async () => {
  const t = await trace((d) => delete connectRoute(d).route.upgrade_configs);
  const action = tunnel(t).find((s) => s.stage === 'routeAction')!;
  assert.deepEqual(action.data?.connect, { enabled: true, terminated: false });
  assert.ok(action.matched.includes('the connection manager enables CONNECT (upgrade_configs)'));
  assert.match(t.result.uncertain.join('\n'), /connect_terminate does not terminate the CONNECT \(no connect_config\)/);
  stopsAtWaypoint(t);
});

test('the route disables CONNECT although the connection manager enables it: the route wins, 403', async () => {
  const t = await trace((d) => (connectRoute(d).route.upgrade_configs = [{ upgrade_type: 'CONNECT', enabled: false }]));
  assert.equal(tunnel(t).find((s) => s.stage === 'routeAction')!.chosen, 'direct_response 403');
  stopsAtWaypoint(t);
});

test('a dump without connect_terminate: one reason, the HBONE connection is refused', async () => {
  const t = await trace((d) => {
    section(d, 'ListenersConfigDump').dynamic_listeners = listeners(d).filter((l) => l.name !== 'connect_terminate');
  });
  const w = wp(t);
  assert.equal(w.length, 1);
  assert.equal(w[0].chosen, null);
  assert.match(w[0].summary, /^no listener on port 15008 in reviews-waypoint\.json: the waypoint refuses the HBONE connection/);
  stopsAtWaypoint(t);
});

test('a dump without main_internal: the cluster names an internal listener that is not there', async () => {
  const t = await trace((d) => {
    section(d, 'ListenersConfigDump').dynamic_listeners = listeners(d).filter((l) => l.name !== 'main_internal');
  });
  const last = wp(t).at(-1)!;
  assert.equal(last.stage, 'listener');
  assert.equal(last.chosen, null);
  assert.match(last.summary, /cluster main_internal names main_internal, but the internal listener main_internal is not in reviews-waypoint\.json: Envoy cannot connect to it/);
  stopsAtWaypoint(t);
});

test('a main_internal that is not an internal listener cannot be reached by an internal address', async () => {
  const t = await trace((d) => delete listener(d, 'main_internal').internal_listener);
  assert.match(wp(t).at(-1)!.summary, /main_internal is not an internal listener \(no internal_listener\)/);
  stopsAtWaypoint(t);
});

test('the CONNECT route names a cluster the dump lacks: 503 (NC)', async () => {
  const t = await trace((d) => (connectRoute(d).route.cluster = 'inner'));
  const c = tunnel(t).find((s) => s.stage === 'cluster')!;
  assert.match(c.summary, /cluster inner is not in the dump: Envoy answers 503/);
  stopsAtWaypoint(t);
});

test('what carries the :authority across, when missing, is uncertain (the trace goes on with the :authority)', async () => {
  const t = await trace((d) => {
    delete cluster(d, 'main_internal').transport_socket;
    hcm(d).http_filters = hcm(d).http_filters.filter((f: { name: string }) => f.name !== 'connect_authority');
  });
  assert.deepEqual(t.result.uncertain, [
    'no http filter of connect_terminate sets envoy.filters.listener.original_dst.local_ip from the :authority; cluster main_internal has no internal_upstream transport socket: the destination main_internal sees is not known from the dump; the trace uses the :authority 10.96.74.131:9080',
  ]);
  assert.equal(t.result.ambient.destination?.workload, 'bookinfo/reviews-v2-6f8d9c7b5-m4kzp');
});

test('a CONNECT cluster whose endpoint is a socket address does not lead to an internal listener: said, not followed', async () => {
  const t = await trace((d) => {
    cluster(d, 'main_internal').load_assignment.endpoints[0].lb_endpoints[0].endpoint.address = { socket_address: { address: '127.0.0.1', port_value: 15006 } };
  });
  const last = wp(t).at(-1)!;
  assert.deepEqual([last.stage, last.chosen], ['listener', null]);
  assert.match(last.summary, /cluster main_internal sends to socket addresses, not to an internal listener/);
  stopsAtWaypoint(t);
});

test('a bootstrap without the internal listener extension is uncertain', async () => {
  const t = await trace((d) => delete section(d, 'BootstrapConfigDump').bootstrap.bootstrap_extensions);
  assert.deepEqual(t.result.uncertain, ['the bootstrap has no envoy.bootstrap.internal_listener extension, which internal listeners need: whether Envoy reaches them is not known']);
  assert.equal(t.result.ambient.destination?.workload, 'bookinfo/reviews-v2-6f8d9c7b5-m4kzp');
});

test('upstream: the inbound-vip endpoints lead to connect_originate, which must be an internal listener of the dump', async () => {
  const t = await trace((d) => {
    section(d, 'ListenersConfigDump').dynamic_listeners = listeners(d).filter((l) => l.name !== 'connect_originate');
  });
  const last = wp(t).at(-1)!;
  assert.equal(last.stage, 'endpoints');
  assert.equal(last.chosen, null);
  assert.match(last.summary, /endpoints name connect_originate, but the internal listener connect_originate is not in reviews-waypoint\.json: Envoy cannot connect to it \(503\)/);
  assert.equal(t.result.ambient.hbone.length, 1);
  assert.equal(t.result.ambient.destination, null);
});

test("upstream: an inbound-vip cluster that does not pass the endpoints' original_dst metadata through is uncertain", async () => {
  const t = await trace((d) => {
    const ts = cluster(d, 'inbound-vip|9080|http/v2|reviews.bookinfo.svc.cluster.local').transport_socket;
    ts.typed_config.passthrough_metadata = ts.typed_config.passthrough_metadata.filter((m: { name: string }) => m.name !== 'envoy.filters.listener.original_dst');
  });
  assert.deepEqual(t.result.uncertain, [
    "cluster inbound-vip|9080|http/v2|reviews.bookinfo.svc.cluster.local's transport socket does not pass the endpoints' envoy.filters.listener.original_dst metadata through (internal_upstream passthrough_metadata): the pod connect_originate tunnels to is not known from the dump; the trace uses each endpoint's envoy.filters.listener.original_dst metadata",
  ]);
});

test('upstream: encap reaches the pod addressed directly through the filter state the direct chain set; without it, uncertain', async () => {
  const ok = await toLedger();
  assert.equal(ok.result.cluster, 'encap');
  assert.deepEqual(ok.result.uncertain, []);
  assert.equal(ok.result.ambient.hbone[1].authority, '10.244.1.30:8080');
  const t = await toLedger((d) => {
    const chain = listener(d, 'main_internal').filter_chains.find((c: { name: string }) => c.name === 'direct-http');
    chain.filters = chain.filters.filter((f: { name: string }) => f.name !== 'connect_authority');
  });
  assert.deepEqual(t.result.uncertain, ['no network filter of chain direct-http sets envoy.filters.listener.original_dst.local_ip: the destination connect_originate tunnels to is not known from the dump; the trace uses the :authority']);
});

test('connectUpgrade: Envoy\'s per-route override of the connection manager\'s upgrade_configs', () => {
  const route = (u?: object[]) => ({ route: { cluster: 'c', ...(u ? { upgrade_configs: u } : {}) } });
  const on = { upgrade_configs: [{ upgrade_type: 'CONNECT' }] };
  const off = { upgrade_configs: [{ upgrade_type: 'CONNECT', enabled: false }] };
  const cases: [object, object, boolean, boolean][] = [
    [{}, route(), false, false],
    [on, route(), true, false],
    [off, route(), false, false],
    [off, route([{ upgrade_type: 'connect', connect_config: {} }]), true, true],
    [on, route([{ upgrade_type: 'CONNECT', enabled: false, connect_config: {} }]), false, false],
    [{}, route([{ upgrade_type: 'websocket' }]), false, false],
  ];
  for (const [h, r, enabled, terminated] of cases) {
    const u = connectUpgrade(h, r);
    assert.deepEqual([u.enabled, u.terminated], [enabled, terminated], JSON.stringify([h, r]));
  }
});
