/** istioctl's `proxy-config routes` table (writer/envoy/configdump/route.go). */
import type { ConfigDump, RouteConfigEntry } from '../config-dump.js';
import { goSortSlice } from '../gosort.js';
import { describeIstioConfig } from '../istio.js';
import { isObject, str } from '../json.js';
import { listRouteConfigs } from '../query.js';
import type { Metadata, RouteMatch } from '../types.js';
import { atoi, strings, type Summary } from './table.js';

export interface RouteFilter {
  name?: string;
}

/** istioctl's order: numeric names ascending, others wherever Go's sort leaves them. */
export function sortedRouteConfigs(dump: ConfigDump): RouteConfigEntry[] {
  const items = listRouteConfigs(dump).map((r) => ({ r, n: atoi(r.name) }));
  goSortSlice(items, (a, b) => a.n !== undefined && b.n !== undefined && a.n < b.n);
  return items.map((i) => i.r);
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

/** Route configs that pass the filter (for -o json|yaml). */
export function filteredRouteConfigs(dump: ConfigDump, filter: RouteFilter): RouteConfigEntry[] {
  return sortedRouteConfigs(dump).filter((r) => !filter.name || r.name === filter.name);
}
