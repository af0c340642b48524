/**
 * The parts of Envoy's v3 JSON (snake_case, exactly as the admin API emits it) that meshctl reads.
 * Every interface is open: fields not listed here are still on the object and are printed by -o json|yaml.
 * Nothing here is validated up front; readers use the small guards in ./json.ts.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface JsonObject {
  [key: string]: unknown;
}

/** google.protobuf.Any as JSON: the type URL plus the message's own fields. */
export interface AnyMessage extends JsonObject {
  '@type'?: string;
}

export interface SocketAddress extends JsonObject {
  address?: string;
  port_value?: number;
  named_port?: string;
  protocol?: string;
}

export interface EnvoyInternalAddress extends JsonObject {
  server_listener_name?: string;
  endpoint_id?: string;
}

export interface Address extends JsonObject {
  socket_address?: SocketAddress;
  pipe?: { path?: string; mode?: number };
  envoy_internal_address?: EnvoyInternalAddress;
}

export interface Metadata extends JsonObject {
  filter_metadata?: Record<string, JsonObject | undefined>;
  typed_filter_metadata?: Record<string, AnyMessage | undefined>;
}

export interface Locality extends JsonObject {
  region?: string;
  zone?: string;
  sub_zone?: string;
}

// ---- clusters ----

export interface Cluster extends AnyMessage {
  name?: string;
  alt_stat_name?: string;
  /** STATIC (Envoy omits the default), STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST. */
  type?: string;
  cluster_type?: { name?: string; typed_config?: AnyMessage };
  eds_cluster_config?: { service_name?: string; eds_config?: JsonObject };
  connect_timeout?: string;
  lb_policy?: string;
  load_assignment?: ClusterLoadAssignment;
  transport_socket?: { name?: string; typed_config?: AnyMessage };
  transport_socket_matches?: JsonObject[];
  metadata?: Metadata;
  circuit_breakers?: JsonObject;
  outlier_detection?: JsonObject;
}

// ---- endpoints ----

export interface LbEndpoint extends JsonObject {
  endpoint?: {
    address?: Address;
    additional_addresses?: { address?: Address }[];
    health_check_config?: JsonObject;
    hostname?: string;
  };
  endpoint_name?: string;
  /** UNKNOWN (omitted), HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED. */
  health_status?: string;
  metadata?: Metadata;
  load_balancing_weight?: number;
}

export interface LocalityLbEndpoints extends JsonObject {
  locality?: Locality;
  lb_endpoints?: LbEndpoint[];
  load_balancing_weight?: number;
  priority?: number;
}

export interface ClusterLoadAssignment extends AnyMessage {
  cluster_name?: string;
  endpoints?: LocalityLbEndpoints[];
  named_endpoints?: Record<string, unknown>;
  policy?: JsonObject;
}

// ---- listeners ----

export interface CidrRange extends JsonObject {
  address_prefix?: string;
  prefix_len?: number;
}

export interface FilterChainMatch extends JsonObject {
  destination_port?: number;
  prefix_ranges?: CidrRange[];
  address_suffix?: string;
  suffix_len?: number;
  direct_source_prefix_ranges?: CidrRange[];
  source_type?: string;
  source_prefix_ranges?: CidrRange[];
  source_ports?: number[];
  server_names?: string[];
  transport_protocol?: string;
  application_protocols?: string[];
}

export interface NetworkFilter extends JsonObject {
  name?: string;
  typed_config?: AnyMessage;
  config_discovery?: JsonObject;
}

export interface FilterChain extends JsonObject {
  name?: string;
  filter_chain_match?: FilterChainMatch;
  filters?: NetworkFilter[];
  transport_socket?: { name?: string; typed_config?: AnyMessage };
  metadata?: Metadata;
}

export interface Listener extends AnyMessage {
  name?: string;
  address?: Address;
  additional_addresses?: { address?: Address }[];
  filter_chains?: FilterChain[];
  default_filter_chain?: FilterChain;
  filter_chain_matcher?: JsonObject;
  listener_filters?: NetworkFilter[];
  use_original_dst?: boolean;
  bind_to_port?: boolean;
  traffic_direction?: string;
  internal_listener?: JsonObject;
  metadata?: Metadata;
}

export interface HttpConnectionManager extends AnyMessage {
  stat_prefix?: string;
  rds?: { route_config_name?: string; config_source?: JsonObject };
  route_config?: RouteConfiguration;
  scoped_routes?: JsonObject;
  http_filters?: NetworkFilter[];
}

export interface TcpProxy extends AnyMessage {
  stat_prefix?: string;
  cluster?: string;
  weighted_clusters?: { clusters?: { name?: string; weight?: number }[] };
}

