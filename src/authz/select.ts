/** What selection reads of an AuthorizationPolicy (describe's objects and the YAML documents both fit). */
export interface Selectable {
  metadata?: { namespace?: string };
  spec?: { selector?: { matchLabels?: Record<string, string> }; targetRef?: unknown; targetRefs?: unknown[] };
}
type Ref = { kind?: string; name?: string } | undefined;

/** The workload whose proxy enforces the policies. */
export interface Workload {
  namespace: string;
  labels: Record<string, string>;
  /** Istio's root namespace (meshConfig.rootNamespace, istio-system by default). */
  rootNamespace: string;
}

export type Scope = 'mesh' | 'namespace' | 'workload' | 'targetRef';

const hasLabels = (sel: { matchLabels?: Record<string, string> } | undefined) => sel?.matchLabels !== undefined && Object.keys(sel.matchLabels).length > 0;
const matches = (want: Record<string, string> | undefined, labels: Record<string, string>) => Object.entries(want ?? {}).every(([k, v]) => labels[k] === v);

/** The Gateway (Gateway API or waypoint) a pod serves, from the label Istio's deployment controller sets. */
export function gatewayNameOf(labels: Record<string, string>): string | undefined {
  return labels['gateway.networking.k8s.io/gateway-name'] ?? labels['istio.io/gateway-name'];
}

/**
 * Which AuthorizationPolicies a proxy enforces, as Istio selects them: those of the root namespace without a
 * selector (mesh-wide), the workload's namespace without a selector, those whose selector matches its labels
 * (a selector in the root namespace selects across namespaces), and, for a Gateway's pods, policies whose
 * targetRef(s) name that Gateway (or, in the root namespace, its GatewayClass). Policies with targetRefs
 * never apply through namespace or selector.
 */
export function selectPolicies<T extends Selectable>(all: T[], w: Workload): { policy: T; scope: Scope }[] {
  const out: { policy: T; scope: Scope }[] = [];
  const gateway = gatewayNameOf(w.labels);
  const gatewayClass = w.labels['gateway.networking.k8s.io/gateway-class-name'];
  for (const ap of all) {
    const ns = ap.metadata?.namespace ?? 'default';
    if (ns !== w.namespace && ns !== w.rootNamespace) continue;
    const refs = [...(ap.spec?.targetRef ? [ap.spec.targetRef] : []), ...(ap.spec?.targetRefs ?? [])] as Ref[];
    if (refs.length) {
      const hit = refs.some(
        (r) => (r?.kind === 'Gateway' && gateway !== undefined && r?.name === gateway && ns === w.namespace) || (r?.kind === 'GatewayClass' && gatewayClass !== undefined && r?.name === gatewayClass && ns === w.rootNamespace),
      );
      if (hit) out.push({ policy: ap, scope: 'targetRef' });
      continue;
    }
    const sel = ap.spec?.selector;
    if (!hasLabels(sel)) out.push({ policy: ap, scope: ns === w.rootNamespace ? 'mesh' : 'namespace' });
    else if (matches(sel?.matchLabels, w.labels)) out.push({ policy: ap, scope: 'workload' });
  }
  return out;
}
