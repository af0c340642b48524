import { toFqdn } from '../resources/hosts.js';
import { exportToOf, exportedTo, type MeshSettings } from './mesh.js';
import type { MeshRouteFacts } from './mesh-routes.js';
import { routesOfKind } from './mesh-routes.js';
import type { KubeObject, MeshObjects, Service } from './objects.js';
import { byCreation, namespaceOf, nameOf } from './objects.js';
import { gatewaysOf } from './virtual-services.js';

/**
 * Which of the VirtualServices and HTTP routes (HTTPRoute, GRPCRoute) for one service host a sidecar uses.
 * istiod turns each route into a VirtualService for the host (route_collections.go: the routes of one
 * namespace merged) and a sidecar builds one virtual host per host from the first VirtualService that
 * names it, dropping later ones as duplicates (httproute.go). The order (SelectVirtualServices in
 * pilot/pkg/model/virtualservice.go over the index of push_context.go): those exported only to the
 * client's own namespace (exportTo "."), then those exported to it by name, then public ones; within each,
 * Gateway API routes of the client's namespace first ("consumer override"), then oldest first. A route
 * in another namespace than the Service applies only to clients in the route's namespace (route.go).
 */

const OTHER = ' other';

interface Candidate {
  label: string;
  namespace: string;
  exportTo: string[] | undefined;
  gatewayApi: boolean;
  obj: KubeObject;
}

export function precedenceWarnings(objects: MeshObjects, routes: MeshRouteFacts[], svc: Service, host: string, mesh: MeshSettings, waypointBound: boolean): string[] {
  const svcNs = namespaceOf(svc);
  const ports = (svc.spec?.ports ?? []).map((p) => p.port);
  // a route on a port the service lacks yields no route for any port: it takes no host from anyone
  const http = routes.filter((r) => (r.kind === 'HTTPRoute' || r.kind === 'GRPCRoute') && r.appliedBy.length > 0 && (r.parent.port === undefined || ports.includes(r.parent.port)));
  const vss = objects.virtualServices.filter(
    (vs) => gatewaysOf(vs).includes('mesh') && (vs.spec?.http ?? []).length > 0 && (vs.spec?.hosts ?? []).some((h) => toFqdn(namespaceOf(vs), h, mesh.domainSuffix) === host),
  );
  if (http.length === 0 || vss.length === 0) return [];

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
  const candidates: Candidate[] = [
    ...vss.map((vs) => ({ label: `VirtualService ${namespaceOf(vs)}/${nameOf(vs)}`, namespace: namespaceOf(vs), exportTo: exportToOf(vs), gatewayApi: false, obj: vs })),
    ...[...groups.values()].map((g) => ({
      label: g.labels.length > 1 ? `${g.labels.join(' + ')} (merged)` : g.labels[0],
      namespace: g.ns,
      exportTo: undefined,
      gatewayApi: true,
      obj: [...g.objs].sort(byCreation)[0],
    })),
  ];

  const out: string[] = [];
  // the service's namespace, each consumer route's, and any other (a name no object has stands for them)
  const clients = [...new Set([svcNs, ...candidates.filter((c) => c.gatewayApi).map((c) => c.namespace)])];
  for (const client of [...clients, OTHER]) {
    const order = sidecarOrder(candidates, client, svcNs, mesh);
    if (order.length < 2 || !order.some((c) => c.gatewayApi) || order.every((c) => c.gatewayApi)) continue;
    const [winner, ...rest] = order;
    // decided by age alone where a creationTimestamp is missing (hand-written files): say so
    const sameTier = rank(winner, client, mesh) === rank(rest[0], client, mesh) && consumer(winner, client) === consumer(rest[0], client);
    const ageUnknown = sameTier && (!winner.obj.metadata?.creationTimestamp || !rest[0].obj.metadata?.creationTimestamp);
    out.push(
      `sidecars in ${client === OTHER ? 'other namespaces' : `namespace ${client}`} route host ${host} by ${winner.label} alone; ${rest.map((c) => c.label).join(', ')} ${rest.length > 1 ? 'are' : 'is'} not used there` +
        ` (istiod uses one VirtualService per host: exportTo "." first, then by namespace name, then public; Gateway API routes of the client's namespace first, then the oldest)` +
        (ageUnknown ? '; uncertain: a creationTimestamp is missing, the order by name is assumed' : '') +
        (waypointBound ? '; which one the waypoint uses is not decided here (uncertain)' : ''),
    );
  }
  return out;
}

/** 0: exported only to its own namespace, the client's; 1: to the client by name; 2: public. */
function rank(c: Candidate, client: string, mesh: MeshSettings): number {
  const list = c.exportTo && c.exportTo.length > 0 ? c.exportTo : mesh.defaultVirtualServiceExportTo;
  if (list.includes('*')) return 2;
  return list.includes('.') && c.namespace === client ? 0 : 1;
}

function consumer(c: Candidate, client: string): number {
  return c.gatewayApi && c.namespace === client ? 1 : 0;
}

function sidecarOrder(candidates: Candidate[], client: string, svcNs: string, mesh: MeshSettings): Candidate[] {
  return candidates
    .filter((c) => exportedTo(c.exportTo, mesh.defaultVirtualServiceExportTo, c.namespace, client))
    .filter((c) => !c.gatewayApi || c.namespace === svcNs || c.namespace === client)
    .sort((a, b) => rank(a, client, mesh) - rank(b, client, mesh) || consumer(b, client) - consumer(a, client) || byCreation(a.obj, b.obj));
}
