import { filterConfig } from './filters.js';
import type { Json } from './matchers.js';
import { asArray, istioConfig } from './route.js';

export interface ClusterSummary {
  name: string;
  type: string;
  lbPolicy: string;
  tls: string;
  circuitBreakers: string | null;
  outlierDetection: string | null;
  istio: string | null;
  /** Istio's name parts: `outbound|9080|v2|reviews.default.svc.cluster.local`. */
  service: { direction: string; port: number; subset: string | null; host: string } | null;
  connectTimeout: string | null;
  notes: string[];
}

export function clusterType(c: Json): string {
  if (c?.cluster_type?.name) return String(c.cluster_type.name);
  return String(c?.type ?? 'STATIC');
}

/** Upstream TLS in Istio's terms: ISTIO_MUTUAL, SIMPLE/MUTUAL origination, auto mTLS per endpoint, or plaintext. */
export function upstreamTls(c: Json): string {
  const describe = (ts: Json): string | null => {
    if (!ts) return null;
    const { type, config } = filterConfig(ts);
    if (/RawBuffer$/.test(type) || ts.name === 'envoy.transport_sockets.raw_buffer') return 'plaintext';
    if (!/UpstreamTlsContext$/.test(type) && !/tls/.test(String(ts.name ?? ''))) return `transport socket ${ts.name ?? type}`;
    const ctx = config.common_tls_context ?? {};
    const certs = asArray(ctx.tls_certificate_sds_secret_configs).map((s: Json) => s.name);
    const hasClientCert = certs.length > 0 || asArray(ctx.tls_certificates).length > 0;
    const sni = config.sni ? ` sni=${config.sni}` : '';
    const alpn = asArray(ctx.alpn_protocols).length ? ` alpn=${asArray(ctx.alpn_protocols).join(',')}` : '';
    if (certs.includes('default') && hasClientCert) return `ISTIO_MUTUAL (mTLS with the workload certificate)${sni}${alpn}`;
    return `${hasClientCert ? 'MUTUAL TLS' : 'TLS'}${sni}${alpn}`;
  };
  const matches = asArray(c?.transport_socket_matches);
  if (matches.length) {
    const parts = matches.map((m: Json) => {
      const label = Object.entries(m.match ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || 'any endpoint';
      return `${label}: ${describe(m.transport_socket) ?? 'plaintext'}`;
    });
    return `per endpoint (auto mTLS): ${parts.join('; ')}`;
  }
  return describe(c?.transport_socket) ?? 'plaintext';
}

export function summariseCluster(name: string, c: Json): ClusterSummary {
  const notes: string[] = [];
  const type = clusterType(c);
  const thresholds = asArray(c?.circuit_breakers?.thresholds);
  const cb = thresholds.length
    ? thresholds
        .map((t: Json) => {
          const f = (k: string, label: string) => (t[k] !== undefined ? `${label} ${t[k]}` : null);
          const parts = [f('max_connections', 'max_connections'), f('max_pending_requests', 'max_pending'), f('max_requests', 'max_requests'), f('max_retries', 'max_retries')].filter(Boolean);
          return `${t.priority ?? 'DEFAULT'}: ${parts.join(', ') || 'Envoy defaults (1024 each, retries 3)'}`;
        })
        .join('; ')
    : null;
  const od = c?.outlier_detection;
  const outlier = od
    ? [
        od.consecutive_5xx !== undefined ? `consecutive_5xx ${od.consecutive_5xx}` : null,
        od.consecutive_gateway_failure !== undefined ? `consecutive_gateway_failure ${od.consecutive_gateway_failure}` : null,
        od.interval ? `interval ${od.interval}` : null,
        od.base_ejection_time ? `base_ejection_time ${od.base_ejection_time}` : null,
        od.max_ejection_percent !== undefined ? `max_ejection_percent ${od.max_ejection_percent}` : null,
      ]
        .filter(Boolean)
        .join(', ') || 'enabled (Envoy defaults)'
    : null;
  if (name === 'PassthroughCluster' || name === 'InboundPassthroughClusterIpv4' || name === 'InboundPassthroughClusterIpv6' || type === 'ORIGINAL_DST') {
    notes.push('ORIGINAL_DST: Envoy connects to the original destination address of the connection');
  }
  if (name === 'BlackHoleCluster') notes.push('BlackHoleCluster has no endpoints: Envoy drops the connection (HTTP: 502)');
  const m = /^(inbound|outbound)\|(\d+)\|([^|]*)\|(.*)$/.exec(name);
  return {
    name,
    type,
    lbPolicy: String(c?.lb_policy ?? 'ROUND_ROBIN'),
    tls: upstreamTls(c),
    circuitBreakers: cb,
    outlierDetection: outlier,
    istio: istioConfig(c?.metadata),
    service: m ? { direction: m[1], port: Number(m[2]), subset: m[3] || null, host: m[4] } : null,
    connectTimeout: c?.connect_timeout ?? null,
    notes,
  };
}

/** Downstream TLS of a filter chain: what the client must present. */
export function downstreamTls(chain: Json): string {
  const ts = chain?.transport_socket;
  if (!ts) return 'no TLS termination';
  const { type, config } = filterConfig(ts);
  if (!/DownstreamTlsContext$/.test(type)) return `transport socket ${ts.name ?? type}`;
  const req = config.require_client_certificate === true;
  const alpn = asArray(config.common_tls_context?.alpn_protocols);
  return `${req ? 'mTLS (client certificate required)' : 'TLS (client certificate optional)'}${alpn.length ? `, ALPN ${alpn.join(',')}` : ''}`;
}
