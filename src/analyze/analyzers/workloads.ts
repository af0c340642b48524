import type { Resource } from '../../resources/index.js';
import type { Analyzer, Context } from '../analyzer.js';
import { hostRegistry } from '../hosts.js';
import { K, arr, obj, selectorString, str, strMap, type Workload } from '../snapshot.js';
import { firstSelectorKey, groupByNamespace, names, selectWorkloads, type SelectingPolicy } from './selectors.js';

function workloadSelector(r: Resource): Record<string, string> | undefined {
  const spec = obj(r.object.spec);
  if (r.kind === 'Sidecar' || r.kind === 'ServiceEntry') {
    if (spec.workloadSelector === undefined) return undefined;
    return strMap(obj(spec.workloadSelector).labels);
  }
  if (spec.selector === undefined) return undefined;
  return strMap(obj(spec.selector).matchLabels);
}

/** A pod ztunnel captures (ambient): the CNI marks it with this annotation. */
function podInAmbient(w: Workload): boolean {
  return w.annotations['ambient.istio.io/redirection'] === 'enabled';
}

/** A namespace in ambient mode, as istioctl decides it: the dataplane-mode label, and no sidecar injection label. */
export function namespaceInAmbient(ns: Resource | undefined): boolean {
  if (!ns) return false;
  const labels = strMap(ns.metadata.labels);
  if (labels['istio-injection'] === 'enabled' || labels['istio.io/rev']) return false;
  return labels['istio.io/dataplane-mode'] === 'ambient';
}

export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description: 'Validates that sidecars that define a workload selector match at least one pod, and that there aren\'t multiple sidecar resources that select overlapping pods',
  codes: ['IST0101', 'IST0110', 'IST0111', 'IST0167'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const selecting: SelectingPolicy[] = [];
    const namespaceWide: Resource[] = [];
    for (const sc of snap.of(K.Sidecar)) {
      const selector = workloadSelector(sc);
      if (selector && Object.keys(selector).length > 0) selecting.push({ resource: sc, selector });
      else namespaceWide.push(sc);
    }
    const { unmatched, byWorkload } = selectWorkloads(snap, selecting);
    for (const { resource, selector } of unmatched) {
      if (!snap.knowsWorkloadsIn(resource.namespace)) continue;
      ctx.report(resource, 'IST0101', ['selector', selectorString(selector)], ['spec', 'workloadSelector', 'labels', firstSelectorKey(selector)!]);
    }
    // a Sidecar has no effect where there is no sidecar: on ambient pods and in ambient namespaces
    const ineffective = new Set<Resource>();
    for (const [w, sidecars] of byWorkload) {
      const ambient = podInAmbient(w);
      if (sidecars.length < 2 && !ambient) continue;
      const conflicting = names(sidecars);
      for (const sc of sidecars) {
        if (ambient) {
          if (!ineffective.has(sc)) ctx.report(sc, 'IST0167', ['selected workload is in ambient mode, the policy has no impact'], ['spec', 'workloadSelector']);
          ineffective.add(sc);
          continue;
        }
        ctx.report(sc, 'IST0110', [conflicting, w.namespace, w.resource.name], ['spec', 'workloadSelector']);
      }
    }
    for (const [ns, sidecars] of groupByNamespace(namespaceWide)) {
      if (namespaceInAmbient(snap.get(K.Namespace, '', ns))) {
        for (const sc of sidecars) if (!ineffective.has(sc)) ctx.report(sc, 'IST0167', ['namespace is in ambient mode, the policy has no impact'], ['metadata', 'name']);
        continue;
      }
      if (sidecars.length < 2) continue;
      const conflicting = names(sidecars);
      for (const sc of sidecars) ctx.report(sc, 'IST0111', [conflicting, ns], ['metadata', 'name']);
    }
  },
};

/** Sidecar egress hosts (`ns/host`) naming a specific host that no Service or ServiceEntry provides. */
export const sidecarEgressAnalyzer: Analyzer = {
  name: 'sidecar.EgressHostAnalyzer',
  description: 'Checks that hosts named explicitly in Sidecar egress listeners exist (a meshctl addition)',
  codes: ['IST0101'],
  optIn: true,
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
  description: 'Checks the validity of authorization policies',
  codes: ['IST0101', 'IST0127'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    let namespaces: string[] | undefined;
    for (const ap of snap.of(K.AuthorizationPolicy)) {
      noMatchingWorkloads(ctx, ap);
      // source namespaces (and notNamespaces) name namespaces that exist; principals are not checked
      arr(obj(ap.object.spec).rules).forEach((rule, i) => {
        arr(obj(rule).from).forEach((from, j) => {
          const source = obj(obj(from).source);
          for (const field of ['namespaces', 'notNamespaces']) {
            arr(source[field]).forEach((ns, k) => {
              // partial input: which namespaces exist is known only from a cluster
              if (!snap.knows('namespaces')) return;
              namespaces ??= snap.of(K.Namespace).map((n) => n.name);
              const exp = str(ns);
              if (namespaces.some((n) => namespaceMatches(n, exp))) return;
              ctx.report(ap, 'IST0101', ['namespace', exp], ['spec', 'rules', i, 'from', j, 'source', field, k]);
            });
          }
        });
      });
    }
  },
};

function noMatchingWorkloads(ctx: Context, ap: Resource): void {
  const snap = ctx.snapshot;
  const sel = workloadSelector(ap);
  if (!sel || Object.keys(sel).length === 0) return;
  // a selector in the root namespace applies mesh-wide
  const meshWide = ap.namespace === snap.rootNamespace;
  // looked up in the label index rather than tested against every workload of the namespace
  if (snap.workloadsMatching(sel).some((w) => meshWide || w.namespace === ap.namespace)) return;
  const known = snap.knows('workloads', meshWide ? undefined : ap.namespace);
  if (known) ctx.report(ap, 'IST0127', [selectorString(sel)], ['spec', 'selector']);
}

/** istioctl's namespace match for AuthorizationPolicy sources: `*`, `prefix*`, `*suffix`, or the name (any case). */
export function namespaceMatches(ns: string, exp: string): boolean {
  if (exp === '*') return true;
  if (exp.startsWith('*')) return ns.endsWith(exp.slice(1));
  if (exp.endsWith('*')) return ns.startsWith(exp.slice(0, -1));
  return ns.toLowerCase() === exp.toLowerCase();
}
