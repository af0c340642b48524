import type { Json } from '../match/string.js';
import type { AuthzContext, Decision, SourceIdentity } from './context.js';
import { metadataTri } from '../match/metadata.js';
import { permissionTri, policyTri, principalTri, type Tri } from './engine.js';
import type { AuthzFilter, ExtAuthzFilter, RbacFilter } from './filters.js';
import { authorizationPolicyOf, byteOrder, policyLabel } from './names.js';
import { clausesOf, clauseTri, clauseWords, type Clause } from './words.js';

/** One authorization filter's verdict on the request. */
export interface FilterResult {
  filter: string;
  kind: 'http' | 'network';
  type: 'rbac' | 'ext_authz';
  /** ALLOW / DENY / LOG for RBAC (null: shadow rules only), CUSTOM for ext_authz. */
  action: string | null;
  /** ALLOW: the filter lets the request through; DENY: it ends it here. */
  decision: Decision;
  /** The RBAC policy that decided (Envoy's effective policy id), or null. */
  policy: string | null;
  authorizationPolicy: string | null;
  reason: string;
  /** The parts of the deciding policy that matched, in the AuthorizationPolicy's words. */
  matched: string[];
  /** For "no ALLOW policy matched": the nearest ALLOW rules and what each lacked. */
  nearest: { name: string; reason: string }[];
  /** The dry-run (shadow_rules) result: reported, never enforced. */
  shadow: { action: string; result: 'allowed' | 'denied' | 'undecided'; policy: string | null; authorizationPolicy: string | null; reason: string } | null;
  uncertain: string[];
  notes: string[];
  /** How many policies the filter holds (rules, shadow rules). */
  policies: number;
}

/** The chain's verdict: the `authz` object of the trace's result. */
export interface AuthzVerdict {
  decision: Decision;
  policy: string | null;
  authorizationPolicy: string | null;
  filter: string | null;
  reason: string;
}

export interface ChainResult {
  results: FilterResult[];
  verdict: AuthzVerdict;
  /** Filters after the denial, which never see the request. */
  notReached: string[];
}

const NEAREST = 5;
const RBAC_NS = { http: 'envoy.filters.http.rbac', network: 'envoy.filters.network.rbac' } as const;

interface EngineRun {
  matched: Tri;
  policy: string | null;
  /** Policies before the match (or all, without one) whose outcome is unknown. */
  open: string[];
}

const ordered = new WeakMap<object, string[]>();

/** The policies' names in Envoy's order (a std::map: byte order), sorted once per policy set. */
function policyNames(policies: Json): string[] {
  let names = ordered.get(policies);
  if (!names) {
    names = Object.keys(policies);
    // Istio writes them sorted already: check in one pass before paying for a sort.
    let sorted = true;
    for (let i = 1; i < names.length && sorted; i++) sorted = names[i - 1] <= names[i];
    if (!sorted) names.sort(byteOrder);
    ordered.set(policies, names);
  }
  return names;
}

/** Envoy's engine: the policies in name order; the first that matches is the effective policy. */
export function runEngine(rbac: Json, ctx: AuthzContext): EngineRun {
  const policies = rbac?.policies ?? {};
  const names = policyNames(policies);
  const open: string[] = [];
  for (const name of names) {
    const v = policyTri(policies[name], ctx);
    if (v === true) return { matched: true, policy: name, open };
    if (v === undefined) open.push(name);
  }
  return { matched: open.length ? undefined : false, policy: null, open };
}

export function actionOf(rbac: Json): string {
  return String(rbac?.action ?? 'ALLOW');
}

/** ALLOW lets the request through iff a policy matched, DENY iff none did, LOG always. */
function verdictOf(action: string, matched: Tri): Decision {
  if (action === 'LOG') return 'ALLOW';
  if (matched === undefined) return 'UNDECIDED';
  return (action === 'DENY') === matched ? 'DENY' : 'ALLOW';
}

