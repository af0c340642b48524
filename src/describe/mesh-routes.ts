import type { WaypointBinding } from '../ambient/index.js';
import { serviceFqdn } from '../resources/hosts.js';
import { GATEWAY_API_GROUP, isServiceRef, refersTo, type RouteKind } from './gateway-api.js';
import { isHttpProtocol, servicePortProtocol } from './protocol.js';
import type { ApiRoute, BackendRef, MeshObjects, ParentRef, RouteMatch, RouteRule, Service } from './objects.js';
import { namespaceOf, nameOf, originOf } from './objects.js';

/**
 * Gateway API routes attached to a Service (mesh routing, GAMMA), as istiod turns them into the sidecars'
 * and waypoints' routes (pilot/pkg/config/kube/gateway/conversion.go, route_collections.go).
 */

export interface MeshRouteBackend {
  /** The Service as `name` (same namespace as the route) or `name.namespace`; a Hostname backend as written. */
  backend: string;
  port?: number;
  /** Percent of the rule's traffic (Gateway API weights are relative; 1 when unset). */
  weight: number;
}

export interface MeshRouteRule {
  name?: string;
  /** Each match in words (`/api*`, `method GET`); empty = everything. */
  matches: string[];
  backends: MeshRouteBackend[];
}

export interface MeshRouteFacts {
  kind: RouteKind;
  /** The route as `namespace/name`. */
  route: string;
  /** The parentRef naming the service: its port (absent: every port) and sectionName as written. */
  parent: { group: string; port?: number; sectionName?: string };
  rules: MeshRouteRule[];
  /** The route's recorded status for this parent: `Accepted True (Accepted)`, ... */
  status: string[];
  /** Who applies it: `sidecar clients`, `waypoint ns/name`; empty when istiod ignores the parentRef. */
  appliedBy: string[];
  /** A route in another namespace than the Service: istiod applies it only to clients in this namespace. */
  clientsOnlyIn?: string;
  warnings: string[];
  origin?: string;
}

/** What the caller knows of the service's data plane. */
export interface MeshRouteContext {
  /** The service's pods are in ambient mode (ztunnel carries their traffic, no sidecar). */
  ambient: boolean;
  /** The service's waypoint (istio.io/use-waypoint on it or its namespace). */
  waypoint: WaypointBinding;
  domainSuffix: string;
}

export const MESH_ROUTE_KINDS: RouteKind[] = ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute'];

export function routesOfKind(objects: MeshObjects, kind: RouteKind): ApiRoute[] {
  return { HTTPRoute: objects.httpRoutes, GRPCRoute: objects.grpcRoutes, TCPRoute: objects.tcpRoutes, TLSRoute: objects.tlsRoutes }[kind];
}

/** A parentRef of kind Service naming `svc` (whatever its group: a wrong group is reported, not skipped). */
function namesService(p: ParentRef, routeNs: string, svc: Service): boolean {
  return p.kind === 'Service' && p.name === nameOf(svc) && (p.namespace || routeNs) === namespaceOf(svc);
}

/**
 * A parentRef istiod treats as the mesh: group "" and kind Service, or networking.istio.io ServiceEntry
 * (allowedParentReferences and normalizeReference in conversion.go; the group is compared exactly, so
 * `core`, or no group (which the API server defaults to gateway.networking.k8s.io), is not a Service).
 */
export function isMeshParent(p: ParentRef): boolean {
  return (p.group === '' && p.kind === 'Service') || (p.group === 'networking.istio.io' && p.kind === 'ServiceEntry');
}

/** Every route with a parentRef naming the Service, one entry per such parentRef, by namespace/name. */
export function meshRoutesFor(objects: MeshObjects, svc: Service, ctx: MeshRouteContext, currentNs: string): MeshRouteFacts[] {
  const out: MeshRouteFacts[] = [];
  for (const kind of MESH_ROUTE_KINDS) {
    for (const route of routesOfKind(objects, kind)) {
      const routeNs = namespaceOf(route);
      for (const parent of route.spec?.parentRefs ?? []) {
        if (namesService(parent, routeNs, svc)) out.push(meshRoute(kind, route, parent, svc, objects, ctx, currentNs));
      }
    }
  }
  return out.sort((a, b) => a.route.localeCompare(b.route) || a.kind.localeCompare(b.kind));
}

