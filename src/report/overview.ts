import type { ConfigDump } from '../envoy/index.js';
import { proxyStatusRows, type ProxyStatusRow, type SyncStatus } from '../istiod/syncz.js';
import type { Resource } from '../resources/index.js';

/** The mesh at a glance: namespaces, workloads and how each joins the mesh, proxies and their sync state. */
export interface Overview {
  namespaces: NamespaceRow[];
  workloads: WorkloadRow[];
  proxyStatus: ProxyStatusRow[];
  controlPlane: { name: string; namespace: string; revision: string; version: string; ready: string }[];
}

export interface NamespaceRow {
  name: string;
  /** `sidecar injection`, `sidecar (revision canary)`, `ambient`, or '' (not in the mesh). */
  mode: string;
  workloads: number;
  pods: number;
}

export interface WorkloadRow {
  namespace: string;
  name: string;
  kind: string;
  pods: number;
  ready: number;
  /** `sidecar`, `ambient`, `none`, or `sidecar (dump only)` for a proxy known only from its config dump. */
  dataPlane: string;
  version: string;
  /** From istiod's /debug/syncz: SYNCED when every proxy of the workload is, else the worst state seen. */
  sync: string;
}

export interface OverviewInput {
  resources: readonly Resource[];
  syncz: { istiod: string; statuses: SyncStatus[] }[];
  dumps: { pod: string; dump: ConfigDump }[];
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function buildOverview(input: OverviewInput): Overview {
  const proxyStatus = proxyStatusRows(input.syncz);
  const syncByProxy = new Map<string, ProxyStatusRow[]>();
  for (const r of proxyStatus) syncByProxy.set(r.name, [...(syncByProxy.get(r.name) ?? []), r]);

  const namespaces = new Map<string, Obj>();
  const pods: Obj[] = [];
  for (const r of input.resources) {
    if (r.group !== '') continue;
    if (r.kind === 'Namespace') namespaces.set(r.name, r.object);
    else if (r.kind === 'Pod') pods.push(r.object);
  }

  const workloads = new Map<string, WorkloadRow>();
  const seenProxies = new Set<string>();
  for (const pod of pods) {
    const meta = pod.metadata ?? {};
    const ns = String(meta.namespace ?? 'default');
    const { kind, name } = ownerOf(pod);
    const key = `${ns}/${kind}/${name}`;
    const mode = dataPlaneOf(pod, namespaces.get(ns));
    const proxy = `${meta.name}.${ns}`;
    seenProxies.add(proxy);
    const syncRows = syncByProxy.get(proxy) ?? [];
    const row = workloads.get(key) ?? { namespace: ns, name, kind, pods: 0, ready: 0, dataPlane: mode, version: '', sync: '' };
    row.pods++;
    if (isReady(pod)) row.ready++;
    if (row.dataPlane !== mode) row.dataPlane = 'mixed';
    const version = proxyVersionOf(pod) || syncRows.find((s) => s.version)?.version || '';
    row.version = mergeValue(row.version, version);
    row.sync = worstSync(row.sync, syncRows);
    workloads.set(key, row);
  }
  // proxies known only from their dumps (offline, without the Pod objects)
  for (const { pod, dump } of input.dumps) {
    if (seenProxies.has(pod)) continue;
    const md = (dump.bootstrap?.bootstrap.node?.metadata ?? {}) as Obj;
    const ns = String(md.NAMESPACE ?? pod.split('.').slice(1).join('.') ?? '');
    const name = String(md.WORKLOAD_NAME ?? pod.split('.')[0]);
    const key = `${ns}/workload/${name}`;
    const row = workloads.get(key) ?? { namespace: ns, name, kind: 'workload', pods: 0, ready: 0, dataPlane: 'sidecar (from its dump)', version: '', sync: '' };
    row.pods++;
    row.version = mergeValue(row.version, String(md.ISTIO_VERSION ?? ''));
    row.sync = worstSync(row.sync, syncByProxy.get(pod) ?? []);
    workloads.set(key, row);
  }

  const workloadRows = [...workloads.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const nsNames = new Set([...namespaces.keys(), ...workloadRows.map((w) => w.namespace)]);
  const namespaceRows: NamespaceRow[] = [...nsNames].sort().map((name) => {
    const mine = workloadRows.filter((w) => w.namespace === name);
    return { name, mode: namespaceMode(namespaces.get(name)), workloads: mine.length, pods: mine.reduce((n, w) => n + w.pods, 0) };
  });

  const controlPlane = pods
    .filter((p) => p.metadata?.labels?.app === 'istiod')
    .map((p) => ({
      name: String(p.metadata.name),
      namespace: String(p.metadata.namespace ?? ''),
      revision: String(p.metadata.labels?.['istio.io/rev'] ?? 'default'),
      version: imageTag((p.spec?.containers ?? []).find((c: Obj) => c.name === 'discovery')?.image) ?? '',
      ready: isReady(p) ? 'ready' : String(p.status?.phase ?? 'not ready'),
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));

  return { namespaces: namespaceRows, workloads: workloadRows, proxyStatus, controlPlane };
}

/** The workload a pod belongs to: its controller, with a Deployment's ReplicaSet hash taken off. */
export function ownerOf(pod: Obj): { kind: string; name: string } {
  const owner = (pod.metadata?.ownerReferences ?? []).find((o: Obj) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  const name = String(pod.metadata?.name ?? '');
  if (!owner) {
    // a saved Pod without its ownerReferences: a Deployment's pods are named name-<rs hash>-<5 chars>
    const m = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/.exec(name);
    return m ? { kind: 'Deployment', name: m[1] } : { kind: 'Pod', name };
  }
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && String(owner.name).endsWith(`-${hash}`)) {
    return { kind: 'Deployment', name: String(owner.name).slice(0, -(String(hash).length + 1)) };
  }
  return { kind: String(owner.kind), name: String(owner.name) };
}

/** How a pod joins the mesh: an istio-proxy container (or native sidecar), ztunnel redirection, or not at all. */
export function dataPlaneOf(pod: Obj, namespace: Obj | undefined): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c: Obj) => c.restartPolicy === 'Always')];
  if (containers.some((c: Obj) => c.name === 'istio-proxy')) return 'sidecar';
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  if (annotations['ambient.istio.io/redirection'] === 'enabled') return 'ambient';
  if (labels['istio.io/dataplane-mode'] === 'none') return 'none';
  if (labels['istio.io/dataplane-mode'] === 'ambient' || namespace?.metadata?.labels?.['istio.io/dataplane-mode'] === 'ambient') return 'ambient';
  return 'none';
}

