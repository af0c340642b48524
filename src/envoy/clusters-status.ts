import { MeshctlError } from '../errors.js';
import { arr, isObject, kindOf, str } from './json.js';
import type { ClusterStatus, HostStatus, JsonObject } from './types.js';

/** Envoy's `/clusters?format=json`: each cluster's hosts with health flags and outlier state, as Envoy sees them now. */
export interface ClustersStatus {
  source: string;
  raw: JsonObject;
  clusters: ClusterStatusEntry[];
  problems: { what: string; reason: string }[];
}

export interface ClusterStatusEntry {
  name: string;
  addedViaApi: boolean;
  hosts: HostStatus[];
  /** The element of `cluster_statuses` as Envoy sent it. */
  raw: ClusterStatus;
}

/** True when a parsed document looks like `/clusters?format=json` rather than a config dump. */
export function isClustersStatus(raw: unknown): boolean {
  return isObject(raw) && Array.isArray(raw.cluster_statuses) && !('configs' in raw);
}

export function parseClustersStatus(raw: unknown, sourceName: string): ClustersStatus {
  if (!isObject(raw) || !Array.isArray(raw.cluster_statuses)) {
    const why = isObject(raw) ? 'no "cluster_statuses" list' : `the document is ${kindOf(raw)}`;
    throw new MeshctlError(`${sourceName}: not Envoy /clusters?format=json output (${why})`);
  }
  const out: ClustersStatus = { source: sourceName, raw: raw as JsonObject, clusters: [], problems: [] };
  const list = raw.cluster_statuses as unknown[];
  let skipped = 0;
  let first = '';
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (!isObject(c) || (c.host_statuses !== undefined && !Array.isArray(c.host_statuses))) {
      skipped++;
      first ||= `cluster_statuses[${i}] is ${isObject(c) ? 'an object whose "host_statuses" is not a list' : kindOf(c)}`;
      continue;
    }
    const status = c as ClusterStatus;
    out.clusters.push({
      name: str(status.name) ?? '',
      addedViaApi: status.added_via_api === true,
      hosts: arr<HostStatus>(status.host_statuses).filter(isObject),
      raw: status,
    });
  }
  if (skipped) {
    out.problems.push({
      what: `${skipped} of ${list.length} clusters of ${sourceName}`,
      reason: first + (skipped > 1 ? ` (and ${skipped - 1} more)` : ''),
    });
  }
  return out;
}

/** `HEALTHY`, `UNHEALTHY`, ... as istioctl shows it: Envoy omits the zero value UNKNOWN. */
export function hostEdsHealth(host: HostStatus): string {
  return str(host.health_status?.eds_health_status) ?? 'UNKNOWN';
}

/** The flags Envoy sets on a host it will not send traffic to (failed_outlier_check, failed_active_health_check, ...). */
export function hostFailureFlags(host: HostStatus): string[] {
  const hs = host.health_status;
  if (!isObject(hs)) return [];
  const flags: string[] = [];
  for (const [k, v] of Object.entries(hs)) if (v === true) flags.push(k);
  return flags;
}

export function hostFailedOutlierCheck(host: HostStatus): boolean {
  return host.health_status?.failed_outlier_check === true;
}