/** A mesh route on another parent (a Service, or a ServiceEntry's hosts) with backendRefs to the service. */
export interface MeshRouteVia {
  kind: RouteKind;
  route: string;
  /** `service reviews.shop`, `ServiceEntry shop/api`. */
  parent: string;
  port?: number;
  /** The rules reaching the service, 1-based, with the share of each rule's traffic it gets. */
  rules: { rule: number; weight: number }[];
  origin?: string;
}

/**
 * The routes that send traffic to `svc` from another mesh parent: a split on a front Service, a
 * ServiceEntry's host routed into the mesh. Their checks are on their own parent's report.
 */
export function meshRoutesVia(objects: MeshObjects, svc: Service): MeshRouteVia[] {
  const out: MeshRouteVia[] = [];
  for (const kind of MESH_ROUTE_KINDS) {
    for (const route of routesOfKind(objects, kind)) {
      const routeNs = namespaceOf(route);
      const rules: MeshRouteVia['rules'] = [];
      (route.spec?.rules ?? []).forEach((r, i) => {
        const refs = r.backendRefs ?? [];
        const mine = refs.filter((b) => refersTo(b, routeNs, svc));
        const weight = share(mine, refs);
        if (mine.length && weight > 0) rules.push({ rule: i + 1, weight });
      });
      if (rules.length === 0) continue;
      for (const p of route.spec?.parentRefs ?? []) {
        if (!isMeshParent(p) || namesService(p, routeNs, svc)) continue;
        const ns = p.namespace || routeNs;
        const via: MeshRouteVia = { kind, route: `${routeNs}/${nameOf(route)}`, parent: p.kind === 'Service' ? `service ${p.name}.${ns}` : `ServiceEntry ${ns}/${p.name}`, rules };
        if (p.port !== undefined) via.port = p.port;
        const origin = originOf(route);
        if (origin) via.origin = origin;
        out.push(via);
      }
    }
  }
  return out.sort((a, b) => a.route.localeCompare(b.route) || a.parent.localeCompare(b.parent));
}

