/**
 * The upstream TLS validator as the trace reports it, and the SPIFFE certificate validator's two forms:
 * `trust_domains` (a list of name + PEM bundle) and the newer `trust_bundles` (one SPIFFE trust bundle
 * map: trust domain → JWKS whose x509-svid keys carry the CAs as base64 DER in `x5c`), which takes
 * precedence when both are set.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfigDump } from '../../src/envoy/index.js';
import { secretRows } from '../../src/envoy/tables/secret.js';
import { worldFromConfigDump } from '../../src/trace/dump-world.js';
import { traceRequest } from '../../src/trace/trace.js';
import { fixture } from '../helpers.js';

const T = 'type.googleapis.com/';
const pem = (f: string) => readFileSync(fixture('envoy', 'spiffe', 'certs', f), 'utf8');
const der = (p: string) => [...p.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => m[1].replace(/\s+/g, ''));
const validator = (config: Record<string, unknown>) => ({
  custom_validator_config: { name: 'envoy.tls.cert_validator.spiffe', typed_config: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig`, ...config } },
});
const TRUST_DOMAINS = {
  trust_domains: [
    { name: 'east.local', trust_bundle: { inline_bytes: Buffer.from(pem('east-root.pem') + pem('east-root-old.pem')).toString('base64') } },
    { name: 'west.local', trust_bundle: { inline_string: pem('west-root.pem') } },
  ],
};
const bundleMap = (domains: Record<string, string[]>) =>
  JSON.stringify({ trust_domains: Object.fromEntries(Object.entries(domains).map(([td, certs]) => [td, { spiffe_sequence: 1, keys: certs.map((c) => ({ use: 'x509-svid', kty: 'EC', x5c: [c] })) }])) });
const TRUST_BUNDLES = { trust_bundles: { inline_string: bundleMap({ 'east.local': [...der(pem('east-root.pem')), ...der(pem('east-root-old.pem'))], 'west.local': der(pem('west-root.pem')) }) } };

/** An HTTP listener routing to one cluster that originates mTLS, verified with the ROOTCA secret. */
function dump(rootca: Record<string, unknown> | null, inline: Record<string, unknown> = {}): unknown {
  const hcm = {
    '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
    stat_prefix: 'web',
    route_config: { name: 'web', virtual_hosts: [{ name: 'web', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'outbound|80||web.default.svc.cluster.local' } }] }] },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` } }],
  };
  const listener = { name: '0.0.0.0_80', address: { socket_address: { address: '0.0.0.0', port_value: 80 } }, filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] }] };
  const cluster = {
    '@type': `${T}envoy.config.cluster.v3.Cluster`,
    name: 'outbound|80||web.default.svc.cluster.local',
    type: 'STATIC',
    load_assignment: { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.244.0.9', port_value: 80 } } } }] }] },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
        common_tls_context: {
          tls_certificate_sds_secret_configs: [{ name: 'default' }],
          combined_validation_context: { default_validation_context: { match_subject_alt_names: [{ exact: 'spiffe://west.local/ns/default/sa/web' }], ...inline }, validation_context_sds_secret_config: { name: 'ROOTCA' } },
        },
        sni: 'outbound_.80_._.web.default.svc.cluster.local',
      },
    },
  };
  const secrets = rootca ? [{ name: 'ROOTCA', secret: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.Secret`, name: 'ROOTCA', validation_context: rootca } }] : [];
  return {
    configs: [
      { '@type': `${T}envoy.admin.v3.ClustersConfigDump`, dynamic_active_clusters: [{ cluster }] },
      { '@type': `${T}envoy.admin.v3.ListenersConfigDump`, dynamic_listeners: [{ name: listener.name, active_state: { listener: { '@type': `${T}envoy.config.listener.v3.Listener`, ...listener } } }] },
      { '@type': `${T}envoy.admin.v3.SecretsConfigDump`, dynamic_active_secrets: secrets },
    ],
  };
}

function clusterStep(d: unknown) {
  const t = traceRequest(worldFromConfigDump(parseConfigDump(d, 'test')), { target: 'http://web/', dstIp: '10.96.0.9', srcIp: '10.244.0.12' });
  const s = t.steps.find((x) => x.stage === 'cluster');
  assert.ok(s, 'no cluster step');
  return s.matched.find((m) => m.startsWith('server certificate')) ?? '';
}

