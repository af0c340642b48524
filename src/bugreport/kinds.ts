import {
  DAEMONSET, DEPLOYMENT, ENDPOINTS, ENDPOINTSLICE, JOB, POD, REPLICASET, type ResourceType, SERVICE, STATEFULSET,
} from '../kube/cluster.js';

/**
 * What bug-report collects of the Kubernetes API. Secrets are never among them: not listed, not read.
 */

/** Kinds read in each selected namespace (and the Istio namespace). */
export const NAMESPACE_KINDS: ResourceType[] = [POD, ENDPOINTS, ENDPOINTSLICE, DEPLOYMENT, REPLICASET, STATEFULSET, DAEMONSET, JOB];

/** Kinds read cluster-wide whatever the selection (what istiod sees), per namespace where that is forbidden. */
export const CLUSTER_KINDS: ResourceType[] = [SERVICE];

/** Istio and Gateway API kinds, with the versions to try, newest first (older clusters serve fewer). */
export interface MeshKind {
  group: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  versions: string[];
}

const NET = 'networking.istio.io';
const SEC = 'security.istio.io';
const GW = 'gateway.networking.k8s.io';
const mesh = (group: string, plural: string, kind: string, versions: string[], namespaced = true): MeshKind => ({ group, plural, kind, namespaced, versions });

export const MESH_KINDS: MeshKind[] = [
  mesh(NET, 'virtualservices', 'VirtualService', ['v1', 'v1beta1', 'v1alpha3']),
  mesh(NET, 'destinationrules', 'DestinationRule', ['v1', 'v1beta1', 'v1alpha3']),
  mesh(NET, 'gateways', 'Gateway', ['v1', 'v1beta1', 'v1alpha3']),
  mesh(NET, 'serviceentries', 'ServiceEntry', ['v1', 'v1beta1', 'v1alpha3']),
  mesh(NET, 'sidecars', 'Sidecar', ['v1', 'v1beta1', 'v1alpha3']),
  mesh(NET, 'workloadentries', 'WorkloadEntry', ['v1', 'v1beta1', 'v1alpha3']),
  mesh(NET, 'workloadgroups', 'WorkloadGroup', ['v1', 'v1beta1', 'v1alpha3']),
  mesh(NET, 'envoyfilters', 'EnvoyFilter', ['v1alpha3']),
  mesh(NET, 'proxyconfigs', 'ProxyConfig', ['v1beta1']),
  mesh(SEC, 'authorizationpolicies', 'AuthorizationPolicy', ['v1', 'v1beta1']),
  mesh(SEC, 'peerauthentications', 'PeerAuthentication', ['v1', 'v1beta1']),
  mesh(SEC, 'requestauthentications', 'RequestAuthentication', ['v1', 'v1beta1']),
  mesh('telemetry.istio.io', 'telemetries', 'Telemetry', ['v1', 'v1alpha1']),
  mesh('extensions.istio.io', 'wasmplugins', 'WasmPlugin', ['v1alpha1']),
  mesh(GW, 'gatewayclasses', 'GatewayClass', ['v1', 'v1beta1'], false),
  mesh(GW, 'gateways', 'Gateway', ['v1', 'v1beta1']),
  mesh(GW, 'httproutes', 'HTTPRoute', ['v1', 'v1beta1']),
  mesh(GW, 'grpcroutes', 'GRPCRoute', ['v1', 'v1alpha2']),
  mesh(GW, 'referencegrants', 'ReferenceGrant', ['v1beta1', 'v1']),
  mesh(GW, 'tcproutes', 'TCPRoute', ['v1alpha2']),
  mesh(GW, 'tlsroutes', 'TLSRoute', ['v1alpha2']),
  mesh(GW, 'udproutes', 'UDPRoute', ['v1alpha2']),
  mesh(GW, 'backendtlspolicies', 'BackendTLSPolicy', ['v1alpha3', 'v1alpha2']),
];

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
