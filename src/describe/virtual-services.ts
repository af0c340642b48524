import { toFqdn } from '../resources/hosts.js';
import { exportToOf, exportedTo, type MeshSettings } from './mesh.js';
import type { DestinationRule, HTTPMatchRequest, L4Route, RouteDestination, StringMatch, VirtualService } from './objects.js';
import { byCreationNameFirst, kname, nameOf, namespaceOf } from './objects.js';
import { clientLabel, clientNamespaces, ORDER_RULE, sidecarChoice, sidecarOrder, vsCandidate, type VsCandidate } from './sidecar-vs-order.js';
import type { SubsetMatch } from './destination-rules.js';

export interface RouteDestinationFact {
  host: string;
  subset?: string;
  port?: number;
  /** Percent of the route's traffic; 100 when a route has one destination and no weight. */
  weight: number;
  /** Does this destination send traffic to the described pod(s)? */
  reachesPod: boolean;
  /** Why not, when it targets the service but not the pod(s). */
  problem?: string;
}

export interface RouteFact {
  kind: 'http' | 'tcp' | 'tls';
  index: number;
  name?: string;
  /** Each match condition in words (`/productpage*`, `headers end-user=jason`); empty = everything. */
  matches: string[];
  destinations: RouteDestinationFact[];
  fault?: string;
}

export interface VirtualServiceFacts {
  name: string;
  namespace: string;
  origin?: string;
  hosts: string[];
  gateways: string[];
  /** Only the routes with at least one destination on this service. */
  routes: RouteFact[];
  /** Routes (of all kinds) in the VirtualService, for "N additional destination(s)". */
  totalRoutes: number;
  /** istioctl-style lines describing what the VirtualService does for the pod(s). */
  lines: string[];
  /** Problems, printed after the lines as `WARNING: ...`. */
  warnings: string[];
}

/** Every VirtualService with a route destination on the service (short names resolved in the VS's namespace). */
export function virtualServicesRoutingTo(all: VirtualService[], serviceHost: string, mesh: MeshSettings): VirtualService[] {
  return all
    .filter((vs) => allRoutes(vs).some((r) => (r.route ?? []).some((d) => destHost(d, vs, mesh) === serviceHost)))
    .sort(byCreationNameFirst);
}

function allRoutes(vs: VirtualService): { route?: RouteDestination[] }[] {
  return [...(vs.spec?.http ?? []), ...(vs.spec?.tcp ?? []), ...(vs.spec?.tls ?? [])];
}

function destHost(d: RouteDestination, vs: VirtualService, mesh: MeshSettings): string {
  return toFqdn(namespaceOf(vs), d.destination?.host ?? '', mesh.domainSuffix);
}

/** Gateways a VirtualService is bound to; none given means `mesh` (the sidecars). */
export function gatewaysOf(vs: VirtualService): string[] {
  const g = vs.spec?.gateways;
  return g && g.length > 0 ? g : ['mesh'];
}

/** The VirtualServices for the mesh (sidecars, waypoints) that name `host` (an FQDN; short names completed in each one's namespace). */
export function meshVirtualServicesFor(list: VirtualService[], host: string, mesh: MeshSettings): VirtualService[] {
  return list.filter((vs) => gatewaysOf(vs).includes('mesh') && (vs.spec?.hosts ?? []).some((h) => toFqdn(namespaceOf(vs), h, mesh.domainSuffix) === host));
}

