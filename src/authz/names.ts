/**
 * Istio names each RBAC policy after the AuthorizationPolicy rule it comes from:
 * `ns[foo]-policy[httpbin]-rule[0]`, prefixed `istio-ext-authz-[provider-]` for CUSTOM, suffixed
 * `-deny-due-to-bad-CUSTOM-action` when a provider is broken. istioctl folds them back to `httpbin.foo`.
 */
export interface PolicyRef {
  namespace: string;
  name: string;
  rule: number;
}

// istioctl's own pattern (greedy, unanchored), so names fold exactly as `istioctl x authz check` folds them.
const ISTIO_NAME = /ns\[(.+)\]-policy\[(.+)\]-rule\[(.+)\]/;

export const ANONYMOUS = '_anonymous_match_nothing_';

export function parsePolicyName(name: string): PolicyRef | null {
  const m = ISTIO_NAME.exec(name);
  if (!m) return null;
  const rule = Number(m[3]);
  return { namespace: m[1], name: m[2], rule: Number.isInteger(rule) ? rule : -1 };
}

/** `httpbin.foo` as istioctl prints it; a name Istio did not generate stays as it is. */
export function foldedName(policy: string): string {
  const r = parsePolicyName(policy);
  return r ? `${r.name}.${r.namespace}` : policy;
}

/** `foo/httpbin`, the AuthorizationPolicy as kubectl names it, or null for a name Istio did not generate. */
export function authorizationPolicyOf(policy: string | null): string | null {
  const r = policy ? parsePolicyName(policy) : null;
  return r ? `${r.namespace}/${r.name}` : null;
}

/** `foo/httpbin rule 0` for explanations. */
export function policyLabel(policy: string): string {
  const r = parsePolicyName(policy);
  if (!r) return policy;
  const custom = /^istio-ext-authz/.test(policy) ? ' (CUSTOM)' : '';
  return `${r.namespace}/${r.name} rule ${r.rule}${custom}`;
}

/** Envoy keeps policies in a std::map: they are tried in byte order of their names. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
