import type { ApiGateway, ApiRoute, BackendRef, GatewayClass, Listener, MeshObjects, Namespace, ParentRef, ReferenceGrant, Service } from './objects.js';
import { exposedUrl, externalAddresses } from './gateways.js';
import { deployedService, deployedServiceName, gatewayController } from '../resources/gateway-naming.js';
import { namespaceOf, nameOf, originOf } from './objects.js';
import { namespaceSelected } from '../resources/selector.js';

/** How a workload is reached from outside through Gateway API routes (`gateway.networking.k8s.io`). */

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'TLSRoute';

export interface RouteUrl {
  /** The Gateway as `namespace/name`. */
  gateway: string;
  listener: string;
  /**
   * `http://203.0.113.7`: the gateway's address, the listener's scheme and port; `tcp://203.0.113.7:5432` and
   * `tls://203.0.113.7:443` for TCP and TLS listeners (the port always given).
   */
  url: string;
  /** The hostname requests must carry (the SNI on a TLS listener); absent when the listener and the route accept any. */
  hostname?: string;
}

export interface RouteExposure {
  kind: RouteKind;
  /** The route as `namespace/name`. */
  route: string;
  /**
   * The route's parent Gateways, with the Service Istio deployed for each when its address came from it, and
   * every address the gateway is reached at (both of a dual-stack gateway) when it has any; `ignored` says why
   * istiod binds no route to the Gateway (a waypoint, an ambient east-west or remote gateway).
   */
  gateways: { gateway: string; gatewayService?: string; addresses?: string[]; ignored?: string }[];
  urls: RouteUrl[];
  warnings: string[];
  origin?: string;
}

/** Every HTTPRoute, GRPCRoute, TCPRoute and TLSRoute with a backendRef to one of `services`, and where it makes them reachable. */
export function routeExposures(objects: MeshObjects, services: Service[]): RouteExposure[] {
  const of = (kind: RouteKind, list: ApiRoute[]) => list.map((r): [RouteKind, ApiRoute] => [kind, r]);
  const routes: [RouteKind, ApiRoute][] = [
    ...of('HTTPRoute', objects.httpRoutes),
    ...of('GRPCRoute', objects.grpcRoutes),
    ...of('TCPRoute', objects.tcpRoutes),
    ...of('TLSRoute', objects.tlsRoutes),
  ];
  routes.sort(([ka, a], [kb, b]) => key(a).localeCompare(key(b)) || ka.localeCompare(kb));
  const out: RouteExposure[] = [];
  for (const [kind, route] of routes) {
    const e = routeExposure(kind, route, objects, services);
    if (e) out.push(e);
  }
  return out;
}

function key(o: ApiRoute | ApiGateway): string {
  return `${namespaceOf(o)}/${nameOf(o)}`;
}

