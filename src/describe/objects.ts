/**
 * The Kubernetes and Istio objects describe reads, as parsed YAML/JSON: every field optional, because
 * they come from users' files or the API server and are checked where they are used, not trusted.
 */

import { matchLabels, type LabelSelector, type Labels } from '../resources/selector.js';

export type { LabelSelector, Labels };

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

/** Where an object came from (file:line offline, or the API server), for messages. */
export interface Origin {
  origin?: string;
}

export interface ContainerPort {
  name?: string;
  containerPort?: number;
  protocol?: string;
}

export interface Container {
  name?: string;
  image?: string;
  ports?: ContainerPort[];
  env?: { name?: string; value?: string }[];
  args?: string[];
  restartPolicy?: string;
  securityContext?: { runAsUser?: number };
}

export interface ContainerStatus {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  image?: string;
  state?: Record<string, unknown>;
}

export interface Pod extends KubeObject {
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    securityContext?: { runAsUser?: number };
    nodeName?: string;
    hostNetwork?: boolean;
    serviceAccountName?: string;
  };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface ServicePort {
  name?: string;
  port?: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  spec?: {
    selector?: Labels;
    ports?: ServicePort[];
    type?: string;
    clusterIP?: string;
    /** Both families' cluster IPs on a dual-stack Service (the first is clusterIP). */
    clusterIPs?: string[];
    externalIPs?: string[];
    externalName?: string;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] }; conditions?: Condition[] };
}

export interface EndpointAddress {
  ip?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

export interface Endpoints extends KubeObject {
  subsets?: { addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports?: { name?: string; port?: number }[] }[];
}

export interface WorkloadSelector {
  matchLabels?: Labels;
}

export interface TrafficPolicyPart {
  tls?: { mode?: string; sni?: string; credentialName?: string };
  loadBalancer?: Record<string, unknown>;
  connectionPool?: Record<string, unknown>;
  outlierDetection?: Record<string, unknown>;
}

export interface TrafficPolicy extends TrafficPolicyPart {
  portLevelSettings?: (TrafficPolicyPart & { port?: { number?: number } })[];
}

export interface Subset {
  name?: string;
  labels?: Labels;
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRule extends KubeObject {
  spec?: {
    host?: string;
    trafficPolicy?: TrafficPolicy;
    subsets?: Subset[];
    exportTo?: string[];
    workloadSelector?: WorkloadSelector;
  };
}

export interface Destination {
  host?: string;
  subset?: string;
  port?: { number?: number };
}

export interface RouteDestination {
  destination?: Destination;
  weight?: number;
}

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  ignoreUriCase?: boolean;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Labels;
  gateways?: string[];
}

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: RouteDestination[];
  redirect?: unknown;
  fault?: { delay?: Record<string, unknown>; abort?: Record<string, unknown> };
  timeout?: string;
  retries?: Record<string, unknown>;
  mirror?: Destination;
}

export interface L4Route {
  match?: { port?: number; sniHosts?: string[]; destinationSubnets?: string[]; sourceLabels?: Labels; gateways?: string[] }[];
  route?: RouteDestination[];
}

export interface VirtualService extends KubeObject {
  spec?: {
    hosts?: string[];
    gateways?: string[];
    http?: HTTPRoute[];
    tcp?: L4Route[];
    tls?: L4Route[];
    exportTo?: string[];
  };
}

export interface GatewayServer {
  port?: { number?: number; protocol?: string; name?: string };
  hosts?: string[];
  tls?: { mode?: string; httpsRedirect?: boolean };
}

export interface Gateway extends KubeObject {
  spec?: { selector?: Labels; servers?: GatewayServer[] };
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface Listener {
  name?: string;
  hostname?: string;
  port?: number;
  protocol?: string;
  /** `mode` Terminate (the default) or Passthrough: which route kinds a TLS listener takes. */
  tls?: { mode?: string };
  allowedRoutes?: {
    namespaces?: { from?: string; selector?: LabelSelector };
    kinds?: { group?: string; kind?: string }[];
  };
}

/** A `gateway.networking.k8s.io` GatewayClass (its labels may set a waypoint's default `istio.io/waypoint-for`). */
export interface GatewayClass extends KubeObject {
  spec?: { controllerName?: string };
}

/** A `gateway.networking.k8s.io` Gateway (not Istio's `networking.istio.io` one). */
export interface ApiGateway extends KubeObject {
  spec?: { gatewayClassName?: string; listeners?: Listener[]; addresses?: { type?: string; value?: string }[] };
  status?: { addresses?: { type?: string; value?: string }[]; conditions?: Condition[] };
}

export interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  sectionName?: string;
  port?: number;
}

export interface BackendRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  port?: number;
  weight?: number;
}

/** A rule's match: HTTPRoute's path/headers/queryParams/method, GRPCRoute's method (an object) and headers. */
export interface RouteMatch {
  path?: { type?: string; value?: string };
  headers?: { name?: string; value?: string; type?: string }[];
  queryParams?: { name?: string; value?: string; type?: string }[];
  method?: string | { service?: string; method?: string; type?: string };
}

export interface RouteRule {
  name?: string;
  matches?: RouteMatch[];
  backendRefs?: BackendRef[];
}

