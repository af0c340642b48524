import type { ClusterEntry, ConfigDump, EndpointConfigEntry, ListenerEntry, RouteConfigEntry, SecretEntry } from './config-dump.js';
import { isObject } from './json.js';
import { listenerAddresses, listenerPort } from './listener.js';
import type { ClusterLoadAssignment, LbEndpoint, Locality } from './types.js';

/**
 * Lookups over a ConfigDump. Lists keep dump order with dynamic entries before static ones (the order
 * istioctl reads them in); maps are built once per dump on first use, so every lookup is O(1).
 */

interface Index {
  listenersByName: Map<string, ListenerEntry>;
  listenersByAddress: Map<string, ListenerEntry[]>;
  routesByName: Map<string, RouteConfigEntry>;
  clustersByName: Map<string, ClusterEntry>;
  endpointsByCluster: Map<string, EndpointConfigEntry>;
  secretsByName: Map<string, SecretEntry>;
}

const indexes = new WeakMap<ConfigDump, Index>();

function index(dump: ConfigDump): Index {
  let ix = indexes.get(dump);
  if (ix) return ix;
  ix = {
    listenersByName: new Map(),
    listenersByAddress: new Map(),
    routesByName: new Map(),
    clustersByName: new Map(),
    endpointsByCluster: new Map(),
    secretsByName: new Map(),
  };
  for (const l of listListeners(dump)) {
    if (!ix.listenersByName.has(l.name)) ix.listenersByName.set(l.name, l);
    const port = listenerPort(l.listener);
    for (const addr of listenerAddresses(l.listener)) {
      const key = `${addr}:${port}`;
      const list = ix.listenersByAddress.get(key);
      if (list) list.push(l);
      else ix.listenersByAddress.set(key, [l]);
    }
  }
  for (const r of listRouteConfigs(dump)) if (!ix.routesByName.has(r.name)) ix.routesByName.set(r.name, r);
  for (const c of listClusters(dump)) if (!ix.clustersByName.has(c.name)) ix.clustersByName.set(c.name, c);
  for (const e of listEndpointConfigs(dump)) if (!ix.endpointsByCluster.has(e.clusterName)) ix.endpointsByCluster.set(e.clusterName, e);
  for (const s of listSecrets(dump)) if (!ix.secretsByName.has(s.name)) ix.secretsByName.set(s.name, s);
  indexes.set(dump, ix);
  return ix;
}

/** Dynamic entries first, then static: the order istioctl lists them in. */
function dynamicThenStatic<T extends { state: string }>(list: T[], dynamicStates: string[]): T[] {
  const out: T[] = [];
  for (const e of list) if (dynamicStates.includes(e.state)) out.push(e);
  for (const e of list) if (e.state === 'static') out.push(e);
  return out;
}

/** Listeners Envoy is serving with: dynamic active ones, then static ones. Pass `all` for warming/draining/error too. */
export function listListeners(dump: ConfigDump, all = false): ListenerEntry[] {
  if (all) return dump.listeners;
  return dynamicThenStatic(dump.listeners, ['active']);
}

/** Route configurations: dynamic (RDS) ones, then static ones. */
export function listRouteConfigs(dump: ConfigDump): RouteConfigEntry[] {
  return dynamicThenStatic(dump.routes, ['dynamic']);
}

/** Clusters in use: dynamic active, then static. Pass `all` for warming ones too. */
export function listClusters(dump: ConfigDump, all = false): ClusterEntry[] {
  if (all) return dump.clusters;
  return dynamicThenStatic(dump.clusters, ['active']);
}

/** EDS assignments (present only in `?include_eds` dumps): dynamic, then static. */
export function listEndpointConfigs(dump: ConfigDump): EndpointConfigEntry[] {
  return dynamicThenStatic(dump.endpoints, ['dynamic']);
}

/** Secrets as istioctl orders them: warming first, then active, then static. */
export function listSecrets(dump: ConfigDump): SecretEntry[] {
  const order = ['warming', 'active', 'static'];
  const out: SecretEntry[] = [];
  for (const state of order) for (const s of dump.secrets) if (s.state === state) out.push(s);
  return out;
}

export function findListener(dump: ConfigDump, name: string): ListenerEntry | undefined {
  return index(dump).listenersByName.get(name);
}

/** Listeners bound to `address:port` (any of their addresses); `0.0.0.0` is matched literally. */
export function findListenersByAddress(dump: ConfigDump, address: string, port: number): ListenerEntry[] {
  return index(dump).listenersByAddress.get(`${address}:${port}`) ?? [];
}

export function findRouteConfig(dump: ConfigDump, name: string): RouteConfigEntry | undefined {
  return index(dump).routesByName.get(name);
}

export function findCluster(dump: ConfigDump, name: string): ClusterEntry | undefined {
  return index(dump).clustersByName.get(name);
}

export function findSecret(dump: ConfigDump, name: string): SecretEntry | undefined {
  return index(dump).secretsByName.get(name);
}

/**
 * The endpoints of a cluster: its EDS assignment when the dump has one (`?include_eds`), else the
 * cluster's own `load_assignment` (STATIC and DNS clusters). Undefined when neither is known.
 */
export function endpointsOfCluster(dump: ConfigDump, clusterName: string): ClusterLoadAssignment | undefined {
  const eds = index(dump).endpointsByCluster.get(clusterName);
  if (eds) return eds.endpointConfig;
  const cluster = findCluster(dump, clusterName);
  const la = cluster?.cluster.load_assignment;
  return isObject(la) ? la : undefined;
}

/** One LB endpoint with the locality and cluster it belongs to. */
export interface EndpointRow {
  clusterName: string;
  locality?: Locality;
  priority: number;
  endpoint: LbEndpoint;
}

/** Flattens a ClusterLoadAssignment into its LB endpoints. */
export function lbEndpointsOf(cla: ClusterLoadAssignment, clusterName = cla.cluster_name ?? ''): EndpointRow[] {
  const rows: EndpointRow[] = [];
  if (!Array.isArray(cla.endpoints)) return rows;
  for (const llb of cla.endpoints) {
    if (!isObject(llb) || !Array.isArray(llb.lb_endpoints)) continue;
    const locality = isObject(llb.locality) ? llb.locality : undefined;
    const priority = typeof llb.priority === 'number' ? llb.priority : 0;
    for (const ep of llb.lb_endpoints) if (isObject(ep)) rows.push({ clusterName, locality, priority, endpoint: ep });
  }
  return rows;
}