function namespaceMode(ns: Obj | undefined): string {
  const labels = ns?.metadata?.labels ?? {};
  if (labels['istio.io/dataplane-mode'] === 'ambient') return 'ambient';
  if (labels['istio-injection'] === 'enabled') return 'sidecar injection';
  if (labels['istio-injection'] === 'disabled') return 'injection disabled';
  if (labels['istio.io/rev']) return `sidecar injection (revision ${labels['istio.io/rev']})`;
  return '';
}

function proxyVersionOf(pod: Obj): string {
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x: Obj) => x.name === 'istio-proxy');
  return imageTag(c?.image) ?? '';
}

function imageTag(image: unknown): string | undefined {
  if (typeof image !== 'string') return undefined;
  const at = image.split('@')[0];
  const slash = at.lastIndexOf('/');
  const colon = at.lastIndexOf(':');
  return colon > slash ? at.slice(colon + 1) : undefined;
}

function isReady(pod: Obj): boolean {
  return pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
}

function mergeValue(old: string, next: string): string {
  if (!next || old === next) return old;
  if (!old) return next;
  return old.split(', ').includes(next) ? old : `${old}, ${next}`;
}

const SYNC_RANK = ['', 'SYNCED', 'IGNORED', 'NOT SENT', 'STALE'];

function worstSync(current: string, rows: ProxyStatusRow[]): string {
  let worst = current;
  for (const r of rows) {
    for (const cell of [r.cds, r.lds, r.eds, r.rds]) {
      const state = cell.startsWith('STALE') ? 'STALE' : cell;
      if (SYNC_RANK.indexOf(state) > SYNC_RANK.indexOf(worst)) worst = state;
    }
  }
  return worst;
}
