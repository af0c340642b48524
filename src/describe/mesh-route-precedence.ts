import type { MeshSettings } from './mesh.js';
import type { MeshRouteFacts } from './mesh-routes.js';
import { routesOfKind } from './mesh-routes.js';
import type { KubeObject, MeshObjects, Service } from './objects.js';
import { byCreation, namespaceOf, nameOf } from './objects.js';
import { clientLabel, clientNamespaces, ORDER_RULE, sidecarChoice, vsCandidate, type VsCandidate } from './sidecar-vs-order.js';
import { meshVirtualServicesFor } from './virtual-services.js';

/**
 * Which of the VirtualServices and HTTP routes (HTTPRoute, GRPCRoute) for one service host a sidecar uses.
 * istiod turns each route into a VirtualService for the host (route_collections.go: the routes of one
 * namespace merged); then one rule decides, per client namespace (sidecar-vs-order.ts). A route in another
 * namespace than the Service applies only to clients in the route's namespace (route.go).
 */

/** The HTTP routes (HTTPRoute, GRPCRoute) attached to the service as the VirtualServices istiod makes of them. */
export function routeCandidates(objects: MeshObjects, routes: MeshRouteFacts[], svc: Service): VsCandidate[] {
  const ports = (svc.spec?.ports ?? []).map((p) => p.port);
  // a route on a port the service lacks yields no route for any port: it takes no host from anyone
  const http = routes.filter((r) => (r.kind === 'HTTPRoute' || r.kind === 'GRPCRoute') && r.appliedBy.length > 0 && (r.parent.port === undefined || ports.includes(r.parent.port)));
  // the routes of one namespace and parentRef port become one VirtualService: the oldest stands for them
  const groups = new Map<string, { ns: string; labels: string[]; objs: KubeObject[] }>();
  for (const r of http) {
    const ns = r.route.split('/')[0];
    const obj = routesOfKind(objects, r.kind).find((o) => `${namespaceOf(o)}/${nameOf(o)}` === r.route);
    if (!obj) continue;
    const key = `${ns}/${r.parent.port ?? ''}`;
    const g = groups.get(key) ?? { ns, labels: [], objs: [] };
    const label = `${r.kind} ${r.route}${r.parent.port !== undefined ? ` (port ${r.parent.port})` : ''}`;
    if (!g.labels.includes(label)) g.labels.push(label);
    g.objs.push(obj);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => ({
    label: g.labels.length > 1 ? `${g.labels.join(' + ')} (merged)` : g.labels[0],
    namespace: g.ns,
    exportTo: undefined,
    gatewayApi: true,
    obj: [...g.objs].sort(byCreation)[0],
  }));
}

export function precedenceWarnings(objects: MeshObjects, routeCands: VsCandidate[], svc: Service, host: string, mesh: MeshSettings, waypointBound: boolean): string[] {
  const svcNs = namespaceOf(svc);
  const vss = meshVirtualServicesFor(objects.virtualServices, host, mesh).filter((vs) => (vs.spec?.http ?? []).length > 0);
  if (routeCands.length === 0 || vss.length === 0) return [];
  const candidates: VsCandidate[] = [...vss.map((vs) => vsCandidate(`VirtualService ${namespaceOf(vs)}/${nameOf(vs)}`, vs)), ...routeCands];

  const out: string[] = [];
  for (const client of clientNamespaces(candidates, svcNs)) {
    const { order, uncertain } = sidecarChoice(candidates, client, svcNs, mesh);
    if (order.length < 2 || !order.some((c) => c.gatewayApi) || order.every((c) => c.gatewayApi)) continue;
    const [winner, ...rest] = order;
    out.push(
      `sidecars in ${clientLabel(client)} route host ${host} by ${winner.label} alone; ${rest.map((c) => c.label).join(', ')} ${rest.length > 1 ? 'are' : 'is'} not used there` +
        ` (${ORDER_RULE})` +
        (uncertain ? `; uncertain: ${uncertain}` : '') +
        (waypointBound ? '; which one the waypoint uses is not decided here (uncertain)' : ''),
    );
  }
  return out;
}