function routeExposure(kind: RouteKind, route: ApiRoute, objects: MeshObjects, services: Service[]): RouteExposure | undefined {
  const routeNs = namespaceOf(route);
  const name = `${kind} ${key(route)}`;
  const refs = (route.spec?.rules ?? []).flatMap((rule) => rule.backendRefs ?? []);
  const matched = refs.flatMap((ref) => services.filter((s) => refersTo(ref, routeNs, s)).map((svc) => ({ ref, svc })));
  if (matched.length === 0) return undefined;
  const parents = route.spec?.parentRefs ?? [];
  // A route attached only to Services (the mesh, GAMMA) routes inside the mesh: no exposure.
  if (parents.length > 0 && !parents.some(isGatewayParent)) return undefined;
  const e: RouteExposure = { kind, route: key(route), gateways: [], urls: [], warnings: [] };
  const origin = originOf(route);
  if (origin) e.origin = origin;

  let usable = 0;
  for (const { ref, svc } of matched) {
    const svcName = `${nameOf(svc)}.${namespaceOf(svc)}`;
    const problem = backendProblem(ref, svc, kind, routeNs, objects.referenceGrants);
    if (problem) e.warnings.push(`${name}: backendRef to service ${svcName}${ref.port !== undefined ? ` port ${ref.port}` : ''} ${problem}`);
    else usable++;
  }

  for (const parent of parents) {
    if (!isGatewayParent(parent)) continue;
    const gwNs = parent.namespace || routeNs;
    const gwKey = `${gwNs}/${parent.name ?? ''}`;
    for (const c of parentConditions(route, parent, routeNs)) e.warnings.push(`${name}: gateway ${gwKey} reports ${c}`);
    const gw = objects.apiGateways.find((g) => nameOf(g) === parent.name && namespaceOf(g) === gwNs);
    if (!gw) {
      e.gateways.push({ gateway: gwKey });
      e.warnings.push(`${name} has parent gateway ${gwKey}, which does not exist`);
      continue;
    }
    for (const c of gw.status?.conditions ?? []) {
      if ((c.type === 'Accepted' || c.type === 'Programmed') && c.status === 'False') {
        e.warnings.push(`gateway ${gwKey} is not ${c.type.toLowerCase()} (${c.type} False${c.reason ? `, ${c.reason}` : ''})${c.message ? `: ${c.message}` : ''}`);
      }
    }
    const ignored = routesIgnored(gw, objects.gatewayClasses);
    if (ignored) {
      e.gateways.push({ gateway: gwKey, ignored });
      e.warnings.push(`${name}: istiod ignores its parentRef to gateway ${gwKey}: ${ignored}`);
      continue;
    }
    const address = gatewayAddress(gw, objects.services, objects.gatewayClasses);
    const entry: RouteExposure['gateways'][number] = { gateway: gwKey };
    if (address.service) entry.gatewayService = address.service;
    if (address.addresses.length > 0) entry.addresses = address.addresses;
    e.gateways.push(entry);
    const listeners = (gw.spec?.listeners ?? []).filter(
      (l) => (parent.sectionName === undefined || l.name === parent.sectionName) && (parent.port === undefined || l.port === parent.port),
    );
    if (listeners.length === 0) {
      const which = [parent.sectionName !== undefined ? `named "${parent.sectionName}"` : '', parent.port !== undefined ? `on port ${parent.port}` : ''].filter(Boolean).join(' ');
      e.warnings.push(`${name}: gateway ${gwKey} has no listener ${which || '(it has none)'} (Accepted False, NoMatchingParent)`);
      continue;
    }
    const accepted: { listener: Listener; hostnames: string[] | undefined }[] = [];
    const reasons: string[] = [];
    const conditions = new Set<string>();
    for (const l of listeners) {
      const verdict = listenerAccepts(l, kind, route, gwNs, objects.namespaces);
      if ('reason' in verdict) {
        reasons.push(`listener ${l.name ?? '?'}: ${verdict.reason}`);
        conditions.add(verdict.condition);
        continue;
      }
      // a plain TCP connection carries no hostname: the listener's does not restrict it
      accepted.push({ listener: l, hostnames: l.protocol === 'TCP' ? undefined : verdict.hostnames });
      if (verdict.unchecked) e.warnings.push(`${name}: listener ${l.name ?? '?'} of gateway ${gwKey} admits namespaces by label selector; ${verdict.unchecked}`);
    }
    if (accepted.length === 0) {
      // istiod reports one reason per parent: the least severe of its listeners' (createRouteStatus)
      const reported = DENIAL_RANK.find((c) => conditions.has(c)) ?? [...conditions][0];
      e.warnings.push(`${name} is not accepted by gateway ${gwKey} (Accepted False, ${reported}): ${reasons.join('; ')}`);
      continue;
    }
    if (usable === 0) continue;
    if (address.addresses.length === 0) {
      const deployed = deployedService(gw, objects.gatewayClasses);
      const svc = address.service ? `Service ${address.service} has no address` : 'name' in deployed ? `no Service ${deployed.name} in ${gwNs}` : `no Service: ${deployed.none}`;
      e.warnings.push(`gateway ${gwKey} has no address yet (no status.addresses, no spec.addresses, ${svc})`);
    }
    for (const { listener, hostnames } of accepted) {
      for (const a of address.addresses.length > 0 ? address.addresses : ['unknown']) {
        const url = listenerUrl(listener, a);
        if (!url) continue;
        for (const hostname of hostnames ?? [undefined]) {
          const u: RouteUrl = { gateway: gwKey, listener: listener.name ?? '', url };
          if (hostname !== undefined) u.hostname = hostname;
          if (!e.urls.some((x) => x.gateway === u.gateway && x.url === u.url && x.hostname === u.hostname)) e.urls.push(u);
        }
      }
    }
  }
  if (parents.length === 0) e.warnings.push(`${name} has no parentRefs: it is attached to no gateway`);
  return e;
}

