import type { ParsedDump, Section, WorkloadStateEntry } from './parse.js';
import type { CertsDump, ConnectionDump, GatewayAddress, ZtunnelPolicy, ZtunnelService, ZtunnelWorkload } from './types.js';

/**
 * A ztunnel's view of the mesh, with the lookups ztunnel itself makes (src/state.rs): workloads by
 * network address and UID, services by VIP and by namespace/hostname, a gateway address resolved to the
 * service or workload behind it, the policies that apply to a workload. Indexes are built on first use.
 *
 * The defaults ztunnel applies when it reads workloads (trust domain `cluster.local`, service account
 * `default`, protocol TCP, status Healthy) are applied by the accessors below, never written into the
 * dump, so -o json shows exactly what ztunnel wrote.
 */

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_HBONE_PORT = 15008;

export function workloadIps(w: ZtunnelWorkload): string[] {
  if (Array.isArray(w.workloadIps)) return w.workloadIps;
  const legacy = (w as { workloadIp?: unknown }).workloadIp;
  return typeof legacy === 'string' && legacy !== '' ? [legacy] : [];
}
export const workloadProtocol = (w: ZtunnelWorkload): string => w.protocol || 'TCP';
export const workloadStatus = (w: ZtunnelWorkload): string => w.status || 'Healthy';
export const workloadNetwork = (w: ZtunnelWorkload): string => w.network ?? '';
export const workloadServices = (w: ZtunnelWorkload): string[] => w.services ?? [];
export const serviceVips = (s: ZtunnelService): string[] => s.vips ?? [];

/** The SPIFFE identity ztunnel gives a workload's certificate. */
export function workloadIdentity(w: ZtunnelWorkload): string {
  return `spiffe://${w.trustDomain || DEFAULT_TRUST_DOMAIN}/ns/${w.namespace}/sa/${w.serviceAccount || 'default'}`;
}

/** `network/IP` → its parts; the network is "" for the default one. */
export function splitNetworkAddress(s: string): { network: string; ip: string } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(slash + 1);
  if (!/^[0-9a-fA-F.:]+$/.test(ip) || !(ip.includes('.') || ip.includes(':'))) return undefined;
  return { network: s.slice(0, slash), ip };
}

/** The IP of a `network/IP` VIP (istioctl's cut at the first `/`). */
export function vipAddress(vip: string): string {
  const slash = vip.indexOf('/');
  return slash < 0 ? vip : vip.slice(slash + 1);
}

/** `IP:port` or `[v6]:port` → its parts (Go's net.SplitHostPort); undefined when it is neither. */
export function splitHostPort(addr: string): { host: string; port: string } | undefined {
  const end = hostEnd(addr);
  if (end < 0) return undefined;
  return addr[0] === '[' ? { host: addr.slice(1, end), port: addr.slice(end + 2) } : { host: addr.slice(0, end), port: addr.slice(end + 1) };
}

/**
 * Where the host of `IP:port` or `[v6]:port` ends: the index of the `:` or of the `]`; -1 when the address
 * is neither. splitHostPort's rule without building its parts, for the thousands of addresses a large
 * ztunnel's connections list.
 */
export function hostEnd(addr: string): number {
  if (addr[0] === '[') {
    const end = addr.indexOf(']');
    return end < 0 || addr[end + 1] !== ':' ? -1 : end;
  }
  const colon = addr.indexOf(':');
  return colon < 0 || addr.indexOf(':', colon + 1) >= 0 ? -1 : colon;
}

export { joinHostPort } from '../match/ip.js';

/** What a gateway address (a waypoint, a network gateway) points at, as ztunnel resolves it. */
export interface ResolvedGateway {
  gateway: GatewayAddress;
  /** `address` for `network/IP`, `hostname` for `namespace/hostname` */
  form: 'address' | 'hostname';
  /** The HBONE port ztunnel connects to. */
  port: number;
  service?: ZtunnelService;
  workload?: ZtunnelWorkload;
}

