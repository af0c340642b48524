/** What selection reads of an AuthorizationPolicy (describe's objects and the YAML documents both fit). */
export interface Selectable {
  metadata?: { namespace?: string };
  spec?: { selector?: { matchLabels?: Record<string, string> }; targetRef?: unknown; targetRefs?: unknown[] };
}
type Ref = { kind?: string; name?: string; namespace?: string } | undefined;

/** The workload whose proxy enforces the policies. */
export interface Workload {
  namespace: string;
  labels: Record<string, string>;
  /** Istio's root namespace (meshConfig.rootNamespace, istio-system by default). */
  rootNamespace: string;
  /** For a waypoint: the Kubernetes Services it serves (`targetRefs` of kind Service attach through them). */
  services?: { name: string; namespace: string }[];
}

export type Scope = 'mesh' | 'namespace' | 'workload' | 'targetRef';

const hasLabels = (sel: { matchLabels?: Record<string, string> } | undefined) => sel?.matchLabels !== undefined && Object.keys(sel.matchLabels).length > 0;
const matches = (want: Record<string, string> | undefined, labels: Record<string, string>) => Object.entries(want ?? {}).every(([k, v]) => labels[k] === v);

/** The Gateway (Gateway API or waypoint) a pod serves, from the label Istio's deployment controller sets. */
export function gatewayNameOf(labels: Record<string, string>): string | undefined {
  return labels['gateway.networking.k8s.io/gateway-name'] ?? labels['istio.io/gateway-name'];
}

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
 * and, given the Services it serves, those attached to one of them (from that Service's namespace).
 */
export function selectPolicies<T extends Selectable>(all: T[], w: Workload): { policy: T; scope: Scope }[] {
  const out: { policy: T; scope: Scope }[] = [];
  const gateway = gatewayNameOf(w.labels);
  const waypoint = gateway !== undefined && isWaypointPod(w.labels);
  for (const ap of all) {
    const ns = ap.metadata?.namespace ?? 'default';
    const refs = [...(ap.spec?.targetRef ? [ap.spec.targetRef] : []), ...(ap.spec?.targetRefs ?? [])] as Ref[];
    if (refs.length) {
      const hit = refs.some(
        (r) =>
          // a Service the waypoint serves, from the Service's own namespace (the waypoint's may differ)
          (r?.kind === 'Service' && waypoint && (w.services ?? []).some((svc) => svc.name === r?.name && svc.namespace === ns)) ||
          (r?.kind === 'GatewayClass' && waypoint && r?.name === 'istio-waypoint' && ns === w.rootNamespace) ||
          (r?.kind === 'Gateway' && gateway !== undefined && r?.name === gateway && ns === w.namespace && (!r?.namespace || r.namespace === w.namespace)),
      );
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
