/**
 * An Istio sidecar's `/config_dump?include_eds` for the mesh model: Envoy v3 admin types in the
 * snake_case JSON Envoy prints, with the names and metadata istiod writes (outbound|port|subset|fqdn
 * clusters, per-port listeners and route configurations, DestinationRule/VirtualService metadata).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lazy, streamed } from './json-stream.js';
import type { Mesh, Service, ServicePort } from './mesh.js';
import { clusterName } from './mesh.js';

const T = 'type.googleapis.com/';
export const ISTIO_VERSION = '1.24.2';
const STAMP = '2026-11-20T09:14:03.512Z';
const VERSION_INFO = '2026-11-20T09:14:01Z/142';

const ADS = { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' };
const SDS = {
  api_config_source: {
    api_type: 'GRPC',
    grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }],
    set_node_on_first_message_only: true,
    transport_api_version: 'V3',
  },
  initial_fetch_timeout: '0s',
  resource_api_version: 'V3',
};
const MAX = 4294967295;

const certDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'certs');

function certs(): { chain: string; root: string } {
  const root = readFileSync(path.join(certDir, 'root-cert.pem'), 'utf8');
  const leaf = readFileSync(path.join(certDir, 'cert-chain.pem'), 'utf8');
  return { chain: leaf + root, root };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The whole dump as a streamed value for writeJson. */
export function configDump(mesh: Mesh): unknown {
  return streamed({
    configs: lazy([
      bootstrap(mesh),
      streamed({
        '@type': `${T}envoy.admin.v3.ClustersConfigDump`,
        version_info: VERSION_INFO,
        static_clusters: staticClusters(),
        dynamic_active_clusters: lazy(dynamicClusters(mesh)),
      }),
      streamed({
        '@type': `${T}envoy.admin.v3.EndpointsConfigDump`,
        static_endpoint_configs: staticEndpoints(),
        dynamic_endpoint_configs: lazy(dynamicEndpoints(mesh)),
      }),
      streamed({
        '@type': `${T}envoy.admin.v3.ListenersConfigDump`,
        version_info: VERSION_INFO,
        static_listeners: staticListeners(),
        dynamic_listeners: lazy(dynamicListeners(mesh)),
      }),
      { '@type': `${T}envoy.admin.v3.ScopedRoutesConfigDump` },
      streamed({
        '@type': `${T}envoy.admin.v3.RoutesConfigDump`,
        static_route_configs: staticRoutes(mesh),
        dynamic_route_configs: lazy(dynamicRoutes(mesh)),
      }),
      secrets(),
    ]),
  });
}

