import { namespaceSelected, type LabelSelector } from '../resources/selector.js';
import {
  GATEWAY_MANAGED,
  MANAGED_BY_MESH_CONTROLLER,
  REVISION,
  USE_WAYPOINT,
  USE_WAYPOINT_NAMESPACE,
  WAYPOINT_CLASS,
  WAYPOINT_FOR,
} from './labels.js';
import type { AmbientGateway, AmbientGatewayClass, AmbientNamespace, AmbientWorld, Condition, Obj } from './types.js';
import { labelsOf, list, namespaceOf, nameOf } from './types.js';

/** A waypoint (a Gateway API Gateway) as istiod sees it. */
export interface WaypointFacts {
  name: string;
  namespace: string;
  gatewayClassName: string;
  /** The `istio.io/rev` label, else `default` (istioctl's REVISION). */
  revision: string;
  /** The traffic it takes: the Gateway's `istio.io/waypoint-for`, else its GatewayClass's, else `service`. */
  trafficType: string;
  trafficTypeFrom: 'gateway' | 'gatewayclass' | 'default';
  /** The `Programmed` condition's status; `False` when the controller reported none (istioctl's PROGRAMMED). */
  programmed: string;
  conditions: Condition[];
  /**
   * Whether istiod will bind anything to it: only once its status has an address, which the controller
   * writes when the waypoint's Deployment has a ready pod.
   */
  ready: boolean;
  address?: string;
  /** Which namespaces may use it: its HBONE listener's (port 15008) allowedRoutes.namespaces, default `Same`. */
  allowedRoutes: { from: string; selector?: LabelSelector };
}

export function isWaypointClass(gw: AmbientGateway): boolean {
  return gw.spec?.gatewayClassName === WAYPOINT_CLASS;
}

export function waypointFacts(gw: AmbientGateway, classes: readonly AmbientGatewayClass[]): WaypointFacts {
  const cls = classes.find((c) => nameOf(c) === gw.spec?.gatewayClassName);
  const own = labelsOf(gw)[WAYPOINT_FOR];
  const fromClass = labelsOf(cls)[WAYPOINT_FOR];
  const [trafficType, trafficTypeFrom]: [string, WaypointFacts['trafficTypeFrom']] =
    own !== undefined ? [own, 'gateway'] : fromClass !== undefined ? [fromClass, 'gatewayclass'] : ['service', 'default'];
  const conditions = list(gw.status?.conditions);
  // istioctl keeps the last Programmed condition it sees
  const programmed = [...conditions].reverse().find((c) => c.type === 'Programmed')?.status ?? 'False';
  const addresses = list(gw.status?.addresses).filter((a) => typeof a.value === 'string' && a.value);
  // istiod prefers a hostname address, then an IP
  const address = (addresses.find((a) => a.type === 'Hostname') ?? addresses[0])?.value;
  const facts: WaypointFacts = {
    name: nameOf(gw),
    namespace: namespaceOf(gw),
    gatewayClassName: String(gw.spec?.gatewayClassName ?? ''),
    revision: labelsOf(gw)[REVISION] || 'default',
    trafficType,
    trafficTypeFrom,
    programmed,
    conditions,
    ready: addresses.length > 0,
    allowedRoutes: allowedRoutes(gw),
  };
  if (address) facts.address = address;
  return facts;
}

/** The HBONE listener's allowedRoutes (istiod's default listener for attachment), else `Same`. */
function allowedRoutes(gw: AmbientGateway): WaypointFacts['allowedRoutes'] {
  const hbone = list(gw.spec?.listeners).find((l) => l.protocol === 'HBONE' && l.port === 15008);
  const ns = hbone?.allowedRoutes?.namespaces;
  const from = ns?.from ?? 'Same';
  return ns?.selector && from === 'Selector' ? { from, selector: ns.selector } : { from };
}

/**
 * Where a waypoint binding came from and how it ended. `bound`: traffic goes through the waypoint; `none`: no
 * label applies (or the namespace's waypoint does not take this kind of traffic); `opt-out`: the object says
 * `istio.io/use-waypoint: none`; `problem`: a label names a waypoint istiod will not use; `unknown`: the
 * namespace's labels are not known (offline files without the Namespace).
 */
export interface WaypointBinding {
  state: 'bound' | 'none' | 'opt-out' | 'problem' | 'unknown';
  /** The waypoint a label names, as `namespace/name`. */
  waypoint?: string;
  /** Which object's label decided: the pod's or service's own, or its namespace's. */
  source?: 'pod' | 'service' | 'namespace';
  facts?: WaypointFacts;
  /** Istio's reason when istiod refuses the binding: WaypointIsNotReady, AttachmentDenied, UnsupportedTrafficType. */
  reason?: string;
  /** Why, in words: what is true of the named waypoint (`does not exist`, `is not ready: ...`), or of the object. */
  message?: string;
}

export type TrafficKind = 'service' | 'workload';

