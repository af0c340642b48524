import { USE_WAYPOINT } from './labels.js';
import type { AmbientWorld, Obj } from './types.js';
import { labelsOf, namespaceOf, nameOf } from './types.js';
import { isWaypointClass, namedWaypoint, waypointFacts, waypointFor, type WaypointBinding, type WaypointFacts } from './waypoints.js';

/**
 * One waypoint and what uses it: namespaces (by label), services and workloads (pods) bound to it, or
 * to be bound once it is ready.
 */
export interface WaypointUse extends WaypointFacts {
  usedBy: { namespaces: string[]; services: string[]; workloads: string[] };
}

export interface WaypointsReport {
  waypoints: WaypointUse[];
  /** Labels naming a waypoint istiod will not use (missing, not ready, not admitting, wrong traffic type). */
  problems: string[];
  /** What could not be decided from what was read (a Namespace missing from the files). */
  unknown: string[];
}

export interface WaypointScope {
  /** Only waypoints in this namespace (undefined: all). */
  namespace?: string;
  /** Only the waypoint with this name. */
  name?: string;
}

/**
 * The waypoints (Gateways of class `istio-waypoint`) in scope, sorted by namespace and name as istioctl
 * lists them, with the namespaces, services and pods bound to each, and the problems of labels naming them.
 */
export function waypointsReport(world: AmbientWorld, scope: WaypointScope = {}): WaypointsReport {
  const inScope = (ns: string, name: string) => (scope.namespace === undefined || ns === scope.namespace) && (scope.name === undefined || name === scope.name);
  const waypoints: WaypointUse[] = world.gateways
    .filter((g) => isWaypointClass(g) && inScope(namespaceOf(g), nameOf(g)))
    .map((g) => ({ ...waypointFacts(g, world.gatewayClasses), usedBy: { namespaces: [], services: [], workloads: [] } }))
    .sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  const byKey = new Map(waypoints.map((w) => [`${w.namespace}/${w.name}`, w]));
  const problems: string[] = [];
  const unknown = new Set<string>();
  const note = (what: string, b: WaypointBinding) => {
    if (!b.waypoint) return;
    const [ns, name] = b.waypoint.split('/');
    if (!inScope(ns, name)) return;
    if (b.state === 'problem') problems.push(`${what}: ${USE_WAYPOINT} names ${namedWaypoint(b)}`);
    if (b.state === 'unknown') unknown.add(`${what}: ${USE_WAYPOINT} names ${namedWaypoint(b)}`);
  };

  for (const ns of world.namespaces) {
    const label = labelsOf(ns)[USE_WAYPOINT];
    if (label === undefined || label === 'none') continue;
    // the namespace's own label, as its services and pods inherit it
    const b = waypointFor(world, { metadata: { namespace: nameOf(ns) } }, 'service');
    const w = b.waypoint ? byKey.get(b.waypoint) : undefined;
    if (w && (b.state === 'bound' || b.state === 'none' || pending(b))) w.usedBy.namespaces.push(nameOf(ns));
    note(`namespace ${nameOf(ns)}`, b);
  }
  const use = (o: Obj, kind: 'service' | 'workload', list: 'services' | 'workloads') => {
    const b = waypointFor(world, o, kind);
    if (b.state === 'unknown' && !b.waypoint) {
      unknown.add(`namespace ${namespaceOf(o)} is not known: whether its services and pods use a waypoint (its ${USE_WAYPOINT} label) cannot be told`);
      return;
    }
    const w = b.waypoint ? byKey.get(b.waypoint) : undefined;
    if (w && (b.state === 'bound' || pending(b, kind))) w.usedBy[list].push(`${namespaceOf(o)}/${nameOf(o)}`);
    // a namespace label's problem is reported once, for the namespace
    if (b.source !== 'namespace') note(`${kind === 'service' ? 'service' : 'pod'} ${nameOf(o)}.${namespaceOf(o)}`, b);
  };
  for (const svc of world.services) use(svc, 'service', 'services');
  for (const pod of world.pods) {
    // finished pods carry no traffic; ztunnels never go through a waypoint
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || labelsOf(pod).app === 'ztunnel') continue;
    use(pod, 'workload', 'workloads');
  }
  for (const w of waypoints) for (const l of Object.values(w.usedBy)) l.sort(cmp);
  return { waypoints, problems: problems.sort(cmp), unknown: [...unknown].sort(cmp) };
}

/** Bound as soon as the waypoint is ready: it counts among its users (its problem is still reported). */
function pending(b: WaypointBinding, kind?: 'service' | 'workload'): boolean {
  if (b.state !== 'problem' || b.reason !== 'WaypointIsNotReady' || !b.facts) return false;
  return kind === undefined || b.facts.trafficType === kind || b.facts.trafficType === 'all';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A service a waypoint serves: a Kubernetes Service or a ServiceEntry. */
export interface WaypointService {
  name: string;
  namespace: string;
  kind: 'Service' | 'ServiceEntry';
}

/**
 * The Services and ServiceEntries a waypoint serves (bound to it, or to be once it is ready):
 * AuthorizationPolicies with `targetRefs` of kind Service or ServiceEntry reach the waypoint through them.
 * istiod binds a ServiceEntry to a waypoint as it binds a Service (the same labels, the same checks).
 * `unknown`: those whose binding cannot be told from what was read (their namespace is not known), and why.
 */
export function servicesOfWaypoint(world: AmbientWorld, namespace: string, name: string): { services: WaypointService[]; unknown: (WaypointService & { reason: string })[] } {
  const key = `${namespace}/${name}`;
  const w = waypointsReport(world, { namespace, name }).waypoints[0];
  if (!w) return { services: [], unknown: [] };
  const services: WaypointService[] = [];
  const unknown: (WaypointService & { reason: string })[] = [];
  const entries: [Obj, WaypointService['kind']][] = [...world.services.map((s): [Obj, 'Service'] => [s, 'Service']), ...(world.serviceEntries ?? []).map((s): [Obj, 'ServiceEntry'] => [s, 'ServiceEntry'])];
  for (const [o, kind] of entries) {
    const b = waypointFor(world, o, 'service');
    // the same rule waypointsReport counts a service's use by
    if (b.waypoint === key && (b.state === 'bound' || pending(b, 'service'))) services.push({ name: nameOf(o), namespace: namespaceOf(o), kind });
    else if (b.state === 'unknown' && (b.waypoint === undefined || b.waypoint === key)) {
      unknown.push({ name: nameOf(o), namespace: namespaceOf(o), kind, reason: `${kind} ${nameOf(o)}.${namespaceOf(o)}: ${b.message ?? 'its waypoint cannot be told'}` });
    }
  }
  const order = (s: WaypointService) => `${s.kind === 'Service' ? 0 : 1}/${s.namespace}/${s.name}`;
  services.sort((a, b) => cmp(order(a), order(b)));
  unknown.sort((a, b) => cmp(a.reason, b.reason));
  return { services, unknown };
}
