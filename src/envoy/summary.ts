/**
 * istioctl's proxy-config summaries, cell for cell: which rows, in which order, with which wording
 * (`Cluster: x`, `Route: 9080`, `Inline Route: /healthz/ready*`, `PassthroughCluster`, `Non-HTTP/Non-TCP`,
 * `ALL`, `Addr: *:9080`, ...). Produces plain strings; the command lays them out with renderTable.
 */
import type { ClusterStatusEntry } from './clusters-status.js';
import { hostEdsHealth, hostFailedOutlierCheck } from './clusters-status.js';
import type { ClusterEntry, ConfigDump, EndpointConfigEntry, ListenerEntry, RouteConfigEntry } from './config-dump.js';
import { goSortSlice, goSortStrict } from './gosort.js';
import { describeIstioConfig, parseIstioClusterName } from './istio.js';
import { isObject, num, str } from './json.js';
import { filterChainsOf, HCM_FILTER, listenerAddresses, listenerPort, networkFilters, TCP_PROXY_FILTER, endpointAddresses, addressHost, addressPort } from './listener.js';
import { listClusters, listEndpointConfigs, listListeners, listRouteConfigs, listSecrets } from './query.js';
import { certValidAt, secretCertificate } from './secrets.js';
import type { LocalityLbEndpoints, Metadata, FilterChain, FilterChainMatch, HttpConnectionManager, LbEndpoint, Listener, Locality, RouteConfiguration, RouteMatch, VirtualHost } from './types.js';

export interface Summary {
  headers: string[];
  rows: string[][];
  /** Go tabwriter padding istioctl uses for this table. */
  padding: number;
}

// ---------------------------------------------------------------- clusters

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

interface SubsetKey {
  direction: string;
  subset: string;
  name: string;
  port: number;
  /** istioctl's test for an Istio name: more than three `|`-separated parts. */
  istio: boolean;
}

const NO_KEY_CACHE = new Map<string, SubsetKey>();
const keyCaches = new WeakMap<ConfigDump, Map<string, SubsetKey>>();

/** Keys are shared by the cluster and endpoint tables of one dump: parse each name once. */
function keyCache(dump: ConfigDump | undefined): Map<string, SubsetKey> {
  if (!dump) return NO_KEY_CACHE;
  let m = keyCaches.get(dump);
  if (!m) keyCaches.set(dump, (m = new Map()));
  return m;
}

/** istioctl's safelyParseSubsetKey: Istio names are split, anything else sorts by its whole name. */
function subsetKey(name: string, cache: Map<string, SubsetKey> = NO_KEY_CACHE): SubsetKey {
  let key = cache.get(name);
  if (key) return key;
  key = { direction: '', subset: '', name, port: 0, istio: false };
  if (name.indexOf('|') >= 0) {
    const parts = name.split('|');
    if (parts.length > 3) {
      const p = name.startsWith('outbound_.') || name.startsWith('inbound_.') ? parseIstioClusterName(name) : undefined;
      key = p
        ? { direction: p.direction, subset: p.subset, name: p.fqdn, port: p.port, istio: true }
        : { direction: parts[0], subset: parts[2], name: parts.length === 4 ? parts[3] : '', port: atoiOrZero(parts[1]), istio: true };
    }
  }
  if (cache !== NO_KEY_CACHE) cache.set(name, key);
  return key;
}

/** Go's strconv.Atoi, 0 on error (how istioctl shows a port it cannot read). */
function atoiOrZero(s: string): number {
  if (s.length === 0 || s.length > 15) return atoi(s) ?? 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return atoi(s) ?? 0;
    n = n * 10 + c;
  }
  return n;
}

