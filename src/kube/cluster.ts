/**
 * The cluster as commands see it: Kubernetes objects, GETs on a port of a pod (an Envoy's or ztunnel's
 * admin API, istiod's debug API), container logs and execs. Two implementations: the live cluster
 * (src/kube/live-cluster.ts, through client-node) and a bug-report bundle (src/kube/bundle-cluster.ts),
 * which answers with what the live cluster answered at capture time. A command written against this
 * interface works on both; `openCluster` (src/kube/open.ts) picks one from the options (`--bundle`).
 *
 * Objects are plain JSON as the API server sends them (never client-node's typed models, which drop
 * fields they do not know and rewrite timestamps).
 */
import type { ExecResult } from './exec.js';
import type { HttpAnswer, PodTarget } from './portforward.js';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

export interface ClusterObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [k: string]: unknown;
}

/** One kind of object: where the API serves it. `version` is the one to ask for (a bundle answers any). */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const POD: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
export const SERVICE: ResourceType = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true };
export const ENDPOINTS: ResourceType = { group: '', version: 'v1', plural: 'endpoints', kind: 'Endpoints', namespaced: true };
export const NAMESPACE: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
export const CONFIGMAP: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const ENDPOINTSLICE: ResourceType = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true };
export const DEPLOYMENT: ResourceType = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true };
export const REPLICASET: ResourceType = { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true };
export const STATEFULSET: ResourceType = { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true };
export const DAEMONSET: ResourceType = { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true };
export const JOB: ResourceType = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };

/** `pods`, `deployments.apps`: the API server's (and RBAC's) name for a resource. */
export function resourceName(t: { group: string; plural: string }): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

/** The REST path of a list (no name) or of one object. */
export function apiPath(t: ResourceType, namespace?: string, name?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  const ns = t.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${t.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}

export interface ListOptions {
  /** Only this namespace; all namespaces when absent (namespaced kinds). */
  namespace?: string;
  /** The API server's label-selector string (`app=x,tier in (a,b)`). */
  labelSelector?: string;
  /** The API server's field selector (`spec.nodeName=node-a`): `=`, `==` and `!=` on dotted fields. */
  fieldSelector?: string;
}

export interface LogOptions {
  tailLines?: number;
}

/** What differs between the admin APIs meshctl reads: the name in messages, the container, the exec fallback. */
export interface AdminFlavour {
  label: string;
  container: string;
  /** The argument vector that makes the request inside the container when port-forward is forbidden. */
  execCommand(method: string, path: string, port: number): string[];
}

export interface ClusterSource {
  readonly origin: 'live' | 'bundle';
  /** For messages: `context harness` or `bundle b.tar.gz`. */
  readonly name: string;
  /** -n, else the context's namespace (a bundle: the one recorded at capture), else `default`. */
  readonly namespace: string;
  readonly istioNamespace: string;
  readonly revision?: string;
  /** The per-request timeout (live); a bundle has none to wait for. */
  readonly timeoutMs: number;
  /** The kubeconfig context (live), or the one recorded at capture (a bundle). */
  readonly context?: string;
  /** A bundle: when its capture ended (UTC, ISO 8601); the objects and answers are from then. */
  readonly captured?: string;
  /**
   * What a cluster-wide `list(type)` holds: `all`, or the namespaces held (a bundle of some namespaces
   * answers with those), or undefined when nothing of the type is held at all (bug-report did not
   * collect it). Live clusters leave it out: a list there is whole, or refused. `labelSelector`: the
   * coverage of a list by that selector (a bundle may hold every namespace's objects that carry a label).
   */
  coverage?(type: ResourceType, labelSelector?: string): 'all' | string[] | undefined;
  /** One object; NotFoundError (404) when there is none, ForbiddenError (403) when it may not be read. */
  get(type: ResourceType, name: string, namespace?: string): Promise<ClusterObject>;
  list(type: ResourceType, options?: ListOptions): Promise<ClusterObject[]>;
  /**
   * A GET on `port` in the pod, answered whole: port-forward live (exec of the admin flavour's command,
   * `pilot-agent request` by default, when port-forward is forbidden and the pod runs its container; a
   * bundle answers by pod, port and path). Non-200 answers are returned, not thrown.
   */
  podGet(pod: PodTarget, port: number, path: string, admin?: AdminFlavour): Promise<HttpAnswer>;
  podLogs(pod: PodTarget, container: string, options?: LogOptions): Promise<string>;
  /** A fixed argument vector in a container; a bundle replays the execs bug-report ran. */
  podExec(pod: PodTarget, container: string, argv: string[]): Promise<ExecResult>;
  /** Ends every socket (live) or file handle (bundle); safe to call twice. */
  close(): void;
}
