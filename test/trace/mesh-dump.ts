/**
 * Builds fixtures/trace/mesh-config_dump.json: a Bookinfo-like Istio sidecar (productpage) /config_dump
 * with EDS, written by us to exercise every trace stage. Regenerate with
 *   npm run build && node dist/test/trace/mesh-dump.js --write
 * (a test checks the committed file still equals what this builds).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixture } from '../helpers.js';

type J = Record<string, unknown>;
const T = (t: string) => `type.googleapis.com/${t}`;
const NOW = '2026-11-20T10:00:00.000Z';
const NS = 'default';
const SUFFIX = `${NS}.svc.cluster.local`;

const sa = (address: string, port_value: number) => ({ socket_address: { address, port_value } });
const istioMeta = (kind: string, name: string) => ({ filter_metadata: { istio: { config: `/apis/networking.istio.io/v1alpha3/namespaces/${NS}/${kind}/${name}` } } });

function tcpProxy(cluster: string): J {
  return { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'), stat_prefix: cluster, cluster } };
}

function hcm(statPrefix: string, routing: J, extra: J = {}): J {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': T('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'),
      stat_prefix: statPrefix,
      ...routing,
      http_filters: [
        { name: 'istio.metadata_exchange', typed_config: { '@type': T('udpa.type.v1.TypedStruct'), type_url: T('io.istio.http.peer_metadata.Config'), value: {} } },
        { name: 'envoy.filters.http.fault', typed_config: { '@type': T('envoy.extensions.filters.http.fault.v3.HTTPFault') } },
        { name: 'envoy.filters.http.cors', typed_config: { '@type': T('envoy.extensions.filters.http.cors.v3.Cors') } },
        { name: 'istio.stats', typed_config: { '@type': T('udpa.type.v1.TypedStruct'), type_url: T('stats.PluginConfig'), value: {} } },
        { name: 'envoy.filters.http.router', typed_config: { '@type': T('envoy.extensions.filters.http.router.v3.Router') } },
      ],
      normalize_path: true,
      ...extra,
    },
  };
}

const tlsInspector = { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': T('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector') } };
const httpInspector = { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': T('envoy.extensions.filters.listener.http_inspector.v3.HttpInspector') } };
const originalDst = { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': T('envoy.extensions.filters.listener.original_dst.v3.OriginalDst') } };

const downstreamMtls = {
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

function upstreamIstioMutual(sni: string): J {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': T('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext'),
      common_tls_context: {
        alpn_protocols: ['istio-peer-exchange', 'istio'],
        tls_certificate_sds_secret_configs: [{ name: 'default' }],
        combined_validation_context: { default_validation_context: {}, validation_context_sds_secret_config: { name: 'ROOTCA' } },
      },
      sni,
    },
  };
}

function edsCluster(name: string, opts: { dr?: string; outlier?: boolean } = {}): J {
  const fqdn = name.split('|')[3];
  return {
    '@type': T('envoy.config.cluster.v3.Cluster'),
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: name },
    connect_timeout: '10s',
    lb_policy: opts.outlier ? 'LEAST_REQUEST' : undefined,
    circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295 }] },
    ...(opts.outlier ? { outlier_detection: { consecutive_5xx: 5, interval: '10s', base_ejection_time: '30s', max_ejection_percent: 100 } } : {}),
    metadata: { filter_metadata: { istio: { services: [{ host: fqdn, name: fqdn.split('.')[0], namespace: NS }], ...(opts.dr ? { config: `/apis/networking.istio.io/v1alpha3/namespaces/${NS}/destination-rule/${opts.dr}` } : {}) } } },
    transport_socket_matches: [
      { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: upstreamIstioMutual(`outbound_.${name.split('|')[1]}_.${name.split('|')[2]}_.${fqdn}`) },
      { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': T('envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer') } } },
    ],
  };
}

function cla(cluster: string, eps: [string, number, string, string][]): J {
  // [ip, port, zone, health]
  const byZone = new Map<string, J[]>();
  for (const [ip, port, zone, health] of eps) {
    const list = byZone.get(zone) ?? [];
    list.push({
      endpoint: { address: sa(ip, port) },
      health_status: health,
      metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } },
      load_balancing_weight: 1,
    });
    byZone.set(zone, list);
  }
  return {
    '@type': T('envoy.config.endpoint.v3.ClusterLoadAssignment'),
    cluster_name: cluster,
    endpoints: [...byZone.entries()].map(([zone, lb_endpoints]) => ({ locality: { region: 'us-east1', zone }, lb_endpoints, load_balancing_weight: lb_endpoints.length })),
    policy: { overprovisioning_factor: 140 },
  };
}

function domains(svc: string, port: number, vip: string): string[] {
  const fqdn = `${svc}.${SUFFIX}`;
  const names = [fqdn, svc, `${svc}.${NS}.svc`, `${svc}.${NS}`, vip];
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

const out = (svc: string, subset = '') => `outbound|9080|${subset}|${svc}.${SUFFIX}`;

function routeConfig9080(): J {
  const vh = (svc: string, vip: string, routes: J[]) => ({ name: `${svc}.${SUFFIX}:9080`, domains: domains(svc, 9080, vip), routes, include_request_attempt_count: true });
  const retry = { retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 2, retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }], host_selection_retry_max_attempts: '5' };
  return {
    '@type': T('envoy.config.route.v3.RouteConfiguration'),
    name: '9080',
    virtual_hosts: [
      vh('details', '10.96.0.33', [{ name: 'default', match: { prefix: '/' }, route: { cluster: out('details'), timeout: '0s', retry_policy: retry, max_grpc_timeout: '0s' }, decorator: { operation: `details.${SUFFIX}:9080/*` } }]),
      vh('productpage', '10.96.0.20', [{ name: 'default', match: { prefix: '/' }, route: { cluster: out('productpage'), timeout: '0s', retry_policy: retry } }]),
      vh('ratings', '10.96.0.32', [
        {
          name: 'ratings-fault',
          match: { prefix: '/', headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] },
          route: { cluster: out('ratings', 'v1'), timeout: '0s' },
          metadata: istioMeta('virtual-service', 'ratings'),
          typed_per_filter_config: {
            'envoy.filters.http.fault': {
              '@type': T('envoy.extensions.filters.http.fault.v3.HTTPFault'),
              delay: { fixed_delay: '7s', percentage: { numerator: 1000000, denominator: 'MILLION' } },
            },
          },
        },
        { name: 'ratings-default', match: { prefix: '/' }, route: { cluster: out('ratings', 'v1'), timeout: '0s', retry_policy: retry }, metadata: istioMeta('virtual-service', 'ratings') },
      ]),
      vh('reviews', '10.96.0.31', [
        {
          name: 'jason',
          match: { prefix: '/', case_sensitive: true, headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] },
          route: { cluster: out('reviews', 'v2'), timeout: '0s', retry_policy: retry },
          metadata: istioMeta('virtual-service', 'reviews'),
        },
        {
          name: 'api-v2',
          match: { prefix: '/api/v2' },
          route: { cluster: out('reviews', 'v3'), timeout: '3s', prefix_rewrite: '/api', retry_policy: { retry_on: '5xx', num_retries: 3, per_try_timeout: '1s' } },
          metadata: istioMeta('virtual-service', 'reviews'),
        },
        {
          name: 'split',
          match: { prefix: '/' },
          route: {
            weighted_clusters: { clusters: [{ name: out('reviews', 'v1'), weight: 80 }, { name: out('reviews', 'v3'), weight: 20 }] },
            timeout: '0s',
            retry_policy: retry,
            request_mirror_policies: [{ cluster: out('reviews', 'v2'), runtime_fraction: { default_value: { numerator: 10 } } }],
          },
          metadata: istioMeta('virtual-service', 'reviews'),
        },
      ]),
      // headless HTTP service: its virtual host lists names only, no VIP
      {
        name: `web.${SUFFIX}:9080`,
        domains: [`web.${SUFFIX}`, 'web', `web.${NS}.svc`, `web.${NS}`].flatMap((n) => [n, `${n}:9080`]),
        routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: out('web'), timeout: '0s' } }],
      },
      {
        name: 'legacy.example.com:9080',
        domains: ['legacy.example.com', 'legacy.example.com:9080'],
        routes: [{ name: 'moved', match: { prefix: '/' }, redirect: { host_redirect: `details.${SUFFIX}`, port_redirect: 9080, path_redirect: '/details' }, metadata: istioMeta('virtual-service', 'legacy') }],
      },
      { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster', timeout: '0s' } }], include_request_attempt_count: true },
    ],
    validate_clusters: false,
    ignore_port_in_host_matching: false,
  };
}

function inboundRouteConfig(): J {
  return {
    name: 'inbound|9080||',
    virtual_hosts: [{ name: 'inbound|http|9080', domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'inbound|9080||', timeout: '0s' }, decorator: { operation: `productpage.${SUFFIX}:9080/*` } }] }],
    validate_clusters: false,
  };
}

function listeners(): J[] {
  const l = (listener: J) => ({ name: listener.name, active_state: { version_info: '2026-11-20T10:00:00Z/12', listener: { '@type': T('envoy.config.listener.v3.Listener'), ...listener }, last_updated: NOW } });
  const inboundChains = [
    {
      name: '0.0.0.0_9080',
      filter_chain_match: { destination_port: 9080, transport_protocol: 'tls', application_protocols: ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] },
      transport_socket: downstreamMtls,
      filters: [hcm('inbound_0.0.0.0_9080', { route_config: inboundRouteConfig() }, { normalize_path: true })],
    },
    { name: '0.0.0.0_9080', filter_chain_match: { destination_port: 9080, transport_protocol: 'tls' }, transport_socket: downstreamMtls, filters: [tcpProxy('inbound|9080||')] },
    {
      name: '0.0.0.0_9080',
      filter_chain_match: { destination_port: 9080, transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] },
      filters: [hcm('inbound_0.0.0.0_9080', { route_config: inboundRouteConfig() })],
    },
    { name: '0.0.0.0_9080', filter_chain_match: { destination_port: 9080, transport_protocol: 'raw_buffer' }, filters: [tcpProxy('inbound|9080||')] },
    { name: 'virtualInbound', filter_chain_match: { prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: 0 }] }, filters: [tcpProxy('InboundPassthroughClusterIpv4')] },
  ];
  return [
    l({
      name: 'virtualOutbound',
      address: sa('0.0.0.0', 15001),
      use_original_dst: true,
      traffic_direction: 'OUTBOUND',
      filter_chains: [
        { name: 'virtualOutbound-blackhole', filter_chain_match: { destination_port: 15001 }, filters: [tcpProxy('BlackHoleCluster')] },
        { name: 'virtualOutbound-catchall-tcp', filters: [tcpProxy('PassthroughCluster')] },
      ],
    }),
    l({ name: 'virtualInbound', address: sa('0.0.0.0', 15006), traffic_direction: 'INBOUND', listener_filters: [originalDst, tlsInspector, httpInspector], filter_chains: inboundChains }),
    l({
      name: '0.0.0.0_9080',
      address: sa('0.0.0.0', 9080),
      bind_to_port: false,
      traffic_direction: 'OUTBOUND',
      listener_filters: [tlsInspector, httpInspector],
      filter_chains: [
        { filter_chain_match: { transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] }, filters: [hcm('outbound_0.0.0.0_9080', { rds: { route_config_name: '9080', config_source: { ads: {}, resource_api_version: 'V3' } } })] },
      ],
      default_filter_chain: { name: 'PassthroughFilterChain', filters: [tcpProxy('PassthroughCluster')] },
    }),
    l({
      name: '10.96.0.40_3306',
      address: sa('10.96.0.40', 3306),
      bind_to_port: false,
      traffic_direction: 'OUTBOUND',
      filter_chains: [{ filters: [tcpProxy(`outbound|3306||mysql.${SUFFIX}`)] }],
    }),
    // headless service: one listener per endpoint IP
    l({
      name: '10.244.4.4_27017',
      address: sa('10.244.4.4', 27017),
      bind_to_port: false,
      traffic_direction: 'OUTBOUND',
      filter_chains: [{ filters: [tcpProxy(`outbound|27017||mongo.${SUFFIX}`)] }],
    }),
    l({
      name: '0.0.0.0_443',
      address: sa('0.0.0.0', 443),
      bind_to_port: false,
      traffic_direction: 'OUTBOUND',
      listener_filters: [tlsInspector],
      filter_chains: [
        { filter_chain_match: { server_names: ['httpbin.org'] }, filters: [tcpProxy('outbound|443||httpbin.org')] },
        { filter_chain_match: { server_names: ['*.googleapis.com'] }, filters: [tcpProxy('outbound|443||*.googleapis.com')] },
      ],
      default_filter_chain: { name: 'PassthroughFilterChain', filters: [tcpProxy('PassthroughCluster')] },
    }),
  ];
}

function clusters(): { static_clusters: J[]; dynamic_active_clusters: J[] } {
  const d = (cluster: J) => ({ version_info: '2026-11-20T10:00:00Z/12', cluster, last_updated: NOW });
  return {
    static_clusters: [
      { cluster: { '@type': T('envoy.config.cluster.v3.Cluster'), name: 'prometheus_stats', type: 'STATIC', load_assignment: { cluster_name: 'prometheus_stats', endpoints: [{ lb_endpoints: [{ endpoint: { address: sa('127.0.0.1', 15000) } }] }] } }, last_updated: NOW },
    ],
    dynamic_active_clusters: [
      d({ '@type': T('envoy.config.cluster.v3.Cluster'), name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '10s' }),
      d({ '@type': T('envoy.config.cluster.v3.Cluster'), name: 'PassthroughCluster', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED' }),
      d({ '@type': T('envoy.config.cluster.v3.Cluster'), name: 'InboundPassthroughClusterIpv4', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } }),
      d({ '@type': T('envoy.config.cluster.v3.Cluster'), name: 'inbound|9080||', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } }),
      d(edsCluster(out('details'))),
      d(edsCluster(out('productpage'))),
      d(edsCluster(out('ratings'))),
      d(edsCluster(out('ratings', 'v1'), { dr: 'ratings' })),
      d(edsCluster(out('reviews'))),
      d(edsCluster(out('reviews', 'v1'), { dr: 'reviews' })),
      d(edsCluster(out('reviews', 'v2'), { dr: 'reviews' })),
      d(edsCluster(out('reviews', 'v3'), { dr: 'reviews', outlier: true })),
      d(edsCluster(`outbound|3306||mysql.${SUFFIX}`)),
      d(edsCluster(`outbound|27017||mongo.${SUFFIX}`)),
      d(edsCluster(out('web'))),
      d({
        '@type': T('envoy.config.cluster.v3.Cluster'),
        name: 'outbound|443||httpbin.org',
        type: 'STRICT_DNS',
        connect_timeout: '10s',
        dns_lookup_family: 'V4_ONLY',
        load_assignment: { cluster_name: 'outbound|443||httpbin.org', endpoints: [{ locality: {}, lb_endpoints: [{ endpoint: { address: sa('httpbin.org', 443) }, load_balancing_weight: 1 }] }] },
        metadata: { filter_metadata: { istio: { services: [{ host: 'httpbin.org', name: 'httpbin.org', namespace: NS }], config: `/apis/networking.istio.io/v1alpha3/namespaces/${NS}/service-entry/httpbin` } } },
      }),
    ],
  };
}

function endpoints(): J[] {
  const e = (c: J) => ({ endpoint_config: c });
  return [
    e(cla(out('details'), [['10.244.1.4', 9080, 'us-east1-b', 'HEALTHY']])),
    e(cla(out('productpage'), [['10.244.0.12', 9080, 'us-east1-b', 'HEALTHY']])),
    e(cla(out('ratings'), [['10.244.2.8', 9080, 'us-east1-c', 'HEALTHY']])),
    e(cla(out('ratings', 'v1'), [['10.244.2.8', 9080, 'us-east1-c', 'HEALTHY']])),
    e(cla(out('reviews'), [['10.244.1.5', 9080, 'us-east1-b', 'HEALTHY'], ['10.244.1.6', 9080, 'us-east1-b', 'HEALTHY'], ['10.244.2.7', 9080, 'us-east1-c', 'UNHEALTHY'], ['10.244.2.9', 9080, 'us-east1-c', 'HEALTHY']])),
    e(cla(out('reviews', 'v1'), [['10.244.1.5', 9080, 'us-east1-b', 'HEALTHY']])),
    e(cla(out('reviews', 'v2'), [['10.244.1.6', 9080, 'us-east1-b', 'HEALTHY']])),
    e(cla(out('reviews', 'v3'), [['10.244.2.7', 9080, 'us-east1-c', 'UNHEALTHY'], ['10.244.2.9', 9080, 'us-east1-c', 'HEALTHY']])),
    e(cla(`outbound|3306||mysql.${SUFFIX}`, [['10.244.3.3', 3306, 'us-east1-d', 'HEALTHY']])),
    e(cla(out('web'), [['10.244.5.5', 9080, 'us-east1-b', 'HEALTHY'], ['10.244.5.6', 9080, 'us-east1-b', 'HEALTHY']])),
    e(cla(`outbound|27017||mongo.${SUFFIX}`, [['10.244.4.4', 27017, 'us-east1-b', 'HEALTHY'], ['10.244.4.5', 27017, 'us-east1-c', 'HEALTHY']])),
  ];
}

export function buildMeshDump(): J {
  return {
    configs: [
      {
        '@type': T('envoy.admin.v3.BootstrapConfigDump'),
        bootstrap: {
          node: {
            id: `sidecar~10.244.0.12~productpage-v1-7d4b8d9b7c-x2x9z.${NS}~${SUFFIX}`,
            cluster: `productpage.${NS}`,
            metadata: { INSTANCE_IPS: '10.244.0.12', NAMESPACE: NS, NAME: 'productpage-v1-7d4b8d9b7c-x2x9z', ISTIO_VERSION: '1.24.0', LABELS: { app: 'productpage', version: 'v1' } },
            locality: { region: 'us-east1', zone: 'us-east1-b' },
          },
          static_resources: {},
          dynamic_resources: { lds_config: { ads: {} }, cds_config: { ads: {} } },
        },
        last_updated: NOW,
      },
      { '@type': T('envoy.admin.v3.ClustersConfigDump'), version_info: '2026-11-20T10:00:00Z/12', ...clusters() },
      { '@type': T('envoy.admin.v3.ListenersConfigDump'), version_info: '2026-11-20T10:00:00Z/12', dynamic_listeners: listeners() },
      {
        '@type': T('envoy.admin.v3.RoutesConfigDump'),
        dynamic_route_configs: [{ version_info: '2026-11-20T10:00:00Z/12', route_config: routeConfig9080(), last_updated: NOW }],
      },
      { '@type': T('envoy.admin.v3.SecretsConfigDump') },
      { '@type': T('envoy.admin.v3.EndpointsConfigDump'), dynamic_endpoint_configs: endpoints() },
    ],
  };
}

export const MESH_DUMP = fixture('trace', 'mesh-config_dump.json');

export function meshDumpText(): string {
  return JSON.stringify(buildMeshDump(), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(MESH_DUMP, meshDumpText());
  process.stdout.write(`wrote ${MESH_DUMP}\n`);
}