function isGatewayParent(p: ParentRef): boolean {
  return (p.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP && (p.kind ?? 'Gateway') === 'Gateway';
}

/** Is a backendRef a Service (core group, kind Service: the defaults)? */
export function isServiceRef(ref: BackendRef): boolean {
  return (ref.group ?? '') === '' && (ref.kind ?? 'Service') === 'Service';
}

/** Does a backendRef name this Service (namespace defaulting to the route's)? */
export function refersTo(ref: BackendRef, routeNs: string, svc: Service): boolean {
  return isServiceRef(ref) && ref.name === nameOf(svc) && (ref.namespace || routeNs) === namespaceOf(svc);
}

/** Why a backendRef to the Service carries no traffic, or undefined when it does. */
function backendProblem(ref: BackendRef, svc: Service, kind: RouteKind, routeNs: string, grants: ReferenceGrant[]): string | undefined {
  const svcNs = namespaceOf(svc);
  if (svcNs !== routeNs && !referenceGranted(grants, kind, routeNs, svcNs, nameOf(svc))) {
    return `is in another namespace and no ReferenceGrant in ${svcNs} permits ${kind} from ${routeNs} (ResolvedRefs RefNotPermitted): the gateway refuses it`;
  }
  // istiod's buildDestination (conversion.go): a Service backend without a port is an invalid destination
  if (ref.port === undefined) return 'has no port: istiod requires one for a Service (ResolvedRefs False, InvalidDestination: port is required in backendRef)';
  if (!(svc.spec?.ports ?? []).some((p) => p.port === ref.port)) {
    return `names a port the service does not have (ports ${(svc.spec?.ports ?? []).map((p) => p.port).join(', ') || 'none'})`;
  }
  if (ref.weight === 0) return 'has weight 0: it gets no traffic';
  return undefined;
}

/** Is there a ReferenceGrant in `toNs` letting `kind` objects in `fromNs` refer to the Service `svcName`? */
export function referenceGranted(grants: ReferenceGrant[], kind: string, fromNs: string, toNs: string, svcName: string): boolean {
  return grants.some(
    (g) =>
      namespaceOf(g) === toNs &&
      (g.spec?.from ?? []).some((f) => f.group === GATEWAY_API_GROUP && f.kind === kind && f.namespace === fromNs) &&
      (g.spec?.to ?? []).some((t) => (t.group ?? '') === '' && t.kind === 'Service' && (!t.name || t.name === svcName)),
  );
}

/** The route's status for this parent: conditions Accepted or ResolvedRefs with status False, as `Accepted False (Reason): message`. */
function parentConditions(route: ApiRoute, parent: ParentRef, routeNs: string): string[] {
  const out: string[] = [];
  for (const p of route.status?.parents ?? []) {
    const r = p.parentRef ?? {};
    if (r.name !== parent.name || (r.namespace || routeNs) !== (parent.namespace || routeNs) || r.sectionName !== parent.sectionName) continue;
    for (const c of p.conditions ?? []) {
      if ((c.type === 'Accepted' || c.type === 'ResolvedRefs') && c.status === 'False') {
        out.push(`${c.type} False${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`);
      }
    }
  }
  return out;
}

/** Why istiod does not bind a route to a listener: the reason of the route's `Accepted False` condition. */
export type DenialCondition = 'NotAllowedByListeners' | 'NoMatchingListenerHostname' | 'NoMatchingParent';

/** The order in which istiod picks the reason it reports for a parent when all its listeners refuse (conditions.go). */
const DENIAL_RANK: DenialCondition[] = ['NotAllowedByListeners', 'NoMatchingListenerHostname', 'NoMatchingParent'];

export type ListenerVerdict = { hostnames: string[] | undefined; unchecked?: string } | { reason: string; condition: DenialCondition };

/**
 * The route kinds istiod binds to a listener (generateSupportedKinds in pilot/pkg/config/kube/gateway/
 * conditions.go), the protocol compared exactly (`http` is not `HTTP`): a TLS listener takes TLSRoutes when
 * its `tls.mode` is Passthrough, TCPRoutes otherwise (Terminate, the default).
 */
export function supportedKinds(l: Pick<Listener, 'protocol' | 'tls'>): RouteKind[] {
  switch (l.protocol) {
    case 'HTTP':
    case 'HTTPS':
      return ['HTTPRoute', 'GRPCRoute'];
    case 'TCP':
      return ['TCPRoute'];
    case 'TLS':
      return l.tls?.mode === 'Passthrough' ? ['TLSRoute'] : ['TCPRoute'];
    default:
      // HBONE (waypoints), UDP and unknown protocols take no route
      return [];
  }
}

/** Which listeners istiod binds each route kind to, for the reason a listener refuses one. */
const BINDS: Record<RouteKind, string> = {
  HTTPRoute: 'HTTPRoute and GRPCRoute bind to HTTP and HTTPS listeners',
  GRPCRoute: 'HTTPRoute and GRPCRoute bind to HTTP and HTTPS listeners',
  TCPRoute: 'TCPRoute binds to TCP listeners and TLS listeners of tls.mode Terminate',
  TLSRoute: 'TLSRoute binds to TLS listeners of tls.mode Passthrough',
};

/**
 * Does a listener accept the route, by istiod's rules (referenceAllowed in conversion.go): the hostnames
 * intersect (else NoMatchingListenerHostname), allowedRoutes admits the route's namespace (`from: Same`, the
 * default, `All`, or `Selector` on the namespace's labels) and its kind, among those the protocol takes
 * (else NotAllowedByListeners). When it does, the hostnames it serves the route on (undefined: any).
 */
export function listenerAccepts(l: Listener, kind: RouteKind, route: ApiRoute, gwNs: string, namespaces: Namespace[]): ListenerVerdict {
  const notAllowed = (reason: string): ListenerVerdict => ({ reason, condition: 'NotAllowedByListeners' });
  const hostnames = intersectHostnames(l.hostname, route.spec?.hostnames ?? []);
  if (hostnames !== undefined && hostnames.length === 0) {
    return {
      reason: `hostname ${l.hostname} matches none of the route's hostnames (${(route.spec?.hostnames ?? []).join(', ')})`,
      condition: 'NoMatchingListenerHostname',
    };
  }
  const routeNs = namespaceOf(route);
  const from = l.allowedRoutes?.namespaces?.from ?? 'Same';
  let unchecked: string | undefined;
  if (from === 'Same' && routeNs !== gwNs) return notAllowed(`allowedRoutes admits routes from namespace ${gwNs} only (from: Same), the route is in ${routeNs}`);
  if (from === 'Selector') {
    const verdict = namespaceSelected(l.allowedRoutes?.namespaces?.selector ?? {}, routeNs, namespaces);
    if (verdict === false) return notAllowed(`namespace ${routeNs} does not match allowedRoutes.namespaces.selector`);
    if (verdict === undefined) unchecked = `the labels of namespace ${routeNs} are unknown, not checked`;
  } else if (from !== 'Same' && from !== 'All') {
    return notAllowed(`allowedRoutes.namespaces.from ${from} is not Same, All or Selector`);
  }
  const supported = supportedKinds(l);
  if (!supported.includes(kind)) {
    const upper = (l.protocol ?? '').toUpperCase();
    const hint = upper !== l.protocol && supportedKinds({ ...l, protocol: upper }).includes(kind) ? `; istiod reads protocols case-sensitively: "${upper}"` : '';
    const mode = l.protocol === 'TLS' ? ` (tls.mode ${l.tls?.mode ?? 'Terminate'})` : '';
    return notAllowed(`protocol ${l.protocol ?? '(none)'}${mode} takes ${supported.length ? `only ${supported.join(', ')}` : 'no route'}, no ${kind}s (${BINDS[kind]})${hint}`);
  }
  const kinds = l.allowedRoutes?.kinds ?? [];
  if (kinds.length > 0 && !kinds.some((k) => (k.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP && k.kind === kind)) {
    return notAllowed(`allowedRoutes.kinds admits only ${kinds.map((k) => k.kind).join(', ')}`);
  }
  return unchecked ? { hostnames, unchecked } : { hostnames };
}

/**
 * Why istiod binds no route to this Gateway's listeners, undefined when it does (gateway_collection.go:
 * the listeners of waypoints and ambient east-west gateways become no route parent, remote gateways are
 * skipped). Such a parentRef matches nothing: istiod generates no config from it, counts no attached route
 * and writes no `status.parents` entry for it.
 */
export function routesIgnored(gw: ApiGateway, classes: readonly GatewayClass[] = []): string | undefined {
  const c = gatewayController(gw, classes);
  if (c.cls === undefined || !c.istio || c.istio.routes) return undefined;
  const what = `it is ${c.istio.what} (class ${c.cls}, controller ${c.controller})`;
  if (c.controller === 'istio.io/mesh-controller') {
    return `${what}, whose listener takes no route: the route does not apply to traffic through the waypoint and istiod reports no status for this parent; for L7 routing in the waypoint, give it a parentRef of kind Service (or ServiceEntry) that uses the waypoint (istio.io/use-waypoint)`;
  }
  return `${what}, whose listeners take no route: the route does not apply there and istiod reports no status for this parent`;
}

/**
 * The hostnames a route is served on by a listener (Gateway API hostname intersection): undefined when
 * neither restricts (any), [] when they do not intersect. `*.example.com` matches any name ending in
 * `.example.com` (one label or more), never `example.com`; of a matching pair the more specific is kept.
 */
export function intersectHostnames(listener: string | undefined, route: string[]): string[] | undefined {
  if (route.length === 0) return listener ? [listener.toLowerCase()] : undefined;
  if (!listener) return [...new Set(route.map((h) => h.toLowerCase()))];
  const l = listener.toLowerCase();
  const out: string[] = [];
  for (const raw of route) {
    const h = raw.toLowerCase();
    const kept = hostnameMatches(l, h) ? h : hostnameMatches(h, l) ? l : undefined;
    if (kept && !out.includes(kept)) out.push(kept);
  }
  return out;
}

/** Does `pattern` (a hostname, or `*.suffix`) cover `host` (which may itself be a wildcard)? */
export function hostnameMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1); // `.example.com`
  return host.length > suffix.length && host.endsWith(suffix);
}

