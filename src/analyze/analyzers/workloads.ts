import type { Resource } from '../../resources/index.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import { hostRegistry } from '../hosts.js';
import { K, arr, obj, selectorMatches, selectorString, str, strMap } from '../snapshot.js';

function workloadSelector(r: Resource): Record<string, string> | undefined {
  const spec = obj(r.object.spec);
  if (r.kind === 'Sidecar' || r.kind === 'ServiceEntry') {
    if (spec.workloadSelector === undefined) return undefined;
    return strMap(obj(spec.workloadSelector).labels);
  }
  if (spec.selector === undefined) return undefined;
  return strMap(obj(spec.selector).matchLabels);
}

export const sidecarDefaultSelectorAnalyzer: Analyzer = {
  name: 'sidecar.DefaultSelectorAnalyzer',
  description: 'Validates that there aren\'t multiple sidecar resources that have no selector',
  codes: ['IST0111'],
  analyze(ctx: Context) {
    const byNs = new Map<string, Resource[]>();
    for (const sc of ctx.snapshot.of(K.Sidecar)) {
      const sel = workloadSelector(sc);
      if (sel !== undefined && Object.keys(sel).length > 0) continue;
      let list = byNs.get(sc.namespace);
      if (!list) byNs.set(sc.namespace, (list = []));
      list.push(sc);
    }
    for (const [ns, list] of byNs) {
      if (list.length < 2) continue;
      const names = list.map(fullName).sort();
      for (const sc of list) ctx.report(sc, 'IST0111', [names, ns], ['metadata', 'name']);
    }
  },
};

export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description: 'Validates that sidecars that define a workload selector match at least one pod, and that there aren\'t multiple sidecar resources that select overlapping pods',
  codes: ['IST0127', 'IST0110'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const podSidecars = new Map<Resource, Resource[]>();
    for (const sc of snap.of(K.Sidecar)) {
      const sel = workloadSelector(sc);
      if (!sel || Object.keys(sel).length === 0) continue;
      const matching = snap.workloadsIn(sc.namespace).filter((w) => selectorMatches(sel, w.labels));
      if (matching.length === 0) {
        if (snap.knowsWorkloadsIn(sc.namespace)) ctx.report(sc, 'IST0127', [selectorString(sel)], ['spec', 'workloadSelector']);
        continue;
      }
      for (const w of matching) {
        let list = podSidecars.get(w.resource);
        if (!list) podSidecars.set(w.resource, (list = []));
        list.push(sc);
      }
    }
    const reported = new Set<string>();
    for (const [pod, sidecars] of podSidecars) {
      if (sidecars.length < 2) continue;
      const names = sidecars.map(fullName).sort();
      for (const sc of sidecars) {
        const key = `${fullName(sc)}|${names.join(',')}`;
        if (reported.has(key)) continue;
        reported.add(key);
        ctx.report(sc, 'IST0110', [names, sc.namespace, fullName(pod)], ['spec', 'workloadSelector']);
      }
    }
  },
};

/** Sidecar egress hosts (`ns/host`) naming a specific host that no Service or ServiceEntry provides. */
export const sidecarEgressAnalyzer: Analyzer = {
  name: 'sidecar.EgressHostAnalyzer',
  description: 'Checks that hosts named explicitly in Sidecar egress listeners exist (meshctl addition)',
  codes: ['IST0101'],
  analyze(ctx: Context) {
    const reg = hostRegistry(ctx.snapshot);
    for (const sc of ctx.snapshot.of(K.Sidecar)) {
      arr(obj(sc.object.spec).egress).forEach((eg, i) => {
        arr(obj(eg).hosts).map(str).forEach((h, j) => {
          const slash = h.indexOf('/');
          if (slash < 0) return;
          const ns = h.slice(0, slash);
          const host = h.slice(slash + 1);
          if (host === '*' || host.startsWith('*') || ns === '~') return;
          const from = ns === '.' || ns === '*' ? sc.namespace : ns;
          if (!reg.anyMatching(from, host)) ctx.report(sc, 'IST0101', ['host', h], ['spec', 'egress', i, 'hosts', j]);
        });
      });
    }
  },
};

export const authorizationPoliciesAnalyzer: Analyzer = {
  name: 'auth.AuthorizationPoliciesAnalyzer',
  description: 'Checks the authorization policies applied in the cluster',
  codes: ['IST0127'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    for (const ap of snap.of(K.AuthorizationPolicy)) {
      const sel = workloadSelector(ap);
      if (!sel || Object.keys(sel).length === 0) continue;
      // a selector in the root namespace applies mesh-wide
      const meshWide = ap.namespace === snap.rootNamespace;
      // looked up in the label index rather than tested against every workload of the namespace
      if (snap.workloadsMatching(sel).some((w) => meshWide || w.namespace === ap.namespace)) continue;
      const known = meshWide ? snap.complete || snap.workloads().length > 0 : snap.knowsWorkloadsIn(ap.namespace);
      if (known) ctx.report(ap, 'IST0127', [selectorString(sel)], ['spec', 'selector']);
    }
  },
};
