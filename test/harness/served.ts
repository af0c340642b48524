/**
 * Which API versions the API-server stand-in serves for each group and resource, as a real cluster does:
 * a CRD serves the versions its manifest marks `served`, and any other version (or a resource whose CRD is
 * not installed) is a 404. Written from the projects' manifests, never from meshctl's own table
 * (src/kube/kinds.ts), so that a wrong table there fails a test.
 */

/** `plural.group` → the versions served; an empty list: the CRD is not installed. */
export type ServedVersions = Record<string, string[]>;

const NET = 'networking.istio.io';
const SEC = 'security.istio.io';
const GW = 'gateway.networking.k8s.io';

const table = (group: string, entries: [plural: string, versions: string[]][]): ServedVersions =>
  Object.fromEntries(entries.map(([plural, versions]) => [`${plural}.${group}`, versions]));

/**
 * Istio 1.22 and later (istio/istio pkg/config/schema/gvk/resources.gen.go; the v1 promotion:
 * istio.io/latest/blog/2024/v1-apis): networking and security kinds at v1 beside their older versions.
 */
export const ISTIO: ServedVersions = {
  ...table(NET, [
    ...['virtualservices', 'destinationrules', 'gateways', 'serviceentries', 'sidecars', 'workloadentries', 'workloadgroups']
      .map((p): [string, string[]] => [p, ['v1', 'v1beta1', 'v1alpha3']]),
    ['envoyfilters', ['v1alpha3']],
    ['proxyconfigs', ['v1beta1']],
  ]),
  ...table(SEC, ['authorizationpolicies', 'peerauthentications', 'requestauthentications'].map((p): [string, string[]] => [p, ['v1', 'v1beta1']])),
  ...table('telemetry.istio.io', [['telemetries', ['v1', 'v1alpha1']]]),
  ...table('extensions.istio.io', [['wasmplugins', ['v1alpha1']]]),
};

/** Istio 1.13 to 1.21: no v1 anywhere (networking v1beta1/v1alpha3, security v1beta1, telemetry v1alpha1). */
export const ISTIO_BEFORE_V1: ServedVersions = Object.fromEntries(
  Object.entries(ISTIO).map(([k, versions]) => [k, versions.filter((v) => v !== 'v1')]),
);

/**
 * Gateway API v1.3, experimental channel (kubernetes-sigs/gateway-api config/crd/experimental; release
 * notes: v1.0 GatewayClass/Gateway/HTTPRoute v1 beside v1beta1, v1.2 stops serving GRPCRoute and
 * ReferenceGrant v1alpha2, BackendTLSPolicy v1alpha3 until v1.4 makes it v1).
 */
export const GATEWAY_API: ServedVersions = table(GW, [
  ['gatewayclasses', ['v1', 'v1beta1']],
  ['gateways', ['v1', 'v1beta1']],
  ['httproutes', ['v1', 'v1beta1']],
  ['grpcroutes', ['v1']],
  ['referencegrants', ['v1beta1']],
  ['tcproutes', ['v1alpha2']],
  ['tlsroutes', ['v1alpha2']],
  ['udproutes', ['v1alpha2']],
  ['backendtlspolicies', ['v1alpha3']],
]);

/** None of these kinds installed (`served: notInstalled(GATEWAY_API)`: a cluster without the Gateway API CRDs). */
export function notInstalled(kinds: ServedVersions): ServedVersions {
  return Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
}

/**
 * A Gateway API from before v1.0 (standard channel): GatewayClass, Gateway, HTTPRoute and ReferenceGrant at
 * v1beta1 alone, no GRPCRoute nor the experimental kinds.
 */
export const GATEWAY_API_V1BETA1: ServedVersions = {
  ...notInstalled(GATEWAY_API),
  ...table(GW, ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants'].map((p): [string, string[]] => [p, ['v1beta1']])),
};

/**
 * Gateway API v1.4, standard channel (kubernetes-sigs/gateway-api config/crd/standard; the v1.4 release
 * notes): BackendTLSPolicy graduates and is served at v1 alone; the experimental routes are not installed.
 */
export const GATEWAY_API_V1_4: ServedVersions = {
  ...notInstalled(GATEWAY_API),
  ...table(GW, [
    ['gatewayclasses', ['v1', 'v1beta1']],
    ['gateways', ['v1', 'v1beta1']],
    ['httproutes', ['v1', 'v1beta1']],
    ['grpcroutes', ['v1']],
    ['referencegrants', ['v1beta1']],
    ['backendtlspolicies', ['v1']],
  ]),
};

/**
 * Gateway API v1.5, standard channel (config/crd/standard/gateway.networking.k8s.io_tlsroutes.yaml): TLSRoute
 * graduates and is served at v1 alone; TCPRoute and UDPRoute stay experimental (not installed).
 */
export const GATEWAY_API_V1_5: ServedVersions = { ...GATEWAY_API_V1_4, ...table(GW, [['tlsroutes', ['v1']]]) };

/** What the stand-in serves unless a test says otherwise: a current Istio and the Gateway API CRDs. */
export const DEFAULT_SERVED: ServedVersions = { ...ISTIO, ...GATEWAY_API };

/** Built-in API groups: every resource of theirs the stand-in knows is served at these versions. */
const BUILTIN: Record<string, string[]> = {
  '': ['v1'],
  apps: ['v1'],
  batch: ['v1'],
  'discovery.k8s.io': ['v1'],
  'admissionregistration.k8s.io': ['v1'],
  'apiextensions.k8s.io': ['v1'],
  'networking.k8s.io': ['v1'],
  policy: ['v1'],
  'rbac.authorization.k8s.io': ['v1'],
  'coordination.k8s.io': ['v1'],
};

/**
 * The versions at which `resource` of `group` is served: the test's table (over the defaults), else those of
 * a built-in group, else (a CRD the tables do not know) the versions its objects were written in; none = 404.
 */
export function servedVersions(served: ServedVersions, group: string, resource: string, objectVersions: () => string[]): string[] {
  const key = group ? `${resource}.${group}` : resource;
  if (key in served) return served[key];
  if (group in BUILTIN) return BUILTIN[group];
  // a group of the tables (an Istio or Gateway API group) serves only the resources they list
  if (Object.keys(served).some((k) => k.endsWith(`.${group}`))) return [];
  return [...new Set(objectVersions())];
}
