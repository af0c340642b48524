import { filterConfig } from '../envoy/typed-config.js';
import type { Json } from './matchers.js';
import { asArray } from './route.js';
import { pickWeighted } from './weights.js';

export interface FilterInfo {
  name: string;
  /** Short type (last part of the @type, e.g. HttpConnectionManager). */
  type: string;
  /** What this filter means for the request. */
  effect: string;
  /** Set when its effect on this request cannot be known offline. */
  undecidable?: string;
}

export interface TcpProxyInfo {
  statPrefix: string | null;
  cluster: string | null;
  weightedClusters: { name: string; weight: number }[] | null;
  chosenByRandom: { value: number; pick: string } | null;
}

export interface HcmInfo {
  rdsName: string | null;
  inlineRouteConfig: Json | null;
  stripMatchingHostPort: boolean;
  stripAnyHostPort: boolean;
  stripTrailingHostDot: boolean;
  normalizePath: boolean;
  mergeSlashes: boolean;
  httpFilters: FilterInfo[];
  /** The connection manager's own config, for what it does to request headers (./downstream.ts). */
  config: Json;
}

export interface NetworkFilters {
  filters: FilterInfo[];
  tcpProxy: TcpProxyInfo | null;
  hcm: HcmInfo | null;
  uncertain: string[];
}

// The config inside a filter (TypedStruct unwrapped) is read in one place for every domain.
export { filterConfig };

