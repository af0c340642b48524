import type { SourceIdentity } from '../authz/context.js';
import { endpointsOfCluster, findCluster, type ConfigDump } from '../envoy/index.js';
import { filterConfig } from './filters.js';
import type { Json } from './matchers.js';
import { joinHostPort } from './net.js';
import { asArray } from './route.js';
import { traceRequest, type TraceRequest, type TraceResultData, type TraceStep } from './trace.js';
import type { TraceWorld } from './world.js';

/**
 * A waypoint's Envoy receiving an HBONE tunnel, read from its config dump with the sidecar trace's engine:
 * the CONNECT to IP:15008 through the listener bound there (Istio's connect_terminate: mTLS, a connection
 * manager whose connect_matcher route with connect_config terminates the CONNECT into cluster main_internal;
 * pilot/pkg/networking/core/listener_waypoint.go), that cluster's endpoint an envoy_internal_address naming an
 * internal listener (main_internal; cluster_waypoint.go buildInternalUpstreamCluster), and the facts that
 * carry the CONNECT :authority across (Envoy docs: configuration/other_features/internal_listener.rst,
 * advanced/well_known_filter_state.rst; the internal_upstream transport socket shares the filter state).
 * Returns the steps, and where the tunnelled stream enters (TraceRequest.entry), or null when it does not.
 */

export interface HboneArrival {
  /** The waypoint instance's address and HBONE port ztunnel connects to. */
  ip: string;
  port: number;
  /** The CONNECT :authority: the original destination. */
  authority: string;
  srcIp: string;
  /** The client's mTLS identity (the peer certificate connect_terminate sees). */
  identity: SourceIdentity;
  random?: number;
  allCandidates?: boolean;
  at: string;
}

export interface HboneTermination {
  steps: TraceStep[];
  entry: NonNullable<TraceRequest['entry']> | null;
  /** The CONNECT's own result (listener, route, cluster, a 403/404), when the engine ran it. */
  result?: TraceResultData;
}

export const ORIGINAL_DST_KEY = 'envoy.filters.listener.original_dst.local_ip';

export function terminateHbone(world: TraceWorld, dump: ConfigDump, a: HboneArrival): HboneTermination {
  const stop = (s: Omit<TraceStep, 'matched' | 'losers' | 'notes' | 'uncertain'> & Partial<TraceStep>): HboneTermination => ({
    steps: [{ matched: [], losers: [], notes: [], uncertain: [], at: a.at, ...s, data: { ...s.data, tunnel: true } }],
    entry: null,
  });
  if (!world.listeners.byPort.get(a.port)?.length) {
    return stop({ stage: 'listener', chosen: null, summary: `no listener on port ${a.port} in ${world.name}: the waypoint refuses the HBONE connection (a waypoint's dump has connect_terminate there)` });
  }
  const outer = traceRequest(world, {
    target: `http://${joinHostPort(a.ip, a.port)}/`,
    method: 'CONNECT',
    headers: [['host', a.authority]],
    // ztunnel speaks HTTP/2 over mTLS (ALPN h2) to the HBONE port
    alpn: ['h2'],
    direction: 'inbound',
    srcIp: a.srcIp,
    dstIp: a.ip,
    random: a.random,
    allCandidates: a.allCandidates,
    identity: a.identity,
    direct: `not captured: ztunnel connects to the waypoint's ${joinHostPort(a.ip, a.port)} itself`,
    at: a.at,
  });
  const steps = outer.steps.filter((s) => s.stage !== 'destination');
  for (const s of steps) s.data = { ...s.data, tunnel: true };
  const last = steps.at(-1);
  const r = outer.result;
  const refused = (why: string) => {
    last?.notes.push(why);
    return { steps, entry: null, result: r };
  };
  // weighted clusters without --random: the engine already says it is undecided
  if (!r.cluster && r.weightedClusters && r.authz?.decision !== 'DENY') return { steps, entry: null, result: r };
  if (r.authz?.decision === 'DENY' || !r.cluster) return refused('the waypoint does not accept the CONNECT: the client ztunnel cannot open its tunnel');
  const action = steps.find((s) => s.stage === 'routeAction');
  const upgrade = action?.data?.connect as { terminated: boolean } | undefined;
  if (!upgrade?.terminated) {
    const why = action
      ? `${r.listener} does not terminate the CONNECT (no connect_config): ${r.cluster} receives the CONNECT request, not the tunnelled stream; not simulated further`
      : `${r.listener} passes the connection to ${r.cluster} without an HTTP connection manager: nothing ends the CONNECT there; not simulated further`;
    (action ?? last)?.uncertain.push(why);
    return { steps, entry: null, result: r };
  }
  const endpoints = steps.filter((s) => s.stage === 'endpoints').at(-1);
  if (!endpoints || endpoints.chosen === null) return refused(`the tunnelled stream has nowhere to go: Envoy resets the CONNECT stream`);

  // the internal-listener hop: the cluster's endpoint is an envoy_internal_address naming a listener
  const cla = endpointsOfCluster(dump, r.cluster) as Json | undefined;
  const addrs = asArray(cla?.endpoints).flatMap((le: Json) => asArray(le?.lb_endpoints).map((ep: Json) => ep?.endpoint?.address));
  const names = [...new Set(addrs.map((x: Json) => x?.envoy_internal_address?.server_listener_name).filter((n): n is string => typeof n === 'string'))];
  const hop = (s: Omit<TraceStep, 'matched' | 'losers' | 'notes' | 'uncertain' | 'stage' | 'at'> & Partial<TraceStep>) => {
    steps.push({ stage: 'listener', matched: [], losers: [], notes: [], uncertain: [], at: a.at, ...s, data: { ...s.data, tunnel: true } });
    return { steps, entry: null, result: r };
  };
  if (!names.length) return hop({ chosen: null, summary: `cluster ${r.cluster} sends to ${addrs.length ? 'socket addresses' : 'no endpoint'}, not to an internal listener: the tunnelled stream leaves this Envoy (not a waypoint's connect_terminate)` });
  const name = names[0];
  const matched = [`cluster ${r.cluster}'s endpoint is envoy_internal_address ${name}: Envoy hands the stream to its internal listener ${name} in user space`];
  const uncertain: string[] = [];
  const notes: string[] = [];
  if (names.length > 1) uncertain.push(`cluster ${r.cluster} has endpoints on internal listeners ${names.join(', ')}: its load balancer picks one; the trace follows ${name}`);
  const unreachable = unreachableInternal(world, name);
  if (unreachable) return hop({ chosen: null, summary: `cluster ${r.cluster} names ${name}, but ${unreachable}: Envoy cannot connect to it and resets the CONNECT stream`, matched });
  const inner = world.listeners.byName.get(name)!;
  const bootstrap = dump.bootstrap?.bootstrap as Json | undefined;
  if (bootstrap) {
    const ext = asArray(bootstrap.bootstrap_extensions).some((e: Json) => e?.name === 'envoy.bootstrap.internal_listener' || /InternalListener$/.test(filterConfig(e).type));
    if (ext) matched.push('bootstrap extension envoy.bootstrap.internal_listener: internal listeners are reachable');
    else uncertain.push('the bootstrap has no envoy.bootstrap.internal_listener extension, which internal listeners need: whether Envoy reaches them is not known');
  } else notes.push('the dump has no bootstrap: whether envoy.bootstrap.internal_listener is enabled is not shown');

  // the CONNECT :authority becomes the inner connection's destination through filter state
  const c = findCluster(dump, r.cluster)?.cluster as Json | undefined;
  const internalUpstream = isInternalUpstream(c);
  const setter = authoritySetter(world, r.listener, r.filterChain);
  const originalDst = hasOriginalDst(inner);
  const carried = [
    setter ? `http filter ${setter} keeps the :authority ${a.authority} as filter state ${ORIGINAL_DST_KEY}, shared with the upstream` : null,
    internalUpstream ? `transport socket internal_upstream: the filter state shared with the upstream crosses to ${name}` : null,
    originalDst ? `listener filter original_dst of ${name}: its destination is ${a.authority}, read from that filter state` : null,
  ].filter((x): x is string => x !== null);
  matched.push(...carried);
  const missing = [
    setter ? null : `no http filter of ${r.listener} sets ${ORIGINAL_DST_KEY} from the :authority`,
    internalUpstream ? null : `cluster ${r.cluster} has no internal_upstream transport socket`,
    originalDst ? null : `${name} has no original_dst listener filter`,
  ].filter((x): x is string => x !== null);
  if (missing.length) uncertain.push(`${missing.join('; ')}: the destination ${name} sees is not known from the dump; the trace uses the :authority ${a.authority}`);
  return {
    steps,
    entry: { listener: name, how: `internal listener ${name} (reached through ${r.listener}'s CONNECT route and cluster ${r.cluster}); destination ${a.authority} from the :authority`, matched, notes, uncertain },
  };
}

