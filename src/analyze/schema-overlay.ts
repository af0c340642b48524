/**
 * What current Istio and Gateway API accept that the packaged CRD schemas do not know.
 *
 * @kubernetes-models/istio 2.3 was generated from Istio 1.18's CRDs; its 3.x releases need Node 22, so
 * meshctl (Node 20) cannot take them. Fields Istio added since would otherwise be reported as unknown
 * (IST0106) on valid, current objects. This table adds them, as istio/api defines them today (checked
 * against the CRDs generated from istio/api for Istio 1.27), to the spec schema of every packaged version
 * of the kind (Istio serves one schema for all versions of a kind). The result is the one spec schema
 * used everywhere: the quick pre-check (fastschema.ts), the unknown-field walk and the ajv validator
 * (schema.ts), so they cannot disagree. Truly unknown fields are still reported. The Gateway API part
 * (GATEWAY_API below) does the same for @kubernetes-models/gateway-api 0.5.1.
 *
 * Each patch names the kinds, a path in the spec (`a.b` steps into properties, `[]` into array items,
 * `{}` into map values), the properties to add there and enum values to accept there. A patch never
 * replaces what the package defines: test/analyze/schema-overlay.test.ts fails when a path no longer
 * resolves or a field it adds is already packaged.
 */

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  [keyword: string]: unknown;
}

export interface OverlayPatch {
  /** `group/Kind` keys. */
  kinds: string[];
  /** Where in the spec; '' is the spec itself. */
  at: string;
  /** Fields to add at that node. */
  add?: Record<string, JsonSchema>;
  /** Values the enum at that node accepts besides the packaged ones. */
  enumValues?: string[];
  /** The Istio (or Gateway API) release that brought it, for whoever trims this table one day. */
  since: string;
}

// the packaged schemas' own style: every optional field nullable
const string = (): JsonSchema => ({ type: 'string', nullable: true });
const strings = (): JsonSchema => ({ type: 'array', items: { type: 'string' }, nullable: true });
const int = (): JsonSchema => ({ type: 'integer', format: 'int32', nullable: true });
const number = (): JsonSchema => ({ type: 'number', format: 'double', nullable: true });
const bool = (): JsonSchema => ({ type: 'boolean', nullable: true });
const oneOf = (values: string[]): JsonSchema => ({ type: 'string', enum: values, nullable: true });
const object = (properties: Record<string, JsonSchema>, required?: string[]): JsonSchema => ({
  type: 'object', properties, ...(required ? { required } : {}), nullable: true,
});

/** istio.type.v1beta1.PolicyTargetReference. */
const policyTarget = (): JsonSchema => ({
  type: 'object', required: ['kind', 'name'], properties: { group: string(), kind: string(), name: string(), namespace: string() },
});
const targetRef = (): JsonSchema => ({ ...policyTarget(), nullable: true });
const targetRefs = (): JsonSchema => ({ type: 'array', items: policyTarget(), nullable: true });
const attachment = (): Record<string, JsonSchema> => ({ targetRef: targetRef(), targetRefs: targetRefs() });

/** networking ConnectionPoolSettings as of today (a Sidecar's inbound pool; the packaged DestinationRule has all but two fields). */
const connectionPool = (): JsonSchema => object({
  tcp: object({
    maxConnections: int(), connectTimeout: string(), maxConnectionDuration: string(), idleTimeout: string(),
    tcpKeepalive: object({ probes: int(), time: string(), interval: string() }),
  }),
  http: object({
    http1MaxPendingRequests: int(), http2MaxRequests: int(), maxRequestsPerConnection: int(), maxRetries: int(), idleTimeout: string(),
    h2UpgradePolicy: oneOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']), useClientProtocol: bool(), maxConcurrentStreams: int(),
  }),
});

const NET = 'networking.istio.io';
const AP = 'security.istio.io/AuthorizationPolicy';
const RA = 'security.istio.io/RequestAuthentication';
const TELEMETRY = 'telemetry.istio.io/Telemetry';
const WASM = 'extensions.istio.io/WasmPlugin';
const ENVOYFILTER = `${NET}/EnvoyFilter`;
const DR = `${NET}/DestinationRule`;

/** A server's TLS settings (Gateway servers, Sidecar ingress listeners): multiple certificates, CRLs, the CA from a credential. */
const serverTls = (kind: string, at: string): OverlayPatch[] => [
  {
    kinds: [kind], at, since: '1.21–1.26',
    add: {
      caCrl: string(), caCertCredentialName: string(), credentialNames: strings(),
      tlsCertificates: { type: 'array', items: { type: 'object', properties: { serverCertificate: string(), privateKey: string(), caCertificates: string() } }, nullable: true },
    },
  },
  { kinds: [kind], at: `${at}.mode`, enumValues: ['OPTIONAL_MUTUAL'], since: '1.19' },
];

