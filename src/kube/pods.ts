import type * as k8s from '@kubernetes/client-node';
import { MeshctlError, UsageError } from '../errors.js';
import type { Kube } from './client.js';
import { type ClusterSource, type ResourceType, DAEMONSET, DEPLOYMENT, JOB, POD, REPLICASET, SERVICE, STATEFULSET } from './cluster.js';
import { NotFoundError } from './errors.js';
import { liveCluster } from './live-cluster.js';

/** A pod reference as the user typed it, split istioctl's way. */
export interface PodRef {
  /** Canonical workload kind (`pod` for a bare name). */
  kind: WorkloadKind;
  name: string;
  namespace: string;
}

export interface ResolvedPod {
  name: string;
  namespace: string;
  pod: k8s.V1Pod;
  /** How the user named it, for messages (`deployment/reviews`, or the pod name). */
  ref: string;
}

export type WorkloadKind = 'pod' | 'deployment' | 'statefulset' | 'daemonset' | 'replicaset' | 'job' | 'service';

const KINDS: Record<string, WorkloadKind> = {
  pod: 'pod', pods: 'pod', po: 'pod',
  deployment: 'deployment', deployments: 'deployment', deploy: 'deployment',
  statefulset: 'statefulset', statefulsets: 'statefulset', sts: 'statefulset',
  daemonset: 'daemonset', daemonsets: 'daemonset', ds: 'daemonset',
  replicaset: 'replicaset', replicasets: 'replicaset', rs: 'replicaset',
  job: 'job', jobs: 'job',
  service: 'service', services: 'service', svc: 'service',
};

/**
 * `name`, `name.namespace`, `kind/name`, `kind/name.namespace` (istioctl's rule: the namespace is what
 * follows the last dot after any `kind/`). Without a suffix the namespace is `defaultNamespace`.
 */
export function parsePodRef(ref: string, defaultNamespace: string): PodRef {
  const text = ref.trim();
  if (text === '') throw new UsageError('empty pod reference: give a pod name, name.namespace or deployment/name');
  // no Kubernetes name holds one; echoed raw, a newline would break the one-line error (and spoof lines)
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new UsageError(`pod reference ${JSON.stringify(ref)} contains a control character`);
  let kind: WorkloadKind = 'pod';
  let rest = text;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const typed = text.slice(0, slash).toLowerCase().replace(/\.(apps|batch)$/, '');
    const known = KINDS[typed];
    if (!known) {
      throw new UsageError(
        `unsupported resource kind "${text.slice(0, slash)}" in "${ref}": use pod, deployment, statefulset, daemonset, replicaset, job or service`,
      );
    }
    kind = known;
    rest = text.slice(slash + 1);
  }
  const dot = rest.lastIndexOf('.');
  const name = dot > 0 ? rest.slice(0, dot) : rest;
  const namespace = dot > 0 ? rest.slice(dot + 1) : defaultNamespace;
  if (!name || !namespace || rest.endsWith('.') || name.includes('/')) {
    throw new UsageError(`malformed pod reference "${ref}": expected name, name.namespace or kind/name[.namespace]`);
  }
  return { kind, name, namespace };
}