/** An HTTPRoute, GRPCRoute, TCPRoute or TLSRoute of the Gateway API: for exposure all have the same shape (TCPRoute has no hostnames). */
export interface ApiRoute extends KubeObject {
  spec?: { parentRefs?: ParentRef[]; hostnames?: string[]; rules?: RouteRule[] };
  status?: { parents?: { parentRef?: ParentRef; controllerName?: string; conditions?: Condition[] }[] };
}

export interface ReferenceGrant extends KubeObject {
  spec?: {
    from?: { group?: string; kind?: string; namespace?: string }[];
    to?: { group?: string; kind?: string; name?: string }[];
  };
}

export interface PeerAuthentication extends KubeObject {
  spec?: {
    selector?: WorkloadSelector;
    mtls?: { mode?: string };
    portLevelMtls?: Record<string, { mode?: string }>;
  };
}

export interface PolicyTargetRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface AuthorizationPolicy extends KubeObject {
  spec?: {
    selector?: WorkloadSelector;
    targetRef?: PolicyTargetRef;
    targetRefs?: PolicyTargetRef[];
    action?: string;
    provider?: { name?: string };
    rules?: unknown[];
  };
}

export interface Namespace extends KubeObject {}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** Everything describe may look at. Each list may be partial (offline files hold what the user saved). */
export interface MeshObjects {
  pods: Pod[];
  services: Service[];
  endpoints: Endpoints[];
  namespaces: Namespace[];
  destinationRules: DestinationRule[];
  virtualServices: VirtualService[];
  gateways: Gateway[];
  peerAuthentications: PeerAuthentication[];
  authorizationPolicies: AuthorizationPolicy[];
  configMaps: ConfigMap[];
  /** Gateway API (`gateway.networking.k8s.io`) objects, kept apart from Istio's Gateways. */
  apiGateways: ApiGateway[];
  httpRoutes: ApiRoute[];
  grpcRoutes: ApiRoute[];
  tcpRoutes: ApiRoute[];
  tlsRoutes: ApiRoute[];
  referenceGrants: ReferenceGrant[];
  gatewayClasses: GatewayClass[];
  /** networking.istio.io ServiceEntries (a waypoint serves those bound to it; its policies attach to them). */
  serviceEntries: KubeObject[];
}

export function emptyMeshObjects(): MeshObjects {
  return {
    pods: [],
    services: [],
    endpoints: [],
    namespaces: [],
    destinationRules: [],
    virtualServices: [],
    gateways: [],
    peerAuthentications: [],
    authorizationPolicies: [],
    configMaps: [],
    apiGateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    tcpRoutes: [],
    tlsRoutes: [],
    referenceGrants: [],
    gatewayClasses: [],
    serviceEntries: [],
  };
}

export function nameOf(obj: KubeObject): string {
  return obj.metadata?.name ?? '';
}

/** Objects without a namespace live in `default`, as kubectl apply would put them. */
export function namespaceOf(obj: KubeObject): string {
  return obj.metadata?.namespace || 'default';
}

/** istioctl's `name.namespace` convention, shortening to `name` inside the namespace being described. */
export function kname(obj: KubeObject, currentNamespace?: string): string {
  const ns = namespaceOf(obj);
  return ns === currentNamespace ? nameOf(obj) : `${nameOf(obj)}.${ns}`;
}

/**
 * Oldest first, then by namespace and name (byte order): Istio's order for Gateway API objects
 * (pilot/pkg/config/kube/gateway sortConfigByCreationTime), as the Gateway API spec asks.
 */
export function byCreation<T extends KubeObject>(a: T, b: T): number {
  return byAge(a, b) || byteCompare(namespaceOf(a), namespaceOf(b)) || byteCompare(nameOf(a), nameOf(b));
}

/**
 * Oldest first, then by name and namespace (byte order): the order istiod's config model gives
 * VirtualServices and DestinationRules to pick a winner among conflicting ones (pilot/pkg/model
 * sortConfigByCreationTime).
 */
export function byCreationNameFirst<T extends KubeObject>(a: T, b: T): number {
  return byAge(a, b) || byteCompare(nameOf(a), nameOf(b)) || byteCompare(namespaceOf(a), namespaceOf(b));
}

function byAge(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta === tb) return 0;
  // objects without a timestamp (hand-written files) sort after timestamped ones
  if (!ta) return 1;
  if (!tb) return -1;
  return Date.parse(ta) - Date.parse(tb);
}

const byteCompare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A label selector given as a plain map matches when every key has the same value. An empty map matches all. */
export function selectorMatches(selector: Labels | undefined, labels: Labels | undefined): boolean {
  return matchLabels(selector, labels);
}

export function hasSelector(selector: WorkloadSelector | undefined): boolean {
  return Object.keys(selector?.matchLabels ?? {}).length > 0;
}

/** Where each object was read from (`file:line`, or the cluster), kept beside the object, not in it. */
const origins = new WeakMap<object, string>();

export function setOrigin(obj: object, origin: string): void {
  origins.set(obj, origin);
}

export function originOf(obj: object | undefined): string | undefined {
  return obj ? origins.get(obj) : undefined;
}