// one rule for label selectors, shared with analyze and the ambient waypoint attachment
export { labelSelectorMatches, namespaceSelected } from '../resources/selector.js';

// one naming rule for the Deployment and Service Istio deploys for a Gateway, shared with trace
export { deployedService, deployedServiceName, NAME_OVERRIDE } from '../resources/gateway-naming.js';

export interface GatewayAddresses {
  /** Every usable address, in order: both of a dual-stack gateway (IPv4 and IPv6), hostnames. */
  addresses: string[];
  /** The Service Istio deployed, as `name.namespace`, when the addresses came from it (or it has none). */
  service?: string;
}

/**
 * Where clients reach the Gateway: its status addresses, else the addresses asked for in its spec, else the
 * Service Istio deployed for it (load balancer ingresses, else external IPs, else cluster IPs). Every address
 * of the first source that has one is kept; of Gateway addresses only the types a URL can carry
 * (IPAddress, Hostname, or untyped, which means IPAddress).
 */
export function gatewayAddress(gw: ApiGateway, services: Service[], classes: readonly GatewayClass[] = []): GatewayAddresses {
  for (const list of [gw.status?.addresses, gw.spec?.addresses]) {
    const found = usable(list ?? []);
    if (found.length > 0) return { addresses: found };
  }
  const svcName = deployedServiceName(gw, classes);
  const svc = svcName ? services.find((s) => nameOf(s) === svcName && namespaceOf(s) === namespaceOf(gw)) : undefined;
  if (!svc) return { addresses: [] };
  const external = externalAddresses(svc);
  const clusterIPs = (svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec?.clusterIP]).filter((ip): ip is string => !!ip && ip !== 'None');
  return { addresses: unique(external.length > 0 ? external : clusterIPs), service: `${svcName}.${namespaceOf(svc)}` };
}

function usable(list: { type?: string; value?: string }[]): string[] {
  return unique(list.filter((a) => a.value && (!a.type || a.type === 'IPAddress' || a.type === 'Hostname')).map((a) => a.value!));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The listener's scheme: `http`, `https`, `tcp` or `tls` (the route kinds bound to it need one of these protocols). */
function listenerUrl(l: Listener, address: string): string | undefined {
  if (l.port === undefined) return undefined;
  const scheme = { HTTPS: 'https', TCP: 'tcp', TLS: 'tls' }[(l.protocol ?? '').toUpperCase()] ?? 'http';
  return exposedUrl(scheme, address, l.port);
}
