import { endpointsOfCluster, findCluster, type ConfigDump } from '../envoy/index.js';
import { filterConfig } from './filters.js';
import { chainOf, hasOriginalDst, isInternalUpstream, ORIGINAL_DST_KEY, unreachableInternal } from './hbone-terminate.js';
import type { Json } from './matchers.js';
import { joinHostPort } from './net.js';
import { asArray } from './route.js';
import type { TraceWorld } from './world.js';

/**
 * Where a waypoint sends what main_internal routed, read from its dump: the upstream cluster's endpoints are
 * internal addresses naming the listener that originates HBONE (Istio's connect_originate,
 * listener_waypoint.go buildConnectOriginateListener), and what tells that listener the pod to tunnel to:
 * an inbound-vip|… endpoint's envoy.filters.listener.original_dst host metadata, passed through by the
 * cluster's internal_upstream socket (pilot/pkg/networking/util WaypointInternalUpstreamTransportSocket), or,
 * for encap (direct-http/direct-tcp), the filter state the chain's connect_authority filter copied from the
 * CONNECT; connect_originate's original_dst listener filter makes it the destination.
 */

export interface UpstreamEndpoint {
  ip: string;
  port: number;
  health: string;
  locality: string | null;
}

export interface WaypointUpstream {
  list: UpstreamEndpoint[];
  how: string;
  /** The internal listener the endpoints lead to (connect_originate); null for socket addresses. */
  via: string | null;
  uncertain: string[];
  /** Set when the endpoints lead nowhere Envoy can connect to (the list is then empty). */
  problem?: string;
}

const ORIGINAL_DST_MD = 'envoy.filters.listener.original_dst';
const splitHostPort = (s: unknown) => (typeof s === 'string' ? /^\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(s) : null);

/**
 * The endpoints of the cluster main_internal's route chose, as the pods they reach. `authority` is the
 * CONNECT :authority (the original destination); `chain` is the main_internal filter chain the request took.
 */
