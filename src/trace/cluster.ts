import { spiffeTrust } from '../envoy/secrets.js';
import { filterConfig } from './filters.js';
import type { Json } from './matchers.js';
import { asArray, istioConfig } from './route.js';

export interface ClusterSummary {
  name: string;
  type: string;
  lbPolicy: string;
  tls: string;
  /** How Envoy verifies the upstream's certificate (CA, SPIFFE trust domains, SANs), or null without TLS. */
  validation: string | null;
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

/**
 * How Envoy verifies the upstream's certificate: where its trust comes from (an SDS secret such as Istio's
 * ROOTCA, or inline), what it trusts (a CA, or the SPIFFE validator's trust domains — read from either
 * `trust_domains` or the newer `trust_bundles` map), and the SANs it requires. Null when no TLS is originated.
 */
export function upstreamValidation(c: Json, secret?: (name: string) => Json | undefined): string | null {
  const sockets = [c?.transport_socket, ...asArray(c?.transport_socket_matches).map((m: Json) => m?.transport_socket)];
  const tls = sockets.map((ts) => (ts ? filterConfig(ts) : null)).find((x) => x !== null && /UpstreamTlsContext$/.test(x.type));
  if (!tls) return null;
  const ctx = tls.config.common_tls_context ?? {};
  const inline = ctx.validation_context ?? ctx.combined_validation_context?.default_validation_context ?? null;
  const sds = ctx.validation_context_sds_secret_config?.name ?? ctx.combined_validation_context?.validation_context_sds_secret_config?.name;
  const fromSds = typeof sds === 'string' ? secret?.(sds) : undefined;
  const dynamic = fromSds?.validation_context ?? null;
  const parts: string[] = [];
  const trust = spiffeTrust(dynamic) ?? spiffeTrust(inline);
  const where = typeof sds === 'string' ? `${sds} (SDS${secret && fromSds === undefined ? ', not in the dump' : ''})` : 'an inline validation context';
  if (trust) {
    const form = trust.form === 'trust_bundles' ? 'trust_bundles map' : 'trust_domains';
    if (trust.file) parts.push(`${where}: SPIFFE validator, trust bundle map in ${trust.file} on the proxy (${form})`);
    else if (trust.problem) parts.push(`${where}: SPIFFE validator, ${trust.problem}`);
    else parts.push(`${where}: SPIFFE validator, the server's SPIFFE ID must be in trust domain${trust.bundles.length === 1 ? '' : 's'} ${trust.bundles.map((b) => b.trustDomain).join(', ') || '(none)'} (${form})`);
  } else if (typeof sds === 'string' || inline?.trusted_ca) parts.push(`${where}: its CA`);
  const sans = [...asArray(inline?.match_subject_alt_names), ...asArray(inline?.match_typed_subject_alt_names).map((m: Json) => m?.matcher)]
    .map((m: Json) => (m?.exact ?? m?.prefix ?? m?.suffix ?? m?.contains ?? m?.safe_regex?.regex) as unknown)
    .filter((v): v is string => typeof v === 'string');
  if (sans.length) parts.push(`SAN ${sans.join(' or ')}`);
  if (!parts.length) return 'the server certificate is not verified (no validation context)';
  return `server certificate verified against ${parts.join('; ')}`;
}

export function summariseCluster(name: string, c: Json, secret?: (name: string) => Json | undefined): ClusterSummary {
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
    validation: upstreamValidation(c, secret),
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