function shortType(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

const is = (f: Json, type: string, ...names: string[]) => filterConfig(f).type.endsWith(type) || names.includes(String(f?.name ?? ''));

/** Walks a filter chain's network filters: the terminal one (tcp_proxy or HCM) decides where bytes go. */
export function networkFilters(chain: Json, random: number | undefined): NetworkFilters {
  const out: NetworkFilters = { filters: [], tcpProxy: null, hcm: null, uncertain: [] };
  for (const f of asArray(chain?.filters)) {
    const { type, config } = filterConfig(f);
    const name = String(f?.name ?? type);
    const info: FilterInfo = { name, type: shortType(type), effect: '' };
    if (is(f, 'tcp_proxy.v3.TcpProxy', 'envoy.filters.network.tcp_proxy', 'envoy.tcp_proxy')) {
      out.tcpProxy = tcpProxy(config, random);
      info.effect = out.tcpProxy.cluster
        ? `proxies the TCP stream to cluster ${out.tcpProxy.cluster}`
        : `proxies the TCP stream to one of ${out.tcpProxy.weightedClusters?.map((c) => `${c.name} (${c.weight})`).join(', ') ?? 'no cluster'}`;
      if (!out.tcpProxy.cluster && out.tcpProxy.weightedClusters) out.uncertain.push('tcp_proxy weighted clusters: pass --random N to decide one');
    } else if (is(f, 'http_connection_manager.v3.HttpConnectionManager', 'envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager')) {
      out.hcm = hcm(config, out.uncertain);
      info.effect = out.hcm.rdsName ? `HTTP: routes with RDS route configuration ${out.hcm.rdsName}` : 'HTTP: routes with its inline route_config';
    } else if (is(f, 'network.rbac.v3.RBAC', 'envoy.filters.network.rbac')) {
      // decided by the authorization step (src/authz), like the HTTP RBAC filters
      info.effect = rbacEffect(config);
    } else if (/ext_authz|ExtAuthz/.test(type) || name.includes('ext_authz')) {
      info.effect = 'asks an external authorization service (Istio CUSTOM; see the authorization step)';
    } else if (/lua|Lua/.test(type) || /wasm|Wasm/.test(type)) {
      info.effect = 'runs user code';
      info.undecidable = `${name}: ${/wasm/i.test(type) ? 'Wasm' : 'Lua'} code can change the connection's fate; not decidable offline`;
    } else if (/metadata_exchange|MetadataExchange|stats|Stats/.test(type + name)) {
      info.effect = 'telemetry only (does not change where traffic goes)';
    } else if (/set_filter_state|SetFilterState/.test(type + name)) {
      info.effect = setFilterStateEffect(config.on_new_connection);
    } else if (/sni_cluster/.test(type + name)) {
      info.effect = 'upstream cluster named by the SNI';
    } else if (/sni_dynamic_forward_proxy/.test(type + name)) {
      info.effect = 'forwards to the host named by the SNI';
    } else if (/local_ratelimit|ratelimit/i.test(type + name)) {
      info.effect = 'rate limiting (may reject connections under load)';
    } else {
      info.effect = 'not interpreted by meshctl';
    }
    out.filters.push(info);
    if (info.undecidable) out.uncertain.push(info.undecidable);
  }
  return out;
}

function tcpProxy(c: Json, random: number | undefined): TcpProxyInfo {
  const info: TcpProxyInfo = { statPrefix: c.stat_prefix ?? null, cluster: c.cluster !== undefined ? String(c.cluster) : null, weightedClusters: null, chosenByRandom: null };
  if (!info.cluster && c.weighted_clusters) {
    const cs = asArray(c.weighted_clusters.clusters).map((x: Json) => ({ name: String(x.name ?? ''), weight: Number(x.weight ?? 0) }));
    info.weightedClusters = cs;
    // all the weight on one cluster decides without a random value
    const pick = pickWeighted(cs.map((x) => x.weight), random);
    if (pick) {
      info.cluster = cs[pick.index].name;
      if (random !== undefined) info.chosenByRandom = { value: random, pick: info.cluster };
    }
  }
  return info;
}

function hcm(c: Json, uncertain: string[]): HcmInfo {
  const httpFilters: FilterInfo[] = asArray(c.http_filters).map((f: Json) => {
    const { type, config } = filterConfig(f);
    const name = String(f?.name ?? type);
    const info: FilterInfo = { name, type: shortType(type), effect: '' };
    if (/router/.test(name) || type.endsWith('Router')) info.effect = 'forwards to the routed cluster';
    else if (/rbac/i.test(name) || type.endsWith('RBAC')) {
      // decided by the authorization step (src/authz)
      info.effect = rbacEffect(config);
    } else if (/fault/.test(name)) info.effect = 'fault injection (per-route settings below)';
    else if (/ext_authz/.test(name) || /ExtAuthz/.test(type)) {
      info.effect = 'asks an external authorization service (Istio CUSTOM; see the authorization step)';
    } else if (/ext_proc/.test(name) || /ExternalProcessor/.test(type)) {
      info.effect = 'calls an external service';
      info.undecidable = `${name}: an external service can reject or change the request at run time`;
    } else if (/lua|wasm/i.test(name + type)) {
      info.effect = 'runs user code';
      info.undecidable = `${name}: ${/wasm/i.test(name + type) ? 'Wasm' : 'Lua'} code can change or reject the request; not decidable offline`;
    } else if (/jwt_authn/.test(name)) {
      info.effect = 'validates JWTs (requests with an invalid token are rejected)';
    } else if (/cors/.test(name)) info.effect = 'CORS';
    else if (/set_filter_state|set_internal_dst_address/.test(type)) info.effect = setFilterStateEffect(config.on_request_headers);
    else if (/stats|metadata_exchange|peer_metadata|alpn|grpc_stats/i.test(name + type)) info.effect = 'telemetry/protocol only';
    else info.effect = 'not interpreted by meshctl';
    if (info.undecidable) uncertain.push(info.undecidable);
    return info;
  });
  return {
    rdsName: c.rds?.route_config_name !== undefined ? String(c.rds.route_config_name) : null,
    inlineRouteConfig: c.route_config ?? null,
    stripMatchingHostPort: c.strip_matching_host_port === true,
    stripAnyHostPort: c.strip_any_host_port === true,
    stripTrailingHostDot: c.strip_trailing_host_dot === true,
    normalizePath: c.normalize_path === true,
    mergeSlashes: c.merge_slashes === true,
    httpFilters,
    config: c,
  };
}

/** set_filter_state: which keys it sets (the ones another listener or filter reads, e.g. a waypoint's original destination). */
function setFilterStateEffect(values: Json): string {
  const keys = asArray(values).map((v: Json) => String(v?.object_key ?? '')).filter(Boolean);
  return keys.length ? `sets filter state ${keys.join(', ')} (does not route)` : 'sets filter state (does not route)';
}

function rbacEffect(c: Json): string {
  const rules = c.rules ?? c.config?.rules;
  const shadow = c.shadow_rules ?? c.config?.shadow_rules;
  const parts: string[] = [];
  if (rules) parts.push(`${rules.action ?? 'ALLOW'} with ${Object.keys(rules.policies ?? {}).length} policies`);
  if (shadow && !rules) parts.push('shadow rules only (never blocks)');
  return parts.length ? parts.join('; ') : 'no rules';
}

/** RFC 3986 dot-segment removal plus Envoy's merge_slashes, as the connection manager does before routing. */
export function normalizePath(path: string, normalize: boolean, mergeSlashes: boolean): string {
  const q = path.search(/[?#]/);
  let p = q === -1 ? path : path.slice(0, q);
  const rest = q === -1 ? '' : path.slice(q);
  if (normalize) {
    // Decode only unreserved characters, as Envoy's canonicalizer does, then resolve . and ..
    p = p.replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => {
      const ch = String.fromCharCode(parseInt(h, 16));
      return /[A-Za-z0-9\-._~]/.test(ch) ? ch : m.toUpperCase();
    });
    const out: string[] = [];
    for (const seg of p.split('/').slice(1)) {
      if (seg === '.') continue;
      if (seg === '..') out.pop();
      else out.push(seg);
    }
    const last = p.split('/').pop();
    p = '/' + out.join('/') + (last === '.' || last === '..' ? (out.length ? '/' : '') : '');
  }
  if (mergeSlashes) p = p.replace(/\/{2,}/g, '/');
  return p + rest;
}