function bootstrap(mesh: Mesh): unknown {
  const { pod, service } = mesh.proxy;
  const ns = service.namespace;
  return {
    '@type': `${T}envoy.admin.v3.BootstrapConfigDump`,
    bootstrap: {
      node: {
        id: `sidecar~${pod.ip}~${pod.name}.${ns}~${ns}.svc.cluster.local`,
        cluster: `${service.name}.${ns}`,
        metadata: {
          ANNOTATIONS: { 'kubectl.kubernetes.io/default-container': service.name, 'sidecar.istio.io/status': '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}' },
          APP_CONTAINERS: service.name,
          CLUSTER_ID: 'Kubernetes',
          ENVOY_PROMETHEUS_PORT: 15090,
          ENVOY_STATUS_PORT: 15021,
          INSTANCE_IPS: pod.ip,
          INTERCEPTION_MODE: 'REDIRECT',
          ISTIO_PROXY_SHA: '6c72b2179f5a58988b920a55b0be8346de3f7b35',
          ISTIO_VERSION,
          LABELS: { app: service.name, version: pod.version, 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': service.name, 'service.istio.io/canonical-revision': pod.version },
          MESH_ID: 'cluster.local',
          NAME: pod.name,
          NAMESPACE: ns,
          NODE_NAME: 'worker-3',
          OWNER: `kubernetes://apis/apps/v1/namespaces/${ns}/deployments/${service.name}-${pod.version}`,
          PILOT_SAN: ['istiod.istio-system.svc'],
          POD_PORTS: JSON.stringify(service.ports.map((p) => ({ name: p.name, containerPort: p.targetPort, protocol: 'TCP' }))),
          PROXY_CONFIG: { binaryPath: '/usr/local/bin/envoy', concurrency: 2, configPath: './etc/istio/proxy', discoveryAddress: 'istiod.istio-system.svc:15012', drainDuration: '45s', proxyAdminPort: 15000, serviceCluster: 'istio-proxy', statNameLength: 189, statusPort: 15020, terminationDrainDuration: '5s' },
          SERVICE_ACCOUNT: service.serviceAccount,
          WORKLOAD_NAME: `${service.name}-${pod.version}`,
        },
        locality: { region: mesh.region, zone: pod.zone },
        user_agent_name: 'envoy',
        user_agent_build_version: { version: { major_number: 1, minor_number: 32, patch: 3 }, metadata: { 'build.type': 'RELEASE', 'revision.sha': '6c72b2179f5a58988b920a55b0be8346de3f7b35', 'revision.status': 'Clean', 'ssl.version': 'BoringSSL' } },
      },
      static_resources: {
        clusters: staticClusters().map((c) => c.cluster),
      },
      dynamic_resources: {
        lds_config: ADS,
        cds_config: ADS,
        ads_config: { api_type: 'GRPC', set_node_on_first_message_only: true, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds-grpc' } }] },
      },
      admin: { access_log: [{ name: 'envoy.access_loggers.file', typed_config: { '@type': `${T}envoy.extensions.access_loggers.file.v3.FileAccessLog`, path: '/dev/null' } }], profile_path: '/var/lib/istio/data/envoy.prof', address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } },
      stats_config: { use_all_default_tags: false, stats_tags: [{ tag_name: 'cluster_name', regex: '^cluster\\.((.+?(\\..+?\\.svc\\.cluster\\.local)?)\\.)' }, { tag_name: 'response_code', regex: '_rq(_(\\d{3}))$' }] },
      layered_runtime: { layers: [{ name: 'global config', static_layer: { 'envoy.reloadable_features.http_reject_path_with_fragment': 'false', 'overload.global_downstream_max_connections': '2147483647', 're2.max_program_size.error_level': '32768' } }, { name: 'admin', admin_layer: {} }] },
    },
    last_updated: STAMP,
  };
}

function staticCluster(name: string, port: number, extra: Record<string, unknown> = {}) {
  return {
    cluster: {
      '@type': `${T}envoy.config.cluster.v3.Cluster`,
      name,
      type: 'STATIC',
      connect_timeout: '0.250s',
      load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
      ...extra,
    },
    last_updated: STAMP,
  };
}

function staticClusters() {
  return [
    staticCluster('prometheus_stats', 15000),
    staticCluster('agent', 15020),
    {
      cluster: {
        '@type': `${T}envoy.config.cluster.v3.Cluster`,
        name: 'sds-grpc',
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: { cluster_name: 'sds-grpc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: './var/run/secrets/workload-spiffe-uds/socket' } } } }] }] },
        typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`, explicit_http_config: { http2_protocol_options: {} } } },
      },
      last_updated: STAMP,
    },
    {
      cluster: {
        '@type': `${T}envoy.config.cluster.v3.Cluster`,
        name: 'xds-grpc',
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: { cluster_name: 'xds-grpc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: './etc/istio/proxy/XDS' } } } }] }] },
        circuit_breakers: { thresholds: [{ max_connections: 100000, max_pending_requests: 100000, max_requests: 100000 }, { priority: 'HIGH', max_connections: 100000, max_pending_requests: 100000, max_requests: 100000 }] },
        upstream_connection_options: { tcp_keepalive: { keepalive_time: 300 } },
        max_requests_per_connection: 1,
        typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`, explicit_http_config: { http2_protocol_options: {} } } },
      },
      last_updated: STAMP,
    },
  ];
}

function staticEndpoints() {
  return [15000, 15020].map((port, i) => ({
    endpoint_config: {
      '@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`,
      cluster_name: i === 0 ? 'prometheus_stats' : 'agent',
      endpoints: [{ locality: {}, lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } }, health_check_config: {} }, health_status: 'HEALTHY', load_balancing_weight: 1 }], load_balancing_weight: 0 }],
      policy: { overprovisioning_factor: 140 },
    },
  }));
}