/** A DestinationRule traffic policy (the rule's own, or a subset's). */
const trafficPolicy = (at: string): OverlayPatch[] => [
  {
    kinds: [DR], at, since: '1.21–1.26',
    add: { proxyProtocol: object({ version: oneOf(['V1', 'V2']) }), retryBudget: object({ percent: number(), minRetryConcurrency: int() }) },
  },
  // what a port-level policy shares with the whole one
  ...[at, `${at}.portLevelSettings[]`].flatMap((p): OverlayPatch[] => [
    { kinds: [DR], at: `${p}.connectionPool.tcp`, add: { idleTimeout: string() }, since: '1.21' },
    { kinds: [DR], at: `${p}.connectionPool.http`, add: { maxConcurrentStreams: int() }, since: '1.21' },
    { kinds: [DR], at: `${p}.loadBalancer`, add: { warmup: object({ duration: string(), minimumPercent: number(), aggression: number() }, ['duration']) }, since: '1.26' },
    { kinds: [DR], at: `${p}.tls`, add: { caCrl: string() }, since: '1.20' },
  ]),
];

/*
 * Gateway API. @kubernetes-models/gateway-api 0.5.1 was generated from Gateway API v1.0's experimental
 * channel (it has BackendTLSPolicy v1alpha2, rules[].timeouts, parentRefs[].port and Gateway
 * infrastructure labels/annotations, but no GRPCRoute v1, rules[].name or sessionPersistence). Below is
 * what kubernetes-sigs/gateway-api's apis/v1 (gateway_types.go, httproute_types.go, grpcroute_types.go,
 * shared_types.go) define since, standard and experimental channels alike: Istio serves experimental
 * fields behind its flag, so a valid manifest may carry them.
 *
 * Fields that were experimental once and are gone are not added: Gateway spec.backendTLS (v1.2-v1.3) and
 * a listener's tls.frontendValidation (v1.1-v1.3), moved into Gateway spec.tls.backend and spec.tls.frontend
 * by Gateway API v1.4 (CHANGELOG/1.4-CHANGELOG.md, GEP-91 and GEP-3155). istioctl validates with the
 * schemas of the Gateway API Istio bundles, v1.5 or later (istio/istio pkg/config/schema/gatewayapi/
 * minimumversions.go requires TLSRoute CRDs of v1.5.0), where they are unknown fields: IST0106, as here.
 */
const GWAPI = 'gateway.networking.k8s.io';
const GATEWAY = `${GWAPI}/Gateway`;
const HTTPROUTE = `${GWAPI}/HTTPRoute`;
const GRPCROUTE = `${GWAPI}/GRPCRoute`;
const ROUTES = [HTTPROUTE, GRPCROUTE, `${GWAPI}/TCPRoute`, `${GWAPI}/TLSRoute`, `${GWAPI}/UDPRoute`];
const ints = (): JsonSchema => ({ type: 'array', items: { type: 'integer' }, nullable: true });
/** Gateway API SecretObjectReference / ObjectReference; a BackendObjectReference adds the port. */
const objectRef = (): JsonSchema => object({ group: string(), kind: string(), name: string(), namespace: string() }, ['name']);
const backendRef = (): JsonSchema => object({ group: string(), kind: string(), name: string(), namespace: string(), port: int() }, ['name']);
const labelSelector = (): JsonSchema => object({
  matchExpressions: { type: 'array', items: { type: 'object', properties: { key: string(), operator: string(), values: strings() } }, nullable: true },
  matchLabels: { type: 'object', additionalProperties: { type: 'string' }, nullable: true },
});
/** FrontendTLSConfig's TLSConfig: client certificate validation. */
const frontendTls = (): JsonSchema => object({
  validation: object({ caCertificateRefs: { type: 'array', items: objectRef(), nullable: true }, mode: oneOf(['AllowValidOnly', 'AllowInsecureFallback']) }, ['caCertificateRefs']),
});
/** HTTPRoute's and GRPCRoute's filter lists: the rule's own and each backendRef's (the same HTTPRouteFilter type). */
const FILTERS = ['rules[].filters[]', 'rules[].backendRefs[].filters[]'];

