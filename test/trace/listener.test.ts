import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { networkFilters } from '../../src/trace/filters.js';
import { detectedProperties, indexListeners, matchFilterChain, selectListener, type Connection } from '../../src/trace/listener.js';
import { fixture } from '../helpers.js';

const listeners = JSON.parse(readFileSync(fixture('trace', 'listeners.json'), 'utf8'));
const idx = indexListeners(listeners);

function conn(over: Partial<Connection>): Connection {
  return { dstIp: '10.96.1.1', dstPort: 80, srcIp: '10.244.0.5', srcPort: 40000, tls: false, sni: '', alpn: [], plaintextHttp: null, ...over };
}

test('virtual outbound hands off to the exact IP:port listener before the wildcard one', () => {
  const c = conn({ dstIp: '10.96.7.7', dstPort: 9080, plaintextHttp: 'http/1.1' });
  const l = selectListener(idx, c, 15001);
  assert.equal(l.receiving.name, 'virtualOutbound');
  assert.equal(l.listener.name, '10.96.7.7_9080');
  assert.match(l.how, /virtualOutbound \(use_original_dst\) hands the connection to listener 10\.96\.7\.7_9080 bound to 10\.96\.7\.7:9080/);
  assert.deepEqual(l.losers.map((x) => x.name), ['0.0.0.0_9080']);
  assert.match(l.losers[0].reason, /exact address 10\.96\.7\.7:9080 wins/);
});

test('virtual outbound falls back to 0.0.0.0:port', () => {
  const l = selectListener(idx, conn({ dstIp: '10.96.8.8', dstPort: 9080 }), 15001);
  assert.equal(l.listener.name, '0.0.0.0_9080');
  assert.match(l.how, /0\.0\.0\.0:9080 \(no listener on 10\.96\.8\.8:9080\)/);
});

test('no listener for the destination: the virtual outbound listener\'s own chains, passthrough', () => {
  const c = conn({ dstIp: '93.184.216.34', dstPort: 8081 });
  const l = selectListener(idx, c, 15001);
  assert.equal(l.listener.name, 'virtualOutbound');
  assert.match(l.how, /no listener for 93\.184\.216\.34:8081 or 0\.0\.0\.0:8081/);
  const fc = matchFilterChain(l.listener, c);
  assert.equal(fc.name, 'virtualOutbound-catchall-tcp');
  assert.equal(networkFilters(fc.chain, undefined).tcpProxy?.cluster, 'PassthroughCluster');
  assert.match(fc.losers.find((x) => x.name === 'virtualOutbound-blackhole')!.reason, /prefix_ranges \[10\.255\.0\.1\/32\] do not contain 93\.184\.216\.34/);
});

test('blackhole: the longest destination prefix wins', () => {
  const c = conn({ dstIp: '10.255.0.1', dstPort: 8081 });
  const fc = matchFilterChain(selectListener(idx, c, 15001).listener, c);
  assert.equal(fc.name, 'virtualOutbound-blackhole');
  assert.equal(networkFilters(fc.chain, undefined).tcpProxy?.cluster, 'BlackHoleCluster');
  assert.match(fc.losers[0].reason, /no prefix_ranges, but a longer prefix matches 10\.255\.0\.1/);
});

test('destination IP: /32 beats /16', () => {
  const c = conn({ dstIp: '10.96.3.3', dstPort: 3306 });
  const l = selectListener(idx, c, 15001);
  const fc = matchFilterChain(l.listener, c);
  assert.equal(fc.name, 'mysql-primary');
  assert.match(fc.losers[0].reason, /prefix_ranges \[10\.96\.0\.0\/16\] lose to a longer prefix/);
});

test('plaintext HTTP: http_inspector\'s ALPN picks the HTTP chain over the raw_buffer one', () => {
  const c = conn({ dstIp: '10.96.8.8', dstPort: 9080, plaintextHttp: 'http/1.1' });
  const fc = matchFilterChain(selectListener(idx, c, 15001).listener, c);
  assert.equal(fc.name, '0.0.0.0_9080-http');
  assert.equal(networkFilters(fc.chain, undefined).hcm?.rdsName, '9080');
  const tcp = matchFilterChain(selectListener(idx, c, 15001).listener, { ...c, plaintextHttp: null });
  assert.equal(tcp.name, '0.0.0.0_9080-tcp');
  assert.match(tcp.losers[0].reason, /application_protocols \[http\/1\.1, h2c\] offered: none/);
});

