import { buildFilters, type AuthorizationPolicyDoc } from '../../src/authz/istio-policy.js';
import { selectPolicies } from '../../src/authz/select.js';

/**
 * An Istio 1.24-shaped sidecar /config_dump of one workload whose inbound side carries the RBAC (and
 * ext_authz) filters Istio builds from the given AuthorizationPolicies: virtualInbound with, per port,
 * an mTLS chain and a plaintext chain (PERMISSIVE), HTTP ports through a connection manager with
 * jwt_authn before the authorization filters, TCP ports through network RBAC and tcp_proxy. Used by the
 * authz fixtures (test/authz/fixtures.ts) and the authz benchmark (1,000 policies).
 */
type J = Record<string, unknown>;
const T = (t: string) => `type.googleapis.com/${t}`;
const NOW = '2026-11-20T10:00:00.000Z';

export interface Workload {
  name: string;
  namespace: string;
  serviceAccount: string;
  ip: string;
  labels: Record<string, string>;
  ports: { port: number; protocol: 'HTTP' | 'TCP' }[];
  /** Issuers of RequestAuthentications selecting the workload (jwt_authn providers). */
  jwtIssuers?: string[];
}

const tlsInspector = { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': T('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector') } };
const originalDst = { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': T('envoy.extensions.filters.listener.original_dst.v3.OriginalDst') } };

const mtls = {
  name: 'envoy.transport_sockets.tls',
  typed_config: {
    '@type': T('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext'),
    common_tls_context: {
      alpn_protocols: ['h2', 'http/1.1'],
      tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: { api_config_source: { api_type: 'GRPC' } } }],
      combined_validation_context: { default_validation_context: {}, validation_context_sds_secret_config: { name: 'ROOTCA' } },
    },
    require_client_certificate: true,
  },
};

function jwtAuthn(issuers: string[]): J {
  const providers: J = {};
  issuers.forEach((iss, i) => {
    providers[`origins-${i}`] = { issuer: iss, local_jwks: { inline_string: '{"keys":[]}' }, forward: true, payload_in_metadata: 'payload' };
  });
  return {
    name: 'envoy.filters.http.jwt_authn',
    typed_config: {
      '@type': T('envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication'),
      providers,
      rules: [{ match: { prefix: '/' }, requires: { requires_any: { requirements: [...Object.keys(providers).map((p) => ({ provider_name: p })), { allow_missing: {} }] } } }],
      bypass_cors_preflight: true,
    },
  };
}

function httpChain(w: Workload, port: number, tls: boolean, authz: J[]): J {
  const cluster = port ? `inbound|${port}||` : 'InboundPassthroughCluster';
  return {
    name: `0.0.0.0_${port}`,
    filter_chain_match: { destination_port: port, transport_protocol: tls ? 'tls' : 'raw_buffer', ...(tls ? { application_protocols: ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] } : {}) },
    ...(tls ? { transport_socket: mtls } : {}),
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': T('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'),
          stat_prefix: cluster,
          route_config: {
            name: cluster,
            virtual_hosts: [{ name: `inbound|http|${port}`, domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: '0s' }, decorator: { operation: `${w.name}.${w.namespace}.svc.cluster.local:${port}/*` } }] }],
            validate_clusters: false,
          },
          http_filters: [
            { name: 'istio.metadata_exchange', typed_config: { '@type': T('udpa.type.v1.TypedStruct'), type_url: T('io.istio.http.peer_metadata.Config'), value: {} } },
            ...(w.jwtIssuers?.length ? [jwtAuthn(w.jwtIssuers)] : []),
            ...authz,
            { name: 'envoy.filters.http.fault', typed_config: { '@type': T('envoy.extensions.filters.http.fault.v3.HTTPFault') } },
            { name: 'envoy.filters.http.router', typed_config: { '@type': T('envoy.extensions.filters.http.router.v3.Router') } },
          ],
          normalize_path: true,
          merge_slashes: true,
          path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
          use_remote_address: false,
          forward_client_cert_details: 'APPEND_FORWARD',
        },
      },
    ],
  };
}

