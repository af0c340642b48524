import {
  filterChainsOf,
  findRouteConfig,
  httpConnectionManager,
  listClusters,
  listListeners,
  listRouteConfigs,
  listenerAddress,
  listenerPort,
  parseIstioClusterName,
  tcpProxy,
  type ConfigDump,
  type Listener,
  type RouteConfiguration,
} from '../envoy/index.js';
import { clusterType } from '../trace/cluster.js';
import { listenerLabel } from '../trace/listener.js';
import type { EndpointInfo } from '../trace/world.js';
import { GraphBuilder, nodeId, shorten, type GraphNode, type TrafficGraph } from './model.js';

export interface ConfigGraphOptions {
  /** A traced request's path (traceGraph): marked, and its nodes always shown one by one. */
  path?: TrafficGraph;
  /** Endpoints of a cluster with their health (the trace world's lookup: EDS, load_assignment or /clusters). */
  endpoints?: (cluster: string) => { list: EndpointInfo[] } | undefined;
  /** Above these, objects are grouped (defaults: 30 listeners, 30 route configs, 40 clusters). */
  maxListeners?: number;
  maxRouteConfigs?: number;
  maxClusters?: number;
  /** Above this many route config → cluster links, they go through one junction node (default 60). */
  maxRouteEdges?: number;
}

type Target = { kind: 'routeConfig'; id: string; name: string; inline?: RouteConfiguration } | { kind: 'cluster'; name: string; label?: string };

const HEALTHY = /^(HEALTHY|UNKNOWN|n\/a)/;

/**
 * An Envoy's traffic as a graph: listeners → route configurations → clusters → endpoints, every link
 * the config makes (filter chains' RDS names, inline route configs and tcp_proxy clusters; routes'
 * clusters, weighted clusters, redirects and direct responses). A real sidecar has hundreds of clusters
 * and TCP listeners: beyond the limits they are grouped (clusters by direction and namespace, TCP
 * listeners by port), while whatever lies on the traced path is kept apart and marked.
 */
