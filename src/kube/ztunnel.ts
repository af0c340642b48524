import type * as k8s from '@kubernetes/client-node';
import { MeshctlError, UsageError } from '../errors.js';
import type { AdminFlavour } from './admin-source.js';
import type { Kube } from './client.js';
import { DAEMONSET, POD, type ClusterObject, type ClusterSource } from './cluster.js';
import { NotFoundError } from './errors.js';
import { asCluster, getPod, labelSelectorString, parsePodRef, pickPod, type PodSourceArg, type ResolvedPod } from './pods.js';

/**
 * Finding ztunnels: the `ztunnel` DaemonSet in the Istio namespace, the one of its pods on a node, and
 * the ztunnel that serves a workload pod (the one on the pod's node), as istioctl's ztunnel-config does.
 */

export const ZTUNNEL_DAEMONSET = 'ztunnel';

/**
 * ztunnel's admin API (port 15000, like Envoy's) in its `istio-proxy` container. Where port-forward is
 * forbidden, exec runs curl there: Istio's default (debug-based) images carry it; distroless ones do
 * not, and then the error says curl was not found.
 */
export const ZTUNNEL_ADMIN: AdminFlavour = {
  label: 'ztunnel',
  container: 'istio-proxy',
  execCommand: (method, path, port) => ['curl', '-sS', '--fail', '-X', method, `http://localhost:${port}${path}`],
};

/** istioctl's IsZtunnelPod: labelled app=ztunnel (or owned by the ztunnel DaemonSet). */
export function isZtunnelPod(pod: k8s.V1Pod): boolean {
  if (pod.metadata?.labels?.app === 'ztunnel') return true;
  return (pod.metadata?.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet' && o.name === ZTUNNEL_DAEMONSET);
}

async function daemonSetSelector(cluster: ClusterSource, namespace: string): Promise<string> {
  let ds: k8s.V1DaemonSet;
  try {
    ds = (await cluster.get(DAEMONSET, ZTUNNEL_DAEMONSET, namespace)) as k8s.V1DaemonSet;
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new MeshctlError(`no ztunnel DaemonSet in namespace ${namespace}: is ambient mode installed? (-i names another Istio namespace)`);
    }
    throw err;
  }
  const selector = ds.spec?.selector ? labelSelectorString(ds.spec.selector) : '';
  if (!selector) throw new MeshctlError(`daemonset/${ZTUNNEL_DAEMONSET} in namespace ${namespace} has no selector`);
  return selector;
}

/**
 * The ztunnel DaemonSet's pods (on one node when `node` is given), sorted by name; from the live cluster
 * (a `Kube` or a ClusterSource) or a bundle.
 */
