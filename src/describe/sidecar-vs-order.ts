import { exportToOf, type MeshSettings } from './mesh.js';
import { byCreationNameFirst, namespaceOf, type KubeObject } from './objects.js';

/**
 * The one rule for which VirtualService (or Gateway API route turned into one) a sidecar uses for a host.
 *
 * istiod indexes mesh VirtualServices by exportTo (initVirtualServices in pilot/pkg/model/push_context.go):
 * `*` makes one public; `~` hides it (whatever else is listed); `.` or its own namespace's name makes it
 * private to that namespace; any other name exports it to that namespace. Without exportTo only a `.` or `*`
 * in MeshConfig's defaultVirtualServiceExportTo counts. A sidecar in namespace N takes them in this order
 * (SelectVirtualServices in pilot/pkg/model/virtualservice.go): private to N, exported to N by name, public;
 * within each list Gateway API routes of N first ("consumer override"), then oldest first with ties broken
 * by name, then namespace (sortConfigByCreationTime, pilot/pkg/model/config.go). It builds one virtual host
 * per host from the first one naming it and drops the later ones (dedupeDomains, httproute.go). Same-host
 * VirtualServices are not merged for sidecars (mergeVirtualServicesIfNeeded merges only delegates, which
 * have no hosts, into their root). A Gateway API route in another namespace than the Service applies only to
 * clients in the route's namespace (route.go). A Sidecar resource's egress hosts can narrow this further: not modelled.
 */
export interface VsCandidate {
  label: string;
  namespace: string;
  exportTo: string[] | undefined;
  /** A Gateway API route (HTTPRoute/GRPCRoute) as istiod converts it. */
  gatewayApi: boolean;
  /** The object whose creationTimestamp and name order it. */
  obj: KubeObject;
}

/** A client namespace name no object has: stands for "every other namespace". */
export const OTHER_NAMESPACES = ' other';

/** The rule in words, for warnings. */
export const ORDER_RULE =
  "istiod uses one VirtualService per host: exported only to the client's namespace first, then to it by name, then public; Gateway API routes of the client's namespace first, then the oldest";

/** Namespaces whose sidecars may choose differently: the service's, each candidate's, each named in an exportTo; then all others. */
export function clientNamespaces(candidates: VsCandidate[], serviceNs: string): string[] {
  const named = candidates.flatMap((c) => (c.exportTo ?? []).filter((e) => e !== '.' && e !== '*' && e !== '~'));
  return [...new Set([serviceNs, ...candidates.map((c) => c.namespace), ...named]), OTHER_NAMESPACES];
}

export function clientLabel(client: string): string {
  return client === OTHER_NAMESPACES ? 'other namespaces' : `namespace ${client}`;
}

export function vsCandidate(label: string, obj: KubeObject): VsCandidate {
  return { label, namespace: namespaceOf(obj), exportTo: exportToOf(obj), gatewayApi: false, obj };
}

/** 0 private to the client's namespace, 1 exported to it by name, 2 public; undefined: not visible there. */
export function exportTier(c: VsCandidate, client: string, mesh: MeshSettings): number | undefined {
  if (!c.exportTo || c.exportTo.length === 0) {
    const d = mesh.defaultVirtualServiceExportTo;
    if (d.includes('.')) return c.namespace === client ? 0 : undefined;
    return d.includes('*') ? 2 : undefined;
  }
  if (c.exportTo.includes('*')) return 2;
  if (c.exportTo.includes('~')) return undefined;
  if (c.namespace === client && (c.exportTo.includes('.') || c.exportTo.includes(client))) return 0;
  return c.namespace !== client && c.exportTo.includes(client) ? 1 : undefined;
}

function consumer(c: VsCandidate, client: string): number {
  return c.gatewayApi && c.namespace === client ? 0 : 1;
}

/** The candidates a sidecar in `client` sees, first (the one it uses) to last. */
export function sidecarOrder(candidates: VsCandidate[], client: string, serviceNs: string, mesh: MeshSettings): VsCandidate[] {
  return candidates
    .filter((c) => !c.gatewayApi || c.namespace === serviceNs || c.namespace === client)
    .map((c) => ({ c, tier: exportTier(c, client, mesh) }))
    .filter((x): x is { c: VsCandidate; tier: number } => x.tier !== undefined)
    .sort((a, b) => a.tier - b.tier || consumer(a.c, client) - consumer(b.c, client) || byCreationNameFirst(a.c.obj, b.c.obj))
    .map((x) => x.c);
}

export interface SidecarChoice {
  client: string;
  /** In order; the first is used, the rest are ignored for the host. */
  order: VsCandidate[];
  /** Set when the first place depends on an age that is not known. */
  uncertain?: string;
  /** Then: the ones of which any could be first. */
  contenders?: VsCandidate[];
}

export function sidecarChoice(candidates: VsCandidate[], client: string, serviceNs: string, mesh: MeshSettings): SidecarChoice {
  const order = sidecarOrder(candidates, client, serviceNs, mesh);
  const choice: SidecarChoice = { client, order };
  if (order.length < 2) return choice;
  // the winner is decided by age among those of its own tier and kind: all of them need a creationTimestamp
  const first = order[0];
  const tier = exportTier(first, client, mesh);
  const peers = order.filter((c) => exportTier(c, client, mesh) === tier && consumer(c, client) === consumer(first, client));
  const missing = peers.filter((c) => !c.obj.metadata?.creationTimestamp);
  if (peers.length > 1 && missing.length > 0) {
    choice.contenders = peers;
    choice.uncertain = `a creationTimestamp is missing on ${missing.map((c) => c.label).join(', ')}, so which is oldest is not known`;
  }
  return choice;
}
