import {
  endpointsOfCluster,
  findCluster,
  findRouteConfig,
  findSecret,
  listListeners,
  listRouteConfigs,
  type ClustersStatus,
  type ConfigDump,
} from '../envoy/index.js';
import { indexListeners } from './listener.js';
import { endpointsOfAssignment, endpointsOfClusterStatus, type TraceWorld } from './world.js';

/** A trace world over the Envoy model of a config dump (lookups are the model's O(1) indexes). */
export function worldFromConfigDump(dump: ConfigDump, clustersStatus?: ClustersStatus): TraceWorld {
  const ips = dump.bootstrap?.bootstrap.node?.metadata?.INSTANCE_IPS;
  const podIps = typeof ips === 'string' ? ips.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const ns = dump.bootstrap?.bootstrap.node?.metadata?.NAMESPACE;
  const status = new Map(clustersStatus?.clusters.map((c) => [c.name, c.raw]) ?? []);
  const hasEds = dump.endpoints.length > 0;
  return {
    name: dump.source,
    listeners: indexListeners(listListeners(dump).map((l) => l.listener)),
    routeConfig: (n) => findRouteConfig(dump, n)?.routeConfig,
    cluster: (n) => findCluster(dump, n)?.cluster,
    endpoints: (n) => {
      const live = status.get(n);
      if (live) return { list: endpointsOfClusterStatus(live), source: `/clusters of ${clustersStatus!.source}` };
      const cla = endpointsOfCluster(dump, n);
      if (!cla) return undefined;
      const fromEds = hasEds && cla !== findCluster(dump, n)?.cluster.load_assignment;
      return { list: endpointsOfAssignment(cla), source: fromEds ? 'EDS in the config dump' : "the cluster's load_assignment" };
    },
    podIps,
    podNamespace: typeof ns === 'string' ? ns : undefined,
    routeConfigs: () => listRouteConfigs(dump).map((r) => r.routeConfig),
    // only when the dump has a secrets section: otherwise "not in the dump" would be a guess
    ...(dump.sections.some((s) => s.kind === 'secrets' && s.ok) ? { secret: (n: string) => findSecret(dump, n)?.secret } : {}),
  };
}
