import type { ClusterObject, ClusterSource } from '../kube/cluster.js';
import type { ClusterOptions } from '../kube/open.js';
import { gatewayNameOf, isWaypointPod } from './select.js';

/** What tells which Services and ServiceEntries a waypoint serves, as the cluster holds it. */
export interface WaypointServingObjects {
  services: ClusterObject[];
  namespaces: ClusterObject[];
  /** Gateway API Gateways (the waypoints) and GatewayClasses (a class may give waypoint-for). */
  gateways: ClusterObject[];
  gatewayClasses: ClusterObject[];
  serviceEntries: ClusterObject[];
  /** What could not be read, one line each: which services the waypoint serves is then not fully known. */
  problems: string[];
}

/** Kinds the caller has already read in full (every namespace): not listed again. */
export type KnownServing = { [K in keyof Omit<WaypointServingObjects, 'problems'>]?: ClusterObject[] | undefined };

/** What `authz check --use-kube` (and `--bundle` with `--files`) reads from the cluster. */
export interface AuthzClusterObjects {
  pod: ClusterObject;
  authorizationPolicies: ClusterObject[];
  /** The mesh ConfigMap (`istio`, or `istio-<revision>`) when there is one: the root namespace. */
  configMaps: ClusterObject[];
  /** For a waypoint's pod: the objects `--files` finds its services in (policies attach to those). */
  waypoint?: WaypointServingObjects;
  /** For a waypoint's pod and a request to an IP: the pods with that IP (a direct-access chain), or why they could not be listed. */
  podsAtIp?: ClusterObject[] | { problem: string };
}

/**
 * The pod (any reference resolvePod takes), every AuthorizationPolicy and the mesh ConfigMap, from the
 * live cluster or a bundle: the resources `--files` takes from manifests, as the cluster holds them; for a
 * waypoint's pod also what tells which Services and ServiceEntries it serves.
 * Istio's CRDs not served (404 on every version) means no policies; anything else is an error.
 */
export async function clusterAuthzObjects(podRef: string, options: ClusterOptions & { istioNamespace: string; revision?: string; podIp?: string }): Promise<AuthzClusterObjects> {
  const [{ openCluster }, { resolvePod }, { NotFoundError }, { meshKind }, { listServed }, { CONFIGMAP, POD }, { MeshctlError, DamagedBundleError, describeError }] = await Promise.all([
    import('../kube/open.js'),
    import('../kube/pods.js'),
    import('../kube/errors.js'),
    import('../kube/kinds.js'),
    import('../kube/served.js'),
    import('../kube/cluster.js'),
    import('../errors.js'),
  ]);
  const cluster = await openCluster(options);
  try {
    const resolved = await resolvePod(cluster, podRef);
    const policies = (await listServed(cluster, meshKind('security.istio.io', 'authorizationpolicies'))) ?? [];
    const name = options.revision && options.revision !== 'default' ? `istio-${options.revision}` : 'istio';
    const configMaps = await cluster.get(CONFIGMAP, name, cluster.istioNamespace).then(
      (cm) => [cm],
      (err: unknown) => (err instanceof NotFoundError ? [] : Promise.reject(err)),
    );
    const out: AuthzClusterObjects = { pod: resolved.pod as ClusterObject, authorizationPolicies: policies, configMaps };
    const labels = resolved.pod.metadata?.labels ?? {};
    if (gatewayNameOf(labels) !== undefined && isWaypointPod(labels)) {
      out.waypoint = await waypointServingObjects(cluster);
      if (options.podIp !== undefined) {
        out.podsAtIp = await cluster.list(POD, { fieldSelector: `status.podIP=${options.podIp}` }).catch((err: unknown) => {
          if (err instanceof DamagedBundleError || !(err instanceof MeshctlError)) throw err;
          return { problem: `cannot list the pods with IP ${options.podIp}: ${describeError(err)}` };
        });
      }
    }
    return out;
  } finally {
    cluster.close();
  }
}

/**
 * Every Service, Namespace, Gateway API Gateway and GatewayClass, and ServiceEntry of the cluster (live or
 * a bundle): from these, as from manifests, follows which services a waypoint serves. A kind the cluster
 * does not serve (404 on every version) has none; a list that cannot be read (forbidden, not in the
 * bundle) is a problem, said, never an empty list taken for the truth. GatewayClasses only give a default
 * waypoint-for (Istio's own class sets none), so an unreadable one is no problem, as describe has it.
 */
export async function waypointServingObjects(cluster: ClusterSource, known: KnownServing = {}): Promise<WaypointServingObjects> {
  const [{ NotFoundError, ForbiddenError }, { meshKind }, { listServed }, { SERVICE, NAMESPACE, resourceName }, { MeshctlError, DamagedBundleError, describeError }] = await Promise.all([
    import('../kube/errors.js'),
    import('../kube/kinds.js'),
    import('../kube/served.js'),
    import('../kube/cluster.js'),
    import('../errors.js'),
  ]);
  const problems: string[] = [];
  /** A list; not served (404) is none, a failure is a problem (a refused one is said unless `quiet`). */
  const read = async (what: string, list: () => Promise<ClusterObject[]>, quiet = false): Promise<ClusterObject[]> => {
    try {
      return await list();
    } catch (err) {
      if (err instanceof NotFoundError) return [];
      if (err instanceof DamagedBundleError || !(err instanceof MeshctlError)) throw err;
      if (!(quiet && err instanceof ForbiddenError)) problems.push(`cannot list ${what}: ${describeError(err)}`);
      return [];
    }
  };
  const served = (group: string, plural: string, quiet = false) => {
    const kind = meshKind(group, plural);
    return read(resourceName(kind), async () => (await listServed(cluster, kind)) ?? [], quiet);
  };
  const [services, namespaces, gateways, gatewayClasses, serviceEntries] = await Promise.all([
    known.services ?? read('services', () => cluster.list(SERVICE)),
    known.namespaces ?? read('namespaces', () => cluster.list(NAMESPACE)),
    known.gateways ?? served('gateway.networking.k8s.io', 'gateways'),
    known.gatewayClasses ?? served('gateway.networking.k8s.io', 'gatewayclasses', true),
    known.serviceEntries ?? served('networking.istio.io', 'serviceentries'),
  ]);
  return { services, namespaces, gateways, gatewayClasses, serviceEntries, problems };
}