/** The clauses of the policy's best permission and principal alternatives, with their verdicts. */
function explainPolicy(policy: Json, ctx: AuthzContext): { failing: string[]; holding: string[]; open: string[]; score: number } {
  const best = (nodes: Json[], side: 'permission' | 'principal') => {
    let pick: { clauses: { c: Clause; v: Tri; u: string[] }[]; fails: number } | null = null;
    for (const n of nodes) {
      const clauses = clausesOf(n, side).map((c) => {
        const u: string[] = [];
        return { c, v: clauseTri(c, ctx, u), u };
      });
      const fails = clauses.filter((x) => x.v === false).length * 2 + clauses.filter((x) => x.v === undefined).length;
      if (!pick || fails < pick.fails) pick = { clauses, fails };
      if (fails === 0) break;
    }
    return pick ?? { clauses: [], fails: 0 };
  };
  const perm = best(Array.isArray(policy?.permissions) ? policy.permissions : [], 'permission');
  const prin = best(Array.isArray(policy?.principals) ? policy.principals : [], 'principal');
  const all = [...prin.clauses, ...perm.clauses];
  return {
    failing: all.filter((x) => x.v === false).map((x) => clauseWords(x.c, ctx, x.v)),
    holding: all.filter((x) => x.v === true).map((x) => clauseWords(x.c, ctx, x.v)),
    open: all.filter((x) => x.v === undefined).map((x) => clauseWords(x.c, ctx, x.v, x.u)),
    score: perm.fails + prin.fails,
  };
}

/** Why each open policy could not be decided (the unknown facts, in words). */
function openReasons(rbac: Json, names: string[], ctx: AuthzContext): string[] {
  const out: string[] = [];
  for (const name of names.slice(0, NEAREST)) {
    const e = explainPolicy(rbac.policies[name], ctx);
    const u: string[] = [];
    policyTri(rbac.policies[name], ctx, u);
    const why = e.open.length ? e.open.join('; ') : u.join('; ');
    out.push(`${policyLabel(name)}: ${why || 'undecided'}`);
  }
  if (names.length > NEAREST) out.push(`${names.length - NEAREST} more undecided policies`);
  return out;
}

/** A failing part counts 2, an undecided one 1: "nearest" prefers rules that may yet match. */
const cost = (v: Tri): number => (v === false ? 2 : v === undefined ? 1 : 0);

/**
 * How far one side (principals or permissions) is from matching: the best of its alternatives, each the
 * sum of its parts' costs. Evaluation of an alternative stops once it reaches `bound` (it cannot be the
 * nearest any more); the answer is then `bound`, meaning "at least".
 */
function sideDistance(nodes: Json[], side: 'principal' | 'permission', ctx: AuthzContext, bound: number): number {
  if (nodes.length === 0) return 0;
  let min = bound;
  for (const n of nodes) {
    const parts: Json[] | undefined = side === 'principal' ? n?.and_ids?.ids : n?.and_rules?.rules;
    let d = 0;
    if (parts) {
      for (const part of parts) {
        d += cost(side === 'principal' ? principalTri(part, ctx) : permissionTri(part, ctx));
        if (d >= min) break;
      }
    } else d = cost(side === 'principal' ? principalTri(n, ctx) : permissionTri(n, ctx));
    if (d < min) min = d;
    if (min === 0) break;
  }
  return min;
}

/** A policy's distance from matching, or `bound` when it is at least that far. */
function distance(policy: Json, ctx: AuthzContext, bound: number): number {
  const list = (x: Json): Json[] => (Array.isArray(x) ? x : []);
  const prin = sideDistance(list(policy?.principals), 'principal', ctx, bound);
  if (prin >= bound) return bound;
  return prin + sideDistance(list(policy?.permissions), 'permission', ctx, bound - prin);
}

/**
 * The NEAREST ALLOW policies and what each lacks. A filter may hold 10,000 policies, so this is a bounded
 * search: once NEAREST candidates are known, a policy is followed only while it can still beat the last
 * of them (a tie keeps the earlier name, as Envoy's order does), and words are made for the winners only.
 */
function nearestAllow(rbac: Json, ctx: AuthzContext): { name: string; reason: string }[] {
  const policies = rbac?.policies ?? {};
  const best: { name: string; d: number }[] = [];
  let bound = Infinity;
  for (const name of policyNames(policies)) {
    const d = distance(policies[name], ctx, bound);
    if (d >= bound) continue;
    let at = best.length;
    while (at > 0 && best[at - 1].d > d) at--;
    best.splice(at, 0, { name, d });
    if (best.length > NEAREST) best.pop();
    if (best.length === NEAREST) bound = best[NEAREST - 1].d;
  }
  return best.map(({ name }) => {
    const e = explainPolicy(policies[name], ctx);
    return { name: policyLabel(name), reason: [...new Set([...e.failing, ...e.open])].join('; ') || 'undecided' };
  });
}