/** The policies ztunnel checks for a connection to a workload (src/state/policy.rs): by how they apply. */
export interface ApplicablePolicies {
  /** scope Global: every workload (AuthorizationPolicies without selector in the root namespace) */
  global: ZtunnelPolicy[];
  /** scope Namespace: every workload of the policy's namespace */
  namespace: ZtunnelPolicy[];
  /** scope WorkloadSelector: named in the workload's authorizationPolicies */
  selector: ZtunnelPolicy[];
  /** names in authorizationPolicies with no policy in this dump (not pushed yet, or filtered) */
  missing: string[];
}

/** Everything this ztunnel knows about one pod: what `describe` asks ("how does the ztunnel see pod X?"). */
export interface PodView {
  workload: ZtunnelWorkload;
  /** HBONE: in the ambient mesh (captured); TCP: outside it */
  protocol: string;
  identity: string;
  /** the waypoint the pod's own traffic goes through (workload-bound), resolved */
  waypoint?: ResolvedGateway;
  /** the services it backs, each with the waypoint traffic to that service goes through */
  services: { service: ZtunnelService; waypoint?: ResolvedGateway }[];
  /** names in the workload's services list that this dump has no service for */
  unknownServices: string[];
  policies: ApplicablePolicies;
  /** the certificate of its identity, when this is the ztunnel of its node */
  certificate?: CertsDump;
  /** up or pending, and its connections, when this is the ztunnel of its node (in-pod mode) */
  state?: WorkloadStateEntry;
}

export class ZtunnelModel {
  readonly source: string;
  readonly workloads: ZtunnelWorkload[];
  readonly services: ZtunnelService[];
  readonly policies: ZtunnelPolicy[];
  readonly certificates: CertsDump[];
  readonly workloadState: WorkloadStateEntry[];
  readonly present: Set<Section>;
  readonly parsed: ParsedDump;

  private byUid?: Map<string, ZtunnelWorkload>;
  private byAddr?: Map<string, ZtunnelWorkload[]>;
  private byVip?: Map<string, ZtunnelService>;
  private byNsHost?: Map<string, ZtunnelService>;
  private byHost?: Map<string, ZtunnelService[]>;
  private byPolicyKey?: Map<string, ZtunnelPolicy>;
  private byIdentity?: Map<string, CertsDump>;
  /** istioctl's waypoint display names: destination string → first service (dump order) it matches */
  private displayIndex?: Map<string, ZtunnelService>;

  constructor(parsed: ParsedDump) {
    this.parsed = parsed;
    this.source = parsed.source;
    this.workloads = parsed.workloads;
    this.services = parsed.services;
    this.policies = parsed.policies;
    this.certificates = parsed.certificates;
    this.workloadState = parsed.workloadState;
    this.present = parsed.present;
  }

  /** True when the section was in the dump and readable. */
  has(section: Section): boolean {
    return this.present.has(section) && !this.parsed.unusable.has(section);
  }

  // ---- workloads ---------------------------------------------------------------------------------

  workloadByUid(uid: string): ZtunnelWorkload | undefined {
    if (!this.byUid) {
      // backwards, so the first workload of a UID is the one left (one map operation per workload)
      const index = new Map<string, ZtunnelWorkload>();
      const list = this.workloads;
      for (let i = list.length - 1; i >= 0; i--) {
        const w = list[i];
        if (w.uid) index.set(w.uid, w);
      }
      this.byUid = index;
    }
    return this.byUid.get(uid);
  }

  /** Every workload with this IP on this network (several when addresses overlap, e.g. host-network pods). */
  workloadsByAddress(ip: string, network = ''): ZtunnelWorkload[] {
    if (!this.byAddr) {
      this.byAddr = new Map();
      for (const w of this.workloads) {
        if (w.networkMode === 'HostNetwork') continue; // ztunnel does not index them by address
        for (const a of workloadIps(w)) {
          const k = `${workloadNetwork(w)}/${a}`;
          const list = this.byAddr.get(k);
          if (list) list.push(w);
          else this.byAddr.set(k, [w]);
        }
      }
    }
    return this.byAddr.get(`${network}/${ip}`) ?? [];
  }

  /** The workload ztunnel picks for an address: among several, a Pod before anything else, then HBONE. */
  workloadByAddress(ip: string, network = ''): ZtunnelWorkload | undefined {
    const list = this.workloadsByAddress(ip, network);
    if (list.length <= 1) return list[0];
    const rank = (w: ZtunnelWorkload) => (w.uid?.includes('//Pod/') ? 2 : 0) + (workloadProtocol(w) === 'HBONE' ? 1 : 0);
    return list.reduce((best, w) => (rank(w) > rank(best) ? w : best));
  }

