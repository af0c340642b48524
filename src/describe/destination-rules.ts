import { mostSpecificHost, toFqdn } from '../resources/hosts.js';
import { exportToOf, exportedTo, type MeshSettings } from './mesh.js';
import type { DestinationRule, Labels, TrafficPolicy, TrafficPolicyPart } from './objects.js';
import { byCreationNameFirst, hasSelector, kname, namespaceOf, nameOf, originOf, selectorMatches } from './objects.js';

/** Which of Istio's three lookups found the rule(s), in the order Istio tries them. */
export type DrScope = 'client namespace' | 'service namespace' | 'root namespace';

export interface DrLookup {
  /** The rules that apply, oldest first: Istio merges them, the first one's traffic policy winning. */
  rules: DestinationRule[];
  /** The rule's host after short-name expansion (may be a wildcard). */
  host: string;
  namespace: string;
  scope: DrScope;
  warnings: string[];
}

/**
 * The DestinationRule(s) a proxy in `clientNs` (with `clientLabels`) uses for `serviceHost`, following Istio's
 * precedence: rules in the client's own namespace, then rules exported from the service's namespace, then rules
 * exported from the root namespace. Within a namespace the most specific host wins (exact over wildcard, longer
 * wildcard over shorter); several rules for that same host are merged.
 */
export function lookupDestinationRules(
  all: DestinationRule[],
  serviceHost: string,
  serviceNs: string,
  clientNs: string,
  clientLabels: Labels,
  mesh: MeshSettings,
): DrLookup | undefined {
  const defaults = mesh.defaultDestinationRuleExportTo;
  const hostOf = (dr: DestinationRule) => toFqdn(namespaceOf(dr), dr.spec?.host ?? '', mesh.domainSuffix);

  const inNamespace = (ns: string) => all.filter((dr) => namespaceOf(dr) === ns && (dr.spec?.host ?? '') !== '');

  // 1. The client's namespace: every rule there that is visible in its own namespace (".", "*", or listing it).
  //    Rules with a workloadSelector only apply to the proxies they select, and only from their own namespace.
  const local = inNamespace(clientNs).filter((dr) => {
    if (!exportedTo(exportToOf(dr), ['*'], clientNs, clientNs)) return false;
    const sel = dr.spec?.workloadSelector;
    return !hasSelector(sel) || selectorMatches(sel?.matchLabels, clientLabels);
  });
  const found = pick(local, clientNs, 'client namespace', true);
  if (found) return found;

  // 2./3. Rules exported from the service's namespace, then from the root namespace, to the client's namespace.
  for (const [ns, scope] of [
    [serviceNs, 'service namespace'],
    [mesh.rootNamespace, 'root namespace'],
  ] as const) {
    if (ns === clientNs) continue;
    const exported = inNamespace(ns).filter((dr) => !hasSelector(dr.spec?.workloadSelector) && !privateOnly(dr, defaults));
    const hit = pick(exported, ns, scope, false);
    if (!hit) continue;
    // Istio picks the most specific host first and only then checks it is exported to the client's namespace.
    const visible = hit.rules.filter((dr) => exportedTo(exportToOf(dr), defaults, ns, clientNs));
    if (visible.length === 0) continue;
    return { ...hit, rules: visible };
  }
  return undefined;

  function pick(candidates: DestinationRule[], ns: string, scope: DrScope, local: boolean): DrLookup | undefined {
    const host = mostSpecificHost(serviceHost, new Set(candidates.map(hostOf)));
    if (host === undefined) return undefined;
    let rules = candidates.filter((dr) => hostOf(dr) === host).sort(byCreationNameFirst);
    const warnings: string[] = [];
    if (local) {
      // A rule selecting this workload takes precedence over the namespace-wide ones for the same host.
      const selecting = rules.filter((dr) => hasSelector(dr.spec?.workloadSelector));
      if (selecting.length > 0 && selecting.length < rules.length) {
        const shadowed = rules.filter((dr) => !hasSelector(dr.spec?.workloadSelector));
        warnings.push(
          `DestinationRule ${names(shadowed, clientNs)} for "${host}" is overridden for this workload by ${names(selecting, clientNs)} (workloadSelector)`,
        );
        rules = selecting;
      }
    }
    warnings.push(...mergeWarnings(rules, host, clientNs));
    return { rules, host, namespace: ns, scope, warnings };
  }
}

/** A rule exported only to its own namespace is not in Istio's exported index at all. */
function privateOnly(dr: DestinationRule, defaults: string[]): boolean {
  const list = exportToOf(dr);
  const ns = namespaceOf(dr);
  if (!list || list.length === 0) return defaults.length === 1 && defaults[0] === '.';
  return list.length === 1 && (list[0] === '.' || list[0] === ns);
}