/** A filter's result before it is decided: it lets the request through, nothing matched yet. */
function blankResult(f: AuthzFilter, type: FilterResult['type'], action: string | null, policies: number): FilterResult {
  return { filter: f.name, kind: f.kind, type, action, decision: 'ALLOW', policy: null, authorizationPolicy: null, reason: '', matched: [], nearest: [], shadow: null, uncertain: [], notes: [], policies };
}

function rbacResult(f: RbacFilter, ctx: AuthzContext): FilterResult {
  const r = blankResult(f, 'rbac', f.rules ? actionOf(f.rules) : null, Object.keys(f.rules?.policies ?? {}).length);
  if (f.override) r.notes.push(`configuration from ${f.override}`);
  if (f.disabled) {
    r.reason = `${f.name} is ${f.disabled}: it does not check this request`;
    return r;
  }
  if (f.matcherApi) {
    r.decision = 'UNDECIDED';
    r.reason = `${f.name} uses the unified matcher API (matcher/shadow_matcher), which meshctl does not evaluate`;
    r.uncertain.push(r.reason);
    return r;
  }
  if (f.shadowRules) r.shadow = shadowResult(f, ctx);
  if (!f.rules) {
    r.reason = f.shadowRules ? 'only shadow rules: the filter never blocks' : 'no rules: the filter never blocks';
    return r;
  }
  const action = actionOf(f.rules);
  const run = runEngine(f.rules, ctx);
  r.decision = verdictOf(action, run.matched);
  r.policy = run.policy;
  r.authorizationPolicy = authorizationPolicyOf(run.policy);
  const count = r.policies;
  if (run.matched === true) {
    const e = explainPolicy(f.rules.policies[run.policy!], ctx);
    r.matched = e.holding;
    const what = action === 'ALLOW' ? 'allows' : action === 'DENY' ? 'denies' : 'logs (AUDIT) and allows';
    r.reason = `${policyLabel(run.policy!)} matches: ${action} policy ${what} the request`;
    if (run.open.length) r.notes.push(`policies earlier in Envoy's order are undecided (${run.open.map(policyLabel).join(', ')}): one of them may be the effective policy instead`);
  } else if (run.matched === false) {
    if (action === 'ALLOW') {
      r.reason = count === 0 ? `ALLOW filter without policies: every request is denied (Istio's allow-nothing / deny-all)` : `no ALLOW policy matches (${count} checked): denied`;
      if (count > 0) r.nearest = nearestAllow(f.rules, ctx);
    } else if (action === 'DENY') r.reason = count === 0 ? 'DENY filter without policies: nothing is denied' : `no DENY policy matches (${count} checked)`;
    else r.reason = `no AUDIT policy matches (${count} checked); AUDIT never blocks`;
  } else {
    r.reason = `${run.open.length} ${action} polic${run.open.length === 1 ? 'y' : 'ies'} cannot be decided offline, and no other matches`;
    r.uncertain.push(...openReasons(f.rules, run.open, ctx).map((u) => `${f.name}: ${u}`));
    if (action === 'ALLOW') r.nearest = nearestAllow(f.rules, ctx);
  }
  return r;
}

/** shadow_rules: evaluated like rules, their result written to dynamic metadata, never enforced. */
function shadowResult(f: RbacFilter, ctx: AuthzContext): NonNullable<FilterResult['shadow']> {
  const rules = f.shadowRules;
  const action = actionOf(rules);
  const run = runEngine(rules, ctx);
  const v = verdictOf(action, run.matched);
  const result = v === 'UNDECIDED' ? 'undecided' : v === 'ALLOW' ? 'allowed' : 'denied';
  // What Envoy writes for the filters after it (Istio's ext_authz reads the effective policy id).
  const ns = RBAC_NS[f.kind];
  const md = (ctx.dynamicMetadata[ns] ??= {});
  if (run.matched === true) md[`${f.shadowPrefix}shadow_effective_policy_id`] = run.policy;
  if (run.matched !== undefined) md[`${f.shadowPrefix}shadow_engine_result`] = result;
  else md[`${f.shadowPrefix}shadow_engine_result`] = undefined;
  const custom = /istio_ext_authz/.test(f.shadowPrefix);
  const label = custom ? 'CUSTOM trigger' : 'dry-run';
  const reason =
    run.matched === true
      ? `${label}: ${policyLabel(run.policy!)} matches (${action}): the shadow engine would have ${result === 'allowed' ? 'allowed' : 'denied'} it`
      : run.matched === false
        ? `${label}: no ${action} shadow policy matches: the shadow engine would have ${result} it`
        : `${label}: undecided (${openReasons(rules, run.open, ctx).join('; ')})`;
  return { action, result, policy: run.policy, authorizationPolicy: authorizationPolicyOf(run.policy), reason };
}