  /** Workloads of a pod (or any workload) by name and namespace. */
  workloadsByName(name: string, namespace: string): ZtunnelWorkload[] {
    return this.workloads.filter((w) => w.name === name && w.namespace === namespace);
  }

  /** The services a workload backs, as far as this dump knows them. */
  servicesOf(w: ZtunnelWorkload): ZtunnelService[] {
    return workloadServices(w).flatMap((nh) => this.serviceByNamespacedHostname(nh) ?? []);
  }

  // ---- services ----------------------------------------------------------------------------------

  serviceByVip(ip: string, network = ''): ZtunnelService | undefined {
    if (!this.byVip) {
      this.byVip = new Map();
      for (const s of this.services) for (const v of serviceVips(s)) if (!this.byVip.has(v)) this.byVip.set(v, s);
    }
    return this.byVip.get(`${network}/${ip}`);
  }

  /** `namespace/hostname` (ztunnel's service key). */
  serviceByNamespacedHostname(key: string): ZtunnelService | undefined {
    if (!this.byNsHost) {
      this.byNsHost = new Map();
      for (const s of this.services) {
        const k = `${s.namespace}/${s.hostname}`;
        if (!this.byNsHost.has(k)) this.byNsHost.set(k, s);
      }
    }
    return this.byNsHost.get(key);
  }

  /** Every service with this hostname (ServiceEntries may repeat a hostname in several namespaces). */
  servicesByHostname(hostname: string): ZtunnelService[] {
    if (!this.byHost) {
      this.byHost = new Map();
      for (const s of this.services) {
        const list = this.byHost.get(s.hostname);
        if (list) list.push(s);
        else this.byHost.set(s.hostname, [s]);
      }
    }
    return this.byHost.get(hostname) ?? [];
  }

  /** A service's endpoints with the workload behind each (undefined when the dump lacks it). */
  endpointsOf(s: ZtunnelService): { uid: string; ports: Record<string, number>; status: string; workload?: ZtunnelWorkload }[] {
    return Object.entries(s.endpoints ?? {}).map(([key, ep]) => {
      const uid = ep.workloadUid || key;
      return { uid, ports: ep.port ?? {}, status: ep.status ?? 'Healthy', workload: this.workloadByUid(uid) };
    });
  }

  // ---- gateway addresses (waypoints) ----------------------------------------------------------------

  /**
   * ztunnel's find_destination: a `network/IP` is a workload's address first, else a service VIP; a
   * `namespace/hostname` is a service first, else a workload with that hostname.
   */
  resolveGateway(g: GatewayAddress): ResolvedGateway {
    const port = typeof g.hboneMtlsPort === 'number' && g.hboneMtlsPort > 0 ? g.hboneMtlsPort : DEFAULT_HBONE_PORT;
    const addr = splitNetworkAddress(g.destination);
    if (addr) {
      const workload = this.workloadByAddress(addr.ip, addr.network);
      if (workload) return { gateway: g, form: 'address', port, workload };
      return { gateway: g, form: 'address', port, service: this.serviceByVip(addr.ip, addr.network) };
    }
    const service = this.serviceByNamespacedHostname(g.destination);
    if (service) return { gateway: g, form: 'hostname', port, service };
    const slash = g.destination.indexOf('/');
    const ns = g.destination.slice(0, slash);
    const host = g.destination.slice(slash + 1);
    const workload = slash < 0 ? undefined : this.workloads.find((w) => w.hostname === host && w.namespace === ns);
    return { gateway: g, form: 'hostname', port, workload };
  }

  /** The waypoint a workload's own traffic goes through (a workload-bound waypoint), resolved. */
  workloadWaypoint(w: ZtunnelWorkload): ResolvedGateway | undefined {
    return w.waypoint ? this.resolveGateway(w.waypoint) : undefined;
  }

  /** The waypoint traffic addressed to a service goes through (a service-bound waypoint), resolved. */
  serviceWaypoint(s: ZtunnelService): ResolvedGateway | undefined {
    return s.waypoint ? this.resolveGateway(s.waypoint) : undefined;
  }