function meshRoute(kind: RouteKind, route: ApiRoute, parent: ParentRef, svc: Service, objects: MeshObjects, ctx: MeshRouteContext, currentNs: string): MeshRouteFacts {
  const routeNs = namespaceOf(route);
  const key = `${routeNs}/${nameOf(route)}`;
  const name = `${kind} ${key}`;
  const svcName = `${nameOf(svc)}.${namespaceOf(svc)}`;
  const facts: MeshRouteFacts = { kind, route: key, parent: { group: parent.group ?? GATEWAY_API_GROUP }, rules: [], status: [], appliedBy: [], warnings: [] };
  if (parent.port !== undefined) facts.parent.port = parent.port;
  if (parent.sectionName !== undefined) facts.parent.sectionName = parent.sectionName;
  const origin = originOf(route);
  if (origin) facts.origin = origin;
  const warn = (w: string) => facts.warnings.push(`${name}: ${w}`);

  facts.rules = (route.spec?.rules ?? []).map((r) => describeRule(r, kind, route, routeNs, currentNs));
  facts.status = recordedStatus(route, parent, routeNs, warn);

  if (!isMeshParent(parent)) {
    const group = parent.group === undefined ? 'no group (the API server defaults it to gateway.networking.k8s.io)' : `group "${parent.group}"`;
    warn(`its parentRef to service ${svcName} has ${group}: istiod takes only group "" for a Service, ignores this parentRef and reports no status for it (conversion.go toInternalParentReference); set group: ""`);
    return facts;
  }

  // istiod checks neither for a Service parent (referenceAllowed): the port becomes a match on every rule
  const ports = svc.spec?.ports ?? [];
  if (parent.port !== undefined && !ports.some((p) => p.port === parent.port)) {
    warn(`its parentRef names port ${parent.port}, which service ${svcName} does not have (ports ${ports.map((p) => p.port).join(', ') || 'none'}): istiod adds port ${parent.port} to every match, so the route never applies (istiod reports no error)`);
  }
  const onPorts = parent.port !== undefined ? ports.filter((p) => p.port === parent.port) : ports;
  const plain = onPorts.map((p) => ({ p, proto: servicePortProtocol(p) })).filter(({ proto }) => !isHttpProtocol(proto.protocol) && proto.protocol !== 'auto-detect');
  if ((kind === 'HTTPRoute' || kind === 'GRPCRoute') && onPorts.length > 0 && plain.length === onPorts.length) {
    const list = plain.map(({ p, proto }) => `${p.port} is ${proto.protocol} (${proto.source})`).join(', ');
    warn(`port ${list}: sidecars and waypoints proxy it without HTTP, so this ${kind}'s rules never match there (name the port http-... or grpc-..., or set appProtocol)`);
  }
  if (parent.sectionName !== undefined) {
    warn(`its parentRef sets sectionName "${parent.sectionName}", which istiod ignores for a Service parent: the route applies to ${parent.port !== undefined ? `port ${parent.port}` : 'every port'}`);
  }
  // route_collections.go: a Service parent's VirtualService host is the Service's own name
  const hostnames = route.spec?.hostnames ?? [];
  if ((kind === 'HTTPRoute' || kind === 'GRPCRoute') && hostnames.length) {
    warn(`its hostnames (${hostnames.join(', ')}) do not apply to a Service parent: istiod routes the service's own host ${serviceFqdn(nameOf(svc), namespaceOf(svc), ctx.domainSuffix)} whatever the request's Host`);
  }
  backendWarnings(route, kind, routeNs, objects, ctx, warn);

  if (routeNs !== namespaceOf(svc)) facts.clientsOnlyIn = routeNs;
  facts.appliedBy.push('sidecar clients');
  const wp = ctx.waypoint;
  if (wp.state === 'bound' && wp.waypoint) facts.appliedBy.push(`waypoint ${wp.waypoint}`);
  else if (ctx.ambient && wp.state === 'unknown') {
    warn(`service ${svcName} is in ambient mode; whether a waypoint applies the route is uncertain (${wp.message ?? 'waypoint unknown'})`);
  } else if (ctx.ambient) {
    const why =
      wp.state === 'problem'
        ? `its waypoint${wp.waypoint ? ` ${wp.waypoint}` : ''} is not usable (${wp.message ?? wp.state})`
        : wp.state === 'opt-out'
          ? `has no waypoint (${wp.message ?? 'opted out'})`
          : wp.waypoint && wp.facts
            ? `has no waypoint for service traffic (${wp.waypoint} has istio.io/waypoint-for ${wp.facts.trafficType})`
            : 'has no waypoint (istio.io/use-waypoint on the service or its namespace)';
    warn(`service ${svcName} is in ambient mode and ${why}: ztunnel does no L7 routing, so the route is not applied to traffic from ambient clients (istiod: "in ambient mode, route will not be respected"); only sidecar clients apply it`);
  }
  return facts;
}

function describeRule(r: RouteRule, kind: RouteKind, route: ApiRoute, routeNs: string, currentNs: string): MeshRouteRule {
  const matches = (r.matches ?? []).map((m) => matchText(m, kind));
  // a TLSRoute keeps its hostnames as SNI matches on a Service parent (augmentTLSPortMatch)
  if (kind === 'TLSRoute' && (route.spec?.hostnames ?? []).length) matches.push(`sni ${route.spec!.hostnames!.join(',')}`);
  const refs = r.backendRefs ?? [];
  const backends = refs.map((b): MeshRouteBackend => {
    const out: MeshRouteBackend = { backend: backendName(b, routeNs, currentNs), weight: share([b], refs) };
    if (b.port !== undefined) out.port = b.port;
    return out;
  });
  const rule: MeshRouteRule = { matches, backends };
  if (r.name) rule.name = r.name;
  return rule;
}

/** The percent of a rule's traffic `some` of its backendRefs get (weights are relative, 1 when unset). */
function share(some: BackendRef[], all: BackendRef[]): number {
  const sum = (list: BackendRef[]) => list.reduce((n, b) => n + (b.weight ?? 1), 0);
  const total = sum(all);
  return total > 0 ? Math.round((sum(some) * 100) / total) : 0;
}

function backendName(b: BackendRef, routeNs: string, currentNs: string): string {
  if (!isServiceRef(b)) return `${b.kind ?? '?'} ${b.name ?? ''}`;
  const ns = b.namespace || routeNs;
  return ns === currentNs ? (b.name ?? '') : `${b.name ?? ''}.${ns}`;
}