/**
 * The waypoint istiod gives a Service (`service`) or a workload (`workload`, a pod): the object's own
 * `istio.io/use-waypoint` label (with `istio.io/use-waypoint-namespace`), else its namespace's; `none` on the
 * object opts out. A waypoint is used only when it exists with an address, admits attachment from the
 * object's namespace (its HBONE listener's allowedRoutes) and takes that kind of traffic (`waypoint-for`).
 */
export function waypointFor(world: AmbientWorld, obj: Obj, kind: TrafficKind): WaypointBinding {
  const labels = labelsOf(obj);
  // the Service Istio deploys for a waypoint (and the waypoint's pods) never go through a waypoint
  if (labels[GATEWAY_MANAGED] === MANAGED_BY_MESH_CONTROLLER) return { state: 'none', message: 'it is a waypoint itself' };
  const objNs = namespaceOf(obj);
  const own = labels[USE_WAYPOINT];
  if (own === 'none') return { state: 'opt-out', source: kind === 'service' ? 'service' : 'pod', message: `${USE_WAYPOINT}: none` };
  if (own !== undefined) {
    const ref = { name: own, namespace: labels[USE_WAYPOINT_NAMESPACE] ?? objNs };
    return resolve(world, ref, kind, kind === 'service' ? 'service' : 'pod', objNs, false);
  }
  const ns = world.namespaces.find((n) => nameOf(n) === objNs);
  if (!ns) return { state: 'unknown', message: `namespace ${objNs} is not known, nor whether it names a waypoint` };
  const nsLabel = labelsOf(ns)[USE_WAYPOINT];
  // `none` on a namespace has no special meaning: there is no waypoint either way
  if (nsLabel === undefined || nsLabel === 'none') return { state: 'none' };
  const ref = { name: nsLabel, namespace: labelsOf(ns)[USE_WAYPOINT_NAMESPACE] ?? objNs };
  return resolve(world, ref, kind, 'namespace', objNs, true);
}

function resolve(
  world: AmbientWorld,
  ref: { name: string; namespace: string },
  kind: TrafficKind,
  source: NonNullable<WaypointBinding['source']>,
  objNs: string,
  inherited: boolean,
): WaypointBinding {
  const key = `${ref.namespace}/${ref.name}`;
  const base = { waypoint: key, source };
  const gw = world.gateways.find((g) => nameOf(g) === ref.name && namespaceOf(g) === ref.namespace);
  if (!gw) return { ...base, state: 'problem', reason: 'WaypointIsNotReady', message: 'does not exist' };
  const facts = waypointFacts(gw, world.gatewayClasses);
  const kindOk = facts.trafficType === kind || facts.trafficType === 'all';
  const mismatch = `takes ${facts.trafficType === 'none' ? 'no' : `only ${facts.trafficType}`} traffic (${WAYPOINT_FOR}: ${facts.trafficType}), not ${kind} traffic`;
  // a namespace waypoint for services is the usual set-up: its pods having no workload waypoint is no mistake,
  // whatever state the waypoint is in
  if (inherited && !kindOk) return { ...base, facts, state: 'none', message: mismatch };
  if (!facts.ready) {
    const programmed = [...facts.conditions].reverse().find((c) => c.type === 'Programmed');
    const why = programmed && programmed.status !== 'True' ? `, Programmed is ${programmed.status}${programmed.reason ? ` (${programmed.reason})` : ''}` : '';
    return { ...base, facts, state: 'problem', reason: 'WaypointIsNotReady', message: `is not ready: no address in its status yet${why}` };
  }
  const allowed = attachmentAllowed(facts, objNs, world.namespaces);
  if (allowed === undefined) {
    return { ...base, facts, state: 'unknown', message: `admits namespaces by label selector and the labels of namespace ${objNs} are not known` };
  }
  if (!allowed) {
    return {
      ...base,
      facts,
      state: 'problem',
      reason: 'AttachmentDenied',
      message: `does not admit namespace ${objNs} (allowedRoutes.namespaces.from ${facts.allowedRoutes.from} on its HBONE listener)`,
    };
  }
  if (!kindOk) return { ...base, facts, state: 'problem', reason: 'UnsupportedTrafficType', message: mismatch };
  const binding: WaypointBinding = { ...base, facts, state: 'bound' };
  if (!isWaypointClass(gw)) binding.message = `is of class ${facts.gatewayClassName || '(none)'}, not ${WAYPOINT_CLASS}`;
  return binding;
}

/** `waypoint shop/search-wp, which does not exist; istiod reports WaypointIsNotReady` (for a binding naming one). */
export function namedWaypoint(b: WaypointBinding): string {
  return `waypoint ${b.waypoint}${b.message ? `, which ${b.message}` : ''}${b.reason ? `; istiod reports ${b.reason}` : ''}`;
}

/** Does the waypoint admit objects of `ns`? undefined when a selector needs labels that are not known. */
export function attachmentAllowed(w: WaypointFacts, ns: string, namespaces: readonly AmbientNamespace[]): boolean | undefined {
  switch (w.allowedRoutes.from) {
    case 'All':
      return true;
    case 'Selector':
      return namespaceSelected(w.allowedRoutes.selector ?? {}, ns, namespaces);
    default:
      return w.namespace === ns;
  }
}
