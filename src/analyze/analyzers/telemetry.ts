import type { Resource } from '../../resources/index.js';
import type { Analyzer, Context } from '../analyzer.js';
import { K, arr, obj, selectorString, str, strMap } from '../snapshot.js';
import { firstSelectorKey, groupByNamespace, names, selectWorkloads, type SelectingPolicy } from './selectors.js';

export const telemetryProviderAnalyzer: Analyzer = {
  name: 'telemetry.ProviderAnalyzer',
  description: 'Validates that providers in telemetry resource is valid',
  codes: ['IST0157'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const telemetries = snap.of(K.Telemetry);
    if (telemetries.length === 0) return;
    // with mesh-wide default access-log providers, an entry naming none uses those
    if (arr(obj(snap.meshConfig().defaultProviders).accessLogging).length > 0) return;
    for (const t of telemetries) {
      arr(obj(t.object.spec).accessLogging).forEach((entry, i) => {
        const e = obj(entry);
        if (e.disabled === true) return;
        if (arr(e.providers).length === 0) ctx.report(t, 'IST0157', [t.name, t.namespace], ['spec', 'accessLogging', i]);
      });
    }
  },
};

export const telemetryLightstepAnalyzer: Analyzer = {
  name: 'telemetry.LightstepAnalyzer',
  description: 'Validates that lightstep provider is still used',
  codes: ['IST0002'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    if (snap.of(K.Telemetry).length === 0) return;
    const lightstep = new Set<string>();
    for (const p of arr(snap.meshConfig().extensionProviders)) {
      if (obj(p).lightstep !== undefined) lightstep.add(str(obj(p).name));
    }
    if (lightstep.size === 0) return;
    for (const t of snap.of(K.Telemetry)) {
      arr(obj(t.object.spec).tracing).forEach((tracing, i) => {
        arr(obj(tracing).providers).forEach((p, j) => {
          const name = str(obj(p).name);
          if (!lightstep.has(name)) return;
          ctx.report(t, 'IST0002', [`The Lightstep provider ${name} is deprecated, please migrate to OpenTelemetry provider.`], ['spec', 'tracing', i, 'providers', j, 'name']);
        });
      });
    }
  },
};

/** The selector of a Telemetry (or any policy with `selector.matchLabels`); undefined when it has none. */
function matchLabels(r: Resource): Record<string, string> | undefined {
  const sel = obj(r.object.spec).selector;
  return sel === undefined || sel === null ? undefined : strMap(obj(sel).matchLabels);
}

/** Whether a policy is attached by `targetRef`/`targetRefs` rather than by selector. */
export function hasTargetRef(r: Resource): boolean {
  const spec = obj(r.object.spec);
  return (spec.targetRef !== undefined && spec.targetRef !== null) || arr(spec.targetRefs).length > 0;
}

export const telemetrySelectorAnalyzer: Analyzer = {
  name: 'telemetry.SelectorAnalyzer',
  description: "Validates that telemetries that define a selector match at least one pod, and that there aren't multiple telemetry resources that select overlapping pods",
  codes: ['IST0101', 'IST0159'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    const policies: SelectingPolicy[] = [];
    for (const t of snap.of(K.Telemetry)) {
      const selector = matchLabels(t);
      if (selector && Object.keys(selector).length > 0) policies.push({ resource: t, selector });
    }
    if (policies.length === 0) return;
    const { unmatched, byWorkload } = selectWorkloads(snap, policies);
    for (const { resource, selector } of unmatched) {
      if (!snap.knowsWorkloadsIn(resource.namespace)) continue;
      ctx.report(resource, 'IST0101', ['selector', selectorString(selector)], ['spec', 'selector', 'matchLabels', firstSelectorKey(selector)!]);
    }
    for (const [w, telemetries] of byWorkload) {
      if (telemetries.length < 2) continue;
      const conflicting = names(telemetries);
      for (const t of telemetries) ctx.report(t, 'IST0159', [conflicting, w.namespace, w.resource.name], ['metadata', 'name']);
    }
  },
};

export const telemetryDefaultSelectorAnalyzer: Analyzer = {
  name: 'telemetry.DefaultSelectorAnalyzer',
  description: "Validates that there aren't multiple telemetry resources that have no selector",
  codes: ['IST0160'],
  analyze(ctx: Context) {
    // `selector: {}` is a selector (matching every pod), not the namespace default; nor is a
    // Telemetry attached to a gateway or service by targetRef(s)
    const defaults = ctx.snapshot.of(K.Telemetry).filter((t) => matchLabels(t) === undefined && !hasTargetRef(t));
    for (const [ns, list] of groupByNamespace(defaults)) {
      if (list.length < 2) continue;
      const conflicting = names(list);
      for (const t of list) ctx.report(t, 'IST0160', [conflicting, ns], ['metadata', 'name']);
    }
  },
};
