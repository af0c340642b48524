/** istioctl's `proxy-config listeners` table (writer/envoy/configdump/listener.go). */
import type { ConfigDump, ListenerEntry } from '../config-dump.js';
import { goSortSlice, goSortStrict } from '../gosort.js';
import { isObject, num, str } from '../json.js';
import { filterChainsOf, HCM_FILTER, listenerAddresses, listenerPort, networkFilters, TCP_PROXY_FILTER } from '../listener.js';
import { listListeners } from '../query.js';
import type { FilterChain, FilterChainMatch, HttpConnectionManager, Listener, RouteConfiguration, RouteMatch, VirtualHost } from '../types.js';
import { describeRouteMatch } from './route.js';
import { strings, type Summary } from './table.js';

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
