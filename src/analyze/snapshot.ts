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
  /** True when the cluster's MutatingWebhookConfigurations were read, so "no webhook selects it" is trustworthy. */
  webhooksComplete?: boolean;
  /** Resolves a host name to addresses (rejects when it cannot); dns.lookup unless a test gives its own. */
  lookupHost?: (host: string) => Promise<string[]>;
  /** True when resources came from a live cluster too, so "nothing matches" findings are trustworthy. */
  complete?: boolean;
  /** True when the cluster's secrets were read, so a missing Gateway credential is really missing. */
  secretsComplete?: boolean;
  /** True when the cluster's namespaces were read. */
  namespacesComplete?: boolean;
  /**
   * The input is only part of the mesh (`--partial`, or cluster kinds that could not be read): a
   * "nothing matches" check reports only where the input shows that part (workloads of the namespace,
   * its secrets). Off, every check reports as istioctl does on the same input.
   */
  partial?: boolean;
  /** Like `partial`, for secrets alone (the cluster's secrets could not be read). Defaults to `partial`. */
  partialSecrets?: boolean;
  /** The MeshConfig (from --meshConfigFile); otherwise the input's `istio` ConfigMap in the root namespace. */
  meshConfig?: Record<string, unknown>;
  /** --revision: the mesh config is then the `istio-<revision>` ConfigMap. */
  revision?: string;
}

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
  readonly complete: boolean;
  readonly secretsComplete: boolean;
  readonly rootNamespace: string;
  readonly dnsAutoAllocate: boolean;
  readonly partial: boolean;
  private readonly partialSecrets: boolean;
  private readonly namespacesComplete: boolean;
  private mesh?: Record<string, unknown>;
  private readonly meshConfigMap: string;
  private secretNamespaces?: Set<string>;
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
    this.complete = options.complete ?? false;
    this.secretsComplete = options.secretsComplete ?? this.complete;
    this.rootNamespace = options.rootNamespace || 'istio-system';
    this.dnsAutoAllocate = options.dnsAutoAllocate ?? false;
    this.partial = options.partial ?? false;
    this.partialSecrets = options.partialSecrets ?? this.partial;
    this.namespacesComplete = options.namespacesComplete ?? false;
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

  /**
   * Whether "no workload matches" can be trusted for a namespace: the cluster was read, or the files
   * describe at least one workload there. Manifests checked in CI rarely include every workload, and
   * a finding about something that is merely not in the files would be a false alarm.
   */
  knowsWorkloadsIn(namespace: string): boolean {
    return this.complete || !this.partial || this.workloadsIn(namespace).length > 0;
  }

  /** Whether "this secret does not exist" can be trusted for a namespace (see knowsWorkloadsIn). */
  knowsSecretsIn(namespace: string): boolean {
    if (this.secretsComplete || !this.partialSecrets) return true;
    if (!this.secretNamespaces) this.secretNamespaces = new Set(this.of(K.Secret).map((s) => s.namespace));
    return this.secretNamespaces.has(namespace);
  }

  /** Whether "no such namespace" can be trusted: the cluster's namespaces were read, or the input is whole. */
  knowsNamespaces(): boolean {
    return this.namespacesComplete || !this.partial;
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

  /** Whether "no injection webhook selects it" can be trusted: the cluster's webhooks were read, or the files hold some. */
  knowsWebhooks(): boolean {
    return (this.options.webhooksComplete ?? false) || this.of(K.MutatingWebhookConfiguration).length > 0;
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