const drPath = (s: Service) => `/apis/networking.istio.io/v1/namespaces/${s.namespace}/destination-rule/${s.name}`;
const vsPath = (s: Service) => `/apis/networking.istio.io/v1/namespaces/${s.namespace}/virtual-service/${s.name}`;

function tlsContext(sans: string[], sni: string) {
  return {
    '@type': `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
    common_tls_context: {
      tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
      alpn_protocols: ['istio-peer-exchange', 'istio'],
      tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: SDS }],
      combined_validation_context: {
        default_validation_context: { match_subject_alt_names: sans.map((exact) => ({ exact })) },
        validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: SDS },
      },
    },
    sni,
  };
}

function outboundCluster(s: Service, port: ServicePort, subset: string) {
  const name = clusterName(port.port, subset, s.fqdn);
  const sni = `outbound_.${port.port}_.${subset}_.${s.fqdn}`;
  const sans = [`spiffe://cluster.local/ns/${s.namespace}/sa/${s.serviceAccount}`];
  const istio: Record<string, unknown> = {
    services: [{ host: s.fqdn, name: s.name, namespace: s.namespace }],
    default_original_port: port.port,
  };
  if (s.destinationRule) {
    istio.config = drPath(s);
    if (subset) istio.subset = subset;
  }
  const cluster: Record<string, unknown> = {
    '@type': `${T}envoy.config.cluster.v3.Cluster`,
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS, service_name: name },
    connect_timeout: '10s',
    lb_policy: 'LEAST_REQUEST',
    circuit_breakers: {
      thresholds: [
        s.destinationRule
          ? { max_connections: 1024, max_pending_requests: 512, max_requests: 4096, max_retries: MAX, track_remaining: true }
          : { max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX, track_remaining: true },
      ],
    },
    common_lb_config: { locality_weighted_lb_config: {} },
    metadata: { filter_metadata: { istio } },
    filters: [{ name: 'istio.metadata_exchange', typed_config: { '@type': `${T}envoy.tcp.metadataexchange.config.MetadataExchange`, protocol: 'istio-peer-exchange', enable_discovery: true } }],
  };
  if (s.destinationRule) {
    cluster.outlier_detection = { consecutive_5xx: 5, interval: '10s', base_ejection_time: '30s', max_ejection_percent: 50, enforcing_consecutive_5xx: 100, enforcing_success_rate: 0, consecutive_gateway_failure: 0, enforcing_consecutive_gateway_failure: 0 };
  }
  if (s.drMutualTls) {
    cluster.transport_socket = { name: 'envoy.transport_sockets.tls', typed_config: tlsContext(sans, sni) };
  } else {
    cluster.transport_socket_matches = [
      { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: tlsContext(sans, sni) } },
      { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': `${T}envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer` } } },
    ];
  }
  if (port.protocol === 'GRPC') {
    cluster.typed_extension_protocol_options = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`, common_http_protocol_options: { idle_timeout: '3600s' }, explicit_http_config: { http2_protocol_options: {} } } };
  } else if (port.protocol === 'HTTP') {
    cluster.typed_extension_protocol_options = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`, common_http_protocol_options: { idle_timeout: '3600s' }, use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} } } };
  }
  return { version_info: VERSION_INFO, cluster, last_updated: STAMP };
}

/** The subsets a sidecar gets clusters for: the default one, and one per DestinationRule subset. */
export function subsetsOf(s: Service): string[] {
  return s.destinationRule ? ['', ...s.versions] : [''];
}