test('transport_protocol is decided before application_protocols, without backtracking', () => {
  const l = structuredClone(idx.byName.get('0.0.0.0_9080'));
  delete l.filter_chains[0].filter_chain_match.transport_protocol;
  const fc = matchFilterChain(l, conn({ dstIp: '10.96.8.8', dstPort: 9080, plaintextHttp: 'http/1.1' }));
  assert.equal(fc.name, '0.0.0.0_9080-tcp');
  assert.match(fc.losers[0].reason, /no transport_protocol, but a chain for raw_buffer exists and wins/);
});

test('SNI: exact, then the most specific wildcard, then chains without server names', () => {
  const base = { dstIp: '10.96.9.9', dstPort: 443, tls: true };
  const pick = (sni: string) => {
    const c = conn({ ...base, sni });
    return matchFilterChain(selectListener(idx, c, 15001).listener, c);
  };
  assert.equal(pick('api.example.com').name, 'api-exact');
  assert.equal(pick('www.example.com').name, 'example-wildcard');
  assert.equal(pick('db.eu.example.com').name, 'deep-wildcard');
  const none = pick('other.org');
  assert.equal(none.name, 'tls-no-sni');
  assert.ok(none.losers.some((x) => x.name === 'api-exact' && /do not match SNI "other\.org"/.test(x.reason)));
  const wild = pick('www.example.com');
  assert.ok(wild.losers.some((x) => x.name === 'tls-no-sni' && /no server_names, but \*\.example\.com is more specific/.test(x.reason)));
});

test('plain TCP to a TLS-only listener uses the default_filter_chain', () => {
  const c = conn({ dstIp: '10.96.9.9', dstPort: 443 });
  const fc = matchFilterChain(selectListener(idx, c, 15001).listener, c);
  assert.equal(fc.usedDefault, true);
  assert.equal(fc.name, 'plain-default');
  assert.match(fc.notes.join('\n'), /default_filter_chain handles the connection/);
});

test('weighted tcp_proxy clusters: --random decides as Envoy does', () => {
  const c = conn({ dstIp: '10.96.9.9', dstPort: 443, tls: true, sni: 'split.example.org' });
  const fc = matchFilterChain(selectListener(idx, c, 15001).listener, c);
  assert.equal(fc.name, 'weighted');
  assert.equal(networkFilters(fc.chain, 79).tcpProxy?.cluster, 'split-a');
  assert.equal(networkFilters(fc.chain, 180).tcpProxy?.cluster, 'split-b');
  const undecided = networkFilters(fc.chain, undefined);
  assert.equal(undecided.tcpProxy?.cluster, null);
  assert.match(undecided.uncertain.join('\n'), /--random/);
});

test('inbound with mTLS: destination port, then transport, then ALPN', () => {
  const http = conn({ dstIp: '10.244.0.9', dstPort: 9080, tls: true, alpn: ['istio-http/1.1', 'istio', 'http/1.1'] });
  const l = selectListener(idx, http, 15006);
  assert.equal(l.listener.name, 'virtualInbound');
  const fc = matchFilterChain(l.listener, http);
  assert.equal(fc.name, '0.0.0.0_9080-mtls-http');
  assert.equal(fc.chain.transport_socket.typed_config.require_client_certificate, true);
  assert.ok(fc.losers.some((x) => x.name === '0.0.0.0_9080-plaintext' && /transport_protocol raw_buffer ≠ tls/.test(x.reason)));
  assert.ok(fc.losers.some((x) => x.name === 'inbound-passthrough' && /no destination_port, but a chain for port 9080 exists/.test(x.reason)));
  const inline = networkFilters(fc.chain, undefined).hcm;
  assert.equal(inline?.rdsName, null);
  assert.equal(inline?.inlineRouteConfig?.name, 'inbound|9080||');

  const tcp = matchFilterChain(l.listener, { ...http, alpn: ['istio-peer-exchange', 'istio'] });
  assert.equal(tcp.name, '0.0.0.0_9080-mtls-tcp');
  const plain = matchFilterChain(l.listener, { ...http, tls: false, alpn: [] });
  assert.equal(plain.name, '0.0.0.0_9080-plaintext');
  const other = matchFilterChain(l.listener, { ...http, dstPort: 7777 });
  assert.equal(other.name, 'inbound-passthrough');
});