const GATEWAY_API: OverlayPatch[] = [
  {
    kinds: [GATEWAY], at: '', since: 'Gateway API v1.3 (allowedListeners), v1.4 (tls, defaultScope)',
    add: {
      allowedListeners: object({ namespaces: object({ from: oneOf(['All', 'Selector', 'Same', 'None']), selector: labelSelector() }) }),
      tls: object({
        backend: object({ clientCertificateRef: objectRef() }),
        frontend: object({
          default: frontendTls(),
          perPort: { type: 'array', items: { type: 'object', required: ['port', 'tls'], properties: { port: int(), tls: frontendTls() } }, nullable: true },
        }, ['default']),
      }),
      defaultScope: oneOf(['All', 'None']),
    },
  },
  // not new (v0.5), but the package's generator dropped every property named `description` with the doc strings
  { kinds: [`${GWAPI}/GatewayClass`], at: '', add: { description: string() }, since: 'Gateway API v0.5' },
  { kinds: [GATEWAY], at: 'infrastructure', add: { parametersRef: object({ group: string(), kind: string(), name: string() }, ['group', 'kind', 'name']) }, since: 'Gateway API v1.1' },
  // a rule's name is standard since v1.2 for HTTPRoute and GRPCRoute, experimental for the others
  { kinds: ROUTES, at: 'rules[]', add: { name: string() }, since: 'Gateway API v1.2' },
  // GEP-3793 default Gateways: the route side of the Gateway's defaultScope
  { kinds: ROUTES, at: '', add: { useDefaultGateways: oneOf(['All', 'None']) }, since: 'Gateway API v1.4' },
  {
    kinds: [HTTPROUTE, GRPCROUTE], at: 'rules[]', since: 'Gateway API v1.1',
    add: {
      sessionPersistence: object({
        sessionName: string(), absoluteTimeout: string(), idleTimeout: string(), type: oneOf(['Cookie', 'Header']),
        cookieConfig: object({ lifetimeType: oneOf(['Permanent', 'Session']) }),
      }),
    },
  },
  { kinds: [HTTPROUTE], at: 'rules[]', add: { retry: object({ codes: ints(), attempts: int(), backoff: string() }) }, since: 'Gateway API v1.2' },
  ...FILTERS.flatMap((f): OverlayPatch[] => [
    { kinds: [HTTPROUTE, GRPCROUTE], at: `${f}.requestMirror`, add: { percent: int(), fraction: object({ numerator: int(), denominator: int() }, ['numerator']) }, since: 'Gateway API v1.2' },
    { kinds: [HTTPROUTE], at: `${f}.type`, enumValues: ['CORS', 'ExternalAuth'], since: 'Gateway API v1.3 (CORS), v1.4 (ExternalAuth)' },
    {
      kinds: [HTTPROUTE], at: f, since: 'Gateway API v1.3 (cors), v1.4 (externalAuth)',
      add: {
        cors: object({ allowOrigins: strings(), allowCredentials: bool(), allowMethods: strings(), allowHeaders: strings(), exposeHeaders: strings(), maxAge: int() }),
        externalAuth: object({
          protocol: oneOf(['HTTP', 'GRPC']),
          backendRef: backendRef(),
          grpc: object({ allowedHeaders: strings() }),
          http: object({ path: string(), allowedHeaders: strings(), allowedResponseHeaders: strings() }),
          forwardBody: object({ maxSize: int() }),
        }, ['protocol', 'backendRef']),
      },
    },
  ]),
];

export const OVERLAY: readonly OverlayPatch[] = [
  // policies attached to a Kubernetes Gateway or a Service (waypoints) instead of selecting pods
  { kinds: [AP, RA, TELEMETRY, WASM], at: '', add: attachment(), since: '1.20 (targetRef), 1.22 (targetRefs)' },
  { kinds: [ENVOYFILTER], at: '', add: { targetRefs: targetRefs() }, since: '1.22' },
  { kinds: [AP], at: 'rules[].from[].source', add: { serviceAccounts: strings(), notServiceAccounts: strings() }, since: '1.25' },
  { kinds: [RA], at: 'jwtRules[]', add: { fromCookies: strings(), spaceDelimitedClaims: strings(), timeout: string() }, since: '1.21–1.26' },
  { kinds: [TELEMETRY], at: 'tracing[]', add: { enableIstioTags: bool() }, since: '1.24' },
  { kinds: [TELEMETRY], at: 'tracing[].customTags{}', add: { formatter: object({ value: string() }, ['value']) }, since: '1.26' },
  {
    kinds: [WASM], at: '', since: '1.20',
    add: { type: oneOf(['UNSPECIFIED_PLUGIN_TYPE', 'HTTP', 'NETWORK']), failStrategy: oneOf(['FAIL_CLOSE', 'FAIL_OPEN', 'FAIL_RELOAD']) },
  },
  // EnvoyFilters for waypoints
  { kinds: [ENVOYFILTER], at: 'configPatches[].match.context', enumValues: ['WAYPOINT'], since: '1.24' },
  {
    kinds: [ENVOYFILTER], at: 'configPatches[].match', since: '1.24',
    add: {
      waypoint: object({
        filter: object({ name: string(), subFilter: object({ name: string() }) }),
        portNumber: int(),
        route: object({ name: string() }),
      }),
    },
  },
  { kinds: [ENVOYFILTER], at: 'configPatches[].match.routeConfiguration.vhost', add: { domainName: string() }, since: '1.25' },
  // traffic management
  {
    kinds: [`${NET}/VirtualService`], at: 'http[]', since: '1.18',
    add: {
      mirrors: {
        type: 'array', nullable: true,
        items: {
          type: 'object', required: ['destination'],
          properties: {
            destination: object({ host: string(), subset: string(), port: object({ number: int() }) }, ['host']),
            percentage: object({ value: number() }),
          },
        },
      },
    },
  },
  { kinds: [`${NET}/VirtualService`], at: 'http[].retries', add: { backoff: string(), retryIgnorePreviousHosts: bool() }, since: '1.23–1.25' },
  { kinds: [`${NET}/VirtualService`], at: 'http[].rewrite', add: { uriRegexRewrite: object({ match: string(), rewrite: string() }) }, since: '1.18' },
  { kinds: [`${NET}/VirtualService`], at: 'http[].corsPolicy', add: { unmatchedPreflights: oneOf(['UNSPECIFIED', 'FORWARD', 'IGNORE']) }, since: '1.22' },
  ...trafficPolicy('trafficPolicy'),
  ...trafficPolicy('subsets[].trafficPolicy'),
  { kinds: [`${NET}/Sidecar`], at: '', add: { inboundConnectionPool: connectionPool() }, since: '1.21' },
  { kinds: [`${NET}/Sidecar`], at: 'ingress[]', add: { connectionPool: connectionPool() }, since: '1.21' },
  ...serverTls(`${NET}/Sidecar`, 'ingress[].tls'),
  ...serverTls(`${NET}/Gateway`, 'servers[].tls'),
  ...GATEWAY_API,
];

