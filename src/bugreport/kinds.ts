import {
  DAEMONSET, DEPLOYMENT, ENDPOINTS, ENDPOINTSLICE, JOB, POD, REPLICASET, type ResourceType, SERVICE, STATEFULSET,
} from '../kube/cluster.js';
import { MUTATING_WEBHOOK, NODE, VALIDATING_WEBHOOK } from '../kube/kinds.js';

/**
 * What bug-report collects of the Kubernetes API. Secrets are never among them: not listed, not read.
 */

/** Kinds read in each selected namespace (and the Istio namespace). */
export const NAMESPACE_KINDS: ResourceType[] = [POD, ENDPOINTS, ENDPOINTSLICE, DEPLOYMENT, REPLICASET, STATEFULSET, DAEMONSET, JOB];

/** Kinds read cluster-wide whatever the selection (what istiod sees), per namespace where that is forbidden. */
export const CLUSTER_KINDS: ResourceType[] = [SERVICE];

/** Istio and Gateway API kinds, with the versions to try, newest first: the table analyze and describe read too. */
export { MESH_KINDS, type MeshKind } from '../kube/kinds.js';

/** Cluster-scoped kinds read whole: node labels and the webhook configurations (analyze reads them). */
export const CLUSTER_SCOPED_KINDS: ResourceType[] = [NODE, MUTATING_WEBHOOK, VALIDATING_WEBHOOK];

/** CustomResourceDefinitions kept, read by name (the Gateway API ones whose version analyze checks). */
export { CRD, GATEWAY_API_CRDS } from '../kube/kinds.js';

/** The mesh ConfigMaps of the Istio namespace (mesh config and injector, default and per revision); no other ConfigMap is kept. */
export function isMeshConfigMap(name: string): boolean {
  return /^istio(-sidecar-injector)?(-[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/.test(name) && name !== 'istio-ca-root-cert';
}

/** Envoy admin paths collected from every proxy (port 15000), in this order. */
export const PROXY_PATHS = ['/config_dump?include_eds', '/clusters?format=json', '/server_info'];

/** istiod debug endpoints collected from every replica (port 15014). */
export const ISTIOD_PATHS = ['/debug/syncz', '/debug/registryz', '/debug/configz', '/debug/endpointz', '/debug/adsz'];

/** ztunnel's admin port and what is collected from it. */
export const ZTUNNEL_ADMIN_PORT = 15000;
export const ZTUNNEL_PATHS = ['/config_dump'];
