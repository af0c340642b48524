import { chainPolicies, serviceLabel, shadowedNote, type Shadowed } from '../authz/chains.js';
import { leftOutAttachments, selectPolicies, type ServedService } from '../authz/select.js';
import type { AuthorizationPolicy, Labels } from './objects.js';
import { namespaceOf, originOf } from './objects.js';

export interface AppliedAuthorizationPolicy {
  name: string;
  namespace: string;
  origin?: string;
  action: string;
  /** `mesh` (root namespace, no selector), `namespace` (no selector), `workload` (selector matches), `targetRef` (a Gateway's pods). */
  scope: 'mesh' | 'namespace' | 'workload' | 'targetRef';
  rules: number;
  provider?: string;
  /**
   * On a waypoint, for a policy attached to the Services or ServiceEntries it serves: the services whose
   * filter chains hold it (`Service ns/name`); the others are on every chain.
   */
  chains?: string[];
}

export interface AuthorizationFacts {
  counts: Record<'ALLOW' | 'DENY' | 'CUSTOM' | 'AUDIT', number>;
  policies: AppliedAuthorizationPolicy[];
  /** What a request that matches no policy gets. */
  defaultDecision: 'allow' | 'deny';
  /**
   * On a waypoint whose service chains differ in that: the services whose chain denies a request that
   * matches no policy (it holds an ALLOW policy), and those whose chain allows it.
   */
  chainDefaults?: { deny: string[]; allow: string[] };
  warnings: string[];
}

const ACTIONS = ['ALLOW', 'DENY', 'CUSTOM', 'AUDIT'] as const;

/**
 * The AuthorizationPolicies the workload's sidecar enforces: mesh-wide ones (root namespace, no selector),
 * the namespace's own, and those whose selector matches it (a selector in the root namespace selects across
 * all namespaces). Policies bound with targetRef(s) are for gateways/waypoints, not sidecars (a waypoint's
 * `served`: the Services and ServiceEntries it serves, for policies attached to one, and those whose
 * binding could not be told).
 */
export function authorizationFor(
  all: AuthorizationPolicy[],
  workloadNs: string,
  labels: Labels,
  rootNs: string,
  served?: { services: ServedService[]; unknown: (ServedService & { reason: string })[]; shadowed?: Shadowed[] },
): AuthorizationFacts {
  const counts = { ALLOW: 0, DENY: 0, CUSTOM: 0, AUDIT: 0 };
  const policies: AppliedAuthorizationPolicy[] = [];
  const warnings: string[] = (served?.shadowed ?? []).map(shadowedNote);
  // One selection rule for describe, authz check and the policies behind a dump (src/authz/select.ts).
  const workload = { namespace: workloadNs, labels, rootNamespace: rootNs };
  const selected = selectPolicies(all, { ...workload, ...(served ? { services: served.services } : {}) });
  // a waypoint builds one filter chain per service: a Service-attached policy is only on that one's
  const everyChain = new Set(served ? chainPolicies(all, workload, null) : []);
  const leftOut = leftOutAttachments(all, selected.map((s) => s.policy), (served?.unknown ?? []).map((u) => ({ service: u, reason: u.reason })));
  if (leftOut.policies.length) warnings.push(unknownAttachments(leftOut.policies, leftOut.reasons));
  for (const { policy: ap, scope } of selected) {
    const ns = namespaceOf(ap);
    const action = (ap.spec?.action ?? 'ALLOW').toUpperCase();
    const name = ap.metadata?.name ?? '';
    const rules = ap.spec?.rules?.length ?? 0;
    const entry: AppliedAuthorizationPolicy = { name, namespace: ns, action, scope, rules };
    if (ap.spec?.provider?.name) entry.provider = ap.spec.provider.name;
    if (served && !everyChain.has(ap)) entry.chains = served.services.filter((svc) => chainPolicies([ap], workload, svc).length).map(serviceLabel);
    const origin = originOf(ap);
    if (origin) entry.origin = origin;
    policies.push(entry);
    if ((ACTIONS as readonly string[]).includes(action)) counts[action as (typeof ACTIONS)[number]]++;
    else warnings.push(`AuthorizationPolicy ${name}.${ns}: unknown action "${action}"`);
    if (action === 'ALLOW' && rules === 0) {
      warnings.push(`AuthorizationPolicy ${name}.${ns} is ALLOW with no rules: it matches nothing, so it denies every request to this workload`);
    }
    if (action === 'CUSTOM' && !entry.provider) warnings.push(`AuthorizationPolicy ${name}.${ns} is CUSTOM without a provider`);
  }
  const order = { DENY: 0, CUSTOM: 1, AUDIT: 2, ALLOW: 3 } as Record<string, number>;
  policies.sort((a, b) => (order[a.action] ?? 9) - (order[b.action] ?? 9) || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const facts: AuthorizationFacts = { counts, policies, defaultDecision: counts.ALLOW > 0 ? 'deny' : 'allow', warnings };
  // each chain denies by default when it holds an ALLOW policy: one on every chain, or one attached to its service
  if (served && served.services.length > 1 && counts.ALLOW > 0) {
    const isAllow = (ap: AuthorizationPolicy) => (ap.spec?.action ?? 'ALLOW').toUpperCase() === 'ALLOW';
    const deny: string[] = [];
    const allow: string[] = [];
    for (const svc of served.services) (chainPolicies(all, workload, svc).some(isAllow) ? deny : allow).push(serviceLabel(svc));
    if (allow.length) facts.chainDefaults = { deny, allow };
  }
  return facts;
}

/** Says which Service- or ServiceEntry-attached policies may also apply, and why that is not known. */
export function unknownAttachments(leftOut: { metadata?: { name?: string; namespace?: string } }[], reasons: string[]): string {
  const names = leftOut.map((p) => `${p.metadata?.name ?? ''}.${p.metadata?.namespace ?? 'default'}`);
  return `the waypoint may also enforce ${names.join(', ')} (attached to a Service or ServiceEntry whose use of it cannot be told): ${reasons.join('; ')}`;
}
