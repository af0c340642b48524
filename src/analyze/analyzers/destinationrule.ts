import { hostRegistry } from '../hosts.js';
import type { Analyzer, Context } from '../analyzer.js';
import { K, arr, obj, str, strMap, type Snapshot, type Workload } from '../snapshot.js';

/**
 * Labels Istio gives an endpoint from where it runs rather than from the pod: locality from the node
 * (region, zone, subzone), the node's name, and network/cluster from the mesh's topology.
 */
function isTopologyLabel(key: string): boolean {
  return key.startsWith('topology.kubernetes.io/') || key.startsWith('topology.istio.io/') || key === 'kubernetes.io/hostname';
}

const NODE_LOCALITY = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

/**
 * A topology label's value on a workload's endpoints, as Istio augments pod labels from the node:
 * a string; null when it is known to be absent; undefined when the input cannot tell (the pod's node
 * is not in it, or the label comes from mesh topology).
 */
function topologyValue(w: Workload, key: string, nodes: ReadonlyMap<string, Record<string, string>>): string | null | undefined {
  const nodeName = w.resource.kind === 'Pod' ? str(w.spec?.nodeName) : '';
  const node = nodeName ? nodes.get(nodeName) : undefined;
  if (!node) return undefined;
  if (key === 'kubernetes.io/hostname') return nodeName;
  if (NODE_LOCALITY.has(key)) {
    // Istio does not match on empty node locality labels
    const v = node[key];
    if (v) return v;
    return w.labels[key] ?? null;
  }
  return w.labels[key] ?? undefined;
}

/** Does the workload's endpoint carry every label of the selector? Topology labels the input cannot show do not count against it. */
function endpointMatches(selector: Record<string, string>, w: Workload, nodes: ReadonlyMap<string, Record<string, string>>): boolean {
  for (const k in selector) {
    if (isTopologyLabel(k)) {
      const v = topologyValue(w, k, nodes);
      if (v !== undefined && v !== selector[k]) return false;
    } else if (w.labels[k] !== selector[k]) {
      return false;
    }
  }
  return true;
}

/** Does the subset give one of the base labels another value? */
function overrides(base: Record<string, string>, labels: Record<string, string>): boolean {
  for (const k in labels) if (k in base && base[k] !== labels[k]) return true;
  return false;
}

function nodeLabels(snap: Snapshot): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const n of snap.of(K.Node)) out.set(n.name, strMap(n.metadata.labels));
  return out;
}

/**
 * The Service or ServiceEntry namespace a DestinationRule host points into, for deciding whether the
 * input could show it: `reviews` and `reviews.ns.svc.<domain>` name a namespace; other hosts are external.
 */
function hostNamespace(host: string, drNamespace: string, domain: string): string | undefined {
  if (!host.includes('.') && !host.startsWith('*')) return drNamespace;
  const suffix = `.svc.${domain}`;
  if (!host.endsWith(suffix)) return undefined;
  const parts = host.slice(0, -suffix.length).split('.');
  return parts.length === 2 && parts[0] !== '*' ? parts[1] : undefined;
}

/** istioctl's destinationrule.SubsetSelectPodAnalyzer (its Go type is PodNotSelectedAnalyzer). */
export const subsetSelectPodAnalyzer: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'Checks if pods are selected by subsets in destination rules.',
  codes: ['IST0173', 'IST0174'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const rules = snap.of(K.DestinationRule);
    if (rules.length === 0) return;
    const reg = hostRegistry(snap);
    let nodes: Map<string, Record<string, string>> | undefined;
    for (const dr of rules) {
      const spec = obj(dr.object.spec);
      const host = str(spec.host);
      const target = reg.resolve(dr.namespace, arr(spec.exportTo).map(str), host);
      if (!target) {
        if (!host || reg.anyMatching(dr.namespace, host)) continue;
        // partial input: only where it shows the services of that namespace (ServiceEntries for other hosts)
        if (snap.knows('services', hostNamespace(host, dr.namespace, snap.clusterDomain))) ctx.report(dr, 'IST0174', [host], ['spec', 'host']);
        continue;
      }
      const subsets = arr(spec.subsets);
      if (subsets.length === 0) continue;
      const svc = target.resource;
      const svcSpec = obj(svc.object.spec);
      // the labels every endpoint of the host carries: the Service's selector, the ServiceEntry's workloadSelector
      const base = svc.kind === 'Service' ? strMap(svcSpec.selector) : strMap(obj(svcSpec.workloadSelector).labels);
      const hasBase = Object.keys(base).length > 0;
      // ServiceEntry endpoints written inline carry their own labels
      const inline = svc.kind === 'ServiceEntry' && !hasBase ? arr(svcSpec.endpoints).map((e) => strMap(obj(e).labels)) : [];
      // a selector-less Service's endpoints are managed by hand, and an external ServiceEntry's come from
      // DNS or the original destination: nothing in the input shows which labels they carry
      if (!hasBase && inline.length === 0) continue;
      if (inline.length > 0) {
        subsets.forEach((s, i) => {
          const labels = strMap(obj(s).labels);
          if (!inline.some((l) => Object.keys(labels).every((k) => l[k] === labels[k]))) ctx.report(dr, 'IST0173', [str(obj(s).name)], ['spec', 'subsets', i]);
        });
        continue;
      }
      // istioctl compares with the pods of every namespace
      const candidates = snap.workloadsMatching(base);
      // partial input shows the host's endpoints only when it holds some of them
      if (!snap.knows('workloads', svc.namespace, candidates.length > 0)) continue;
      nodes ??= nodeLabels(snap);
      for (let i = 0; i < subsets.length; i++) {
        const labels = strMap(obj(subsets[i]).labels);
        // the candidates carry the base labels already; a subset that overrides one of them (rare) takes the slow path
        const matches = overrides(base, labels)
          ? snap.workloads().some((w) => endpointMatches({ ...base, ...labels }, w, nodes!))
          : candidates.some((w) => endpointMatches(labels, w, nodes!));
        if (!matches) ctx.report(dr, 'IST0173', [str(obj(subsets[i]).name)], ['spec', 'subsets', i]);
      }
    }
  },
};