/** What merging several rules for one host means, said as the problem it usually is. */
function mergeWarnings(rules: DestinationRule[], host: string, currentNs: string): string[] {
  if (rules.length < 2) return [];
  const warnings: string[] = [];
  const [first, ...rest] = rules;
  const withPolicy = rules.filter((dr) => dr.spec?.trafficPolicy);
  const listed = rules.map((dr) => `${kname(dr, currentNs)}${originOf(dr) ? ` (${originOf(dr)})` : ''}`).join(', ');
  let line = `conflicting DestinationRules for "${host}": ${listed}; Istio merges them`;
  if (withPolicy.length > 1) line += `, the traffic policy of ${kname(withPolicy[0], currentNs)} wins and the others' are ignored`;
  warnings.push(line);
  const seen = new Map<string, DestinationRule>();
  for (const dr of [first, ...rest]) {
    for (const s of dr.spec?.subsets ?? []) {
      const name = s.name ?? '';
      const owner = seen.get(name);
      if (owner) warnings.push(`subset "${name}" is defined by both ${kname(owner, currentNs)} and ${kname(dr, currentNs)}; only the one in ${kname(owner, currentNs)} is used`);
      else seen.set(name, dr);
    }
  }
  return warnings;
}

function names(rules: DestinationRule[], currentNs: string): string {
  return rules.map((dr) => kname(dr, currentNs)).join(', ');
}

/** Rules whose host looks meant for the service but that Istio will never match (e.g. `reviews.default`). */
export function nearMissRules(all: DestinationRule[], serviceName: string, serviceNs: string): DestinationRule[] {
  const near = new Set([`${serviceName}.${serviceNs}`, `${serviceName}.${serviceNs}.svc`]);
  return all.filter((dr) => near.has(dr.spec?.host ?? ''));
}

export interface SubsetMatch {
  matching: string[];
  nonMatching: string[];
}

/** Which subsets select at least one of the pods (by label set). */
export function matchSubsets(rules: DestinationRule[], podsLabels: Labels[]): SubsetMatch {
  const matching: string[] = [];
  const nonMatching: string[] = [];
  const seen = new Set<string>();
  for (const dr of rules) {
    for (const s of dr.spec?.subsets ?? []) {
      const name = s.name ?? '';
      if (seen.has(name)) continue;
      seen.add(name);
      if (podsLabels.some((l) => selectorMatches(s.labels, l))) matching.push(name);
      else nonMatching.push(name);
    }
  }
  return { matching, nonMatching };
}

/** A traffic policy in the words and units of the YAML: `TLS Mode`, LB, pool, outlier settings as key=value. */
export interface PolicySummary {
  tlsMode?: string;
  loadBalancer?: string;
  connectionPool?: string;
  outlierDetection?: string;
}

export interface TrafficPolicySummary extends PolicySummary {
  portLevel: (PolicySummary & { port: number })[];
}

export function summarisePolicy(tp: TrafficPolicy | undefined): TrafficPolicySummary | undefined {
  if (!tp) return undefined;
  return {
    ...summarisePart(tp),
    portLevel: (tp.portLevelSettings ?? []).map((p) => ({ port: p.port?.number ?? 0, ...summarisePart(p) })),
  };
}

function summarisePart(p: TrafficPolicyPart): PolicySummary {
  const out: PolicySummary = {};
  if (p.tls) out.tlsMode = p.tls.mode ?? 'DISABLE';
  if (p.loadBalancer) out.loadBalancer = flatten(p.loadBalancer);
  if (p.connectionPool) out.connectionPool = flatten(p.connectionPool);
  if (p.outlierDetection) out.outlierDetection = flatten(p.outlierDetection);
  return out;
}

/** `{tcp: {maxConnections: 1}}` → `tcp.maxConnections=1`; `{simple: LEAST_REQUEST}` → `LEAST_REQUEST`. */
export function flatten(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0 && path) parts.push(`${path}={}`);
      for (const [k, child] of entries) walk(child, path ? `${path}.${k}` : k);
    } else if (path === 'simple') {
      parts.push(String(v));
    } else {
      parts.push(`${path}=${Array.isArray(v) ? JSON.stringify(v) : String(v)}`);
    }
  };
  walk(value, '');
  return parts.join(', ');
}

/** The TLS mode the client sidecar uses for `port` (port-level settings over the rule-wide one). */
export function effectiveClientTls(tp: TrafficPolicy | undefined, port: number): string | undefined {
  const pl = tp?.portLevelSettings?.find((p) => p.port?.number === port);
  if (pl?.tls) return pl.tls.mode ?? 'DISABLE';
  if (tp?.tls) return tp.tls.mode ?? 'DISABLE';
  return undefined;
}

export function drLabel(dr: DestinationRule, currentNs: string): string {
  return kname(dr, currentNs) || nameOf(dr);
}
