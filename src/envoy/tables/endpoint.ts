/** istioctl's `proxy-config endpoints` tables (writer/envoy/configdump/endpoint.go and clusters/clusters.go). */
import type { ClusterStatusEntry } from '../clusters-status.js';
import { hostEdsHealth, hostFailedOutlierCheck } from '../clusters-status.js';
import type { ConfigDump, EndpointConfigEntry } from '../config-dump.js';
import { goSortStrict } from '../gosort.js';
import { isObject, num, str } from '../json.js';
import { addressHost, addressPort, endpointAddresses } from '../listener.js';
import { listEndpointConfigs } from '../query.js';
import type { LbEndpoint, Locality, LocalityLbEndpoints } from '../types.js';
import { keyCache, subsetKey, subsetKeyLess, type SubsetKey } from './subset-key.js';
import { eqFold, type Summary } from './table.js';

export interface EndpointFilter {
  address?: string;
  port?: number;
  cluster?: string;
  status?: string;
}

export const HEALTH_STATUSES = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'];

function lbEndpointHealth(ep: LbEndpoint): string {
  return str(ep.health_status) ?? 'UNKNOWN';
}

function lbEndpointMatches(ep: LbEndpoint, cluster: string, f: EndpointFilter): boolean {
  if (f.address) {
    // istioctl compares `ip:port`; the bare IP is accepted too
    const addrs = endpointAddresses(ep);
    const host = addressHost(ep.endpoint?.address);
    if (!addrs.some((a) => eqFold(a, f.address!)) && !eqFold(host, f.address)) return false;
  }
  if (f.port && addressPort(ep.endpoint?.address) !== f.port) return false;
  if (f.cluster && !eqFold(cluster, f.cluster)) return false;
  if (f.status && !eqFold(lbEndpointHealth(ep), f.status)) return false;
  return true;
}

/** Go's LocalityToString: region/zone/subzone, stopping at the first empty part after the region. */
export function localityString(l: Locality | undefined): string {
  if (!isObject(l)) return '';
  let s = str(l.region) ?? '';
  if (!str(l.zone)) return s;
  s += `/${l.zone}`;
  if (!str(l.sub_zone)) return s;
  return `${s}/${l.sub_zone}`;
}

/** EDS assignments with at least one endpoint passing the filter, in istioctl's order, with those endpoints. */
export function filteredEndpointConfigs(dump: ConfigDump, filter: EndpointFilter): { entry: EndpointConfigEntry; matched: { locality?: Locality; ep: LbEndpoint }[] }[] {
  const out: { entry: EndpointConfigEntry; matched: { locality?: Locality; ep: LbEndpoint }[]; key: SubsetKey }[] = [];
  for (const entry of listEndpointConfigs(dump)) {
    const cla = entry.endpointConfig;
    const matched: { locality?: Locality; ep: LbEndpoint }[] = [];
    for (const llb of Array.isArray(cla.endpoints) ? cla.endpoints : []) {
      if (!isObject(llb)) continue;
      const locality = isObject(llb.locality) ? llb.locality : undefined;
      for (const ep of Array.isArray(llb.lb_endpoints) ? llb.lb_endpoints : []) {
        if (isObject(ep) && lbEndpointMatches(ep, entry.clusterName, filter)) matched.push({ locality, ep });
      }
    }
    if (matched.length) out.push({ entry, matched, key: subsetKey(entry.clusterName, keyCache(dump)) });
  }
  goSortStrict(out, (a, b) => subsetKeyLess(a.key, b.key));
  return out;
}

function filterIsEmpty(f: EndpointFilter): boolean {
  return !f.address && !f.port && !f.cluster && !f.status;
}

export function edsEndpointSummary(dump: ConfigDump, filter: EndpointFilter, withNames = false): Summary {
  const rows: string[][] = [];
  const row = (ep: LbEndpoint, locality: Locality | undefined, cluster: string) => {
    const addrs = endpointAddresses(ep);
    const addr = addrs.length === 1 ? addrs[0] : addrs.join(',');
    rows.push([withNames ? `endpoint/${addr}` : addr, lbEndpointHealth(ep), localityString(locality), cluster]);
  };
  if (filterIsEmpty(filter)) {
    // the common case without the per-endpoint bookkeeping filtering needs (10,000s of endpoints)
    const items: { entry: EndpointConfigEntry; key: SubsetKey }[] = [];
    const cache = keyCache(dump);
    for (const entry of listEndpointConfigs(dump)) if (hasLbEndpoints(entry)) items.push({ entry, key: subsetKey(entry.clusterName, cache) });
    goSortStrict(items, (a, b) => subsetKeyLess(a.key, b.key));
    for (const { entry } of items) {
      for (const llb of entry.endpointConfig.endpoints as LocalityLbEndpoints[]) {
        if (!isObject(llb) || !Array.isArray(llb.lb_endpoints)) continue;
        const locality = isObject(llb.locality) ? llb.locality : undefined;
        for (const ep of llb.lb_endpoints) if (isObject(ep)) row(ep, locality, entry.clusterName);
      }
    }
  } else {
    for (const { entry, matched } of filteredEndpointConfigs(dump, filter)) {
      for (const { locality, ep } of matched) row(ep, locality, entry.clusterName);
    }
  }
  return { headers: ['NAME', 'STATUS', 'LOCALITY', 'CLUSTER'], rows, padding: 5 };
}

function hasLbEndpoints(entry: EndpointConfigEntry): boolean {
  const groups = entry.endpointConfig.endpoints;
  if (!Array.isArray(groups)) return false;
  for (const g of groups) if (isObject(g) && Array.isArray(g.lb_endpoints) && g.lb_endpoints.some(isObject)) return true;
  return false;
}

/** `/clusters?format=json` hosts that pass the filter (address is the IP alone there, as in istioctl). */
export function clusterStatusEndpointSummary(clusters: ClusterStatusEntry[], filter: EndpointFilter): Summary {
  const items: { address: string; port: number; cluster: string; status: string; outlier: boolean }[] = [];
  for (const c of clusters) {
    for (const h of c.hosts) {
      const sock = isObject(h.address) && isObject(h.address.socket_address) ? h.address.socket_address : undefined;
      const address = sock ? (str(sock.address) ?? '') : `unix://${isObject(h.address?.pipe) ? (str(h.address.pipe.path) ?? '') : ''}`;
      const port = sock ? (num(sock.port_value) ?? 0) : 0;
      const status = hostEdsHealth(h);
      if (filter.address && !eqFold(address, filter.address)) continue;
      if (filter.port && port !== filter.port) continue;
      if (filter.cluster && !eqFold(c.name, filter.cluster)) continue;
      if (filter.status && !eqFold(status, filter.status)) continue;
      items.push({ address, port, cluster: c.name, status, outlier: hostFailedOutlierCheck(h) });
    }
  }
  goSortStrict(items, (a, b) => {
    if (a.address === b.address) {
      if (a.port === b.port) return a.cluster < b.cluster;
      return a.port < b.port;
    }
    return a.address < b.address;
  });
  const rows = items.map((i) => [i.port !== 0 ? `${i.address}:${i.port}` : i.address, i.status, i.outlier ? 'FAILED' : 'OK', i.cluster]);
  return { headers: ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'], rows, padding: 5 };
}
