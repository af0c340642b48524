import type { ClusterObject } from '../kube/cluster.js';
import type { ClusterOptions } from '../kube/open.js';

/** What `authz check --use-kube` (and `--bundle` with `--files`) reads from the cluster. */
export interface AuthzClusterObjects {
  pod: ClusterObject;
  authorizationPolicies: ClusterObject[];
  /** The mesh ConfigMap (`istio`, or `istio-<revision>`) when there is one: the root namespace. */
  configMaps: ClusterObject[];
}

/**
 * The pod (any reference resolvePod takes), every AuthorizationPolicy and the mesh ConfigMap, from the
 * live cluster or a bundle: the resources `--files` takes from manifests, as the cluster holds them.
 * Istio's CRDs not served (404 on every version) means no policies; anything else is an error.
 */
export async function clusterAuthzObjects(podRef: string, options: ClusterOptions & { istioNamespace: string; revision?: string }): Promise<AuthzClusterObjects> {
  const [{ openCluster }, { resolvePod }, { NotFoundError }, { MESH_KINDS, atVersion }, { CONFIGMAP }] = await Promise.all([
    import('../kube/open.js'),
    import('../kube/pods.js'),
    import('../kube/errors.js'),
    import('../kube/kinds.js'),
    import('../kube/cluster.js'),
  ]);
  const cluster = await openCluster(options);
  try {
    const resolved = await resolvePod(cluster, podRef);
    const kind = MESH_KINDS.find((k) => k.kind === 'AuthorizationPolicy')!;
    let policies: ClusterObject[] = [];
    for (const version of kind.versions) {
      try {
        policies = await cluster.list(atVersion(kind, version));
        break;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    const name = options.revision && options.revision !== 'default' ? `istio-${options.revision}` : 'istio';
    const configMaps = await cluster.get(CONFIGMAP, name, cluster.istioNamespace).then(
      (cm) => [cm],
      (err: unknown) => (err instanceof NotFoundError ? [] : Promise.reject(err)),
    );
    return { pod: resolved.pod as ClusterObject, authorizationPolicies: policies, configMaps };
  } finally {
    cluster.close();
  }
}