function extAuthzResult(f: ExtAuthzFilter, ctx: AuthzContext, identity: SourceIdentity): FilterResult {
  const r = blankResult(f, 'ext_authz', 'CUSTOM', 0);
  const svc = f.service ? ` (${f.service})` : '';
  if (f.disabled) {
    r.reason = `${f.name} is ${f.disabled}`;
    return r;
  }
  let enabled: Tri = true;
  if (f.enabledMetadata) {
    const u: string[] = [];
    enabled = metadataTri(f.enabledMetadata, ctx.dynamicMetadata, u);
    const trigger = Object.entries(ctx.dynamicMetadata[RBAC_NS[f.kind]] ?? {}).find(([k, v]) => /shadow_effective_policy_id$/.test(k) && typeof v === 'string')?.[1] as string | undefined;
    if (trigger) {
      r.policy = trigger;
      r.authorizationPolicy = authorizationPolicyOf(trigger);
    }
    if (enabled === false) {
      r.reason = `no CUSTOM policy matches this request: the external authorizer${svc} is not asked`;
      return r;
    }
  }
  const by = r.policy ? `${policyLabel(r.policy)} matches: ` : '';
  if (identity.extAuthz) {
    r.decision = identity.extAuthz === 'allow' ? 'ALLOW' : 'DENY';
    r.reason = `${by}the external authorizer${svc} ${identity.extAuthz === 'allow' ? 'allows' : 'denies'} it (--ext-authz ${identity.extAuthz})`;
    if (enabled === undefined) r.uncertain.push(`${f.name}: whether the CUSTOM policies apply is undecided; --ext-authz was assumed to apply`);
    return r;
  }
  r.decision = 'UNDECIDED';
  r.reason = `${by}the external authorizer${svc} decides at run time (pass --ext-authz allow|deny)`;
  r.uncertain.push(`${f.name}: ${r.reason}`);
  return r;
}

/**
 * Runs the chain's authorization filters in order, as Envoy does: each RBAC filter (rules enforced,
 * shadow rules only reported), each ext_authz; the first denial ends the request.
 */
export function decideChain(filters: AuthzFilter[], ctx: AuthzContext, identity: SourceIdentity): ChainResult {
  const results: FilterResult[] = [];
  let denied: FilterResult | null = null;
  const notReached: string[] = [];
  for (const f of filters) {
    if (denied) {
      notReached.push(f.name);
      continue;
    }
    const r = f.type === 'rbac' ? rbacResult(f, ctx) : extAuthzResult(f, ctx, identity);
    results.push(r);
    if (r.decision === 'DENY') denied = r;
  }
  return { results, verdict: verdictFor(results, denied), notReached };
}

function verdictFor(results: FilterResult[], denied: FilterResult | null): AuthzVerdict {
  const open = results.filter((r) => r.decision === 'UNDECIDED');
  const pick = (r: FilterResult, decision: Decision, reason = r.reason): AuthzVerdict => ({ decision, policy: r.policy, authorizationPolicy: r.authorizationPolicy, filter: r.filter, reason });
  if (denied) {
    const before = open.filter((r) => results.indexOf(r) < results.indexOf(denied));
    return pick(denied, 'DENY', before.length ? `${denied.reason} (an earlier filter, ${before.map((r) => r.filter).join(', ')}, is undecided and may deny it first)` : denied.reason);
  }
  if (open.length) return pick(open[0], 'UNDECIDED');
  if (results.length === 0) return { decision: 'ALLOW', policy: null, authorizationPolicy: null, filter: null, reason: 'no RBAC or ext_authz filter on this path: nothing restricts the request' };
  const allowedBy = [...results].reverse().find((r) => r.policy !== null && (r.action === 'ALLOW' || r.action === 'CUSTOM'));
  if (allowedBy) return pick(allowedBy, 'ALLOW');
  const last = results[results.length - 1];
  return pick(last, 'ALLOW', results.map((r) => r.reason).join('; '));
}

export { permissionTri, principalTri };