function subsetKeyLess(a: SubsetKey, b: SubsetKey): boolean {
  if (a.name === b.name) {
    if (a.subset === b.subset) {
      if (a.port === b.port) return a.direction < b.direction;
      return a.port < b.port;
    }
    return a.subset < b.subset;
  }
  return a.name < b.name;
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

// ---------------------------------------------------------------- listeners

export interface ListenerFilter {
  address?: string;
  port?: number;
  type?: string;
}

const BLACKHOLE = 'BlackHoleCluster';

function mentionsBlackHole(config: unknown): boolean {
  return config !== undefined && JSON.stringify(config).includes(BLACKHOLE);
}

/** HTTP, TCP, HTTP+TCP or UNKNOWN: counts HTTP connection managers and TCP proxies (not to BlackHoleCluster). */
export function listenerType(listener: Listener): string {
  let http = 0;
  let tcp = 0;
  for (const chain of filterChainsOf(listener)) {
    for (const f of networkFilters(chain)) {
      if (f.name === HCM_FILTER) http++;
      else if (f.name === TCP_PROXY_FILTER && !mentionsBlackHole(f.typed_config)) tcp++;
    }
  }
  if (http > 0) return tcp === 0 ? 'HTTP' : 'HTTP+TCP';
  return tcp > 0 ? 'TCP' : 'UNKNOWN';
}

export function listenerMatches(listener: Listener, f: ListenerFilter): boolean {
  if (f.address) {
    const want = f.address.toLowerCase();
    if (!listenerAddresses(listener).some((a) => a.toLowerCase() === want)) return false;
  }
  if (f.port && listenerPort(listener) !== f.port) return false;
  if (f.type && listenerType(listener).toLowerCase() !== f.type.toLowerCase()) return false;
  return true;
}

const ALPN_NAMES: [string, string[]][] = [
  ['App: HTTP TLS', ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: Istio HTTP Plain', ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: TCP TLS', ['istio-peer-exchange', 'istio']],
  ['App: HTTP', ['http/1.0', 'http/1.1', 'h2c']],
];

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The MATCH column: SNI, transport, ALPN and destination address/port of a filter chain, or ALL. */
export function describeFilterChainMatch(match: FilterChainMatch | undefined): string {
  const m = isObject(match) ? match : {};
  const descrs: string[] = [];
  const sni = strings(m.server_names);
  if (sni.length) descrs.push(`SNI: ${sni.join(',')}`);
  if (str(m.transport_protocol)) descrs.push(`Trans: ${m.transport_protocol}`);
  const alpn = strings(m.application_protocols);
  if (alpn.length) {
    const known = ALPN_NAMES.find(([, list]) => sameList(alpn, list));
    descrs.push(known ? known[0] : `App: ${alpn.join(',')}`);
  }
  const port = m.destination_port !== undefined && m.destination_port !== null ? `:${num(m.destination_port) ?? 0}` : '';
  const ranges = Array.isArray(m.prefix_ranges) ? m.prefix_ranges : [];
  if (ranges.length) {
    const pf = ranges.map((r) => (isObject(r) ? `${str(r.address_prefix) ?? ''}/${num(r.prefix_len) ?? 0}` : '/0'));
    descrs.push(`Addr: ${pf.join(',')}${port}`);
  } else if (port) {
    descrs.push(`Addr: *${port}`);
  }
  return descrs.length ? descrs.join('; ') : 'ALL';
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The DESTINATION column: what the first HTTP connection manager or TCP proxy of a chain sends traffic to. */
export function describeFilterChainDestination(chain: FilterChain): string {
  for (const f of networkFilters(chain)) {
    if (f.name === HCM_FILTER) {
      const hcm = (isObject(f.typed_config) ? f.typed_config : {}) as HttpConnectionManager;
      if (isObject(hcm.route_config)) return describeInlineRouteConfig(hcm.route_config);
      const rds = isObject(hcm.rds) ? str(hcm.rds.route_config_name) : undefined;
      if (rds) return `Route: ${rds}`;
      return 'HTTP';
    }
    if (f.name === TCP_PROXY_FILTER && !mentionsBlackHole(f.typed_config)) {
      const cluster = isObject(f.typed_config) ? (str(f.typed_config.cluster) ?? '') : '';
      return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`;
    }
  }
  return 'Non-HTTP/Non-TCP';
}

function describeInlineRouteConfig(rc: RouteConfiguration): string {
  const all = matchAllCluster(rc);
  if (all) return all;
  const vhosts = (Array.isArray(rc.virtual_hosts) ? rc.virtual_hosts : []).filter(isObject).map((vh) => {
    const domains = describeInlineDomains(vh);
    const routes = (Array.isArray(vh.routes) ? vh.routes : []).map((r) => describeRouteMatch(isObject(r) ? (r.match as RouteMatch) : undefined)).join(', ');
    return domains === '' ? routes : `${domains} ${routes}`;
  });
  return `Inline Route: ${vhosts.join('; ')}`;
}

/** A single catch-all route to one cluster is shown as that cluster. */
function matchAllCluster(rc: RouteConfiguration): string {
  const vhs = Array.isArray(rc.virtual_hosts) ? rc.virtual_hosts : [];
  if (vhs.length !== 1 || !isObject(vhs[0])) return '';
  const vh = vhs[0];
  if (!Array.isArray(vh.domains) || !sameList(vh.domains, ['*'])) return '';
  if (!Array.isArray(vh.routes) || vh.routes.length !== 1 || !isObject(vh.routes[0])) return '';
  const r = vh.routes[0];
  if (!isObject(r.match) || r.match.prefix !== '/') return '';
  if (!isObject(r.route)) return '';
  const cluster = str(r.route.cluster);
  if (cluster === undefined) return '';
  return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`;
}

function describeInlineDomains(vh: VirtualHost): string {
  const d = strings(vh.domains);
  if (d.length === 1 && d[0] === '*') return '';
  return d.join('/');
}

/** A route's path match as istioctl writes it: `/prefix*`, `/exact`, `PathPrefix:/p`, `regex ^/x`; headers are not shown. */
export function describeRouteMatch(match: RouteMatch | undefined): string {
  if (!isObject(match)) return '';
  const conds: string[] = [];
  if (str(match.prefix)) conds.push(`${match.prefix}*`);
  if (str(match.path_separated_prefix)) conds.push(`PathPrefix:${match.path_separated_prefix}`);
  if (str(match.path)) conds.push(match.path as string);
  if (isObject(match.safe_regex)) conds.push(`regex ${str(match.safe_regex.regex) ?? ''}`);
  return conds.join(' ');
}

function listenerLess(a: { port: number; addr: string; type: () => string }, b: typeof a): boolean {
  if (a.port !== b.port) return a.port < b.port;
  if (a.addr !== b.addr) return a.addr < b.addr;
  return a.type() < b.type();
}

export function listenerSummary(dump: ConfigDump, filter: ListenerFilter, verbose: boolean, withNames = false): Summary {
  const items = listListeners(dump)
    .filter((l) => listenerMatches(l.listener, filter))
    .map((l) => {
      let type: string | undefined;
      return { l, port: listenerPort(l.listener), addr: listenerAddresses(l.listener)[0], type: () => (type ??= listenerType(l.listener)) };
    });
  goSortStrict(items, listenerLess);
  const headers = verbose ? ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'] : ['ADDRESSES', 'PORT', 'TYPE'];
  if (withNames) headers.unshift('NAME');
  const rows: string[][] = [];
  for (const { l, port } of items) {
    const addresses = listenerAddresses(l.listener).join(',');
    const name = `listener/${l.name}`;
    if (verbose) {
      const matches = filterChainsOf(l.listener).map((chain) => ({
        match: describeFilterChainMatch(chain.filter_chain_match),
        destination: describeFilterChainDestination(chain),
      }));
      goSortSlice(matches, (a, b) => a.destination > b.destination);
      for (const m of matches) {
        const row = [addresses, String(port), m.match, m.destination];
        if (withNames) row.unshift(name);
        rows.push(row);
      }
    } else {
      const row = [addresses, String(port), listenerType(l.listener)];
      if (withNames) row.unshift(name);
      rows.push(row);
    }
  }
  return { headers, rows, padding: 1 };
}

/** Listeners that pass the filter, in istioctl's order (for -o json|yaml). */
export function filteredListeners(dump: ConfigDump, filter: ListenerFilter): ListenerEntry[] {
  return listListeners(dump).filter((l) => listenerMatches(l.listener, filter));
}

// ---------------------------------------------------------------- routes

export interface RouteFilter {
  name?: string;
}

/** Go's strconv.Atoi: undefined where Go returns an error. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** istioctl's order: numeric names ascending, others wherever Go's sort leaves them. */
export function sortedRouteConfigs(dump: ConfigDump): RouteConfigEntry[] {
  const items = listRouteConfigs(dump).map((r) => ({ r, n: atoi(r.name) }));
  goSortSlice(items, (a, b) => a.n !== undefined && b.n !== undefined && a.n < b.n);
  return items.map((i) => i.r);
}

function isPassthrough(route: Record<string, unknown>): boolean {
  return isObject(route.route) && route.route.cluster === 'PassthroughCluster';
}

/** The DOMAINS column: the one domain, or up to two without port and without their expanded forms, `+ N more...`. */
function countColons(s: string): number {
  let n = 0;
  for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) n++;
  return n;
}

export function describeRouteDomains(domains: string[]): string {
  if (domains.length === 0) return '';
  if (domains.length === 1) return domains[0];
  const withoutPort: string[] = [];
  for (const d of domains) {
    const colon = d.indexOf(':');
    if (colon < 0 || (d.endsWith(']') && countColons(d) > 2)) withoutPort.push(d);
  }
  const unique = new Set(withoutPort);
  const kept = withoutPort.filter((h) => !((h.endsWith('.svc.cluster.local') && unique.has(h.slice(0, -18))) || (h.endsWith('.svc') && unique.has(h.slice(0, -4)))));
  if (kept.length > 2) return `${kept.slice(0, 2).join(', ')} + ${kept.length - 2} more...`;
  return kept.join(', ');
}

export function routeSummary(dump: ConfigDump, filter: RouteFilter, verbose: boolean, withNames = false): Summary {
  const rows: string[][] = [];
  const prefix = withNames ? 'route/' : '';
  for (const r of sortedRouteConfigs(dump)) {
    if (filter.name && r.name !== filter.name) continue;
    const vhosts = (Array.isArray(r.routeConfig.virtual_hosts) ? r.routeConfig.virtual_hosts : []).filter(isObject);
    if (!verbose) {
      rows.push([prefix + r.name, String(Array.isArray(r.routeConfig.virtual_hosts) ? r.routeConfig.virtual_hosts.length : 0)]);
      continue;
    }
    for (const vh of vhosts) {
      const vhName = str(vh.name) ?? '';
      const domains = describeRouteDomains(strings(vh.domains));
      const routes = Array.isArray(vh.routes) ? vh.routes : [];
      for (const route of routes) {
        if (!isObject(route) || isPassthrough(route)) continue;
        rows.push([prefix + r.name, vhName, domains, describeRouteMatch(route.match as RouteMatch), describeIstioConfig(route.metadata as Metadata)]);
      }
      if (routes.length === 0) rows.push([prefix + r.name, vhName, domains, '/*', '404']);
    }
  }
  const headers = verbose ? ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'] : ['NAME', 'VIRTUAL HOSTS'];
  return { headers, rows, padding: 5 };
}

// ---------------------------------------------------------------- endpoints

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

function eqFold(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
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

// ---------------------------------------------------------------- secrets

export interface SecretRow {
  name: string;
  type: string;
  status: string;
  valid: boolean;
  serial: string;
  notAfter: string;
  notBefore: string;
  /** Why the certificate could not be read, when it could not. */
  problem?: string;
}

const SECRET_STATUS: Record<string, string> = { warming: 'WARMING', active: 'ACTIVE', static: 'STATIC' };

export function secretRows(dump: ConfigDump, now: Date = new Date()): SecretRow[] {
  return listSecrets(dump).map((s) => {
    const cert = secretCertificate(s);
    const base = { name: s.name, status: SECRET_STATUS[s.state] };
    if (!cert.ok) return { ...base, type: '', valid: false, serial: '', notAfter: '', notBefore: '', problem: cert.reason };
    const c = cert.cert;
    return { ...base, type: c.type, valid: certValidAt(c, now), serial: c.serialNumber, notAfter: c.notAfter, notBefore: c.notBefore };
  });
}

export function secretSummary(rows: SecretRow[], withNames = false): Summary {
  return {
    headers: ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'],
    rows: rows.map((r) => [withNames ? `secret/${r.name}` : r.name, r.type, r.status, String(r.valid), r.serial, r.notAfter, r.notBefore]),
    padding: 5,
  };
}

// ---------------------------------------------------------------- bootstrap

/** Istio and Envoy versions from the bootstrap node, as `all` prints them (label, value). */
export function bootstrapSummary(dump: ConfigDump): [string, string][] {
  const node = dump.bootstrap?.bootstrap.node;
  const md = isObject(node) && isObject(node.metadata) ? node.metadata : {};
  const out: [string, string][] = [];
  const istioVersion = str(md.ISTIO_VERSION) ?? '';
  let sha = str(md.ISTIO_PROXY_SHA) ?? '';
  const parts = sha.split(':');
  if (parts.length > 1) sha = parts[1];
  if (istioVersion) out.push(['Istio Version:', istioVersion]);
  if (sha) out.push(['Istio Proxy Version:', sha]);
  const build = isObject(node) && isObject(node.user_agent_build_version) ? node.user_agent_build_version : {};
  const v = isObject(build.version) ? build.version : {};
  let envoy = `${num(v.major_number) ?? 0}.${num(v.minor_number) ?? 0}.${num(v.patch) ?? 0}`;
  const bmd = isObject(build.metadata) ? build.metadata : {};
  if ('build.label' in bmd) envoy += `-${scalar(bmd['build.label'])}`;
  if ('revision.status' in bmd) envoy += `/${scalar(bmd['revision.status'])}`;
  if ('build.type' in bmd) envoy += `/${scalar(bmd['build.type'])}`;
  if ('ssl.version' in bmd) envoy += `/${scalar(bmd['ssl.version'])}`;
  out.push(['Envoy Version:', envoy]);
  return out;
}

function scalar(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

// ---------------------------------------------------------------- ECDS

/** Extension configs delivered by ECDS: name and type, ordered by type then name. */
export function ecdsSummary(dump: ConfigDump): Summary {
  const items = dump.ecds.map((e) => {
    const tc = isObject(e.filter.typed_config) ? e.filter.typed_config : {};
    return { name: e.name, type: str(tc['@type']) ?? '' };
  });
  goSortStrict(items, (a, b) => (a.type === b.type ? a.name < b.name : a.type < b.type));
  return {
    headers: ['ECDS NAME', 'TYPE'],
    rows: items.map((i) => [i.name, i.type.startsWith('type.googleapis.com/') ? i.type.slice('type.googleapis.com/'.length) : i.type]),
    padding: 5,
  };
}

/** Route configs that pass the filter (for -o json|yaml). */
export function filteredRouteConfigs(dump: ConfigDump, filter: RouteFilter): RouteConfigEntry[] {
  return sortedRouteConfigs(dump).filter((r) => !filter.name || r.name === filter.name);
}

