import type { Resource } from '../../resources/index.js';
import type { Analyzer, Context } from '../analyzer.js';
import { K, arr, num, obj, str, strMap } from '../snapshot.js';

/** Service registries istiod always knows (provider.Mock, Kubernetes, External). */
const BUILTIN_REGISTRIES = ['Mock', 'Kubernetes', 'External'];

export const meshNetworksAnalyzer: Analyzer = {
  name: 'meshnetworks.MeshNetworksAnalyzer',
  description: 'Check the validity of MeshNetworks in the cluster',
  codes: ['IST0126'],
  analyze(ctx: Context) {
    const mn = ctx.snapshot.options.meshNetworks;
    if (!mn) return;
    // remote clusters are registries too: each key of a multi-cluster (remote) secret names one
    const registries = new Set(BUILTIN_REGISTRIES);
    for (const s of ctx.snapshot.of(K.Secret)) {
      if (strMap(s.metadata.labels)['istio/multiCluster'] !== 'true') continue;
      for (const k of Object.keys(obj(s.object.data))) registries.add(k);
      for (const k of Object.keys(obj(s.object.stringData))) registries.add(k);
    }
    for (const [network, n] of Object.entries(obj(mn.object.networks))) {
      arr(obj(n).endpoints).forEach((e, j) => {
        const from = obj(e).fromRegistry;
        if (from === undefined || from === null) return;
        if (!registries.has(str(from))) ctx.report(mn, 'IST0126', [str(from), network], ['networks', network, 'endpoints', j, 'fromRegistry']);
      });
    }
  },
};

/** A Service port as the API server stores it (defaults filled in), for comparing across clusters. */
function portKey(p: unknown, bothNodePorts: boolean): string {
  const o = obj(p);
  const port = num(o.port);
  const target = o.targetPort === undefined || o.targetPort === null || o.targetPort === '' || o.targetPort === 0 ? String(port) : String(o.targetPort);
  return JSON.stringify([str(o.name), str(o.protocol) || 'TCP', str(o.appProtocol), port, target, bothNodePorts ? num(o.nodePort) : 0]);
}

function sortedPorts(svc: Resource, bothNodePorts: boolean): string[] {
  return arr(obj(svc.object.spec).ports).map((p) => [str(obj(p).name), portKey(p, bothNodePorts)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((x) => x[1]);
}

function hasNodePorts(svc: Resource): boolean {
  return arr(obj(svc.object.spec).ports).some((p) => num(obj(p).nodePort) > 0);
}

function samePorts(a: Resource, b: Resource): boolean {
  // node ports are allocated by each API server; a manifest leaves them out, so compare them only when both have them
  const both = hasNodePorts(a) && hasNodePorts(b);
  const x = sortedPorts(a, both);
  const y = sortedPorts(b, both);
  return x.length === y.length && x.every((k, i) => k === y[i]);
}

const isHeadless = (svc: Resource) => str(obj(svc.object.spec).clusterIP) === 'None';
const typeOf = (svc: Resource) => str(obj(svc.object.spec).type) || 'ClusterIP';

/** The clusters whose copy of a service differs and how, as istioctl words it; none when they agree. */
function inconsistencies(copies: ReadonlyMap<string, Resource>): { clusters: string[]; reasons: string[] } {
  const clusters = new Set<string>();
  const reasons = new Set<string>();
  const [[firstCluster, first]] = copies;
  let mixed = false;
  for (const [cluster, svc] of copies) {
    if (!mixed && isHeadless(first) !== isHeadless(svc)) {
      mixed = true;
      for (const c of copies.keys()) clusters.add(c);
      reasons.add('service has mixed mode like headless and clusterIP');
    }
    if (typeOf(first) !== typeOf(svc)) {
      clusters.add(cluster);
      reasons.add('service type is inconsistent');
    }
    if (!samePorts(first, svc)) {
      clusters.add(cluster);
      reasons.add('service ports are inconsistent');
    }
  }
  if (clusters.size > 0) clusters.add(firstCluster);
  return { clusters: [...clusters].sort(), reasons: [...reasons].sort() };
}

export const multiClusterServiceAnalyzer: Analyzer = {
  name: 'services.MultiClusterServiceAnalyzer',
  description: 'Check the validity of services in the multi-cluster environment',
  codes: ['IST0170'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const remotes = snap.options.remoteClusters ?? [];
    if (remotes.length === 0) return;
    // namespace/name → cluster → the Service there; this cluster's copy first, so findings land on it
    const byName = new Map<string, Map<string, Resource>>();
    const add = (cluster: string, svc: Resource) => {
      const key = `${svc.namespace}/${svc.name}`;
      let copies = byName.get(key);
      if (!copies) byName.set(key, (copies = new Map()));
      if (!copies.has(cluster)) copies.set(cluster, svc);
    };
    const local = snap.options.clusterName ?? 'local';
    for (const svc of snap.of(K.Service)) add(local, svc);
    for (const rc of remotes) for (const svc of rc.services) add(rc.name, svc);
    for (const copies of byName.values()) {
      if (copies.size < 2) continue;
      const { clusters, reasons } = inconsistencies(copies);
      if (clusters.length === 0) continue;
      const [svc] = copies.values();
      ctx.report(svc, 'IST0170', [svc.name, svc.namespace, clusters, reasons.join('; ')], ['metadata', 'name']);
    }
  },
};