export function podReady(pod: k8s.V1Pod): boolean {
  return pod.status?.phase === 'Running'
    && !pod.metadata?.deletionTimestamp
    && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** A `Kube` connection or any ClusterSource (live or a bundle): the pod helpers work on both. */
export type PodSourceArg = Kube | ClusterSource;

export function asCluster(source: PodSourceArg): ClusterSource {
  return 'origin' in source ? source : liveCluster(source);
}

/** Turns a reference into one running pod, with clear errors for none and for near misses. */
export async function resolvePod(source: PodSourceArg, refText: string): Promise<ResolvedPod> {
  const cluster = asCluster(source);
  const ref = parsePodRef(refText, cluster.namespace);
  if (ref.kind === 'pod') {
    const pod = await getPod(cluster, ref.name, ref.namespace);
    return { name: ref.name, namespace: ref.namespace, pod, ref: refText };
  }
  const selector = await workloadSelector(cluster, ref);
  const pods = await listPods(cluster, ref.namespace, selector);
  const chosen = pickPod(pods);
  const label = `${ref.kind}/${ref.name}`;
  if (!chosen) {
    if (pods.length === 0) {
      throw new MeshctlError(`${label} in namespace ${ref.namespace} has no pods (selector ${selector})`);
    }
    const states = pods.slice(0, 5).map((p) => `${p.metadata?.name} ${podState(p)}`).join(', ');
    throw new MeshctlError(
      `${label} in namespace ${ref.namespace} has no running, ready pod (${pods.length} pod${pods.length === 1 ? '' : 's'}: ${states}${pods.length > 5 ? ', …' : ''})`,
    );
  }
  return { name: chosen.metadata!.name!, namespace: ref.namespace, pod: chosen, ref: refText };
}

/** GET one pod; on 404, looks for pods whose names start with it to suggest the right one. */
export async function getPod(source: PodSourceArg, name: string, namespace: string): Promise<k8s.V1Pod> {
  const cluster = asCluster(source);
  try {
    return (await cluster.get(POD, name, namespace)) as k8s.V1Pod;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    const near = await listPods(cluster, namespace).then(
      (pods) => pods.map((p) => p.metadata?.name ?? '').filter((n) => n.startsWith(name)).sort(),
      () => [] as string[],
    );
    if (near.length === 1) throw new MeshctlError(`pod ${name} not found in namespace ${namespace}; did you mean ${near[0]}?`);
    if (near.length > 1) {
      const shown = near.slice(0, 4).join(', ') + (near.length > 4 ? ', …' : '');
      throw new MeshctlError(
        `pod ${name} not found in namespace ${namespace}; it is ambiguous as a prefix of ${near.length} pods (${shown}): name one, or use deployment/${name}`,
      );
    }
    throw err;
  }
}

/** The pods of a namespace (as the API server sends them: plain JSON, typed here for the fields read). */
export async function listPods(source: PodSourceArg, namespace: string, labelSelector?: string): Promise<k8s.V1Pod[]> {
  return (await asCluster(source).list(POD, { namespace, labelSelector })) as k8s.V1Pod[];
}

/** Ready pods first; among them the longest-running (then by name), so the choice is stable. */
export function pickPod(pods: k8s.V1Pod[]): k8s.V1Pod | undefined {
  return pods
    .filter(podReady)
    .sort((a, b) => time(a) - time(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
}

function time(p: k8s.V1Pod): number {
  const t = p.status?.startTime ?? p.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

function podState(p: k8s.V1Pod): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  const phase = p.status?.phase ?? 'Unknown';
  return phase === 'Running' ? 'Running but not ready' : phase;
}

const WORKLOAD_TYPES: Partial<Record<WorkloadKind, ResourceType>> = {
  deployment: DEPLOYMENT,
  statefulset: STATEFULSET,
  daemonset: DAEMONSET,
  replicaset: REPLICASET,
  job: JOB,
};

async function workloadSelector(cluster: ClusterSource, ref: PodRef): Promise<string> {
  const { name, namespace } = ref;
  let selector: k8s.V1LabelSelector | undefined;
  const type = WORKLOAD_TYPES[ref.kind];
  if (type) {
    selector = ((await cluster.get(type, name, namespace)) as { spec?: { selector?: k8s.V1LabelSelector } }).spec?.selector;
  } else if (ref.kind === 'service') {
    const svc = (await cluster.get(SERVICE, name, namespace)) as { spec?: { selector?: Record<string, string> } };
    const labels = svc.spec?.selector;
    if (!labels || Object.keys(labels).length === 0) {
      throw new MeshctlError(`service/${name} in namespace ${namespace} has no selector, so no pods`);
    }
    selector = { matchLabels: labels };
  } else {
    throw new UsageError(`cannot find pods of ${ref.kind}/${name}`);
  }
  const text = selector ? labelSelectorString(selector) : '';
  if (!text) throw new MeshctlError(`${ref.kind}/${name} in namespace ${namespace} has an empty selector`);
  return text;
}

/** A LabelSelector object as the `labelSelector` query string the API server takes. */
export function labelSelectorString(sel: k8s.V1LabelSelector): string {
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In': parts.push(`${e.key} in (${values})`); break;
      case 'NotIn': parts.push(`${e.key} notin (${values})`); break;
      case 'Exists': parts.push(e.key); break;
      case 'DoesNotExist': parts.push(`!${e.key}`); break;
      default: throw new MeshctlError(`unsupported selector operator "${e.operator}" for ${e.key}`);
    }
  }
  return parts.join(',');
}
