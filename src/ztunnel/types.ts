/**
 * ztunnel's `/config_dump` as ztunnel writes it (serde, camelCase), field for field. Read from
 * istio/ztunnel: src/admin.rs (ConfigDump, CertsDump), src/state.rs (ProxyState's serialization),
 * src/state/workload.rs, src/state/service.rs, src/rbac.rs, src/inpod/admin.rs and
 * src/proxy/connection_manager.rs (workloadState). Optional fields are the ones ztunnel skips when they
 * hold their default value.
 *
 * Value forms worth knowing:
 * - a network address is the string `network/IP` (`/10.96.0.10` on the default network, whose name is "");
 * - a namespaced hostname is the string `namespace/hostname`;
 * - a waypoint or network gateway is `{destination, hboneMtlsPort}` where destination is either of those
 *   two strings (serde's untagged enum);
 * - port maps are JSON objects whose keys are the service ports as strings (`{"9080": 9080}`);
 * - enums are their Rust variant names: protocol `HBONE`/`TCP`, status `Healthy`/`Unhealthy`, scope
 *   `Global`/`Namespace`/`WorkloadSelector`, action `Allow`/`Deny`, string matches `{"Exact": "x"}`.
 *
 * Older ztunnels wrote `workloads` as a map keyed `network/IP`, `services` keyed `namespace/hostname` and
 * `policies` keyed `namespace/name`; current ones write lists. Both are read (see parse.ts).
 */

export interface GatewayAddress {
  /** `network/IP` or `namespace/hostname`. */
  destination: string;
  hboneMtlsPort: number;
}

export type InboundProtocol = 'HBONE' | 'TCP';
export type HealthStatus = 'Healthy' | 'Unhealthy';

export interface Locality {
  region?: string;
  zone?: string;
  subzone?: string;
}

export interface ApplicationTunnel {
  protocol: 'NONE' | 'PROXY';
  port?: number | null;
}

export interface ZtunnelWorkload {
  workloadIps: string[];
  waypoint?: GatewayAddress;
  networkGateway?: GatewayAddress;
  protocol: InboundProtocol | string;
  networkMode?: 'Standard' | 'HostNetwork';
  /** `cluster//Pod/namespace/name`, `cluster/networking.istio.io/WorkloadEntry/namespace/name`, … */
  uid?: string;
  name: string;
  namespace: string;
  trustDomain?: string;
  serviceAccount?: string;
  network?: string;
  workloadName?: string;
  workloadType?: string;
  canonicalName?: string;
  canonicalRevision?: string;
  hostname?: string;
  node?: string;
  nativeTunnel?: boolean;
  applicationTunnel?: ApplicationTunnel;
  /** `namespace/name` of the WorkloadSelector-scoped policies that select this workload. */
  authorizationPolicies?: string[];
  status: HealthStatus | string;
  clusterId?: string;
  locality?: Locality;
  /** `namespace/hostname` of the services this workload backs. */
  services?: string[];
  capacity?: number;
}

export interface ZtunnelEndpoint {
  workloadUid: string;
  /** service port → target port */
  port: Record<string, number>;
  status?: HealthStatus | string;
}

export interface LoadBalancer {
  routingPreferences: string[];
  mode: 'Standard' | 'Strict' | 'Failover' | 'Passthrough' | string;
  healthPolicy: 'OnlyHealthy' | 'AllowAll' | string;
}

export interface ZtunnelService {
  name: string;
  namespace: string;
  hostname: string;
  /** `network/IP` */
  vips: string[];
  /** service port → target port (0 when the workloads name it) */
  ports: Record<string, number>;
  /** workload UID → endpoint */
  endpoints: Record<string, ZtunnelEndpoint>;
  subjectAltNames?: string[];
  waypoint?: GatewayAddress;
  loadBalancer?: LoadBalancer;
  ipFamilies?: 'Dual' | 'IPv4' | 'IPv6';
}

/** serde's externally tagged enum: exactly one key. `Presence` carries an empty list. */
export type StringMatch = { Exact: string } | { Prefix: string } | { Suffix: string } | { Presence: [] };

export interface ServiceAccountMatch {
  namespace: string;
  serviceAccount: string;
}

/** One match group; every list present must match (any element), every `not…` list must not. */
export interface RbacMatch {
  namespaces?: StringMatch[];
  notNamespaces?: StringMatch[];
  serviceAccounts?: ServiceAccountMatch[];
  notServiceAccounts?: ServiceAccountMatch[];
  principals?: StringMatch[];
  notPrincipals?: StringMatch[];
  /** CIDRs, `10.0.0.0/8`, `10.1.2.3/32` */
  sourceIps?: string[];
  notSourceIps?: string[];
  destinationIps?: string[];
  notDestinationIps?: string[];
  destinationPorts?: number[];
  notDestinationPorts?: number[];
}

export type RbacScope = 'Global' | 'Namespace' | 'WorkloadSelector';
export type RbacAction = 'Allow' | 'Deny';

export interface ZtunnelPolicy {
  name: string;
  namespace: string;
  scope: RbacScope | string;
  action: RbacAction | string;
  /** rules (any) → clauses (all) → match groups (any) */
  rules: RbacMatch[][][];
  dryRun?: boolean;
}

export interface CertDump {
  /** base64 of the certificate's PEM text */
  pem: string;
  /** decimal */
  serialNumber: string;
  /** RFC 3339, seconds, `Z` */
  validFrom: string;
  expirationTime: string;
}

export interface CertsDump {
  /** `spiffe://trust-domain/ns/namespace/sa/service-account` */
  identity: string;
  /** `Available`, `Initializing` or `Unavailable: <why>` */
  state: string;
  /** leaf first, then intermediates (older ztunnels: the root last too, and no rootCerts) */
  certChain: CertDump[];
  rootCerts?: CertDump[];
}

export interface ConnectionDump {
  /** `IP:port` */
  src: string;
  /** inbound: the service hostname the client asked for, or null; outbound: `IP:port` it asked for */
  originalDst: string | null;
  /** `IP:port` ztunnel connected to (inbound: the workload; outbound: the peer, :15008 for HBONE) */
  actualDst: string;
  protocol: string;
}

export interface WorkloadState {
  state: 'Pending' | 'Up' | string;
  connections?: { inbound: ConnectionDump[]; outbound: ConnectionDump[] };
  info: { name: string; namespace: string; serviceAccount: string; trustDomain?: string };
}

/** The top level. `workloadState` is keyed by the pod's Kubernetes UID. */
export interface ZtunnelConfigDumpJson {
  workloads?: ZtunnelWorkload[] | Record<string, ZtunnelWorkload>;
  services?: ZtunnelService[] | Record<string, ZtunnelService>;
  policies?: ZtunnelPolicy[] | Record<string, ZtunnelPolicy>;
  stagedServices?: Record<string, Record<string, ZtunnelEndpoint>>;
  staticConfig?: unknown;
  version?: Record<string, string>;
  config?: Record<string, unknown>;
  certificates?: CertsDump[] | Record<string, CertsDump>;
  workloadState?: Record<string, WorkloadState>;
}