test('source type: a local connection picks SAME_IP_OR_LOOPBACK, an external one the ANY chain', () => {
  const local = conn({ dstIp: '10.244.0.9', dstPort: 15021, srcIp: '127.0.0.6' });
  const l = selectListener(idx, local, 15006).listener;
  assert.equal(matchFilterChain(l, local).name, 'inbound-local');
  assert.equal(matchFilterChain(l, { ...local, srcIp: '10.244.0.9' }).name, 'inbound-local', 'same IP counts as local');
  assert.equal(matchFilterChain(l, { ...local, srcIp: '10.244.1.1' }).name, 'inbound-external');
});

test('filter_chain_matcher: the matcher tree decides by transport protocol and ALPN', () => {
  const l = idx.byName.get('matcher-listener');
  const base = conn({ dstIp: '10.1.1.1', dstPort: 8443 });
  assert.equal(matchFilterChain(l, { ...base, tls: true, alpn: ['h2'] }).name, 'm-tls-h2');
  const tls = matchFilterChain(l, { ...base, tls: true, alpn: ['http/1.1'] });
  assert.equal(tls.name, 'm-tls');
  assert.equal(tls.mode, 'filter_chain_matcher');
  assert.match(tls.levels.map((x) => x.value).join(' | '), /transport tls: exact entry \| alpn 'http\/1\.1': no exact entry \| on_no_match/);
  assert.equal(matchFilterChain(l, base).name, 'm-plain');
});

test('network filters: Lua and Wasm are reported as not decidable offline; RBAC and ext_authz are left to the authorization step', () => {
  const chain = {
    filters: [
      { name: 'envoy.filters.network.rbac', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC', rules: { action: 'DENY', policies: { a: {}, b: {} } } } },
      { name: 'envoy.filters.network.wasm', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm' } },
      {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          rds: { route_config_name: '80' },
          strip_matching_host_port: true,
          http_filters: [
            { name: 'envoy.filters.http.ext_authz', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz' } },
            { name: 'envoy.filters.http.lua', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua' } },
            { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
          ],
        },
      },
    ],
  };
  const nf = networkFilters(chain, undefined);
  assert.deepEqual(nf.filters.map((f) => f.name), ['envoy.filters.network.rbac', 'envoy.filters.network.wasm', 'envoy.filters.network.http_connection_manager']);
  assert.equal(nf.filters[0].effect, 'DENY with 2 policies');
  assert.equal(nf.hcm?.rdsName, '80');
  assert.equal(nf.hcm?.stripMatchingHostPort, true);
  assert.deepEqual(nf.hcm?.httpFilters.map((f) => f.effect), ['asks an external authorization service (Istio CUSTOM; see the authorization step)', 'runs user code', 'forwards to the routed cluster']);
  const u = nf.uncertain.join('\n');
  assert.doesNotMatch(u, /rbac|ext_authz/i, 'RBAC and ext_authz are decided (or reported undecided) by the authorization step');
  assert.match(u, /envoy\.filters\.network\.wasm: Wasm code can change the connection's fate; not decidable offline/);
  assert.match(u, /envoy\.filters\.http\.lua: Lua code can change or reject the request; not decidable offline/);
});

test('chains that want ALPN http/1.1 on a listener without http_inspector never match plaintext HTTP, and the trace says why', () => {
  const httpChain = { filter_chain_match: { transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] }, filters: [] };
  const withInspector = { name: '0.0.0.0_9080', filter_chains: [httpChain], listener_filters: [{ name: 'envoy.filters.listener.http_inspector' }] };
  const without = { name: '0.0.0.0_9080', filter_chains: [httpChain] };
  const c = conn({ dstPort: 9080, plaintextHttp: 'http/1.1' });
  assert.deepEqual(detectedProperties(withInspector, c), { transport: 'raw_buffer', sni: '', alpn: ['http/1.1'], notes: [] });
  const blind = detectedProperties(without, c);
  assert.deepEqual(blind.alpn, []);
  assert.match(blind.notes.join('\n'), /no http_inspector listener filter runs here/);
  // inherited from the listener that handed the connection off counts too
  assert.deepEqual(detectedProperties(without, c, [{ name: 'envoy.filters.listener.http_inspector' }]).alpn, ['http/1.1']);
});