export function describeVirtualService(
  vs: VirtualService,
  serviceHost: string,
  subsets: SubsetMatch,
  dr: DestinationRule | undefined,
  clientNs: string,
  mesh: MeshSettings,
  currentNs: string,
): VirtualServiceFacts {
  const ns = namespaceOf(vs);
  const facts: VirtualServiceFacts = {
    name: vs.metadata?.name ?? '',
    namespace: ns,
    hosts: vs.spec?.hosts ?? [],
    gateways: gatewaysOf(vs),
    routes: [],
    totalRoutes: allRoutes(vs).length,
    lines: [],
    warnings: [],
  };
  const mismatchNotes: string[] = [];
  let matched = 0;
  let printed = 0;

  const kinds: ['http' | 'tcp' | 'tls', (L4Route | NonNullable<NonNullable<VirtualService['spec']>['http']>[number])[]][] = [
    ['http', vs.spec?.http ?? []],
    ['tcp', vs.spec?.tcp ?? []],
    ['tls', vs.spec?.tls ?? []],
  ];
  for (const [kind, routes] of kinds) {
    routes.forEach((route, index) => {
      const dests = route.route ?? [];
      const onService = dests.some((d) => destHost(d, vs, mesh) === serviceHost);
      if (!onService) return;
      const matches = kind === 'http' ? renderHttpMatches((route as { match?: HTTPMatchRequest[] }).match) : renderL4Matches((route as L4Route).match);
      const fact: RouteFact = { kind, index, matches, destinations: [] };
      const name = (route as { name?: string }).name;
      if (name) fact.name = name;
      const fault = (route as { fault?: unknown }).fault;
      if (fault) fact.fault = renderFault(fault);
      const lines: string[] = [];
      const notes: string[] = [];
      let reaches = false;
      for (const d of dests) {
        const host = destHost(d, vs, mesh);
        const weight = d.weight ?? (dests.length === 1 ? 100 : 0);
        const df: RouteDestinationFact = { host: d.destination?.host ?? '', weight, reachesPod: false };
        if (d.destination?.subset) df.subset = d.destination.subset;
        if (d.destination?.port?.number !== undefined) df.port = d.destination.port.number;
        if (host === serviceHost) {
          const subset = d.destination?.subset;
          if (subset && subsets.nonMatching.includes(subset)) {
            df.problem = `subset ${subset} does not select the pod`;
            notes.push(`Route to non-matching subset ${subset} for (${matches.length ? matches.map((m) => `Match: ${m}`).join(', ') : 'everything'})`);
          } else if (subset && !subsets.matching.includes(subset)) {
            df.problem = dr ? `subset ${subset} is not defined in DestinationRule ${kname(dr, currentNs)}` : `subset ${subset} is not defined: no DestinationRule defines subsets`;
            const w = dr
              ? `Route to UNKNOWN subset ${subset}; check DestinationRule ${kname(dr, currentNs)}`
              : `Route to subset ${subset} but NO DESTINATION RULE defining subsets!`;
            if (!facts.warnings.includes(w)) facts.warnings.push(w);
          } else {
            df.reachesPod = true;
            reaches = true;
            if (weight > 0) lines.push(`Route to host "${df.host}"${subset ? ` subset "${subset}"` : ''} with weight ${weight}%`);
          }
        } else if (!d.destination?.subset) {
          lines.push(`Route to host "${df.host}" with weight ${weight}%`);
        } else {
          lines.push(`Route to host "${df.host}" subset "${d.destination.subset}" with weight ${weight}%`);
        }
        fact.destinations.push(df);
      }
      facts.routes.push(fact);
      if (reaches) {
        matched++;
        const req: string[] = [];
        if (fact.fault) req.push(`Fault injection ${fact.fault}`);
        for (const m of matches) req.push(`Match: ${m}`);
        if (req.length) lines.push(req.join(', '));
        facts.lines.push(...lines);
        printed += lines.length;
      } else {
        mismatchNotes.push(...notes);
      }
    });
  }

  if (matched === 0) {
    const http = (vs.spec?.http ?? []).length;
    const tcp = (vs.spec?.tcp ?? []).length;
    if (http) facts.warnings.unshift(`No destinations match pod subsets (checked ${http} HTTP routes)`);
    if (tcp) facts.warnings.unshift(`No destinations match pod subsets (checked ${tcp} TCP routes)`);
    facts.lines.push(...mismatchNotes);
  } else if (matched < facts.totalRoutes) {
    facts.lines.push(`${facts.totalRoutes - matched} additional destination(s) that will not reach this pod`);
    if (printed === 0) facts.lines.push(...mismatchNotes);
  } else if (printed === 0) {
    if (vs.spec?.http?.length) facts.lines.push(`${vs.spec.http.length} HTTP route(s)`);
    if (vs.spec?.tcp?.length) facts.lines.push(`${vs.spec.tcp.length} TCP route(s)`);
  }

  if (!exportedTo(exportToOf(vs), mesh.defaultVirtualServiceExportTo, ns, clientNs) && facts.gateways.includes('mesh')) {
    facts.warnings.push(`not exported to namespace ${clientNs} (exportTo ${JSON.stringify(exportToOf(vs) ?? mesh.defaultVirtualServiceExportTo)}): sidecars there ignore it`);
  }
  return facts;
}

/**
 * Several mesh VirtualServices for the service's host: which one sidecars use, per client namespace, by the
 * rule in sidecar-vs-order.ts (exportTo and the client's namespace first, then age). `routes` are the
 * service's HTTP routes as istiod's VirtualServices (they can take the host first). Nothing to say when no
 * namespace sees two of the VirtualServices.
 */