export function configGraph(dump: ConfigDump, title: string, options: ConfigGraphOptions = {}): TrafficGraph {
  const maxListeners = options.maxListeners ?? 30;
  const maxRouteConfigs = options.maxRouteConfigs ?? 30;
  const maxClusters = options.maxClusters ?? 40;
  const maxRouteEdges = options.maxRouteEdges ?? 60;
  const keep = new Set((options.path?.nodes ?? []).filter((n) => n.onPath).map((n) => n.id));
  const g = new GraphBuilder(title);

  // --- what each listener leads to
  const listeners = listListeners(dump).map((e) => e.listener);
  const links = new Map<Listener, Target[]>();
  for (const l of listeners) {
    const out: Target[] = [];
    for (const chain of filterChainsOf(l)) {
      const hcm = httpConnectionManager(chain);
      if (hcm) {
        const rds = hcm.rds?.route_config_name;
        if (typeof rds === 'string') out.push({ kind: 'routeConfig', id: nodeId('routeConfig', rds), name: rds });
        else if (hcm.route_config && typeof hcm.route_config === 'object') {
          const name = typeof hcm.route_config.name === 'string' && hcm.route_config.name ? hcm.route_config.name : '(inline)';
          const id = name === '(inline)' ? nodeId('routeConfig', listenerLabel(l), '(inline)') : nodeId('routeConfig', name);
          out.push({ kind: 'routeConfig', id, name, inline: hcm.route_config });
        }
        continue;
      }
      const tcp = tcpProxy(chain);
      if (tcp?.cluster) out.push({ kind: 'cluster', name: tcp.cluster });
      for (const w of tcp?.weighted_clusters?.clusters ?? []) if (w?.name) out.push({ kind: 'cluster', name: w.name, label: `weight ${w.weight ?? 0}` });
    }
    links.set(l, out);
  }

  const groupKey = (name: string): string => {
    const p = parseIstioClusterName(name);
    if (!p) return 'other';
    const parts = p.fqdn.split('.');
    const ns = p.fqdn.endsWith('.svc.cluster.local') && parts.length >= 5 ? parts[1] : p.fqdn ? 'external hosts' : '';
    return `${p.direction}${ns ? ` · ${ns}` : ''}`;
  };

  // --- listeners, grouped when there are too many: plain TCP listeners bound to a service VIP, by port
  const listenerNode = new Map<Listener, string>();
  const isVipTcp = (l: Listener) => {
    const addr = listenerAddress(l);
    const t = links.get(l)!;
    return addr !== '0.0.0.0' && addr !== '::' && !l.use_original_dst && t.length > 0 && t.every((x) => x.kind === 'cluster');
  };
  const groupListeners = listeners.length > maxListeners;
  const groupPorts = new Map<string, Set<number>>();
  for (const l of listeners) {
    // the trace's name for it (unnamed static listeners: address_port), so a traced path finds it
    const name = listenerLabel(l);
    const id = nodeId('listener', name);
    if (groupListeners && isVipTcp(l) && !keep.has(id)) {
      // by where they lead (the namespace of their cluster), so each group has one way out
      const first = links.get(l)![0] as { name: string };
      const key = groupKey(first.name);
      const gid = `group:listener:${key}`;
      const n = g.node({ id: gid, kind: 'listener', label: `TCP → ${key}`, details: [], count: 0 });
      n.count = (n.count ?? 0) + 1;
      const ports = (groupPorts.get(gid) ?? new Set<number>()).add(listenerPort(l));
      groupPorts.set(gid, ports);
      n.details = [`service VIPs, port${ports.size === 1 ? '' : 's'} ${[...ports].sort((a, b) => a - b).slice(0, 5).join(', ')}${ports.size > 5 ? ', …' : ''}`];
      listenerNode.set(l, gid);
      continue;
    }
    const targets = links.get(l)!;
    const http = targets.some((t) => t.kind === 'routeConfig');
    const chains = filterChainsOf(l).length;
    g.node({
      id,
      kind: 'listener',
      label: name,
      details: [`${listenerAddress(l)}:${listenerPort(l)}`, `${http ? 'HTTP' : targets.length ? 'TCP' : 'no proxy'}${chains > 1 ? `, ${chains} filter chains` : ''}${l.use_original_dst ? ', original_dst' : ''}`],
    });
    listenerNode.set(l, id);
  }
  if (groupListeners) g.notes.push(`TCP listeners bound to service VIPs are grouped by where they lead (${listeners.length} listeners in all)`);

  // --- route configurations and the clusters their routes name
  const rcTargets = new Map<string, { name: string; rc: RouteConfiguration | undefined; targets: Map<string, { cluster?: string; outcome?: string; count: number; label?: string }> }>();
  const addRouteConfig = (id: string, name: string, rc: RouteConfiguration | undefined) => {
    if (rcTargets.has(id)) return;
    const targets = new Map<string, { cluster?: string; outcome?: string; count: number; label?: string }>();
    const add = (key: string, t: { cluster?: string; outcome?: string; label?: string }) => {
      const old = targets.get(key);
      if (old) old.count++;
      else targets.set(key, { ...t, count: 1 });
    };
    for (const vh of rc?.virtual_hosts ?? []) {
      for (const r of vh?.routes ?? []) {
        if (r?.route?.cluster) add(`c:${r.route.cluster}`, { cluster: r.route.cluster });
        else if (r?.route?.weighted_clusters) for (const w of r.route.weighted_clusters.clusters ?? []) add(`c:${w.name}`, { cluster: String(w.name ?? '') });
        else if (r?.route?.cluster_header) add(`o:header`, { outcome: `cluster from header ${r.route.cluster_header}` });
        else if (r?.redirect) add('o:redirect', { outcome: 'redirect' });
        else if (r?.direct_response) add(`o:direct${r.direct_response.status}`, { outcome: `direct response ${r.direct_response.status ?? ''}`.trim() });
      }
    }
    rcTargets.set(id, { name, rc, targets });
  };
  for (const [, targets] of links) {
    for (const t of targets) if (t.kind === 'routeConfig') addRouteConfig(t.id, t.name, t.inline ?? findRouteConfig(dump, t.name)?.routeConfig);
  }
  const unreferencedRcs = listRouteConfigs(dump).filter((e) => e.name && !rcTargets.has(nodeId('routeConfig', String(e.name))));
  if (unreferencedRcs.length) g.notes.push(`${unreferencedRcs.length} route configuration(s) no listener uses are not drawn (${unreferencedRcs.slice(0, 3).map((e) => e.name).join(', ')}${unreferencedRcs.length > 3 ? ', …' : ''})`);
  if (rcTargets.size > maxRouteConfigs) g.notes.push(`${rcTargets.size} route configurations: a large drawing; the routes table lists them all`);

  // --- clusters: every one a listener or route reaches; grouped beyond the limit
  const reached = new Set<string>();
  for (const [, targets] of links) for (const t of targets) if (t.kind === 'cluster') reached.add(t.name);
  for (const [, rc] of rcTargets) for (const [, t] of rc.targets) if (t.cluster) reached.add(t.cluster);
  const clusterEntries = new Map(listClusters(dump).map((e) => [e.name, e.cluster]));
  const individually = reached.size <= maxClusters;
  const groups = new Set([...reached].filter((c) => !keep.has(nodeId('cluster', c))).map(groupKey));
  const coarse = groups.size > maxClusters;
  const groupUnhealthy = new Map<string, number>();
  const clusterNode = (name: string): string => {
    const id = nodeId('cluster', name);
    if (individually || keep.has(id)) {
      const c = clusterEntries.get(name);
      const eps = options.endpoints?.(name);
      const details: string[] = [];
      if (!c) details.push('not in the dump');
      else details.push(clusterType(c));
      g.node({ id, kind: 'cluster', label: shorten(name, 64), details, status: c ? undefined : 'bad' });
      if (c) endpointsNode(id, name, eps?.list);
      return id;
    }
    const key = coarse ? (parseIstioClusterName(name)?.direction ?? 'other') : groupKey(name);
    const gid = `group:cluster:${key}`;
    const n = g.get(gid) ?? g.node({ id: gid, kind: 'cluster', label: key, details: [], count: 0 });
    const first = n.count === 0;
    n.count = (n.count ?? 0) + 1;
    const eps = options.endpoints?.(name)?.list ?? [];
    const eid = `group:endpoints:${key}`;
    const e = g.get(eid) ?? g.node({ id: eid, kind: 'endpoints', label: key, details: [], count: 0 });
    e.count = (e.count ?? 0) + eps.length;
    const unhealthy = (groupUnhealthy.get(eid) ?? 0) + eps.filter((x) => !HEALTHY.test(x.health)).length;
    groupUnhealthy.set(eid, unhealthy);
    if (unhealthy) {
      e.status = 'warn';
      e.details = [`${unhealthy} not healthy`];
    }
    if (first) g.edge(gid, eid);
    return gid;
  };
  const endpointsNode = (clusterId: string, name: string, list: EndpointInfo[] | undefined) => {
    const id = nodeId('endpoints', name);
    if (list === undefined) return;
    const healthy = list.filter((x) => HEALTHY.test(x.health)).length;
    const details = list.slice(0, 3).map((x) => `${x.address} ${x.health}`);
    if (list.length > 3) details.push(`+${list.length - 3} more`);
    const status: GraphNode['status'] = list.length === 0 || healthy === 0 ? 'bad' : healthy < list.length ? 'warn' : undefined;
    g.node({ id, kind: 'endpoints', label: list.length === 0 ? 'no endpoints' : `${list.length} endpoint${list.length === 1 ? '' : 's'}`, details, status });
    g.edge(clusterId, id);
  };

  // --- edges
  for (const l of listeners) {
    const from = listenerNode.get(l)!;
    for (const t of links.get(l)!) {
      if (t.kind === 'routeConfig') {
        const rc = rcTargets.get(t.id)!;
        g.node({ id: t.id, kind: 'routeConfig', label: t.name, details: [describeRouteConfig(rc.rc, t.inline !== undefined)], status: rc.rc ? undefined : 'bad' });
        g.edge(from, t.id);
      } else g.edge(from, clusterNode(t.name), t.label ? { label: t.label } : {});
    }
  }
  const routeEdges: { from: string; to: string; count: number }[] = [];
  for (const [id, rc] of rcTargets) {
    const to = new Map<string, number>();
    for (const [key, t] of rc.targets) {
      let target: string;
      if (t.cluster) target = clusterNode(t.cluster);
      else {
        target = nodeId('outcome', key.slice(2));
        g.node({ id: target, kind: 'outcome', label: t.outcome!, details: [] });
      }
      to.set(target, (to.get(target) ?? 0) + t.count);
    }
    for (const [target, count] of to) routeEdges.push({ from: id, to: target, count });
  }
  if (routeEdges.length > maxRouteEdges) {
    // a dense mesh: every port's routes reach every namespace; one junction keeps the drawing legible
    const jid = 'group:virtualHost:all';
    let vhosts = 0;
    let routes = 0;
    for (const [, rc] of rcTargets) {
      vhosts += rc.rc?.virtual_hosts?.length ?? 0;
      routes += (rc.rc?.virtual_hosts ?? []).reduce((n, vh) => n + (vh?.routes?.length ?? 0), 0);
    }
    g.node({ id: jid, kind: 'virtualHost', label: 'virtual hosts', details: [`${routes} routes`], count: vhosts });
    const into = new Map<string, number>();
    const out = new Map<string, number>();
    for (const e of routeEdges) {
      into.set(e.from, (into.get(e.from) ?? 0) + e.count);
      out.set(e.to, (out.get(e.to) ?? 0) + e.count);
    }
    for (const [from, count] of into) g.edge(from, jid, { count });
    for (const [to, count] of out) g.edge(jid, to, { count });
    g.notes.push(`${routeEdges.length} links from route configurations to clusters are drawn through one node; the routes table has each`);
  } else for (const e of routeEdges) g.edge(e.from, e.to, { count: e.count });
  for (const n of g.build().nodes) {
    if (n.kind === 'cluster' && n.count !== undefined) n.details = [`${n.count} cluster${n.count === 1 ? '' : 's'}`];
    if (n.kind === 'endpoints' && n.count !== undefined && !n.details.length) n.details = ['all healthy or unknown'];
  }
  if (!individually) g.notes.push(`${reached.size} clusters: grouped by ${coarse ? 'direction' : 'direction and namespace'}; the clusters table lists them all`);
  const unreached = clusterEntries.size - [...reached].filter((c) => clusterEntries.has(c)).length;
  if (unreached > 0) g.notes.push(`${unreached} cluster(s) no listener or route leads to (e.g. xds-grpc, agent) are not drawn`);

  if (options.path) mergePath(g, options.path);
  return dropShortcuts(g.build());
}