export function waypointUpstream(world: TraceWorld, dump: ConfigDump, cluster: string, authority: { ip: string; port: number }, route: { listener: string | null; filterChain: string | null }): WaypointUpstream | null {
  const c = findCluster(dump, cluster)?.cluster as Json | undefined;
  const original = (how: string, rest: Partial<WaypointUpstream> = {}): WaypointUpstream => ({
    list: [{ ip: authority.ip, port: authority.port, health: 'n/a (original destination)', locality: null }],
    how,
    via: null,
    uncertain: [],
    ...rest,
  });
  const shown = `the original destination ${joinHostPort(authority.ip, authority.port)} (the CONNECT :authority)`;
  if (c?.type === 'ORIGINAL_DST') return original(shown);
  const cla = endpointsOfCluster(dump, cluster) as Json | undefined;
  if (!cla) return null;
  const out: WaypointUpstream = { list: [], how: c?.type === 'EDS' || !c ? 'EDS in the waypoint dump' : "the cluster's load_assignment", via: null, uncertain: [] };
  const passed = new Set(asArray(filterConfig(c?.transport_socket ?? {}).config?.passthrough_metadata).filter((m: Json) => m?.kind?.host !== undefined).map((m: Json) => String(m?.name)));
  const names = new Set<string>();
  let fromState = false;
  let notPassed = false;
  for (const le of asArray(cla.endpoints)) {
    const locality = le?.locality?.zone ? `${le.locality.region}/${le.locality.zone}` : null;
    for (const ep of asArray(le?.lb_endpoints)) {
      const a = ep?.endpoint?.address;
      const health = String(ep?.health_status ?? 'UNKNOWN');
      if (a?.envoy_internal_address) {
        names.add(String(a.envoy_internal_address.server_listener_name ?? ''));
        const hp = splitHostPort(ep?.metadata?.filter_metadata?.[ORIGINAL_DST_MD]?.local);
        if (!hp) fromState = true;
        else {
          if (!passed.has(ORIGINAL_DST_MD)) notPassed = true;
          out.list.push({ ip: hp[1], port: Number(hp[2]), health, locality });
        }
      } else if (a?.socket_address) {
        out.list.push({ ip: String(a.socket_address.address), port: Number(a.socket_address.port_value), health, locality });
      }
    }
  }
  if (!names.size) return out;
  const via = [...names][0];
  out.via = via;
  if (names.size > 1) out.uncertain.push(`cluster ${cluster}'s endpoints lead to the internal listeners ${[...names].join(', ')}: the trace follows ${via}`);
  const unreachable = unreachableInternal(world, via);
  if (unreachable) return { ...out, list: [], problem: `cluster ${cluster}'s endpoints name ${via}, but ${unreachable}: Envoy cannot connect to it (503)` };
  const viaListener = world.listeners.byName.get(via);
  const lacks: string[] = [];
  if (!hasOriginalDst(viaListener)) lacks.push(`${via} has no original_dst listener filter`);
  if (notPassed) lacks.push(`cluster ${cluster}'s transport socket does not pass the endpoints' ${ORIGINAL_DST_MD} metadata through (internal_upstream passthrough_metadata)`);
  if (!out.list.length && fromState) {
    // encap: no endpoint says the pod; connect_originate gets the original destination from filter state
    if (!isInternalUpstream(c)) lacks.push(`cluster ${cluster} has no internal_upstream transport socket`);
    const chain = chainOf(world, route.listener, route.filterChain);
    const sets = asArray(chain?.filters).some((f: Json) => asArray(filterConfig(f).config?.on_new_connection).some((v: Json) => v?.object_key === ORIGINAL_DST_KEY));
    if (!sets) lacks.push(`no network filter of chain ${route.filterChain ?? '?'} sets ${ORIGINAL_DST_KEY}`);
    if (lacks.length) out.uncertain.push(`${lacks.join('; ')}: the destination ${via} tunnels to is not known from the dump; the trace uses the :authority`);
    return original(shown, { via, uncertain: out.uncertain });
  }
  if (lacks.length) out.uncertain.push(`${lacks.join('; ')}: the pod ${via} tunnels to is not known from the dump; the trace uses each endpoint's ${ORIGINAL_DST_MD} metadata`);
  return out;
}

/** What the HBONE origination looks like in the dump: the internal listener's tunnelling tcp_proxy and its cluster. */
export function originateFacts(dump: ConfigDump, world: TraceWorld, listener: string): { facts: string[]; port: number | null; notes: string[] } {
  const facts: string[] = [];
  const notes: string[] = [];
  let port: number | null = null;
  const l = world.listeners.byName.get(listener);
  const tcp = asArray(l?.filter_chains)
    .flatMap((fc: Json) => asArray(fc?.filters))
    .map((f: Json) => filterConfig(f))
    .find((f) => /TcpProxy$/.test(f.type))?.config;
  if (tcp?.tunneling_config) facts.push(`listener ${listener}: tcp_proxy to cluster ${tcp.cluster} tunnels (CONNECT to ${tcp.tunneling_config.hostname})`);
  else notes.push(`no ${listener} listener with a tunneling tcp_proxy in the dump`);
  const name = typeof tcp?.cluster === 'string' ? tcp.cluster : listener;
  const c = findCluster(dump, name)?.cluster as Json | undefined;
  if (c) {
    const override = c.original_dst_lb_config?.upstream_port_override;
    if (override) port = Number(override);
    const tls = /UpstreamTlsContext/.test(filterConfig(c.transport_socket ?? {}).type);
    facts.push(`cluster ${name}: ${c.type}${override ? `, port ${override}` : ''}${tls ? ", mTLS with the waypoint's certificate" : ''}`);
  } else notes.push(`no ${name} cluster in the dump`);
  return { facts, port, notes };
}