// ---- routes ----

export interface HeaderMatcher extends JsonObject {
  name?: string;
  exact_match?: string;
  prefix_match?: string;
  suffix_match?: string;
  safe_regex_match?: { regex?: string };
  present_match?: boolean;
  string_match?: JsonObject;
  invert_match?: boolean;
}

export interface RouteMatch extends JsonObject {
  prefix?: string;
  path?: string;
  safe_regex?: { regex?: string; google_re2?: JsonObject };
  path_separated_prefix?: string;
  path_match_policy?: JsonObject;
  connect_matcher?: JsonObject;
  case_sensitive?: boolean;
  headers?: HeaderMatcher[];
  query_parameters?: JsonObject[];
  runtime_fraction?: JsonObject;
  grpc?: JsonObject;
}

export interface WeightedCluster extends JsonObject {
  name?: string;
  weight?: number;
  metadata_match?: JsonObject;
}

export interface RouteAction extends JsonObject {
  cluster?: string;
  cluster_header?: string;
  weighted_clusters?: { clusters?: WeightedCluster[]; total_weight?: number };
  cluster_specifier_plugin?: string;
  timeout?: string;
  retry_policy?: JsonObject;
  prefix_rewrite?: string;
  regex_rewrite?: JsonObject;
  host_rewrite_literal?: string;
  hash_policy?: JsonObject[];
}

export interface Route extends JsonObject {
  name?: string;
  match?: RouteMatch;
  route?: RouteAction;
  redirect?: JsonObject;
  direct_response?: { status?: number; body?: JsonObject };
  filter_action?: JsonObject;
  non_forwarding_action?: JsonObject;
  metadata?: Metadata;
  decorator?: { operation?: string };
  typed_per_filter_config?: Record<string, AnyMessage>;
}

export interface VirtualHost extends JsonObject {
  name?: string;
  domains?: string[];
  routes?: Route[];
  include_request_attempt_count?: boolean;
  retry_policy?: JsonObject;
  typed_per_filter_config?: Record<string, AnyMessage>;
  metadata?: Metadata;
}

export interface RouteConfiguration extends AnyMessage {
  name?: string;
  virtual_hosts?: VirtualHost[];
  vhds?: JsonObject;
  validate_clusters?: boolean;
}

// ---- secrets ----

export interface DataSource extends JsonObject {
  filename?: string;
  inline_bytes?: string;
  inline_string?: string;
  environment_variable?: string;
}

export interface Secret extends AnyMessage {
  name?: string;
  tls_certificate?: {
    certificate_chain?: DataSource;
    private_key?: DataSource;
    password?: DataSource;
    pkcs12?: DataSource;
    [key: string]: unknown;
  };
  validation_context?: { trusted_ca?: DataSource; [key: string]: unknown };
  session_ticket_keys?: { keys?: DataSource[] };
  generic_secret?: { secret?: DataSource };
}

// ---- bootstrap ----

export interface Node extends JsonObject {
  id?: string;
  cluster?: string;
  metadata?: JsonObject;
  locality?: Locality;
  user_agent_name?: string;
  user_agent_version?: string;
  user_agent_build_version?: {
    version?: { major_number?: number; minor_number?: number; patch?: number };
    metadata?: JsonObject;
  };
}

export interface Bootstrap extends JsonObject {
  node?: Node;
  static_resources?: JsonObject;
  dynamic_resources?: JsonObject;
  admin?: JsonObject;
}

// ---- /clusters?format=json ----

export interface HostHealthStatus extends JsonObject {
  failed_active_health_check?: boolean;
  failed_outlier_check?: boolean;
  failed_active_degraded_check?: boolean;
  pending_dynamic_removal?: boolean;
  pending_active_hc?: boolean;
  excluded_via_immediate_hc_fail?: boolean;
  active_hc_timeout?: boolean;
  eds_health_status?: string;
}

export interface HostStatus extends JsonObject {
  address?: Address;
  stats?: { name?: string; value?: string | number; type?: string }[];
  health_status?: HostHealthStatus;
  success_rate?: { value?: number };
  weight?: number;
  hostname?: string;
  priority?: number;
  local_origin_success_rate?: { value?: number };
  locality?: Locality;
}

export interface ClusterStatus extends JsonObject {
  name?: string;
  added_via_api?: boolean;
  success_rate_ejection_threshold?: { value?: number };
  host_statuses?: HostStatus[];
  local_origin_success_rate_ejection_threshold?: { value?: number };
  circuit_breakers?: JsonObject;
  observability_name?: string;
  eds_service_name?: string;
}
