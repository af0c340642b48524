import type { Resource } from '../../resources/index.js';
import { byFullName } from '../analyzer.js';
import { selectorMatches, type Snapshot, type Workload } from '../snapshot.js';

/** A policy (Sidecar, Telemetry, ...) with its workload selector's labels. */
export interface SelectingPolicy {
  resource: Resource;
  selector: Record<string, string>;
}

/**
 * Which workloads of their own namespace each policy selects, as istioctl's sidecar and telemetry
 * SelectorAnalyzers work it out: the policies that select nothing, and per workload the policies
 * selecting it (for conflicts). Workloads come from the snapshot's namespace index.
 */
export function selectWorkloads(snap: Snapshot, policies: readonly SelectingPolicy[]): { unmatched: SelectingPolicy[]; byWorkload: Map<Workload, Resource[]> } {
  const unmatched: SelectingPolicy[] = [];
  const byWorkload = new Map<Workload, Resource[]>();
  for (const p of policies) {
    let found = false;
    for (const w of snap.workloadsIn(p.resource.namespace)) {
      if (!selectorMatches(p.selector, w.labels)) continue;
      found = true;
      const list = byWorkload.get(w);
      if (list) list.push(p.resource);
      else byWorkload.set(w, [p.resource]);
    }
    if (!found) unmatched.push(p);
  }
  return { unmatched, byWorkload };
}

/** istioctl's getNames: the resources' names (without namespace), in namespace/name order. */
export function names(resources: readonly Resource[]): string[] {
  return [...resources].sort(byFullName).map((r) => r.name);
}

/** The first label of a selector in `k=v,...` order: where istioctl points a "selector matches nothing" finding. */
export function firstSelectorKey(selector: Record<string, string>): string | undefined {
  return Object.keys(selector).sort()[0];
}

/** Resources by namespace, in input order. */
export function groupByNamespace(resources: Iterable<Resource>): Map<string, Resource[]> {
  const out = new Map<string, Resource[]>();
  for (const r of resources) {
    const list = out.get(r.namespace);
    if (list) list.push(r);
    else out.set(r.namespace, [r]);
  }
  return out;
}
