/** istioctl's `proxy-config clusters` table (writer/envoy/configdump/cluster.go). */
import type { ClusterEntry, ConfigDump } from '../config-dump.js';
import { goSortStrict } from '../gosort.js';
import { describeIstioConfig } from '../istio.js';
import { listClusters } from '../query.js';
import { keyCache, subsetKey, subsetKeyLess, type SubsetKey } from './subset-key.js';
import type { Summary } from './table.js';

export interface ClusterFilter {
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
}

/** istioctl's filter: plain substring tests on the cluster name (`|9080|` for the port). */
export function clusterMatches(name: string, f: ClusterFilter): boolean {
  if (f.fqdn && !name.includes(f.fqdn)) return false;
  if (f.direction && !name.includes(f.direction)) return false;
  if (f.subset && !name.includes(f.subset)) return false;
  if (f.port && !name.includes(`|${f.port}|`)) return false;
  return true;
}

/** The cluster's discovery type as Go prints the enum (STATIC when Envoy left the default out). */
function clusterType(type: unknown): string {
  return typeof type === 'string' && type !== '' ? type : 'STATIC';
}

interface SortedCluster {
  c: ClusterEntry;
  key: SubsetKey;
}

function sortedClusterItems(dump: ConfigDump): SortedCluster[] {
  const cache = keyCache(dump);
  const items = listClusters(dump).map((c) => ({ c, key: subsetKey(c.name, cache) }));
  goSortStrict(items, (a, b) => subsetKeyLess(a.key, b.key));
  return items;
}

/** Clusters in istioctl's order: by FQDN, subset, port, direction (Istio names) or whole name. */
export function sortedClusters(dump: ConfigDump): ClusterEntry[] {
  return sortedClusterItems(dump).map((i) => i.c);
}

/** Clusters that pass the filter, in istioctl's order (for -o json|yaml). */
export function filteredClusters(dump: ConfigDump, filter: ClusterFilter): ClusterEntry[] {
  return sortedClusters(dump).filter((c) => clusterMatches(c.name, filter));
}

export function clusterSummary(dump: ConfigDump, filter: ClusterFilter, withNames = false): Summary {
  const headers = ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'];
  if (withNames) headers.unshift('NAME');
  const rows: string[][] = [];
  for (const { c, key } of sortedClusterItems(dump)) {
    if (!clusterMatches(c.name, filter)) continue;
    const name = withNames ? `cluster/${c.name}` : c.name;
    const type = clusterType(c.cluster.type);
    const dr = c.cluster.metadata === undefined ? '' : describeIstioConfig(c.cluster.metadata);
    const row = key.istio ? [key.name, String(key.port), key.subset || '-', key.direction, type, dr] : [name, '-', '-', '-', type, dr];
    if (withNames) row.unshift(name);
    rows.push(row);
  }
  return { headers, rows, padding: 5 };
}
