import { refersToService, selectPolicies } from '../authz/select.js';
import type { WaypointBinding } from './waypoints.js';
import type { AmbientAuthorizationPolicy, AmbientPod, AmbientService, AuthzRule, PolicyTargetRef } from './types.js';
import { asRule, labelsOf, list as objects, namespaceOf, nameOf, record } from './types.js';

/**
 * AuthorizationPolicies in ambient mode. A policy bound by `selector` (or namespace/mesh-wide, without
 * targetRefs) is enforced by the destination's ztunnel, which sees only L4: istiod drops an ALLOW rule that
 * uses an L7 attribute (it never matches, so what it should allow is denied) and strips the L7 attributes of
 * a DENY rule (it denies every connection matching the rest), and ztunnel ignores CUSTOM and AUDIT policies.
 * L7 policies belong on a waypoint, attached with targetRefs (the waypoint Gateway, or a Service using one).
 */

const L7_OPERATION = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];
const L7_SOURCE = ['requestPrincipals', 'notRequestPrincipals', 'remoteIpBlocks', 'notRemoteIpBlocks'];
/** The `when` keys ztunnel understands; any other is L7. */
const L4_WHEN = new Set(['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port']);

/** The L7 attributes a rule uses, as written (`methods`, `paths`, `when request.headers[x-user]`). */
export function l7Attributes(rule: AuthzRule): string[] {
  const out = new Set<string>();
  // files may hold anything: what is not a list of objects has no attributes
  for (const t of list(rule.to)) for (const k of L7_OPERATION) if (nonEmpty(t?.operation?.[k])) out.add(k);
  for (const f of list(rule.from)) for (const k of L7_SOURCE) if (nonEmpty(f?.source?.[k])) out.add(k);
  for (const w of list(rule.when)) if (typeof w?.key === 'string' && !L4_WHEN.has(w.key)) out.add(`when ${w.key}`);
  return [...out];
}

function list<T>(v: T[] | undefined): (T | undefined)[] {
  return Array.isArray(v) ? v : [];
}

function nonEmpty(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0;
}

export function hasTargetRefs(ap: AmbientAuthorizationPolicy): boolean {
  return Boolean(ap.spec?.targetRef) || objects(ap.spec?.targetRefs).length > 0;
}

/**
 * The policies the pod's ztunnel enforces for it: mesh-wide, its namespace's, or selecting it (Istio's
 * selection, shared with describe and authz); those attached with targetRefs are for waypoints.
 */
export function ztunnelPolicies(all: readonly AmbientAuthorizationPolicy[], pod: AmbientPod, rootNs: string): AmbientAuthorizationPolicy[] {
  const workload = { namespace: namespaceOf(pod), labels: labelsOf(pod), rootNamespace: rootNs };
  return selectPolicies([...all], workload)
    .filter((s) => s.scope !== 'targetRef')
    .map((s) => s.policy);
}

/**
 * Warnings for an ambient pod's selector-bound (ztunnel) policies that ztunnel cannot enforce as written.
 * `waypoints` are the waypoints its traffic goes through (`namespace/name`), named in the advice.
 */
export function ztunnelPolicyWarnings(all: readonly AmbientAuthorizationPolicy[], pod: AmbientPod, rootNs: string, waypoints: string[]): string[] {
  const out: string[] = [];
  const where = waypoints.length
    ? `the pod's waypoint${waypoints.length > 1 ? 's' : ''} (${waypoints.join(', ')}) enforce${waypoints.length > 1 ? '' : 's'} only policies attached with targetRefs`
    : 'the pod has no waypoint';
  for (const ap of ztunnelPolicies(all, pod, rootNs)) {
    const name = `${nameOf(ap)}.${namespaceOf(ap)}`;
    const action = String(ap.spec?.action ?? 'ALLOW').toUpperCase();
    const bound = Object.keys(record(record(ap.spec?.selector).matchLabels)).length ? 'by selector' : 'to the whole namespace';
    if (action === 'CUSTOM' || action === 'AUDIT') {
      out.push(`AuthorizationPolicy ${name} (${action}) is bound ${bound}: ztunnel ignores ${action} policies, so it has no effect on this ambient pod; ${where} (attach it to a waypoint with targetRefs)`);
      continue;
    }
    const l7 = [...new Set((Array.isArray(ap.spec?.rules) ? ap.spec.rules : []).map(asRule).flatMap(l7Attributes))];
    if (l7.length === 0) continue;
    const effect =
      action === 'ALLOW'
        ? 'ztunnel enforces only L4, so its rules with L7 attributes never match and the requests they should allow are denied'
        : 'ztunnel enforces only L4, so it drops those attributes and denies every connection matching the rest of the rule';
    out.push(`AuthorizationPolicy ${name} (${action}) uses L7 attributes (${l7.join(', ')}) and is bound ${bound}: ${effect}; ${where} (attach it with targetRefs to the waypoint or to a Service that uses one)`);
  }
  return out;
}

/**
 * Policies attached with targetRefs to one of `services` (kind Service) while the service has no waypoint:
 * only a waypoint enforces them, so nothing does. `bindings` are the services' waypoint bindings, by `namespace/name`.
 */
export function unenforcedTargetRefWarnings(
  all: readonly AmbientAuthorizationPolicy[],
  services: readonly AmbientService[],
  bindings: ReadonlyMap<string, WaypointBinding>,
): string[] {
  const out: string[] = [];
  for (const ap of all) {
    const refs: PolicyTargetRef[] = objects([...(ap.spec?.targetRef ? [ap.spec.targetRef] : []), ...objects(ap.spec?.targetRefs)]);
    for (const ref of refs) {
      if (!refersToService(ref)) continue;
      // a targetRef stays in the policy's namespace
      const svc = services.find((s) => nameOf(s) === ref.name && namespaceOf(s) === namespaceOf(ap));
      if (!svc) continue;
      const key = `${namespaceOf(svc)}/${nameOf(svc)}`;
      const b = bindings.get(key);
      if (!b || b.state === 'bound' || b.state === 'unknown') continue;
      out.push(`AuthorizationPolicy ${nameOf(ap)}.${namespaceOf(ap)} targets service ${nameOf(svc)}.${namespaceOf(svc)}, which has no waypoint: only a waypoint enforces targetRefs policies, so nothing enforces it`);
    }
  }
  return out;
}
