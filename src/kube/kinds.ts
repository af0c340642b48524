import type { ResourceType } from './cluster.js';

/**
 * The Istio and Gateway API kinds meshctl reads from a cluster, shared by bug-report (what a bundle
 * holds), analyze and describe (what they read): one table, so a bundle holds what the commands ask.
 */

/** A kind and the versions to ask for, newest first (older clusters serve fewer). */
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
  // Gateway API v1.5 makes TLSRoute standard, served at v1 alone (config/crd/standard); before, v1alpha2 (experimental)
  mesh(GW, 'tlsroutes', 'TLSRoute', ['v1', 'v1alpha2']),
  mesh(GW, 'udproutes', 'UDPRoute', ['v1alpha2']),
  mesh(GW, 'backendtlspolicies', 'BackendTLSPolicy', ['v1', 'v1alpha3', 'v1alpha2']),
];

/** The kind of MESH_KINDS at `group`/`plural`. */
export function meshKind(group: string, plural: string): MeshKind {
  const k = MESH_KINDS.find((m) => m.group === group && m.plural === plural);
  if (!k) throw new Error(`${plural}.${group} is not in MESH_KINDS`);
  return k;
}

/** The kind asked for in one version. */
export function atVersion(k: MeshKind, version: string): ResourceType {
  return { group: k.group, version, plural: k.plural, kind: k.kind, namespaced: k.namespaced };
}

/** Cluster-scoped kinds the analyzers read: node locality labels, the injection and validation webhooks. */
export const NODE: ResourceType = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };
export const MUTATING_WEBHOOK: ResourceType = {
  group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false,
};
export const VALIDATING_WEBHOOK: ResourceType = {
  group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false,
};
export const CRD: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
/** Read by analyze alone (credentials of gateways); bug-report never collects them. */
export const SECRET: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };

/** The Gateway API CRDs whose bundle version Istio checks (k8sgateway.CRDVersionAnalyzer): read by name, not every CRD. */
export const GATEWAY_API_CRDS = ['grpcroutes', 'backendtlspolicies', 'tlsroutes'].map((p) => `${p}.${GW}`);