/**
 * The http filter of the terminating chain that stores the CONNECT :authority as the original destination for
 * the internal listener: Envoy's set_filter_state (Istio's connect_authority, pilot/pkg/xds/filters), or
 * Istio's older set_internal_dst_address filter.
 */
function authoritySetter(world: TraceWorld, listener: string | null, chainName: string | null): string | null {
  for (const nf of asArray(chainOf(world, listener, chainName)?.filters)) {
    for (const f of asArray(filterConfig(nf).config?.http_filters)) {
      const { type, config } = filterConfig(f);
      if (/set_internal_dst_address/.test(type)) return String(f?.name ?? type);
      const sets = asArray(config?.on_request_headers).some((v: Json) => v?.object_key === ORIGINAL_DST_KEY && /%REQ\(:AUTHORITY\)%/i.test(JSON.stringify(v?.format_string ?? {})));
      if (/set_filter_state/.test(type) && sets) return String(f?.name ?? type);
    }
  }
  return null;
}

/** The filter chain a trace chose (its result's listener and filter chain names). */
export function chainOf(world: TraceWorld, listener: string | null, chainName: string | null): Json | undefined {
  const l = listener === null ? undefined : world.listeners.byName.get(listener);
  const chains = asArray(l?.filter_chains);
  return chains.find((c: Json) => c?.name !== undefined && c.name === chainName) ?? (chains.length === 1 ? chains[0] : l?.default_filter_chain);
}

/** Why an envoy_internal_address naming this listener cannot reach it, or null when it can. */
export function unreachableInternal(world: TraceWorld, name: string): string | null {
  const l = world.listeners.byName.get(name);
  if (!l) return `the internal listener ${name} is not in ${world.name}`;
  if (l.internal_listener === undefined) return `${name} is not an internal listener (no internal_listener)`;
  return null;
}

/** Does the listener have an original_dst listener filter (which sets an internal connection's destination)? */
export function hasOriginalDst(l: Json): boolean {
  return asArray(l?.listener_filters).some((f: Json) => /original_dst/.test(String(f?.name ?? '')) || /OriginalDst$/.test(filterConfig(f).type));
}

/** Is this cluster's transport socket Envoy's internal_upstream (filter state shared with the upstream crosses)? */
export function isInternalUpstream(c: Json): boolean {
  return /internal_upstream/.test(String(c?.transport_socket?.name ?? '')) || /InternalUpstreamTransport$/.test(filterConfig(c?.transport_socket ?? {}).type);
}