function* dynamicClusters(mesh: Mesh) {
  yield { version_info: VERSION_INFO, cluster: { '@type': `${T}envoy.config.cluster.v3.Cluster`, name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '10s' }, last_updated: STAMP };
  const { service: own } = mesh.proxy;
  for (const p of own.ports) {
    yield {
      version_info: VERSION_INFO,
      cluster: {
        '@type': `${T}envoy.config.cluster.v3.Cluster`,
        name: `inbound|${p.targetPort}||`,
        type: 'ORIGINAL_DST',
        connect_timeout: '10s',
        lb_policy: 'CLUSTER_PROVIDED',
        circuit_breakers: { thresholds: [{ max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX, track_remaining: true }] },
        cleanup_interval: '60s',
        upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } },
        metadata: { filter_metadata: { istio: { services: [{ host: own.fqdn, name: own.name, namespace: own.namespace }] } } },
      },
      last_updated: STAMP,
    };
  }
  yield { version_info: VERSION_INFO, cluster: { '@type': `${T}envoy.config.cluster.v3.Cluster`, name: 'InboundPassthroughCluster', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', circuit_breakers: { thresholds: [{ max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX, track_remaining: true }] }, cleanup_interval: '60s', upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } }, last_updated: STAMP };
  for (const s of mesh.services) {
    for (const port of s.ports) for (const subset of subsetsOf(s)) yield outboundCluster(s, port, subset);
  }
  yield { version_info: VERSION_INFO, cluster: { '@type': `${T}envoy.config.cluster.v3.Cluster`, name: 'PassthroughCluster', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', circuit_breakers: { thresholds: [{ max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX, track_remaining: true }] } }, last_updated: STAMP };
}

function* dynamicEndpoints(mesh: Mesh) {
  for (const s of mesh.services) {
    for (const port of s.ports) {
      for (const subset of subsetsOf(s)) {
        const pods = subset ? s.pods.filter((p) => p.version === subset) : s.pods;
        const byZone = new Map<string, typeof pods>();
        for (const p of pods) byZone.set(p.zone, [...(byZone.get(p.zone) ?? []), p]);
        yield {
          endpoint_config: {
            '@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`,
            cluster_name: clusterName(port.port, subset, s.fqdn),
            endpoints: [...byZone].map(([zone, zpods]) => ({
              locality: { region: mesh.region, zone },
              lb_endpoints: zpods.map((p) => ({
                endpoint: { address: { socket_address: { address: p.ip, port_value: port.targetPort } }, health_check_config: {} },
                health_status: p.healthy ? 'HEALTHY' : 'UNHEALTHY',
                metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' }, istio: { workload: `${s.name}-${p.version};${s.namespace};${s.name};${p.version};Kubernetes` } } },
                load_balancing_weight: 1,
              })),
              load_balancing_weight: zpods.length,
            })),
            policy: { overprovisioning_factor: 140 },
          },
        };
      }
    }
  }
}

const accessLog = () => [
  { name: 'envoy.access_loggers.file', typed_config: { '@type': `${T}envoy.extensions.access_loggers.file.v3.FileAccessLog`, path: '/dev/stdout', log_format: { text_format_source: { inline_string: '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n' } } } },
];

const tcpProxy = (statPrefix: string, cluster: string) => ({
  name: 'envoy.filters.network.tcp_proxy',
  typed_config: { '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, stat_prefix: statPrefix, cluster, access_log: accessLog() },
});

const httpFilters = (inbound: boolean) => [
  { name: 'istio.metadata_exchange', typed_config: { '@type': `${T}udpa.type.v1.TypedStruct`, type_url: 'type.googleapis.com/io.istio.http.peer_metadata.Config', value: inbound ? { downstream_discovery: [{ istio_headers: {} }, { workload_discovery: {} }], downstream_propagation: [{ istio_headers: {} }] } : { upstream_discovery: [{ istio_headers: {} }, { workload_discovery: {} }], upstream_propagation: [{ istio_headers: {} }] } } },
  { name: 'envoy.filters.http.grpc_stats', typed_config: { '@type': `${T}envoy.extensions.filters.http.grpc_stats.v3.FilterConfig`, emit_filter_state: true, stats_for_all_methods: false } },
  { name: 'istio.alpn', typed_config: { '@type': `${T}istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig`, alpn_override: [{ alpn_override: ['istio-http/1.0', 'istio', 'http/1.0'] }, { upstream_protocol: 'HTTP11', alpn_override: ['istio-http/1.1', 'istio', 'http/1.1'] }, { upstream_protocol: 'HTTP2', alpn_override: ['istio-h2', 'istio', 'h2'] }] } },
  { name: 'envoy.filters.http.fault', typed_config: { '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault` } },
  { name: 'envoy.filters.http.cors', typed_config: { '@type': `${T}envoy.extensions.filters.http.cors.v3.Cors` } },
  { name: 'istio.stats', typed_config: { '@type': `${T}stats.PluginConfig`, ...(inbound ? { disable_host_header_fallback: true } : {}) } },
  { name: 'envoy.filters.http.router', typed_config: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` } },
];

function hcm(statPrefix: string, route: { rds: string } | { inline: unknown }, inbound = false) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
      stat_prefix: statPrefix,
      ...('rds' in route ? { rds: { config_source: ADS, route_config_name: route.rds } } : { route_config: route.inline }),
      http_filters: httpFilters(inbound),
      tracing: { client_sampling: { value: 100 }, random_sampling: { value: 1 }, overall_sampling: { value: 100 }, custom_tags: [{ tag: 'istio.canonical_revision', metadata: { kind: { pod: {} }, metadata_key: { key: 'istio', path: [{ key: 'labels' }, { key: 'service.istio.io/canonical-revision' }] }, default_value: 'latest' } }] },
      access_log: accessLog(),
      use_remote_address: false,
      upgrade_configs: [{ upgrade_type: 'websocket' }],
      stream_idle_timeout: '0s',
      normalize_path: true,
      request_id_extension: { typed_config: { '@type': `${T}envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig`, use_request_id_for_trace_sampling: true } },
      path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
      ...(inbound ? { forward_client_cert_details: 'APPEND_FORWARD', set_current_client_cert_details: { subject: true, dns: true, uri: true }, server_name: 'istio-envoy' } : {}),
    },
  };
}

const listenerFilters = () => [
  { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': `${T}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector` } },
  { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': `${T}envoy.extensions.filters.listener.http_inspector.v3.HttpInspector` } },
];

const active = (listener: Record<string, unknown>) => ({
  name: listener.name,
  active_state: { version_info: VERSION_INFO, listener: { '@type': `${T}envoy.config.listener.v3.Listener`, ...listener }, last_updated: STAMP },
});

function staticListeners() {
  const inlineRoute = (name: string, cluster: string, path: string) => ({ virtual_hosts: [{ name: 'backend', domains: ['*'], routes: [{ match: { prefix: path }, route: { cluster } }] }], name });
  return [
    { listener: { '@type': `${T}envoy.config.listener.v3.Listener`, address: { socket_address: { address: '0.0.0.0', port_value: 15090 } }, filter_chains: [{ filters: [hcm('stats', { inline: inlineRoute('prometheus_route', 'prometheus_stats', '/stats/prometheus') })] }] }, last_updated: STAMP },
    { listener: { '@type': `${T}envoy.config.listener.v3.Listener`, address: { socket_address: { address: '0.0.0.0', port_value: 15021 } }, filter_chains: [{ filters: [hcm('agent', { inline: inlineRoute('health_route', 'agent', '/healthz/ready') })] }] }, last_updated: STAMP },
  ];
}

/** Ports served by HTTP route configurations (RDS name = port number), and the services on each. */
export function httpPorts(mesh: Mesh): Map<number, { service: Service; port: ServicePort }[]> {
  const byPort = new Map<number, { service: Service; port: ServicePort }[]>();
  for (const s of mesh.services) {
    for (const port of s.ports) {
      if (port.protocol === 'TCP') continue;
      let list = byPort.get(port.port);
      if (!list) byPort.set(port.port, (list = []));
      list.push({ service: s, port });
    }
  }
  return new Map([...byPort].sort((a, b) => a[0] - b[0]));
}

function* dynamicListeners(mesh: Mesh) {
  const own = mesh.proxy.service;
  // TCP services: one listener per VIP:port, as istiod builds them
  for (const s of mesh.services) {
    for (const port of s.ports) {
      if (port.protocol !== 'TCP') continue;
      const cluster = clusterName(port.port, '', s.fqdn);
      yield active({
        name: `${s.clusterIP}_${port.port}`,
        address: { socket_address: { address: s.clusterIP, port_value: port.port } },
        filter_chains: [{ filters: [{ name: 'istio.stats', typed_config: { '@type': `${T}stats.PluginConfig` } }, tcpProxy(cluster, cluster)] }],
        listener_filters: listenerFilters(),
        listener_filters_timeout: '0s',
        continue_on_listener_filters_timeout: true,
        traffic_direction: 'OUTBOUND',
        bind_to_port: false,
      });
    }
  }
  for (const port of httpPorts(mesh).keys()) {
    const name = `0.0.0.0_${port}`;
    yield active({
      name,
      address: { socket_address: { address: '0.0.0.0', port_value: port } },
      filter_chains: [
        { filter_chain_match: { transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] }, filters: [hcm(`outbound_0.0.0.0_${port}`, { rds: String(port) })], name },
      ],
      default_filter_chain: { filter_chain_match: {}, filters: [tcpProxy('PassthroughCluster', 'PassthroughCluster')], name: 'PassthroughFilterChain' },
      listener_filters: listenerFilters(),
      listener_filters_timeout: '0s',
      continue_on_listener_filters_timeout: true,
      traffic_direction: 'OUTBOUND',
      bind_to_port: false,
    });
  }
  yield active({
    name: 'virtualOutbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
    filter_chains: [
      { filter_chain_match: { destination_port: 15001 }, filters: [{ name: 'istio.stats', typed_config: { '@type': `${T}stats.PluginConfig` } }, tcpProxy('BlackHoleCluster', 'BlackHoleCluster')], name: 'virtualOutbound-blackhole' },
      { filters: [tcpProxy('PassthroughCluster', 'PassthroughCluster')], name: 'virtualOutbound-catchall-tcp' },
    ],
    use_original_dst: true,
    traffic_direction: 'OUTBOUND',
  });
  const inboundChains = own.ports.flatMap((p) => {
    const mtls = { filter_chain_match: { destination_port: p.targetPort, transport_protocol: 'tls', application_protocols: ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] } };
    const plain = { filter_chain_match: { destination_port: p.targetPort, transport_protocol: 'raw_buffer' } };
    const filter = p.protocol === 'TCP' ? tcpProxy(`inbound|${p.targetPort}||`, `inbound|${p.targetPort}||`) : hcm(`inbound_0.0.0.0_${p.targetPort}`, { inline: inboundRoute(own, p) }, true);
    return [
      { ...mtls, filters: [filter], transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`, common_tls_context: { tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' }, alpn_protocols: ['h2', 'http/1.1'], tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: SDS }], combined_validation_context: { default_validation_context: { match_subject_alt_names: [{ prefix: 'spiffe://cluster.local/' }] }, validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: SDS } } }, require_client_certificate: true } }, name: `0.0.0.0_${p.targetPort}` },
      { ...plain, filters: [filter], name: `0.0.0.0_${p.targetPort}` },
    ];
  });
  yield active({
    name: 'virtualInbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
    filter_chains: [
      { filter_chain_match: { destination_port: 15006 }, filters: [{ name: 'istio.stats', typed_config: { '@type': `${T}stats.PluginConfig` } }, tcpProxy('BlackHoleCluster', 'BlackHoleCluster')], name: 'virtualInbound-blackhole' },
      ...inboundChains,
      { filter_chain_match: { transport_protocol: 'tls' }, filters: [tcpProxy('InboundPassthroughCluster', 'InboundPassthroughCluster')], name: 'virtualInbound-catchall-tls' },
      { filter_chain_match: {}, filters: [tcpProxy('InboundPassthroughCluster', 'InboundPassthroughCluster')], name: 'virtualInbound' },
    ],
    listener_filters: [{ name: 'envoy.filters.listener.original_dst', typed_config: { '@type': `${T}envoy.extensions.filters.listener.original_dst.v3.OriginalDst` } }, ...listenerFilters()],
    listener_filters_timeout: '0s',
    traffic_direction: 'INBOUND',
    continue_on_listener_filters_timeout: true,
  });
}

function inboundRoute(own: Service, p: ServicePort) {
  const cluster = `inbound|${p.targetPort}||`;
  return {
    name: cluster,
    virtual_hosts: [{ name: `inbound|http|${p.port}`, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '0s', max_stream_duration: { max_stream_duration: '0s', grpc_timeout_header_max: '0s' } }, decorator: { operation: `${own.name}.${own.namespace}.svc.cluster.local:${p.port}/*` }, name: 'default' }] }],
    validate_clusters: false,
  };
}

function staticRoutes(mesh: Mesh) {
  const own = mesh.proxy.service;
  return own.ports.filter((p) => p.protocol !== 'TCP').map((p) => ({ route_config: { '@type': `${T}envoy.config.route.v3.RouteConfiguration`, ...inboundRoute(own, p) }, last_updated: STAMP }));
}

const RETRY = (n: number) => ({
  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  num_retries: n,
  retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': `${T}envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate` } }],
  host_selection_retry_max_attempts: '5',
  retriable_status_codes: [503],
});

/** Host names a virtual host answers to, as istiod writes them for a proxy in `fromNs`. */
export function domainsFor(s: Service, fromNs: string): string[] {
  const d = [s.fqdn, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}`];
  if (s.namespace === fromNs) d.splice(1, 0, s.name);
  d.push(s.clusterIP);
  return d;
}

function virtualHost(s: Service, port: ServicePort, fromNs: string) {
  const op = `${s.fqdn}:${port.port}/*`;
  // the VirtualService's routes match the service's first port (they name it when there are several)
  const vs = s.routes && port === s.ports[0] ? s.routes : null;
  const routes = (vs ?? [{ name: 'default', prefix: '/', destinations: [{ subset: '', weight: 100 }] }]).map((r) => {
    const match: Record<string, unknown> = { prefix: r.prefix };
    if (r.header) match.headers = [{ name: r.header.name, string_match: { exact: r.header.exact } }];
    const action: Record<string, unknown> =
      r.destinations.length === 1
        ? { cluster: clusterName(port.port, r.destinations[0].subset, s.fqdn) }
        : { weighted_clusters: { clusters: r.destinations.map((d) => ({ name: clusterName(port.port, d.subset, s.fqdn), weight: d.weight })) } };
    action.timeout = r.timeout ?? '0s';
    if (r.rewrite) action.prefix_rewrite = r.rewrite;
    action.retry_policy = RETRY(r.retries ?? 2);
    action.max_stream_duration = { max_stream_duration: '0s', grpc_timeout_header_max: '0s' };
    const route: Record<string, unknown> = { name: vs ? `${s.name}.${s.namespace}.${r.name}` : 'default', match, route: action };
    if (vs) route.metadata = { filter_metadata: { istio: { config: vsPath(s) } } };
    route.decorator = { operation: op };
    return route;
  });
  return { name: `${s.fqdn}:${port.port}`, domains: domainsFor(s, fromNs), routes, include_request_attempt_count: true };
}

function* dynamicRoutes(mesh: Mesh) {
  const fromNs = mesh.proxy.service.namespace;
  for (const [port, entries] of httpPorts(mesh)) {
    yield streamed({
      version_info: VERSION_INFO,
      route_config: streamed({
        '@type': `${T}envoy.config.route.v3.RouteConfiguration`,
        name: String(port),
        virtual_hosts: lazy(
          (function* () {
            for (const e of entries) yield virtualHost(e.service, e.port, fromNs);
            yield { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster', timeout: '0s', max_grpc_timeout: '0s' } }], include_request_attempt_count: true };
          })(),
        ),
        validate_clusters: false,
        max_direct_response_body_size_bytes: 1048576,
        ignore_port_in_host_matching: true,
      }),
      last_updated: STAMP,
    });
  }
}

function secrets() {
  const { chain, root } = certs();
  return {
    '@type': `${T}envoy.admin.v3.SecretsConfigDump`,
    dynamic_active_secrets: [
      { name: 'default', version_info: '2026-11-20 09:14:02.141807121 +0000 UTC m=+0.931041357', last_updated: STAMP, secret: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.Secret`, name: 'default', tls_certificate: { certificate_chain: { inline_bytes: b64(chain) }, private_key: { inline_bytes: b64('[redacted]') } } } },
      { name: 'ROOTCA', version_info: '2026-11-20 09:14:02.354512212 +0000 UTC m=+1.143745947', last_updated: STAMP, secret: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.Secret`, name: 'ROOTCA', validation_context: { trusted_ca: { inline_bytes: b64(root) } } } },
    ],
  };
}
