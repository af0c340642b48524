import type { Json } from './matchers.js';
import type { ListenerIndex } from './listener.js';
import { joinHostPort } from './net.js';
import { asArray } from './route.js';

/** One upstream endpoint as the trace reports it. */
export interface EndpointInfo {
  address: string;
  /** HEALTHY, UNHEALTHY, DRAINING, DEGRADED, TIMEOUT, UNKNOWN (EDS), or /clusters' failure flags. */
  health: string;
  locality: string | null;
  weight: number | null;
  priority: number;
  /** Istio's transport_socket_match label on the endpoint (`istio` = mTLS capable). */
  tlsMode: string | null;
  hostname: string | null;
}

/** What a trace needs from a dump, with lookups indexed once (a 10,000-service dump must not be rescanned). */
export interface TraceWorld {
  name: string;
  listeners: ListenerIndex;
  routeConfig(name: string): Json | undefined;
  cluster(name: string): Json | undefined;
  /** Undefined when the dump does not say (no EDS, no load_assignment); `source` says where they came from. */
  endpoints(clusterName: string): { list: EndpointInfo[]; source: string } | undefined;
  /** The pod's own IPs (bootstrap node metadata INSTANCE_IPS). */
  podIps: string[];
  /** The pod's namespace (node metadata NAMESPACE), for completing short service names. */
  podNamespace?: string;
  /** Every route configuration, for hostname → IP resolution. */
  routeConfigs(): Json[];
  /** An SDS secret of the dump by name (the upstream TLS's ROOTCA), undefined when absent or not dumped. */
  secret?(name: string): Json | undefined;
}

export function localityLabel(l: Json): string | null {
  if (!l) return null;
  const parts = [l.region, l.zone, l.sub_zone].filter((x) => x !== undefined && x !== '');
  return parts.length ? parts.join('/') : null;
}

export function addressLabel(a: Json): string {
  const sa = a?.socket_address;
  if (sa) {
    const ip = String(sa.address ?? '');
    const port = sa.port_value ?? sa.named_port ?? '';
    return joinHostPort(ip, port);
  }
  if (a?.pipe) return `unix:${a.pipe.path}`;
  if (a?.envoy_internal_address) return `envoy://${a.envoy_internal_address.server_listener_name ?? ''}`;
  return '?';
}

/** Endpoints of a ClusterLoadAssignment. */
export function endpointsOfAssignment(cla: Json): EndpointInfo[] {
  const out: EndpointInfo[] = [];
  for (const llb of asArray(cla?.endpoints)) {
    for (const ep of asArray(llb?.lb_endpoints)) {
      out.push({
        address: addressLabel(ep?.endpoint?.address),
        health: String(ep?.health_status ?? 'UNKNOWN'),
        locality: localityLabel(llb?.locality),
        weight: ep?.load_balancing_weight ?? null,
        priority: Number(llb?.priority ?? 0),
        tlsMode: ep?.metadata?.filter_metadata?.['envoy.transport_socket_match']?.tlsMode ?? null,
        hostname: ep?.endpoint?.hostname ?? null,
      });
    }
  }
  return out;
}

/** Endpoints from `/clusters?format=json` host statuses, with their live health flags. */
export function endpointsOfClusterStatus(cs: Json): EndpointInfo[] {
  return asArray(cs?.host_statuses).map((h: Json) => {
    const hs = h?.health_status ?? {};
    const flags = Object.entries(hs)
      .filter(([k, v]) => v === true && k !== 'eds_health_status')
      .map(([k]) => k);
    const eds = String(hs.eds_health_status ?? 'HEALTHY');
    return {
      address: addressLabel(h?.address),
      health: flags.length ? `${eds} (${flags.join(', ')})` : eds,
      locality: localityLabel(h?.locality),
      weight: h?.weight ?? null,
      priority: Number(h?.priority ?? 0),
      tlsMode: null,
      hostname: h?.hostname ?? null,
    };
  });
}
