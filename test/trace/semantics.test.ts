/**
 * Envoy's routing semantics the trace must reproduce exactly: clusters named by pseudo-headers, redirect
 * status codes, weights all on one cluster, dynamic metadata matches, and the scheme and internal-ness the
 * router sees after the connection manager (x-forwarded-proto, use_remote_address, x-forwarded-for).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseMetadata } from '../../src/commands/trace.js';
import { parseConfigDump } from '../../src/envoy/index.js';
import { worldFromConfigDump } from '../../src/trace/dump-world.js';
import { networkFilters } from '../../src/trace/filters.js';
import type { HttpRequest } from '../../src/trace/request.js';
import { findRoute, routeAction } from '../../src/trace/route.js';
import { traceRequest, type TraceOutput, type TraceRequest } from '../../src/trace/trace.js';
import { runCli, scratchDir } from '../helpers.js';

const T = 'type.googleapis.com/';

/** A dump with one HTTP listener on 0.0.0.0:80 whose connection manager holds the given route config. */
function dump(virtualHosts: unknown[], hcm: Record<string, unknown> = {}): unknown {
  const listener = {
    name: '0.0.0.0_80',
    address: { socket_address: { address: '0.0.0.0', port_value: 80 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
              stat_prefix: 'web',
              route_config: { name: 'web', virtual_hosts: virtualHosts },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` } }],
              ...hcm,
            },
          },
        ],
      },
    ],
  };
  return { configs: [{ '@type': `${T}envoy.admin.v3.ListenersConfigDump`, dynamic_listeners: [{ name: listener.name, active_state: { listener: { '@type': `${T}envoy.config.listener.v3.Listener`, ...listener } } }] }] };
}

function trace(d: unknown, r: Omit<TraceRequest, 'dstIp'>): TraceOutput {
  return traceRequest(worldFromConfigDump(parseConfigDump(d, 'test')), { dstIp: '10.96.0.80', srcIp: '10.244.0.12', ...r });
}

const step = (t: TraceOutput, stage: string) => {
  const s = t.steps.find((x) => x.stage === stage);
  assert.ok(s, `no ${stage} step`);
  return s;
};

const req = (over: Partial<HttpRequest> = {}): HttpRequest => ({ authority: 'web', path: '/', method: 'GET', scheme: 'http', headers: [], ...over });

test('cluster_header naming a pseudo-header takes the value from the request', () => {
  const d = dump([
    {
      name: 'web',
      domains: ['*'],
      routes: [
        { match: { prefix: '/by-path' }, route: { cluster_header: ':path' } },
        { match: { prefix: '/' }, route: { cluster_header: ':authority' } },
      ],
    },
  ]);
  const t = trace(d, { target: 'http://backend-a/' });
  assert.equal(t.result.cluster, 'backend-a');
  assert.match(step(t, 'routeAction').matched[0], /cluster backend-a \(cluster_header :authority\)/);
  assert.equal(trace(d, { target: 'http://web/by-path' }).result.cluster, '/by-path');
  // an ordinary header still names the cluster by its value
  const a = routeAction({ match: { prefix: '/' }, route: { cluster_header: 'X-Cluster' } }, {}, req({ headers: [['x-cluster', 'blue']] }));
  assert.equal(a.cluster, 'blue');
});

test('a redirect answers with its response_code, by name or by number; 301 only by default', () => {
  const codes: [unknown, number][] = [[undefined, 301], ['MOVED_PERMANENTLY', 301], ['FOUND', 302], ['SEE_OTHER', 303], ['TEMPORARY_REDIRECT', 307], ['PERMANENT_REDIRECT', 308], [1, 302], [2, 303], [3, 307], [4, 308]];
  for (const [code, status] of codes) {
    const a = routeAction({ match: { prefix: '/' }, redirect: { path_redirect: '/new', ...(code !== undefined ? { response_code: code } : {}) } }, {}, req());
    assert.equal(a.redirect?.status, status, `response_code ${String(code)}`);
  }
  const t = trace(dump([{ name: 'web', domains: ['*'], routes: [{ match: { prefix: '/' }, redirect: { path_redirect: '/new', response_code: 3 } }] }]), { target: 'http://web/old' });
  assert.equal(step(t, 'routeAction').data?.redirectStatus, 307);
  assert.match(step(t, 'routeAction').matched.join('\n'), /redirect 307 Location: http:\/\/web\/new/);
  const odd = routeAction({ match: { prefix: '/' }, redirect: { response_code: 'TEAPOT' } }, {}, req());
  assert.ok(odd.uncertain.some((u) => /unknown redirect response_code "TEAPOT"/.test(u)));
});

test('weighted clusters with all the weight on one cluster are decided without --random', () => {
  const d = dump([{ name: 'web', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'v1', weight: 0 }, { name: 'v2', weight: 100 }, { name: 'v3', weight: 0 }] } } }] }]);
  const t = trace(d, { target: 'http://web/' });
  assert.equal(t.result.cluster, 'v2');
  assert.deepEqual(t.result.uncertain.filter((u) => /weighted/.test(u)), []);
  assert.match(step(t, 'routeAction').notes.join('\n'), /all the weight \(100\) is on v2/);
  // a real split still needs the random value
  const split = trace(dump([{ name: 'web', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'v1', weight: 1 }, { name: 'v2', weight: 99 }] } } }] }]), { target: 'http://web/' });
  assert.equal(split.result.cluster, null);
  // tcp_proxy weighted clusters the same way
  const tcp = networkFilters({ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, weighted_clusters: { clusters: [{ name: 'a', weight: 0 }, { name: 'b', weight: 10 }] } } }] }, undefined);
  assert.equal(tcp.tcpProxy?.cluster, 'b');
  assert.deepEqual(tcp.uncertain, []);
});

test('a dynamic_metadata route does not match a request without that metadata; --metadata supplies it', () => {
  const canary = { match: { prefix: '/', dynamic_metadata: [{ filter: 'envoy.lb', path: [{ key: 'canary' }], value: { bool_match: true } }] }, route: { cluster: 'canary' } };
  const d = dump([{ name: 'web', domains: ['*'], routes: [canary, { match: { prefix: '/' }, route: { cluster: 'stable' } }] }]);
  const none = trace(d, { target: 'http://web/' });
  assert.equal(none.result.cluster, 'stable');
  const route = step(none, 'route');
  assert.match(route.losers[0].reason, /dynamic_metadata envoy\.lb\.canary is true: absent/);
  assert.match(route.notes.join('\n'), /carries no dynamic metadata.*--metadata filter\.key=value/);
  assert.deepEqual(none.result.uncertain, []);
  const withIt = trace(d, { target: 'http://web/', metadata: { 'envoy.lb': { canary: true } } });
  assert.equal(withIt.result.cluster, 'canary');
  assert.deepEqual(withIt.request.metadata, { 'envoy.lb': { canary: true } });
  assert.equal(trace(d, { target: 'http://web/', metadata: { 'envoy.lb': { canary: 'true' } } }).result.cluster, 'stable', 'a string is not a bool');
  // Envoy's value matchers: present_match, invert, string and double matches, nested paths
  const md = { 'envoy.filters.http.lua': { user: { tier: 'gold', score: 7 } } };
  const m = (match: unknown) => findRoute({ routes: [{ match: { prefix: '/', dynamic_metadata: [match] }, route: { cluster: 'x' } }] }, req({ metadata: md })).route !== null;
  const path = [{ key: 'user' }, { key: 'tier' }];
  assert.equal(m({ filter: 'envoy.filters.http.lua', path, value: { present_match: true } }), true);
  assert.equal(m({ filter: 'envoy.filters.http.lua', path: [{ key: 'nope' }], value: { present_match: true } }), false);
  assert.equal(m({ filter: 'envoy.filters.http.lua', path: [{ key: 'nope' }], value: { present_match: true }, invert: true }), true);
  assert.equal(m({ filter: 'envoy.filters.http.lua', path, value: { string_match: { prefix: 'go' } } }), true);
  assert.equal(m({ filter: 'envoy.filters.http.lua', path: [{ key: 'user' }, { key: 'score' }], value: { double_match: { range: { start: 5, end: 10 } } } }), true);
  assert.equal(m({ filter: 'envoy.filters.http.lua', path: [{ key: 'user' }, { key: 'score' }], value: { double_match: { exact: 8 } } }), false);
});

test('--metadata filter.key=value: the filter is everything before the last dot; values are JSON when they parse', () => {
  assert.deepEqual(parseMetadata(['envoy.lb.canary=true', 'envoy.lb.version=v2', 'envoy.filters.http.lua.score=7', 'x.obj={"a":[1]}']), {
    'envoy.lb': { canary: true, version: 'v2' },
    'envoy.filters.http.lua': { score: 7 },
    x: { obj: { a: [1] } },
  });
  assert.throws(() => parseMetadata(['canary=true']), /--metadata "canary=true" is not filter\.key=value/);
  assert.throws(() => parseMetadata(['envoy.lb.canary']), /is not filter\.key=value/);
});

test('require_tls ALL: the scheme is x-forwarded-proto as the connection manager leaves it', () => {
  const vhosts = [{ name: 'secure', domains: ['*'], require_tls: 'ALL', routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }];
  // a sidecar (use_remote_address false) keeps the client's x-forwarded-proto: a TLS-terminating proxy in front
  const fronted = trace(dump(vhosts, { use_remote_address: false }), { target: 'http://web/a', headers: [['X-Forwarded-Proto', 'https']] });
  assert.equal(fronted.result.redirect, null);
  assert.equal(fronted.result.cluster, 'app');
  assert.match(step(fronted, 'route').matched.join('\n'), /x-forwarded-proto https as sent by the client/);
  const plain = trace(dump(vhosts, { use_remote_address: false }), { target: 'http://web/a' });
  assert.equal(plain.result.redirect, 'https://web/a');
  // at an edge (use_remote_address, no trusted hops) the client's header is overwritten by the connection's scheme
  const edge = trace(dump(vhosts, { use_remote_address: true }), { target: 'http://web/a', headers: [['x-forwarded-proto', 'https']] });
  assert.equal(edge.result.redirect, 'https://web/a');
  assert.match(step(edge, 'route').matched.join('\n'), /the client's https is not trusted/);
  const trustedHop = trace(dump(vhosts, { use_remote_address: true, xff_num_trusted_hops: 1 }), { target: 'http://web/a', headers: [['x-forwarded-proto', 'https']] });
  assert.equal(trustedHop.result.redirect, null);
});

test('a redirect that keeps the scheme keeps the one x-forwarded-proto gives', () => {
  const d = dump([{ name: 'web', domains: ['*'], routes: [{ match: { prefix: '/' }, redirect: { path_redirect: '/new' } }] }]);
  assert.equal(trace(d, { target: 'http://web/old', headers: [['x-forwarded-proto', 'https']] }).result.redirect, 'https://web/new');
  assert.equal(trace(d, { target: 'http://web/old' }).result.redirect, 'http://web/new');
});

test('require_tls EXTERNAL_ONLY redirects an external http request; internal-ness as the connection manager decides it', () => {
  const vhosts = [{ name: 'app', domains: ['*'], require_tls: 'EXTERNAL_ONLY', routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }];
  const sidecar = dump(vhosts, { use_remote_address: false });
  // without use_remote_address and without x-forwarded-for a request is external, whatever its source
  const ext = trace(sidecar, { target: 'http://web/x' });
  assert.equal(ext.result.redirect, 'https://web/x');
  assert.match(step(ext, 'route').matched.join('\n'), /external: no x-forwarded-for/);
  // the client cannot declare itself internal: the connection manager removes x-envoy-internal
  const claims = trace(sidecar, { target: 'http://web/x', headers: [['x-envoy-internal', 'true']] });
  assert.equal(claims.result.redirect, 'https://web/x');
  assert.match(step(claims, 'route').notes.join('\n'), /x-envoy-internal from the client is removed/);
  // one internal address in x-forwarded-for makes it internal
  const viaXff = trace(sidecar, { target: 'http://web/x', headers: [['x-forwarded-for', '10.1.2.3']] });
  assert.equal(viaXff.result.redirect, null);
  assert.equal(viaXff.result.cluster, 'app');
  assert.equal(trace(sidecar, { target: 'http://web/x', headers: [['x-forwarded-for', '203.0.113.9']] }).result.redirect, 'https://web/x');
  // with use_remote_address the client's own address decides
  const edge = dump(vhosts, { use_remote_address: true });
  assert.equal(trace(edge, { target: 'http://web/x' }).result.cluster, 'app', 'source 10.244.0.12 is internal (RFC 1918)');
  assert.equal(trace(edge, { target: 'http://web/x', srcIp: '203.0.113.7' }).result.redirect, 'https://web/x');
  const listed = dump(vhosts, { use_remote_address: true, internal_address_config: { cidr_ranges: [{ address_prefix: '203.0.113.0', prefix_len: 24 }] } });
  assert.equal(trace(listed, { target: 'http://web/x', srcIp: '203.0.113.7' }).result.cluster, 'app');
  assert.equal(trace(listed, { target: 'http://web/x' }).result.redirect, 'https://web/x', '10.244.0.12 is not in internal_address_config');
  // https is never redirected
  assert.equal(trace(sidecar, { target: 'http://web/x', headers: [['x-forwarded-proto', 'https']] }).result.cluster, 'app');
});

test('CLI: --metadata reaches the trace; a malformed one is a usage error', async (t) => {
  const dir = scratchDir('meshctl-semantics-', t);
  const f = path.join(dir, 'dump.json');
  const canary = { match: { prefix: '/', dynamic_metadata: [{ filter: 'envoy.lb', path: [{ key: 'canary' }], value: { bool_match: true } }] }, route: { cluster: 'canary' } };
  writeFileSync(f, JSON.stringify(dump([{ name: 'web', domains: ['*'], routes: [canary, { match: { prefix: '/' }, route: { cluster: 'stable' } }] }])));
  const on = await runCli(['trace', '-f', f, 'http://web/', '--dst-ip', '10.96.0.80', '--metadata', 'envoy.lb.canary=true', '-o', 'json']);
  assert.equal(on.code, 0, on.stderr);
  assert.equal(JSON.parse(on.stdout).result.cluster, 'canary');
  const off = await runCli(['trace', '-f', f, 'http://web/', '--dst-ip', '10.96.0.80']);
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /cluster\s+stable/);
  const bad = await runCli(['trace', '-f', f, 'http://web/', '--metadata', 'canary']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--metadata "canary" is not filter\.key=value/);
});

test('the Result block shows a redirect with its status code (route redirects and require_tls)', async () => {
  const { renderTrace } = await import('../../src/trace/render.js');
  const { Chalk } = await import('chalk');
  const plain = new Chalk({ level: 0 });
  const found = trace(dump([{ name: 'web', domains: ['*'], routes: [{ match: { prefix: '/' }, redirect: { path_redirect: '/new', response_code: 'FOUND' } }] }]), { target: 'http://web/old' });
  assert.match(renderTrace(found, plain, 'dump.json'), /\n {2}redirect {10}302 → http:\/\/web\/new\n/);
  const tls = trace(dump([{ name: 'web', domains: ['*'], require_tls: 'ALL', routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }]), { target: 'http://web/x' });
  assert.match(renderTrace(tls, plain, 'dump.json'), /\n {2}redirect {10}301 → https:\/\/web\/x\n/);
  // a 3xx direct response carries its Location too
  const direct = trace(dump([{ name: 'web', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 307 } }] }]), { target: 'http://web/x' });
  assert.match(renderTrace(direct, plain, 'dump.json'), /\n {2}redirect {10}307 → http:\/\/web\/x\n {2}direct response   307\n/);
  // and the diagram's outcome names the status
  const { traceGraph } = await import('../../src/diagram/trace-graph.js');
  assert.ok(traceGraph(tls).nodes.some((n) => n.id === 'outcome:redirect 301' && n.details[0] === 'https://web/x'));
  assert.ok(traceGraph(found).nodes.some((n) => n.id === 'outcome:redirect 302'));
});
