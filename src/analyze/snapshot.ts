import yaml from 'js-yaml';
import { groupKind, isObject, type Resource } from '../resources/index.js';

/** Where Istio's control plane and its ConfigMaps live (istioctl's --istioNamespace default). */
export const ISTIO_NAMESPACE = 'istio-system';

/** `group/Kind` keys of the kinds analyzers read. */
export const K = {
  VirtualService: 'networking.istio.io/VirtualService',
  DestinationRule: 'networking.istio.io/DestinationRule',
  Gateway: 'networking.istio.io/Gateway',
  ServiceEntry: 'networking.istio.io/ServiceEntry',
  Sidecar: 'networking.istio.io/Sidecar',
  EnvoyFilter: 'networking.istio.io/EnvoyFilter',
  WorkloadEntry: 'networking.istio.io/WorkloadEntry',
  WorkloadGroup: 'networking.istio.io/WorkloadGroup',
  AuthorizationPolicy: 'security.istio.io/AuthorizationPolicy',
  PeerAuthentication: 'security.istio.io/PeerAuthentication',
  RequestAuthentication: 'security.istio.io/RequestAuthentication',
  Telemetry: 'telemetry.istio.io/Telemetry',
  WasmPlugin: 'extensions.istio.io/WasmPlugin',
  CRD: 'apiextensions.k8s.io/CustomResourceDefinition',
  K8sGateway: 'gateway.networking.k8s.io/Gateway',
  HTTPRoute: 'gateway.networking.k8s.io/HTTPRoute',
  GRPCRoute: 'gateway.networking.k8s.io/GRPCRoute',
  ProxyConfig: 'networking.istio.io/ProxyConfig',
  MutatingWebhookConfiguration: 'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  ValidatingWebhookConfiguration: 'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  Node: 'Node',
  Namespace: 'Namespace',
  Service: 'Service',
  Pod: 'Pod',
  Secret: 'Secret',
  ConfigMap: 'ConfigMap',
  Deployment: 'apps/Deployment',
} as const;

/** Kinds with no namespace; every other kind gets the default namespace when the file gives none. */
export const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'PriorityClass',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration', 'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'apiextensions.k8s.io/CustomResourceDefinition', 'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding', 'gateway.networking.k8s.io/GatewayClass', 'apiregistration.k8s.io/APIService',
  'storage.k8s.io/StorageClass', 'scheduling.k8s.io/PriorityClass',
]);

/** Something that runs pods: a Pod, a workload's pod template, or a WorkloadEntry. */
export interface Workload {
  resource: Resource;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Pod spec (absent for WorkloadEntry). */
  spec?: Record<string, unknown>;
}