export async function listZtunnelPods(source: PodSourceArg, namespace: string, node?: string): Promise<k8s.V1Pod[]> {
  const cluster = asCluster(source);
  const labelSelector = await daemonSetSelector(cluster, namespace);
  const fieldSelector = node ? `spec.nodeName=${node}` : undefined;
  const items = (await cluster.list(POD, { namespace, labelSelector, ...(fieldSelector ? { fieldSelector } : {}) })) as k8s.V1Pod[];
  return items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** The ztunnel on a node: a ready one first (istioctl sorts them as kubectl logs does). */
export async function ztunnelOnNode(kube: PodSourceArg, namespace: string, node: string): Promise<ResolvedPod> {
  const pods = await listZtunnelPods(kube, namespace, node);
  const pod = pickPod(pods) ?? pods[0];
  if (!pod) {
    const all = await listZtunnelPods(kube, namespace);
    const nodes = [...new Set(all.map((p) => p.spec?.nodeName).filter(Boolean))].sort();
    throw new MeshctlError(`no ztunnel pod on node ${node}${nodes.length ? ` (ztunnels run on: ${nodes.join(', ')})` : ` (the DaemonSet in ${namespace} has no pods)`}`);
  }
  return { name: pod.metadata!.name!, namespace, pod, ref: `--node ${node}` };
}

/** Where a live ztunnel-config run reads from, and which workload it is about (if a workload pod was named). */
export interface ZtunnelTarget {
  ztunnel: ResolvedPod;
  /** Set when the pod named was a workload: the view is filtered to it. */
  workload?: { name: string; namespace: string; node: string };
}

export interface TargetOptions {
  pod?: string;
  node?: string;
  /** -n as the user gave it (unset: the Istio namespace, istioctl's default for component pods) */
  namespace?: string;
  istioNamespace: string;
  /** The view differs per ztunnel (certificates, connections): refuse to pick one of several. */
  needsOne?: boolean;
  what?: string;
}

/**
 * istioctl's rules: a ztunnel pod as named; `--node`: the ztunnel there; a workload pod: the ztunnel on
 * its node, filtered to the workload; nothing: any ready ztunnel, unless the view differs per ztunnel
 * and there are several.
 */
export async function resolveZtunnelTarget(kube: PodSourceArg, o: TargetOptions): Promise<ZtunnelTarget> {
  if (o.pod !== undefined && o.node !== undefined) throw new UsageError('at most one of --file, --node, or pod name must be passed');
  if (o.node !== undefined) return { ztunnel: await ztunnelOnNode(kube, o.istioNamespace, o.node) };
  if (o.pod !== undefined) {
    const ref = parsePodRef(o.pod, o.namespace ?? o.istioNamespace);
    if (ref.kind !== 'pod') throw new UsageError(`name a pod (name[.namespace]), not ${ref.kind}/${ref.name}: a ztunnel or a workload pod`);
    const pod = await getPod(kube, ref.name, ref.namespace);
    if (isZtunnelPod(pod)) return { ztunnel: { name: ref.name, namespace: ref.namespace, pod, ref: o.pod } };
    const node = pod.spec?.nodeName;
    if (!node) throw new MeshctlError(`pod ${ref.name}.${ref.namespace} is not scheduled on a node yet, so no ztunnel serves it`);
    const ztunnel = await ztunnelOnNode(kube, o.istioNamespace, node);
    return { ztunnel, workload: { name: ref.name, namespace: ref.namespace, node } };
  }
  const pods = await listZtunnelPods(kube, o.istioNamespace);
  if (pods.length === 0) throw new MeshctlError(`the ztunnel DaemonSet in namespace ${o.istioNamespace} has no pods`);
  if (o.needsOne && pods.length > 1) {
    const names = pods.slice(0, 4).map((p) => p.metadata?.name).join(', ') + (pods.length > 4 ? ', …' : '');
    throw new UsageError(`${o.what ?? 'this view'} differs per ztunnel: name a ztunnel pod or --node (${pods.length} ztunnels: ${names})`);
  }
  const pod = pickPod(pods);
  if (!pod) throw new MeshctlError(`no ztunnel pod in namespace ${o.istioNamespace} is running and ready (${pods.length} pod${pods.length === 1 ? '' : 's'})`);
  return { ztunnel: { name: pod.metadata!.name!, namespace: o.istioNamespace, pod, ref: 'daemonset/ztunnel' } };
}

/**
 * The ztunnel on a node, read through a ClusterSource (live, or a bug-report bundle): the DaemonSet's
 * selector, its pods on that node, a ready one first.
 */
export async function ztunnelOnNodeOf(cluster: ClusterSource, namespace: string, node: string): Promise<ResolvedPod> {
  let ds: ClusterObject;
  try {
    ds = await cluster.get(DAEMONSET, ZTUNNEL_DAEMONSET, namespace);
  } catch (err) {
    if (err instanceof NotFoundError) throw new MeshctlError(`no ztunnel DaemonSet in namespace ${namespace}: is ambient mode installed? (-i names another Istio namespace)`);
    throw err;
  }
  const sel = (ds.spec as { selector?: k8s.V1LabelSelector } | undefined)?.selector;
  const labelSelector = sel ? labelSelectorString(sel) : '';
  if (!labelSelector) throw new MeshctlError(`daemonset/${ZTUNNEL_DAEMONSET} in namespace ${namespace} has no selector`);
  const pods = (await cluster.list(POD, { namespace, labelSelector })) as k8s.V1Pod[];
  const onNode = pods.filter((p) => p.spec?.nodeName === node);
  const pod = pickPod(onNode) ?? onNode[0];
  if (!pod) {
    const nodes = [...new Set(pods.map((p) => p.spec?.nodeName).filter(Boolean))].sort();
    throw new MeshctlError(`no ztunnel pod on node ${node}${nodes.length ? ` (ztunnels run on: ${nodes.join(', ')})` : ` (the DaemonSet in ${namespace} has no pods)`}`);
  }
  return { name: pod.metadata!.name!, namespace, pod, ref: `--node ${node}` };
}