test('trace: the SPIFFE validator of the ROOTCA secret is read in both forms; trust_bundles wins over trust_domains', () => {
  assert.equal(
    clusterStep(dump(validator(TRUST_DOMAINS))),
    'server certificate verified against ROOTCA (SDS): SPIFFE validator, the server\'s SPIFFE ID must be in trust domains east.local, west.local (trust_domains); SAN spiffe://west.local/ns/default/sa/web',
  );
  assert.equal(
    clusterStep(dump(validator(TRUST_BUNDLES))),
    'server certificate verified against ROOTCA (SDS): SPIFFE validator, the server\'s SPIFFE ID must be in trust domains east.local, west.local (trust_bundles map); SAN spiffe://west.local/ns/default/sa/web',
  );
  const both = { ...TRUST_DOMAINS, trust_bundles: { inline_string: bundleMap({ 'north.local': der(pem('west-root.pem')) }) } };
  assert.match(clusterStep(dump(validator(both))), /trust domain north\.local \(trust_bundles map\)/);
  assert.match(clusterStep(dump(validator({ trust_bundles: { filename: '/etc/spire/bundle.json' } }))), /SPIFFE validator, trust bundle map in \/etc\/spire\/bundle\.json on the proxy/);
  assert.match(clusterStep(dump(validator({ trust_bundles: { inline_string: 'not json' } }))), /SPIFFE validator, the trust bundle map is not JSON/);
  // a plain CA, a secret the dump lacks, and a validator inline in the cluster
  assert.match(clusterStep(dump({ trusted_ca: { inline_string: pem('west-root.pem') } })), /^server certificate verified against ROOTCA \(SDS\): its CA; SAN /);
  assert.match(clusterStep(dump(null)), /ROOTCA \(SDS, not in the dump\)/);
  assert.match(clusterStep(dump(null, validator(TRUST_BUNDLES))), /ROOTCA \(SDS, not in the dump\): SPIFFE validator, .* trust domains east\.local, west\.local \(trust_bundles map\)/);
});

test('proxy-config secret: a trust_bundles map gives the same CA rows as trust_domains', () => {
  const rows = (rootca: Record<string, unknown>) =>
    secretRows(parseConfigDump(dump(rootca), 'test'), new Date('2026-12-01T00:00:00Z')).map((r) => [r.name, r.type, r.serial, r.trustDomain, r.valid].join(' '));
  const fromDomains = rows(validator(TRUST_DOMAINS));
  assert.equal(fromDomains.length, 3);
  assert.deepEqual(rows(validator(TRUST_BUNDLES)), fromDomains);
  assert.deepEqual(fromDomains.map((r) => r.split(' ')[3]), ['east.local', 'east.local', 'west.local']);
});

const BOOKINFO = fixture('bookinfo', 'productpage-config_dump.json');
const bookinfo = () => worldFromConfigDump(parseConfigDump(JSON.parse(readFileSync(BOOKINFO, 'utf8')), 'bookinfo'));
const notes = (t: ReturnType<typeof traceRequest>) => t.steps.find((s) => s.stage === 'cluster')!.notes;

test('what happens to the client TLS: passed through on outbound passthrough, ended by the inbound mTLS chain', () => {
  // outbound to an external https host: the client's TLS goes through PassthroughCluster untouched
  assert.ok(notes(traceRequest(bookinfo(), { target: 'https://www.google.com/' })).includes("Envoy adds no TLS: the client's own TLS passes through unchanged"));
  // inbound passthrough: the mTLS chain terminates the peer's TLS, the application gets plaintext
  const inbound = notes(traceRequest(bookinfo(), { target: 'tcp://10.244.0.12:9999', direction: 'inbound' }));
  assert.ok(!inbound.some((n) => /passes through unchanged/.test(n)), inbound.join('\n'));
  assert.ok(inbound.includes("the client's TLS ends at this filter chain: Envoy forwards plaintext to the application"));
  // a plaintext client: nothing to say
  assert.ok(!notes(traceRequest(bookinfo(), { target: 'tcp://10.244.0.12:9999', direction: 'inbound', plaintext: true })).some((n) => /TLS/.test(n)));
});

test('network RBAC on a chain that does not terminate TLS sees no peer certificate (Envoy: no ssl(), no principal)', () => {
  const rbac = {
    name: 'envoy.filters.network.rbac',
    typed_config: {
      '@type': `${T}envoy.extensions.filters.network.rbac.v3.RBAC`,
      stat_prefix: 'tcp.',
      rules: { action: 'ALLOW', policies: { 'ns[foo]-policy[p]-rule[0]': { permissions: [{ any: true }], principals: [{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/foo/sa/sleep' } } }] } } },
    },
  };
  const tcp = { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, stat_prefix: 'out', cluster: 'out' } };
  const listener = { name: '0.0.0.0_443', address: { socket_address: { address: '0.0.0.0', port_value: 443 } }, filter_chains: [{ filters: [rbac, tcp] }] };
  const d = {
    configs: [
      { '@type': `${T}envoy.admin.v3.ClustersConfigDump`, dynamic_active_clusters: [{ cluster: { '@type': `${T}envoy.config.cluster.v3.Cluster`, name: 'out', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' } }] },
      { '@type': `${T}envoy.admin.v3.ListenersConfigDump`, dynamic_listeners: [{ name: listener.name, active_state: { listener: { '@type': `${T}envoy.config.listener.v3.Listener`, ...listener } } }] },
    ],
  };
  const t = traceRequest(worldFromConfigDump(parseConfigDump(d, 'test')), { target: 'https://ext.example.com/', dstIp: '203.0.113.10', srcIp: '10.244.0.12', identity: { principal: 'spiffe://cluster.local/ns/foo/sa/sleep' } });
  // before: the passthrough chain was taken as terminating TLS, and the principal allowed it
  assert.equal(t.result.authz?.decision, 'DENY');
  assert.match(t.steps.find((s) => s.stage === 'authz')!.notes.join('\n'), /not TLS terminated here: no peer certificate/);
});