const TEMPLATE_PATHS: Record<string, string[]> = {
  'apps/Deployment': ['spec', 'template'],
  'apps/StatefulSet': ['spec', 'template'],
  'apps/DaemonSet': ['spec', 'template'],
  'apps/ReplicaSet': ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  'batch/Job': ['spec', 'template'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template'],
  'argoproj.io/Rollout': ['spec', 'template'],
};

export interface SnapshotOptions {
  clusterDomain?: string;
  /** Istio's root namespace (meshConfig.rootNamespace), where mesh-wide policies live. */
  rootNamespace?: string;
  /**
   * ServiceEntries get addresses automatically: meshConfig defaultConfig.proxyMetadata has
   * ISTIO_META_DNS_CAPTURE and ISTIO_META_DNS_AUTO_ALLOCATE (or PILOT_ENABLE_IP_AUTOALLOCATE) "true".
   */
  dnsAutoAllocate?: boolean;
  /** meshConfig defaultConfig.image.imageType (`distroless`, ...): proxies may run `<image>-<type>`. */
  proxyImageType?: string;
  /** The mesh networks (--meshNetworksFile, or the cluster's `istio` ConfigMap) as a `MeshNetworks` resource. */
  meshNetworks?: Resource;
  /** The name of the cluster the resources come from, for multi-cluster findings. */
  clusterName?: string;
  /** Services of other clusters of the mesh (--remote-contexts), compared with this cluster's. */
  remoteClusters?: readonly RemoteCluster[];
  /** Resolves a host name to addresses (rejects when it cannot); dns.lookup unless a test gives its own. */
  lookupHost?: (host: string) => Promise<string[]>;
  /**
   * --partial: the input is only part of the mesh. A "nothing matches" check then reports only where
   * the input shows that part (see Snapshot.knows). Off, every check reports as istioctl does.
   */
  partial?: boolean;
  /**
   * What a cluster (or a bug-report bundle) showed of each part of the mesh: `all` when read whole,
   * the namespaces read when only those could be, none when it could not be read (forbidden, or never
   * collected: a bundle holds no Secrets). Given, it decides whatever --partial says: a part read whole
   * is known, a part read in part is partial. Absent (files alone), --partial decides.
   */
  read?: Partial<Record<Aspect, Coverage>>;
  /** The MeshConfig (from --meshConfigFile); otherwise the input's `istio` ConfigMap in the root namespace. */
  meshConfig?: Record<string, unknown>;
  /** --revision: the mesh config is then the `istio-<revision>` ConfigMap. */
  revision?: string;
}

/**
 * The parts of the mesh "nothing matches" checks rely on: workloads (pods and their controllers),
 * the service registry (Services, ServiceEntries), Secrets, Namespaces, injection webhooks.
 */
export type Aspect = 'workloads' | 'services' | 'secrets' | 'namespaces' | 'webhooks';

/** How much of an aspect was read: all of it, or the namespaces listed (none: not at all). */
export type Coverage = 'all' | readonly string[];

export interface RemoteCluster {
  name: string;
  services: readonly Resource[];
}

/**
 * Every resource under analysis, indexed once by kind, namespace and name so that analyzers look
 * things up in constant time instead of scanning (10,000 resources must stay fast).
 */
export class Snapshot {
  readonly clusterDomain: string;
  readonly rootNamespace: string;
  readonly dnsAutoAllocate: boolean;
  private mesh?: Record<string, unknown>;
  private readonly meshConfigMap: string;
  private namespacesOf?: Map<string, Set<string>>;
  readonly options: Readonly<SnapshotOptions>;
  private readonly byKind = new Map<string, Resource[]>();
  /** Per kind, `namespace|name` → resource; built on a kind's first lookup (few kinds are looked up by name). */
  private readonly byName = new Map<string, Map<string, Resource>>();
  private workloadCache?: Workload[];
  private workloadsByNs?: Map<string, Workload[]>;
  private workloadsByLabel?: Map<string, Workload[]>;
  private labelKeys?: Set<string>;

  constructor(readonly resources: readonly Resource[], options: SnapshotOptions = {}) {
    this.clusterDomain = options.clusterDomain || 'cluster.local';
    this.rootNamespace = options.rootNamespace || 'istio-system';
    this.dnsAutoAllocate = options.dnsAutoAllocate ?? false;
    this.mesh = options.meshConfig;
    this.meshConfigMap = options.revision ? `istio-${options.revision}` : 'istio';
    this.options = options;
    for (const r of resources) {
      const gk = groupKind(r);
      let list = this.byKind.get(gk);
      if (!list) this.byKind.set(gk, (list = []));
      list.push(r);
    }
  }

  of(gk: string): readonly Resource[] {
    return this.byKind.get(gk) ?? [];
  }

  get(gk: string, namespace: string, name: string): Resource | undefined {
    let index = this.byName.get(gk);
    if (!index) {
      index = new Map();
      // the last of duplicates wins, as a later `kubectl apply` would
      for (const r of this.of(gk)) index.set(`${r.namespace}|${r.name}`, r);
      this.byName.set(gk, index);
    }
    return index.get(`${namespace}|${name}`);
  }

  /** Pods, pod templates of workload controllers, and WorkloadEntries. */
  workloads(): Workload[] {
    if (this.workloadCache) return this.workloadCache;
    const out: Workload[] = [];
    for (const r of this.of('Pod')) {
      out.push({ resource: r, namespace: r.namespace, labels: strMap(r.metadata.labels), annotations: strMap(r.metadata.annotations), spec: obj(r.object.spec) });
    }
    for (const [gk, path] of Object.entries(TEMPLATE_PATHS)) {
      for (const r of this.of(gk)) {
        const tpl = dig(r.object, path);
        if (!isObject(tpl)) continue;
        const meta = obj(tpl.metadata);
        out.push({ resource: r, namespace: r.namespace, labels: strMap(meta.labels), annotations: strMap(meta.annotations), spec: obj(tpl.spec) });
      }
    }
    for (const r of this.of(K.WorkloadEntry)) {
      out.push({ resource: r, namespace: r.namespace, labels: strMap(obj(r.object.spec).labels), annotations: {} });
    }
    this.workloadCache = out;
    return out;
  }

  workloadsIn(namespace: string): Workload[] {
    if (!this.workloadsByNs) {
      this.workloadsByNs = new Map();
      for (const w of this.workloads()) {
        let list = this.workloadsByNs.get(w.namespace);
        if (!list) this.workloadsByNs.set(w.namespace, (list = []));
        list.push(w);
      }
    }
    return this.workloadsByNs.get(namespace) ?? [];
  }

  /** Workloads in any namespace whose labels carry the whole selector, looked up by its first label. */
  workloadsMatching(selector: Record<string, string>): Workload[] {
    const keys = Object.keys(selector);
    if (keys.length === 0) return this.workloads();
    if (!this.workloadsByLabel) {
      this.workloadsByLabel = new Map();
      for (const w of this.workloads()) {
        const labels = w.labels;
        for (const k in labels) {
          const key = `${k}=${labels[k]}`;
          let list = this.workloadsByLabel.get(key);
          if (!list) this.workloadsByLabel.set(key, (list = []));
          list.push(w);
        }
      }
    }
    const first = `${keys[0]}=${selector[keys[0]]}`;
    return (this.workloadsByLabel.get(first) ?? []).filter((w) => selectorMatches(selector, w.labels));
  }

  /** Every label key some workload carries. */
  workloadLabelKeys(): Set<string> {
    if (!this.labelKeys) {
      this.labelKeys = new Set();
      for (const w of this.workloads()) for (const k in w.labels) this.labelKeys.add(k);
    }
    return this.labelKeys;
  }

  // ---- "nothing matches": one rule for every analyzer
  //
  // istioctl reports an absence (no pod for a selector, no Secret for a credential, no Service for a
  // host) whenever the input lacks the object. That is the default here too. When the input is only
  // part of the mesh (--partial, or a cluster that would not show some kinds), an absence is reported
  // only where the input shows that part of the mesh: the namespace's workloads, its secrets, ...

  /** Whether the input may hold only part of `aspect`: then its absence in a namespace proves nothing by itself. */
  isPartial(aspect: Aspect): boolean {
    const read = this.options.read;
    if (read) return read[aspect] !== 'all';
    return this.options.partial ?? false;
  }

  /**
   * Whether "there is no such X" can be trusted for `aspect` in `namespace` (anywhere when undefined):
   * the input is not partial for it, or the cluster read that namespace whole, or the input shows that
   * part of the mesh — by default, it holds objects of the aspect there; an analyzer may pass its own
   * evidence (`shown`), e.g. a workload carrying one of a gateway selector's label keys.
   */
  knows(aspect: Aspect, namespace?: string, shown?: boolean): boolean {
    if (!this.isPartial(aspect)) return true;
    const read = this.options.read?.[aspect];
    if (namespace !== undefined && Array.isArray(read) && read.includes(namespace)) return true;
    return shown ?? this.shows(aspect, namespace);
  }

  /** Whether the input holds objects of `aspect` in `namespace` (anywhere when undefined). */
  private shows(aspect: Aspect, namespace: string | undefined): boolean {
    switch (aspect) {
      case 'workloads':
        return namespace === undefined ? this.workloads().length > 0 : this.workloadsIn(namespace).length > 0;
      case 'services':
        // hosts outside any namespace come from ServiceEntries
        return namespace === undefined ? this.of(K.ServiceEntry).length > 0 : this.holds(K.Service, namespace);
      case 'secrets':
        return namespace !== undefined && this.holds(K.Secret, namespace);
      case 'namespaces':
        return namespace !== undefined && this.get(K.Namespace, '', namespace) !== undefined;
      case 'webhooks':
        return this.of(K.MutatingWebhookConfiguration).length > 0;
    }
  }

  /** Whether the input holds some object of kind `gk` in `namespace` (namespaces of a kind computed once). */
  private holds(gk: string, namespace: string): boolean {
    this.namespacesOf ??= new Map();
    let set = this.namespacesOf.get(gk);
    if (!set) this.namespacesOf.set(gk, (set = new Set(this.of(gk).map((r) => r.namespace))));
    return set.has(namespace);
  }

  /** Whether "no workload matches" can be trusted for a namespace (see knows). */
  knowsWorkloadsIn(namespace: string): boolean {
    return this.knows('workloads', namespace);
  }

  /** Whether "this secret does not exist" can be trusted for a namespace (see knows). */
  knowsSecretsIn(namespace: string): boolean {
    return this.knows('secrets', namespace);
  }

  /**
   * The mesh configuration: --meshConfigFile's, else the `istio` (`istio-<revision>`) ConfigMap of the root namespace in
   * the input (`data.mesh`, as istiod reads it), else empty (Istio's defaults). Parsed on first use.
   */
  meshConfig(): Record<string, unknown> {
    if (this.mesh) return this.mesh;
    this.mesh = EMPTY_OBJ;
    const cm = this.get(K.ConfigMap, this.rootNamespace, this.meshConfigMap);
    const text = cm ? obj(cm.object.data).mesh : undefined;
    if (typeof text === 'string') {
      try {
        this.mesh = obj(yaml.load(text));
      } catch {
        // a broken mesh config is istiod's problem to report; analyze falls back to the defaults
      }
    }
    return this.mesh;
  }

}

// shared empties: analyzers read optional fields of thousands of objects, and never write to them
const EMPTY_OBJ: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
const EMPTY_ARR: unknown[] = Object.freeze([]) as unknown as unknown[];
const strMaps = new WeakMap<object, Record<string, string>>();

export function obj(v: unknown): Record<string, unknown> {
  return isObject(v) ? v : EMPTY_OBJ;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : EMPTY_ARR;
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** A labels/annotations-like map with string values (computed once per source object; do not modify). */
export function strMap(v: unknown): Record<string, string> {
  if (!isObject(v)) return EMPTY_OBJ as Record<string, string>;
  // the usual case, every value already a string: the map itself, with no copy and no cache lookup
  if (allStrings(v)) return v as Record<string, string>;
  let out = strMaps.get(v);
  if (out) return out;
  out = {};
  for (const [k, val] of Object.entries(v)) if (val !== null && val !== undefined) out[k] = String(val);
  strMaps.set(v, out);
  return out;
}

function allStrings(v: Record<string, unknown>): boolean {
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
}

export function dig(v: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = v;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** True when every key/value of the selector is in the labels (an empty selector matches all). */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  // for-in, not Object.entries: called for every selector × candidate, and must not allocate
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

/** Kubernetes' labels.SelectorFromSet(...).String(): sorted `k=v` joined by commas. */
export function selectorString(selector: Record<string, string>): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return 0;
}