/** The segments of a patch path: property names, `[]` (array items) and `{}` (map values). */
export function overlayPath(at: string): string[] {
  if (at === '') return [];
  const out: string[] = [];
  for (const part of at.split('.')) {
    const m = /^([^[{]+)((?:\[\]|\{\})*)$/.exec(part);
    if (!m) throw new Error(`bad overlay path ${at}`);
    out.push(m[1], ...(m[2].match(/\[\]|\{\}/g) ?? []));
  }
  return out;
}

/** A copy of `node` whose child at `seg` is a copy too (the packaged schemas are shared: never modified in place). */
function stepCopy(node: JsonSchema, seg: string): JsonSchema | undefined {
  if (seg === '[]') {
    if (!node.items) return undefined;
    return (node.items = { ...node.items });
  }
  if (seg === '{}') {
    if (!node.additionalProperties || typeof node.additionalProperties !== 'object') return undefined;
    return (node.additionalProperties = { ...node.additionalProperties });
  }
  const child = node.properties?.[seg];
  if (!child) return undefined;
  node.properties = { ...node.properties, [seg]: { ...child } };
  return node.properties[seg];
}

/** Why a patch does not apply to this spec schema (undefined when it does): for the overlay's own test. */
export function patchProblem(spec: JsonSchema, patch: OverlayPatch): string | undefined {
  let node: JsonSchema | undefined = spec;
  for (const seg of overlayPath(patch.at)) {
    node = seg === '[]' ? node.items : seg === '{}' ? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined) : node.properties?.[seg];
    if (!node) return `${patch.at || '(spec)'}: no such node`;
  }
  for (const k of Object.keys(patch.add ?? {})) if (node.properties?.[k]) return `${patch.at}.${k}: already packaged`;
  if (patch.enumValues) {
    if (!Array.isArray(node.enum)) return `${patch.at}: no enum`;
    for (const v of patch.enumValues) if (node.enum.includes(v)) return `${patch.at}: ${v} already packaged`;
  }
  return undefined;
}

/**
 * The packaged spec schema of a kind (`group/Kind`) with the overlay applied: a new object sharing every
 * node the overlay does not touch. A patch whose path does not resolve is left out (the overlay's test
 * reports it).
 */
export function withOverlay(groupKind: string, spec: JsonSchema): JsonSchema {
  const patches = OVERLAY.filter((p) => p.kinds.includes(groupKind));
  if (patches.length === 0) return spec;
  const root: JsonSchema = { ...spec };
  for (const patch of patches) {
    let node: JsonSchema | undefined = root;
    for (const seg of overlayPath(patch.at)) {
      node = stepCopy(node, seg);
      if (!node) break;
    }
    if (!node) continue;
    if (patch.add) node.properties = { ...node.properties, ...patch.add, ...node.properties };
    if (patch.enumValues && Array.isArray(node.enum)) node.enum = [...node.enum, ...patch.enumValues.filter((v) => !node!.enum!.includes(v))];
  }
  return root;
}