export function duplicateHostWarnings(list: VirtualService[], host: string, serviceNs: string, mesh: MeshSettings, routes: VsCandidate[] = []): string[] {
  const vss = meshVirtualServicesFor(list, host, mesh);
  if (vss.length < 2) return [];
  const own = vss.map((vs) => vsCandidate(`${namespaceOf(vs)}/${nameOf(vs)}`, vs));
  const clients = clientNamespaces([...own, ...routes], serviceNs);
  if (!clients.some((client) => sidecarOrder(own, client, serviceNs, mesh).length > 1)) return [];
  const choices = clients.map((client) => sidecarChoice([...own, ...routes], client, serviceNs, mesh));
  const uses = choices.map((c) => {
    const where = `in ${clientLabel(c.client)}`;
    if (c.order.length === 0) return `${where} use none (none is exported there)`;
    if (c.uncertain) return `${where} use one of ${(c.contenders ?? c.order).map((v) => v.label).join(', ')}: uncertain (${c.uncertain})`;
    return `${where} use ${c.order[0].label}${c.order.length > 1 ? ` over ${c.order.slice(1).map((v) => v.label).join(', ')}` : ''}`;
  });
  const all = [...own].sort((a, b) => a.label.localeCompare(b.label)).map((c) => c.label);
  return [`VirtualServices ${all.join(', ')} all define host "${host}" for the mesh; sidecars ${uses.join('; ')} (${ORDER_RULE})`];
}

export function renderStringMatch(sm: StringMatch | undefined): string {
  if (!sm) return '';
  if (sm.exact !== undefined) return sm.exact;
  if (sm.prefix !== undefined) return `${sm.prefix}*`;
  if (sm.regex !== undefined) return `~${sm.regex}`;
  return JSON.stringify(sm);
}

export function renderHttpMatches(matches: HTTPMatchRequest[] | undefined): string[] {
  return (matches ?? []).map((m) => {
    const parts: string[] = [];
    if (m.uri) parts.push(renderStringMatch(m.uri) + (m.ignoreUriCase ? ' uncased' : ''));
    if (m.method) parts.push(`method ${renderStringMatch(m.method)}`);
    if (m.authority) parts.push(`authority ${renderStringMatch(m.authority)}`);
    if (m.port !== undefined) parts.push(`port ${m.port}`);
    const headers = Object.entries(m.headers ?? {});
    if (headers.length) parts.push(`when headers are ${headers.map(([k, v]) => `${k}=${renderStringMatch(v)}`).join('; ')}`);
    const qp = Object.entries(m.queryParams ?? {});
    if (qp.length) parts.push(`query ${qp.map(([k, v]) => `${k}=${renderStringMatch(v)}`).join('; ')}`);
    if (m.sourceLabels) parts.push(`from ${Object.entries(m.sourceLabels).map(([k, v]) => `${k}=${v}`).join(',')}`);
    if (m.gateways?.length) parts.push(`via ${m.gateways.join(',')}`);
    return parts.join(' ') || 'everything';
  });
}

function renderL4Matches(matches: L4Route['match']): string[] {
  return (matches ?? []).map((m) => {
    const parts: string[] = [];
    if (m.port !== undefined) parts.push(`port ${m.port}`);
    if (m.sniHosts?.length) parts.push(`sni ${m.sniHosts.join(',')}`);
    if (m.destinationSubnets?.length) parts.push(`to ${m.destinationSubnets.join(',')}`);
    if (m.sourceLabels) parts.push(`from ${Object.entries(m.sourceLabels).map(([k, v]) => `${k}=${v}`).join(',')}`);
    if (m.gateways?.length) parts.push(`via ${m.gateways.join(',')}`);
    return parts.join(' ') || 'everything';
  });
}

function renderFault(fault: unknown): string {
  const f = fault as { delay?: Record<string, unknown>; abort?: Record<string, unknown> };
  const parts: string[] = [];
  if (f.delay) parts.push(`delay ${String(f.delay.fixedDelay ?? '?')}${pct(f.delay.percentage)}`);
  if (f.abort) parts.push(`abort ${String(f.abort.httpStatus ?? f.abort.grpcStatus ?? '?')}${pct(f.abort.percentage)}`);
  return parts.join(', ');
}

function pct(p: unknown): string {
  const v = (p as { value?: number } | undefined)?.value;
  return v === undefined ? '' : ` for ${v}%`;
}