/** A match in the words the VirtualService lines use: `/api*` (prefix), `/x` (exact), `~re` (regex). */
function matchText(m: RouteMatch, kind: RouteKind): string {
  const parts: string[] = [];
  if (m.path) {
    const v = m.path.value ?? '/';
    const type = m.path.type ?? 'PathPrefix';
    parts.push(type === 'Exact' ? v : type === 'RegularExpression' ? `~${v}` : `${v === '/' ? '/' : v.replace(/\/$/, '')}*`);
  }
  if (typeof m.method === 'string') parts.push(`method ${m.method}`);
  else if (m.method && kind === 'GRPCRoute') {
    const re = m.method.type === 'RegularExpression' ? '~' : '';
    parts.push(`method ${re}${m.method.service ?? '*'}/${m.method.method ?? '*'}`);
  }
  const kv = (list: { name?: string; value?: string; type?: string }[]) => list.map((h) => `${h.name}=${h.type === 'RegularExpression' ? '~' : ''}${h.value ?? ''}`).join('; ');
  if (m.headers?.length) parts.push(`when headers are ${kv(m.headers)}`);
  if (m.queryParams?.length) parts.push(`query ${kv(m.queryParams)}`);
  return parts.join(' ') || 'everything';
}

/** Why backends get no traffic, as istiod reports it (buildDestination in conversion.go) or as meshctl sees it. */
function backendWarnings(route: ApiRoute, kind: RouteKind, routeNs: string, objects: MeshObjects, ctx: MeshRouteContext, warn: (w: string) => void): void {
  (route.spec?.rules ?? []).forEach((r, i) => {
    const refs = r.backendRefs ?? [];
    const rule = `rule ${i + 1}`;
    if (refs.length > 0 && refs.every((b) => (b.weight ?? 1) === 0)) {
      warn(`${rule}: every backendRef has weight 0: ${kind === 'HTTPRoute' || kind === 'GRPCRoute' ? 'istiod answers its requests with 500' : 'istiod rejects its connections'}`);
    }
    for (const b of refs) {
      if (!isServiceRef(b)) continue;
      const ns = b.namespace || routeNs;
      const host = serviceFqdn(b.name ?? '', ns, ctx.domainSuffix);
      const target = objects.services.find((s) => nameOf(s) === b.name && namespaceOf(s) === ns);
      if (!target) {
        warn(`${rule}: backendRef to service ${b.name}.${ns}, which does not exist (ResolvedRefs False, BackendNotFound: backend(${host}) not found): its share of requests fails`);
      } else if (b.port === undefined) {
        warn(`${rule}: backendRef to service ${b.name}.${ns} has no port (ResolvedRefs False, InvalidDestination: port is required in backendRef)`);
      } else if (!(target.spec?.ports ?? []).some((p) => p.port === b.port)) {
        warn(`${rule}: backendRef to service ${b.name}.${ns} port ${b.port}, which it does not have (ports ${(target.spec?.ports ?? []).map((p) => p.port).join(', ') || 'none'})`);
      }
    }
  });
}

/**
 * The route's status for this parent as recorded (every condition, e.g. istiod's Accepted, ResolvedRefs and
 * ResolvedWaypoints); a condition False is also a warning. istiod keeps ResolvedWaypoints True and names a
 * missing istio.io/use-waypoint in its message for every Service parent once ambient is enabled, sidecar
 * services too (conditions.go): meshctl's own ambient check speaks for it.
 */
function recordedStatus(route: ApiRoute, parent: ParentRef, routeNs: string, warn: (w: string) => void): string[] {
  const out: string[] = [];
  for (const p of route.status?.parents ?? []) {
    const r = p.parentRef ?? {};
    const sameGroup = (r.group ?? GATEWAY_API_GROUP) === (parent.group ?? GATEWAY_API_GROUP);
    if (!sameGroup || r.kind !== 'Service' || r.name !== parent.name || (r.namespace || routeNs) !== (parent.namespace || routeNs) || r.port !== parent.port) continue;
    for (const c of p.conditions ?? []) {
      const text = `${c.type ?? '?'} ${c.status ?? '?'}${c.reason ? ` (${c.reason})` : ''}`;
      out.push(text);
      if (c.status === 'False') warn(`status for this parent: ${text}${c.message ? `: ${c.message}` : ''}`);
    }
  }
  return out;
}
