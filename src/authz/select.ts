import { gatewayNameOf } from '../resources/gateway-naming.js';

/** What selection reads of an AuthorizationPolicy (describe's objects and the YAML documents both fit). */
export interface Selectable {
  metadata?: { namespace?: string };
  spec?: { selector?: { matchLabels?: Record<string, string> }; targetRef?: unknown; targetRefs?: unknown[] };
}
type Ref = { group?: string; kind?: string; name?: string; namespace?: string } | undefined;

/** A service a waypoint serves: a Kubernetes Service, or a ServiceEntry (istiod's External registry). */
export interface ServedService {
  name: string;
  namespace: string;
  /** Default `Service`. */
  kind?: 'Service' | 'ServiceEntry';
}

/** The workload whose proxy enforces the policies. */
export interface Workload {
  namespace: string;
  labels: Record<string, string>;
  /** Istio's root namespace (meshConfig.rootNamespace, istio-system by default). */
  rootNamespace: string;
  /**
   * For a waypoint: the Services and ServiceEntries it serves (`targetRefs` of kind Service, or
   * networking.istio.io ServiceEntry, attach through them).
   */
  services?: ServedService[];
}

export type Scope = 'mesh' | 'namespace' | 'workload' | 'targetRef';

/** A targetRef's group and kind as istiod compares them: the empty group is the core group. */
const groupKind = (r: Ref) => `${r?.group || 'core'}/${r?.kind ?? ''}`;
const SERVICE = 'core/Service';
const SERVICE_ENTRY = 'networking.istio.io/ServiceEntry';

/** Whether a targetRef names a Kubernetes Service (group '' or 'core'), as istiod compares it. */
export const refersToService = (r: Ref) => groupKind(r) === SERVICE;
const GATEWAY = 'gateway.networking.k8s.io/Gateway';
const GATEWAY_CLASS = 'gateway.networking.k8s.io/GatewayClass';

const hasLabels = (sel: { matchLabels?: Record<string, string> } | undefined) => sel?.matchLabels !== undefined && Object.keys(sel.matchLabels).length > 0;
const matches = (want: Record<string, string> | undefined, labels: Record<string, string>) => Object.entries(want ?? {}).every(([k, v]) => labels[k] === v);

/** The Gateway (Gateway API or waypoint) a pod serves, from the label Istio's deployment controller sets. */
export { gatewayNameOf } from '../resources/gateway-naming.js';

/** Istio's waypoints: their pods carry the class label (newer) or the mesh controller's managed-by label. */
export function isWaypointPod(labels: Record<string, string>): boolean {
  return labels['gateway.networking.k8s.io/gateway-class-name'] === 'istio-waypoint' || labels['gateway.istio.io/managed'] === 'istio.io-mesh-controller';
}

/**
 * Which AuthorizationPolicies a proxy enforces, as istiod attaches them (WorkloadPolicyMatcher's
 * ShouldAttachPolicy): for a sidecar, those of the root namespace without a selector (mesh-wide), the
 * workload's namespace without a selector, and those whose selector matches its labels (a selector in the
 * root namespace selects across namespaces), never those with targetRefs. For a Gateway API gateway's pods,
 * policies whose targetRef(s) name that Gateway (from its own namespace, the ref naming no other one), else
 * the selector rules as a fallback (ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY, on by default). A waypoint
 * takes targetRefs only: its Gateway, or the `istio-waypoint` GatewayClass from the root namespace,
 * and, given the services it serves, those attached to one of them from that service's namespace: a
 * targetRef of kind Service names a Kubernetes Service, one of group networking.istio.io and kind
 * ServiceEntry names a ServiceEntry (never the other way round). targetRefs compare group and kind
 * (the empty group is the core group), as istiod's matchesGroupKind does.
 */
export function selectPolicies<T extends Selectable>(all: T[], w: Workload): { policy: T; scope: Scope }[] {
  const out: { policy: T; scope: Scope }[] = [];
  const gateway = gatewayNameOf(w.labels);
  const waypoint = gateway !== undefined && isWaypointPod(w.labels);
  for (const ap of all) {
    const ns = ap.metadata?.namespace ?? 'default';
    const refs = [...(ap.spec?.targetRef ? [ap.spec.targetRef] : []), ...(ap.spec?.targetRefs ?? [])] as Ref[];
    if (refs.length) {
      const served = (r: Ref, kind: ServedService['kind']) =>
        waypoint && (w.services ?? []).some((svc) => (svc.kind ?? 'Service') === kind && svc.name === r?.name && svc.namespace === ns);
      const hit = refs.some((r) => {
        switch (groupKind(r)) {
          // a service the waypoint serves, from the service's own namespace (the waypoint's may differ)
          case SERVICE:
            return served(r, 'Service');
          case SERVICE_ENTRY:
            return served(r, 'ServiceEntry');
          case GATEWAY_CLASS:
            return waypoint && r?.name === 'istio-waypoint' && ns === w.rootNamespace;
          case GATEWAY:
            return gateway !== undefined && r?.name === gateway && ns === w.namespace && (!r?.namespace || r.namespace === w.namespace);
          default:
            return false;
        }
      });
      if (hit) out.push({ policy: ap, scope: 'targetRef' });
      continue;
    }
    if (waypoint || (ns !== w.namespace && ns !== w.rootNamespace)) continue;
    const sel = ap.spec?.selector;
    if (!hasLabels(sel)) out.push({ policy: ap, scope: ns === w.rootNamespace ? 'mesh' : 'namespace' });
    else if (matches(sel?.matchLabels, w.labels)) out.push({ policy: ap, scope: 'workload' });
  }
  return out;
}

/** A service whose binding to the waypoint cannot be told (`service`), or a reason none can be (no `service`). */
export interface UnknownServing {
  service?: ServedService;
  reason: string;
}

/**
 * The policies attached to a Service or ServiceEntry that `selected` leaves out but might apply: those
 * naming (in their own namespace) a service whose binding to the waypoint cannot be told, or any of them
 * when which services it serves could not be read at all. Whatever decides with them left out is not
 * certain; `reasons` says why, for those policies.
 */
export function leftOutAttachments<T extends Selectable>(all: T[], selected: T[], unknown: UnknownServing[]): { policies: T[]; reasons: string[] } {
  if (unknown.length === 0) return { policies: [], reasons: [] };
  const taken = new Set(selected);
  const policies: T[] = [];
  const reasons = new Set<string>();
  for (const ap of all) {
    if (taken.has(ap)) continue;
    const ns = ap.metadata?.namespace ?? 'default';
    const refs = [...(ap.spec?.targetRef ? [ap.spec.targetRef] : []), ...(ap.spec?.targetRefs ?? [])] as Ref[];
    const why = unknown.filter((u) =>
      refs.some((r) => {
        const kind = groupKind(r) === SERVICE ? 'Service' : groupKind(r) === SERVICE_ENTRY ? 'ServiceEntry' : undefined;
        return kind !== undefined && (!u.service || ((u.service.kind ?? 'Service') === kind && u.service.name === r?.name && u.service.namespace === ns));
      }),
    );
    if (why.length === 0) continue;
    policies.push(ap);
    for (const u of why) reasons.add(u.reason);
  }
  return { policies, reasons: [...reasons] };
}