function describeRouteConfig(rc: RouteConfiguration | undefined, inline: boolean): string {
  if (!rc) return 'not in the dump';
  const vhs = rc.virtual_hosts ?? [];
  const routes = vhs.reduce((n, vh) => n + (vh?.routes?.length ?? 0), 0);
  return `${inline ? 'inline, ' : ''}${vhs.length} virtual host${vhs.length === 1 ? '' : 's'}, ${routes} route${routes === 1 ? '' : 's'}`;
}

/** The traced path's nodes and edges laid over the config graph (losers stay in the trace's own drawing). */
function mergePath(g: GraphBuilder, path: TrafficGraph): void {
  const kind = new Map(path.nodes.map((n) => [n.id, n.kind]));
  const edges = path.edges.filter((e) => e.onPath);
  // the listener that accepted the socket (virtualOutbound) and handed it on: one hop in this drawing,
  // so that every listener stays in the listeners' column
  const handoff = edges.find((e) => kind.get(e.from) === 'listener' && kind.get(e.to) === 'listener');
  for (const n of path.nodes) {
    if (!n.onPath || n.lost) continue;
    if (handoff && n.id === handoff.from) {
      if (g.has(n.id)) g.node({ id: n.id, kind: n.kind, label: n.label, details: ['accepted the connection, handed it on (original_dst)'] });
      continue;
    }
    if (g.has(n.id)) g.node({ ...n, details: [] });
    else g.node(n);
  }
  for (const e of edges) {
    if (handoff && e === handoff) continue;
    if (handoff && e.to === handoff.from) {
      g.edge(e.from, handoff.to, { onPath: true, label: [e.label, `via ${path.nodes.find((n) => n.id === handoff.from)?.label ?? ''}`].filter(Boolean).join(' ') });
      continue;
    }
    g.edge(e.from, e.to, { onPath: true, label: e.label });
  }
}

/** A direct edge between two nodes of the path is drawn by the path itself, through its finer steps. */
function dropShortcuts(graph: TrafficGraph): TrafficGraph {
  const order = new Map<string, number>();
  const next = new Map(graph.edges.filter((e) => e.onPath).map((e) => [e.from, e.to]));
  let at: string | undefined = graph.nodes.find((n) => n.kind === 'request' && n.onPath)?.id;
  for (let i = 0; at !== undefined && !order.has(at); i++) {
    order.set(at, i);
    at = next.get(at);
  }
  const edges = graph.edges.filter((e) => e.onPath || !(order.has(e.from) && order.has(e.to) && order.get(e.from)! < order.get(e.to)!));
  return { ...graph, edges };
}