function tcpChain(port: number, tls: boolean, authz: J[]): J {
  const cluster = port ? `inbound|${port}||` : 'InboundPassthroughCluster';
  return {
    name: `0.0.0.0_${port}`,
    filter_chain_match: { destination_port: port, transport_protocol: tls ? 'tls' : 'raw_buffer' },
    ...(tls ? { transport_socket: mtls } : {}),
    filters: [
      { name: 'istio.metadata_exchange', typed_config: { '@type': T('udpa.type.v1.TypedStruct'), type_url: T('envoy.tcp.metadataexchange.config.MetadataExchange'), value: { protocol: 'istio-peer-exchange' } } },
      ...authz,
      { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'), stat_prefix: cluster, cluster } },
    ],
  };
}

/** The filters Istio builds for the policies that select the workload (root namespace istio-system). */
export function workloadFilters(w: Workload, policies: AuthorizationPolicyDoc[]): ReturnType<typeof buildFilters> {
  const selected = selectPolicies(policies, { namespace: w.namespace, labels: w.labels, rootNamespace: 'istio-system' }).map((s) => s.policy);
  return buildFilters(selected);
}

export function authzDump(w: Workload, policies: AuthorizationPolicyDoc[]): J {
  const f = workloadFilters(w, policies);
  const chains: J[] = [];
  for (const p of w.ports) {
    for (const tls of [true, false]) chains.push(p.protocol === 'HTTP' ? httpChain(w, p.port, tls, f.http as J[]) : tcpChain(p.port, tls, f.network as J[]));
  }
  // Istio's passthrough chains (traffic to ports no service declares) carry the same filters.
  for (const tls of [true, false]) {
    const http = httpChain(w, 0, tls, f.http as J[]);
    http.name = 'virtualInbound-catchall-http';
    http.filter_chain_match = { prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: 0 }], transport_protocol: tls ? 'tls' : 'raw_buffer', application_protocols: tls ? ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] : ['http/1.1', 'h2c'] };
    chains.push(http);
    const tcp = tcpChain(0, tls, f.network as J[]);
    tcp.name = 'virtualInbound';
    tcp.filter_chain_match = { prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: 0 }], transport_protocol: tls ? 'tls' : 'raw_buffer' };
    chains.push(tcp);
  }
  const virtualInbound = {
    name: 'virtualInbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
    filter_chains: chains,
    listener_filters: [originalDst, tlsInspector],
    traffic_direction: 'INBOUND',
  };
  const virtualOutbound = {
    name: 'virtualOutbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
    filter_chains: [{ name: 'virtualOutbound-catchall-tcp', filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'), stat_prefix: 'PassthroughCluster', cluster: 'PassthroughCluster' } }] }],
    use_original_dst: true,
    traffic_direction: 'OUTBOUND',
  };
  const listener = (l: J) => ({ name: l.name, active_state: { version_info: NOW, listener: { '@type': T('envoy.config.listener.v3.Listener'), ...l }, last_updated: NOW } });
  const cluster = (name: string) => ({
    version_info: NOW,
    cluster: {
      '@type': T('envoy.config.cluster.v3.Cluster'),
      name,
      type: 'ORIGINAL_DST',
      connect_timeout: '10s',
      lb_policy: 'CLUSTER_PROVIDED',
      upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } },
      metadata: { filter_metadata: { istio: { services: [{ host: `${w.name}.${w.namespace}.svc.cluster.local`, name: w.name, namespace: w.namespace }] } } },
      common_lb_config: {},
    },
    last_updated: NOW,
  });
  return {
    configs: [
      {
        '@type': T('envoy.admin.v3.BootstrapConfigDump'),
        bootstrap: {
          node: {
            id: `sidecar~${w.ip}~${w.name}-7d8f9c6b5-abcde.${w.namespace}~${w.namespace}.svc.cluster.local`,
            cluster: `${w.name}.${w.namespace}`,
            metadata: { INSTANCE_IPS: w.ip, NAMESPACE: w.namespace, NAME: `${w.name}-7d8f9c6b5-abcde`, SERVICE_ACCOUNT: w.serviceAccount, ISTIO_VERSION: '1.24.0', LABELS: w.labels },
          },
          static_resources: {},
          dynamic_resources: { lds_config: { ads: {} }, cds_config: { ads: {} } },
        },
        last_updated: NOW,
      },
      { '@type': T('envoy.admin.v3.ClustersConfigDump'), version_info: NOW, dynamic_active_clusters: w.ports.map((p) => cluster(`inbound|${p.port}||`)) },
      { '@type': T('envoy.admin.v3.ListenersConfigDump'), version_info: NOW, dynamic_listeners: [listener(virtualOutbound), listener(virtualInbound)] },
      { '@type': T('envoy.admin.v3.RoutesConfigDump') },
      { '@type': T('envoy.admin.v3.SecretsConfigDump') },
    ],
  };
}

/** n AuthorizationPolicies of `rules` rules each for the benchmark: ALLOW and DENY, every common field. */
export function manyPolicies(n: number, rules: number, namespace: string, app: string): AuthorizationPolicyDoc[] {
  const out: AuthorizationPolicyDoc[] = [];
  for (let i = 0; i < n; i++) {
    const deny = i % 10 === 9;
    out.push({
      metadata: { name: `policy-${String(i).padStart(4, '0')}`, namespace },
      spec: {
        selector: { matchLabels: { app } },
        action: deny ? 'DENY' : 'ALLOW',
        rules: Array.from({ length: rules }, (_, r) => ({
          from: [{ source: { principals: [`cluster.local/ns/team-${i}/sa/client-${r}`], notNamespaces: deny ? ['trusted'] : undefined } }],
          to: [{ operation: { methods: ['GET', 'POST'], paths: [`/api/v${r}/team-${i}/*`, `/api/v${r}/team-${i}/{*}/items`], ports: ['8000'] } }],
          when: [{ key: 'request.headers[x-team]', values: [`team-${i}`] }],
        })),
      },
    });
  }
  return out;
}
