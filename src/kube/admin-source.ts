import { MeshctlError } from '../errors.js';
import type { KubeOptions } from './options.js';
import type { InputText } from '../source/file.js';
import type { EnvoyAdminSource } from '../source/envoy-admin.js';
import { connect } from './client.js';
import type { ClusterSource } from './cluster.js';
import type { ForbiddenError } from './errors.js';
import { type AdminFlavour, DEFAULT_PROXY_ADMIN_PORT, ENVOY_ADMIN, PROXY_CONTAINER, podRequest } from './live-cluster.js';
import { type ClusterOptions, openCluster } from './open.js';
import { type ResolvedPod, resolvePod } from './pods.js';

export { DEFAULT_PROXY_ADMIN_PORT, ENVOY_ADMIN, PROXY_CONTAINER, type AdminFlavour };

export interface AdminSourceOptions extends KubeOptions, Pick<ClusterOptions, 'bundle'> {
  /** Envoy admin port in the pod (default 15000). */
  proxyAdminPort?: number;
  /** Whose admin API it is (default Envoy's; ztunnel's serves on the same port, see src/kube/ztunnel.ts). */
  admin?: AdminFlavour;
}

/** The live admin source, with writes (`POST /logging?level=debug`) and the pod it resolved to. */
export interface LiveAdminSource extends EnvoyAdminSource {
  readonly pod: ResolvedPod;
  /** How answers arrive now: through a port-forward, or by exec of pilot-agent after a 403. */
  readonly via: 'port-forward' | 'exec';
  request(method: 'GET' | 'POST', path: string): Promise<InputText>;
}

/** An admin source on a pod of a ClusterSource (live or a bundle), with the pod it resolved to. */
export interface PodAdminSource extends EnvoyAdminSource {
  readonly pod: ResolvedPod;
}

/**
 * Opens the Envoy admin API of a pod (`name`, `name.ns`, `deployment/name`) of the live cluster (through
 * a port-forward, falling back to exec of `pilot-agent request` where port-forward is forbidden) or of
 * the bundle given as `options.bundle`.
 */
export async function openAdminSource(podRef: string, options: AdminSourceOptions): Promise<EnvoyAdminSource> {
  const cluster = await openCluster(options);
  try {
    return await adminSourceFor(cluster, podRef, options.proxyAdminPort ?? DEFAULT_PROXY_ADMIN_PORT, true);
  } catch (err) {
    cluster.close();
    throw err;
  }
}

/** The admin API of one pod of `cluster`; `own` closes the cluster with the source. */
export async function adminSourceFor(cluster: ClusterSource, podRef: string, port: number, own = false, flavour: AdminFlavour = ENVOY_ADMIN): Promise<PodAdminSource> {
  return adminSourceOn(cluster, await resolvePod(cluster, podRef), port, own, flavour);
}

/** The admin API (Envoy's, or ztunnel's) of a pod already resolved; `own` closes the cluster with the source. */
export function adminSourceOn(cluster: ClusterSource, pod: ResolvedPod, port: number, own = false, flavour: AdminFlavour = ENVOY_ADMIN): PodAdminSource {
  checkReachable(pod, port, flavour);
  const podName = `${pod.name}.${pod.namespace}`;
  return {
    name: podName,
    offline: false,
    pod,
    get: async (path: string) => {
      const r = await cluster.podGet(pod, port, path, flavour);
      return adminAnswer(podName, r.status, r.body, 'GET', path, flavour.label);
    },
    close: async () => {
      if (own) cluster.close();
    },
  };
}

/** An admin answer as text; anything but a non-empty 200 is one clear error naming the pod and path. */
export function adminAnswer(podName: string, status: number, body: Buffer, method: string, path: string, label = 'Envoy'): InputText {
  const text = body.toString('utf8');
  if (status !== 200) {
    const first = text.trim().split('\n')[0] ?? '';
    throw new MeshctlError(`${label} admin of pod ${podName} answered ${status} to ${method} ${path}${first ? `: ${first}` : ''}`);
  }
  if (body.length === 0) throw new MeshctlError(`${label} admin of pod ${podName} sent an empty answer to ${method} ${path}`);
  return { name: `${podName}:${path}`, text };
}

/** The live admin API with writes (proxy-config log): port-forward, exec of pilot-agent after a 403. */
export async function openLiveAdmin(podRef: string, options: AdminSourceOptions): Promise<LiveAdminSource> {
  const kube = await connect(options);
  const port = options.proxyAdminPort ?? DEFAULT_PROXY_ADMIN_PORT;
  const flavour = options.admin ?? ENVOY_ADMIN;
  let pod: ResolvedPod;
  try {
    pod = await resolvePod(kube, podRef);
    checkReachable(pod, port, flavour);
  } catch (err) {
    kube.close();
    throw err;
  }
  const podName = `${pod.name}.${pod.namespace}`;
  const forbidden = new Map<string, ForbiddenError>();
  const request = async (method: 'GET' | 'POST', path: string): Promise<InputText> => {
    const r = await podRequest(kube, pod, port, method, path, forbidden, flavour);
    return adminAnswer(podName, r.status, r.body, method, path, flavour.label);
  };

  return {
    name: podName,
    offline: false,
    pod,
    get via() {
      return forbidden.size > 0 ? 'exec' : 'port-forward';
    },
    get: (path: string) => request('GET', path),
    request,
    close: async () => kube.close(),
  };
}

export function checkReachable(pod: ResolvedPod, port: number, flavour: AdminFlavour = ENVOY_ADMIN): void {
  const phase = pod.pod.status?.phase ?? 'Unknown';
  const where = `pod ${pod.name}.${pod.namespace}`;
  if (pod.pod.metadata?.deletionTimestamp) throw new MeshctlError(`${where} is terminating; its ${flavour.label} admin port cannot be trusted`);
  if (phase !== 'Running') throw new MeshctlError(`${where} is ${phase}, not Running: its ${flavour.label} admin port ${port} cannot be reached`);
  const containers = [...(pod.pod.spec?.containers ?? []), ...(pod.pod.spec?.initContainers ?? [])].map((c) => c.name);
  if (containers.length > 0 && !containers.includes(flavour.container)) {
    throw new MeshctlError(`${where} has no ${flavour.container} container (containers: ${containers.join(', ')}): is it in the mesh?`);
  }
}
