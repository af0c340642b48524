import type { Json } from './matchers.js';
import { asArray } from './route.js';
import { endpointsOfClusterStatus, worldFromObjects, type TraceWorld } from './world.js';

/**
 * A trace world from a parsed /config_dump. Interim reader of the raw sections; replaced by the
 * src/envoy model once it lands.
 */
export function worldFromConfigDump(dump: Json, name: string, clustersStatus?: Json): TraceWorld {
  const listeners: Json[] = [];
  const routeConfigs: Json[] = [];
  const clusters: Json[] = [];
  const assignments: Json[] = [];
  let podIps: string[] = [];
  for (const section of asArray(dump?.configs)) {
    const type = String(section?.['@type'] ?? '');
    if (type.endsWith('BootstrapConfigDump')) {
      const ips = section?.bootstrap?.node?.metadata?.INSTANCE_IPS;
      if (typeof ips === 'string') podIps = ips.split(',').map((s) => s.trim()).filter(Boolean);
    } else if (type.endsWith('ListenersConfigDump')) {
      for (const s of asArray(section.static_listeners)) if (s?.listener) listeners.push(s.listener);
      for (const d of asArray(section.dynamic_listeners)) if (d?.active_state?.listener) listeners.push(d.active_state.listener);
    } else if (type.endsWith('RoutesConfigDump')) {
      for (const s of asArray(section.static_route_configs)) if (s?.route_config) routeConfigs.push(s.route_config);
      for (const d of asArray(section.dynamic_route_configs)) if (d?.route_config) routeConfigs.push(d.route_config);
    } else if (type.endsWith('ClustersConfigDump')) {
      for (const s of asArray(section.static_clusters)) if (s?.cluster) clusters.push(s.cluster);
      for (const d of asArray(section.dynamic_active_clusters)) if (d?.cluster) clusters.push(d.cluster);
    } else if (type.endsWith('EndpointsConfigDump')) {
      for (const s of asArray(section.static_endpoint_configs)) if (s?.endpoint_config) assignments.push(s.endpoint_config);
      for (const d of asArray(section.dynamic_endpoint_configs)) if (d?.endpoint_config) assignments.push(d.endpoint_config);
    }
  }
  const world = worldFromObjects({ name, listeners, routeConfigs, clusters, assignments, podIps });
  if (clustersStatus) {
    const byName = new Map<string, Json>();
    for (const cs of asArray(clustersStatus?.cluster_statuses)) if (cs?.name !== undefined) byName.set(String(cs.name), cs);
    const fromDump = world.endpoints;
    world.endpoints = (n) => {
      const cs = byName.get(n);
      return cs ? { list: endpointsOfClusterStatus(cs), source: '/clusters (live health)' } : fromDump(n);
    };
  }
  return world;
}