  /**
   * istioctl's WAYPOINT column: `None` without a waypoint; else the name of the first service (in dump
   * order) whose `namespace/hostname` or one of whose VIPs is the destination; `NA` when none is.
   */
  waypointDisplayName(g: GatewayAddress | undefined): string {
    if (!g) return 'None';
    if (!this.displayIndex) {
      // backwards, so the first service of a key is the one left (one map operation per key)
      const index = new Map<string, ZtunnelService>();
      const list = this.services;
      for (let i = list.length - 1; i >= 0; i--) {
        const s = list[i];
        const vips = s.vips;
        if (vips) for (let j = vips.length - 1; j >= 0; j--) index.set(vips[j], s);
        index.set(`${s.namespace}/${s.hostname}`, s);
      }
      this.displayIndex = index;
    }
    return this.displayIndex.get(g.destination)?.name ?? 'NA';
  }

  // ---- policies ----------------------------------------------------------------------------------

  /** By `namespace/name` (ztunnel's policy key, and what authorizationPolicies lists). */
  policyByKey(key: string): ZtunnelPolicy | undefined {
    if (!this.byPolicyKey) {
      this.byPolicyKey = new Map();
      for (const p of this.policies) this.byPolicyKey.set(`${p.namespace}/${p.name}`, p);
    }
    return this.byPolicyKey.get(key);
  }

  policiesInNamespace(namespace: string): ZtunnelPolicy[] {
    return this.policies.filter((p) => p.namespace === namespace);
  }

  policiesByScope(scope: string): ZtunnelPolicy[] {
    return this.policies.filter((p) => p.scope === scope);
  }

  /** The policies ztunnel evaluates for connections to this workload (dry-run ones included: see dryRun). */
  policiesFor(w: ZtunnelWorkload): ApplicablePolicies {
    const selector: ZtunnelPolicy[] = [];
    const missing: string[] = [];
    for (const key of w.authorizationPolicies ?? []) {
      const p = this.policyByKey(key);
      if (p) selector.push(p);
      else missing.push(key);
    }
    return {
      global: this.policies.filter((p) => p.scope === 'Global'),
      namespace: this.policies.filter((p) => p.scope === 'Namespace' && p.namespace === w.namespace),
      selector,
      missing,
    };
  }

  /** The pod's workload (a Pod's before a WorkloadEntry's of the same name) and all that applies to it. */
  podView(name: string, namespace: string): PodView | undefined {
    const list = this.workloadsByName(name, namespace);
    const workload = list.find((w) => w.uid?.includes('//Pod/')) ?? list[0];
    if (!workload) return undefined;
    const identity = workloadIdentity(workload);
    const services: PodView['services'] = [];
    const unknownServices: string[] = [];
    for (const key of workloadServices(workload)) {
      const service = this.serviceByNamespacedHostname(key);
      if (service) services.push({ service, waypoint: this.serviceWaypoint(service) });
      else unknownServices.push(key);
    }
    return {
      workload,
      protocol: workloadProtocol(workload),
      identity,
      waypoint: this.workloadWaypoint(workload),
      services,
      unknownServices,
      policies: this.policiesFor(workload),
      certificate: this.certificateFor(identity),
      state: this.stateOf(name, namespace),
    };
  }

  // ---- certificates and connections ------------------------------------------------------------------

  certificateFor(identity: string): CertsDump | undefined {
    if (!this.byIdentity) {
      this.byIdentity = new Map();
      for (const c of this.certificates) if (!this.byIdentity.has(c.identity)) this.byIdentity.set(c.identity, c);
    }
    return this.byIdentity.get(identity);
  }

  /** The state ztunnel keeps for a pod it captures (in-pod mode): up or pending, and its connections. */
  stateOf(name: string, namespace: string): WorkloadStateEntry | undefined {
    return this.workloadState.find((s) => s.info.name === name && s.info.namespace === namespace);
  }

  connectionsOf(name: string, namespace: string): { inbound: ConnectionDump[]; outbound: ConnectionDump[] } {
    const s = this.stateOf(name, namespace);
    return { inbound: s?.connections?.inbound ?? [], outbound: s?.connections?.outbound ?? [] };
  }
}
