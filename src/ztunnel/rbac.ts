import type { Decision } from '../authz/context.js';
import { inCidr, parseIp } from '../match/ip.js';
import type { ApplicablePolicies } from './model.js';
import type { RbacMatch, ServiceAccountMatch, StringMatch, ZtunnelPolicy } from './types.js';

/**
 * ztunnel's L4 authorization (istio/ztunnel src/rbac.rs and the state's assert_rbac), decided offline for
 * a connection to a workload.
 *
 * Why not Envoy's RBAC engine of src/authz: ztunnel's policies are not Envoy policies. A rule is a list of
 * clauses that must all hold (one per `from`, `to` and `when` of the AuthorizationPolicy), a clause a list
 * of match groups of which one must hold; a match group that is empty is skipped (it never holds, where
 * Envoy's `and_rules: []` would be `any`); namespaces and service accounts are compared with the peer
 * identity's parts, not with a regex over the principal; principals are compared without `spiffe://`.
 * Mapping them onto Istio's rule model would change these edges, so this is the small decision on top of
 * the shared IP matcher, with the same three-valued logic as src/authz (undefined: a fact the user did not
 * give; it only makes the verdict UNDECIDED where it could change it).
 *
 * The decision (assert_rbac): the policies of the workload's namespace, the global ones and those naming
 * the workload; a DENY policy that matches denies; else, without ALLOW policies, the connection is allowed;
 * else it is allowed iff an ALLOW policy matches. Dry-run policies (`dryRun`, Istio's `istio.io/dry-run`,
 * ztunnel 1.29 and later) are evaluated and reported, never enforced. A policy named by the workload but
 * absent from the dump is skipped, as ztunnel skips it (with a warning).
 */

type Tri = boolean | undefined;

/** The connection as ztunnel's inbound sees it. */
export interface L4Connection {
  /** The peer's SPIFFE identity (`spiffe://TD/ns/NS/sa/SA`); null without one (plaintext); undefined: unknown. */
  srcIdentity: string | null | undefined;
  /** The peer address (the client pod, or the waypoint); undefined: unknown. */
  srcIp: string | undefined;
  /** The destination workload's address and the port the connection is for (the target port). */
  dstIp: string;
  dstPort: number | undefined;
  /** How the unknowns could be given, for the reasons. */
  hints?: { identity?: string; ip?: string; port?: string };
}

/** One policy's outcome for the connection. */
export interface PolicyOutcome {
  /** `namespace/name` */
  key: string;
  name: string;
  namespace: string;
  action: 'ALLOW' | 'DENY';
  /** Why it applies: Global (root namespace), Namespace, WorkloadSelector. */
  scope: string;
  dryRun: boolean;
  matched: Tri;
  /** The first rule that matches, or (not matching) the nearest rule. */
  rule: number | null;
  /** matched: the parts that hold; not matched: what the nearest rule lacked; undecided: the unknowns. */
  why: string[];
}

export interface L4Verdict {
  decision: Decision;
  /** `namespace/name` of the deciding policy, or null (no policy decided: default allow, no ALLOW matched). */
  policy: string | null;
  reason: string;
  deny: PolicyOutcome[];
  allow: PolicyOutcome[];
  dryRun: PolicyOutcome[];
  /** What a dry-run policy would have done ("would deny"), one line each. */
  dryRunNotes: string[];
  /** Names in the workload's authorizationPolicies with no policy in the dump (skipped, as ztunnel does). */
  missing: string[];
  uncertain: string[];
}

const and3 = (xs: Tri[]): Tri => (xs.some((x) => x === false) ? false : xs.some((x) => x === undefined) ? undefined : true);
const or3 = (xs: Tri[]): Tri => (xs.some((x) => x === true) ? true : xs.some((x) => x === undefined) ? undefined : false);

/** The identity's parts, as ztunnel's Identity::Spiffe holds them. */
export function spiffeParts(id: string): { trustDomain: string; namespace: string; serviceAccount: string } | null {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id);
  return m ? { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] } : null;
}

/** A StringMatch in the AuthorizationPolicy's own syntax: `v`, `v*`, `*v`, `*`. */
export function stringMatchText(m: StringMatch): string {
  if ('Exact' in m) return String(m.Exact);
  if ('Prefix' in m) return `${m.Prefix}*`;
  if ('Suffix' in m) return `*${m.Suffix}`;
  if ('Presence' in m) return '*';
  return `?${Object.keys(m as object).join(',')}`;
}

function stringMatches(m: StringMatch, check: string): Tri {
  if ('Exact' in m) return check === m.Exact;
  if ('Prefix' in m) return check.startsWith(m.Prefix);
  if ('Suffix' in m) return check.endsWith(m.Suffix);
  if ('Presence' in m) return check !== '';
  return undefined;
}

function cidrHolds(cidr: string, ip: string | undefined): Tri {
  if (ip === undefined) return undefined;
  const addr = parseIp(ip);
  const [prefix, len] = cidr.split('/');
  const p = parseIp(prefix);
  if (!addr || !p) return false;
  return inCidr(addr, prefix, len === undefined ? (p.family === 4 ? 32 : 128) : Number(len));
}

/** One kind of match (namespaces, principals, …): its positive and negative lists, and how an element is checked. */
interface Kind {
  /** The AuthorizationPolicy's name for it. */
  field: string;
  notField: string;
  positive: keyof RbacMatch;
  negative: keyof RbacMatch;
  text(v: unknown): string;
  holds(v: unknown, c: L4Connection): Tri;
  /** What the connection has, in words. */
  observed(c: L4Connection): string;
  hint(c: L4Connection): string | undefined;
}

const identityWords = (c: L4Connection, what: (p: NonNullable<ReturnType<typeof spiffeParts>>, id: string) => string): string => {
  if (c.srcIdentity === undefined) return 'the unknown source identity';
  if (c.srcIdentity === null) return 'a peer without an identity (plaintext)';
  const p = spiffeParts(c.srcIdentity);
  return p ? what(p, c.srcIdentity) : `identity ${c.srcIdentity}`;
};

// The order ztunnel checks them in (rbac.rs), which is also the order of the explanations.
const KINDS: Kind[] = [
  {
    field: 'destination.ip',
    notField: 'destination.ip (notValues)',
    positive: 'destinationIps',
    negative: 'notDestinationIps',
    text: (v) => String(v),
    holds: (v, c) => cidrHolds(String(v), c.dstIp),
    observed: (c) => `destination IP ${c.dstIp}`,
    hint: () => undefined,
  },
  {
    field: 'ipBlocks',
    notField: 'notIpBlocks',
    positive: 'sourceIps',
    negative: 'notSourceIps',
    text: (v) => String(v),
    holds: (v, c) => cidrHolds(String(v), c.srcIp),
    observed: (c) => (c.srcIp === undefined ? 'the unknown source IP' : `source IP ${c.srcIp}`),
    hint: (c) => c.hints?.ip,
  },
  {
    field: 'ports',
    notField: 'notPorts',
    positive: 'destinationPorts',
    negative: 'notDestinationPorts',
    text: (v) => String(v),
    holds: (v, c) => (c.dstPort === undefined ? undefined : Number(v) === c.dstPort),
    observed: (c) => (c.dstPort === undefined ? 'the unknown port' : `port ${c.dstPort}`),
    hint: (c) => c.hints?.port,
  },
  {
    field: 'serviceAccounts',
    notField: 'notServiceAccounts',
    positive: 'serviceAccounts',
    negative: 'notServiceAccounts',
    text: (v) => `${(v as ServiceAccountMatch).namespace}/${(v as ServiceAccountMatch).serviceAccount}`,
    holds: (v, c) => {
      if (c.srcIdentity === undefined) return undefined;
      const p = c.srcIdentity === null ? null : spiffeParts(c.srcIdentity);
      const m = v as ServiceAccountMatch;
      return p !== null && p.namespace === m.namespace && p.serviceAccount === m.serviceAccount;
    },
    observed: (c) => identityWords(c, (p) => `service account ${p.namespace}/${p.serviceAccount}`),
    hint: (c) => c.hints?.identity,
  },
  {
    field: 'principals',
    notField: 'notPrincipals',
    positive: 'principals',
    negative: 'notPrincipals',
    text: (v) => stringMatchText(v as StringMatch),
    holds: (v, c) => {
      if (c.srcIdentity === undefined) return undefined;
      // Istio's principals carry no spiffe:// prefix: ztunnel strips it, and fails without it.
      const id = c.srcIdentity ?? '';
      if (!id.startsWith('spiffe://')) return false;
      return stringMatches(v as StringMatch, id.slice('spiffe://'.length));
    },
    observed: (c) => identityWords(c, (_p, id) => `principal ${id.slice('spiffe://'.length)}`),
    hint: (c) => c.hints?.identity,
  },
  {
    field: 'namespaces',
    notField: 'notNamespaces',
    positive: 'namespaces',
    negative: 'notNamespaces',
    text: (v) => stringMatchText(v as StringMatch),
    holds: (v, c) => {
      if (c.srcIdentity === undefined) return undefined;
      const ns = c.srcIdentity === null ? '' : (spiffeParts(c.srcIdentity)?.namespace ?? '');
      return stringMatches(v as StringMatch, ns);
    },
    observed: (c) => identityWords(c, (p) => `source namespace ${p.namespace}`),
    hint: (c) => c.hints?.identity,
  },
];

const list = (m: RbacMatch, k: keyof RbacMatch): unknown[] => {
  const v = m[k];
  return Array.isArray(v) ? v : [];
};

const KNOWN_FIELDS = new Set<string>(KINDS.flatMap((k) => [k.positive, k.negative]));

/**
 * Fields of a match group meshctl does not know, with a value. ztunnel writes its own RbacMatch, empty
 * lists left out: such a field is one a newer (or forked) ztunnel checks, so it is not ignored.
 */
function unknownFields(m: RbacMatch): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const k in m) {
    if (KNOWN_FIELDS.has(k)) continue;
    const v = (m as Record<string, unknown>)[k];
    if (v == null || v === false || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out.push([k, v]);
  }
  return out;
}

const unknownText = ([k, v]: [string, unknown]) => `${k} ${Array.isArray(v) ? `[${v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')}]` : JSON.stringify(v)}`;

function groupIsEmpty(m: RbacMatch): boolean {
  return KINDS.every((k) => list(m, k.positive).length === 0 && list(m, k.negative).length === 0) && unknownFields(m).length === 0;
}

interface GroupEval {
  v: Tri;
  holding: string[];
  failing: string[];
  open: string[];
}

/** One match group: every kind present must hold (any of its values; none of its not-values). */
function evalGroup(m: RbacMatch, c: L4Connection): GroupEval {
  const out: GroupEval = { v: true, holding: [], failing: [], open: [] };
  const parts: Tri[] = [];
  for (const k of KINDS) {
    for (const neg of [false, true]) {
      const values = list(m, neg ? k.negative : k.positive);
      if (!values.length) continue;
      const any = or3(values.map((v) => k.holds(v, c)));
      const v: Tri = any === undefined ? undefined : neg ? !any : any;
      parts.push(v);
      const name = `${neg ? k.notField : k.field} [${values.map(k.text).join(', ')}]`;
      const what = k.observed(c);
      if (v === undefined) out.open.push(`cannot tell whether ${what} is in ${name}${k.hint(c) ? ` (${k.hint(c)})` : ''}`);
      else if (v) out.holding.push(`${what} is ${neg ? 'not ' : ''}in ${name}`);
      else out.failing.push(neg ? `${what} is in ${name}` : `${what} is not in ${name}`);
    }
  }
  for (const f of unknownFields(m)) {
    parts.push(undefined);
    out.open.push(`match field ${unknownText(f)} is not known to meshctl: cannot tell whether it holds`);
  }
  out.v = and3(parts);
  return out;
}

interface ClauseEval {
  v: Tri;
  words: GroupEval;
  /** 2 per failing part, 1 per unknown, for the nearest rule. */
  distance: number;
}

/** A clause: one of its (non-empty) match groups must hold; a clause without groups holds. */
function evalClause(groups: RbacMatch[], c: L4Connection): ClauseEval {
  if (groups.length === 0) return { v: true, words: { v: true, holding: [], failing: [], open: [] }, distance: 0 };
  let best: ClauseEval | null = null;
  const vs: Tri[] = [];
  for (const g of groups) {
    if (!g || typeof g !== 'object' || groupIsEmpty(g)) {
      // rbac.rs: an empty match group is skipped, it never matches
      vs.push(false);
      const e = { v: false, words: { v: false, holding: [], failing: ['an empty match group, which ztunnel never matches'], open: [] }, distance: 2 } as ClauseEval;
      if (!best) best = e;
      continue;
    }
    const w = evalGroup(g, c);
    vs.push(w.v);
    const e: ClauseEval = { v: w.v, words: w, distance: w.failing.length * 2 + w.open.length };
    if (!best || (best.v !== true && (w.v === true || e.distance < best.distance))) best = e;
  }
  return { ...best!, v: or3(vs) };
}

interface RuleEval {
  v: Tri;
  holding: string[];
  failing: string[];
  open: string[];
  distance: number;
}

function evalRule(rule: RbacMatch[][], c: L4Connection): RuleEval {
  const clauses = (Array.isArray(rule) ? rule : []).map((cl) => evalClause(Array.isArray(cl) ? cl : [], c));
  return {
    v: and3(clauses.map((x) => x.v)),
    holding: clauses.flatMap((x) => (x.v === true ? x.words.holding : [])),
    failing: clauses.flatMap((x) => (x.v === false ? x.words.failing : [])),
    open: clauses.flatMap((x) => (x.v === undefined ? x.words.open : [])),
    distance: clauses.reduce((n, x) => n + (x.v === true ? 0 : x.distance), 0),
  };
}

/** A policy: one of its rules must hold; a policy without rules never matches. */
export function evalPolicy(p: ZtunnelPolicy, c: L4Connection): Omit<PolicyOutcome, 'scope' | 'key' | 'name' | 'namespace' | 'action' | 'dryRun'> {
  const rules = Array.isArray(p.rules) ? p.rules : [];
  if (rules.length === 0) return { matched: false, rule: null, why: ['a policy without rules matches nothing'] };
  const evals = rules.map((r) => evalRule(r, c));
  const hit = evals.findIndex((e) => e.v === true);
  if (hit >= 0) {
    const e = evals[hit];
    return { matched: true, rule: hit, why: e.holding.length ? e.holding : ['an empty rule, which matches every connection'] };
  }
  const open = evals.map((e, i) => ({ e, i })).filter((x) => x.e.v === undefined);
  if (open.length) return { matched: undefined, rule: open[0].i, why: [...new Set(open.flatMap((x) => x.e.open))] };
  let near = 0;
  evals.forEach((e, i) => {
    if (e.distance < evals[near].distance) near = i;
  });
  return { matched: false, rule: near, why: evals[near].failing };
}

function outcome(p: ZtunnelPolicy, c: L4Connection): PolicyOutcome & { unknownAction?: string } {
  const a = String(p.action).toLowerCase();
  const action = a === 'deny' ? 'DENY' : 'ALLOW';
  const o = { key: `${p.namespace}/${p.name}`, name: p.name, namespace: p.namespace, action, scope: String(p.scope), dryRun: p.dryRun === true, ...evalPolicy(p, c) } as const;
  // ztunnel's RbacAction is Allow or Deny; anything else is a newer ztunnel's, and not guessed as ALLOW.
  return a === 'allow' || a === 'deny' ? o : { ...o, unknownAction: String(p.action) };
}

const label = (o: PolicyOutcome) => `${o.key}${o.rule !== null ? ` rule ${o.rule}` : ''}`;

/**
 * The policies in the order ztunnel chains them (namespace, global, then the workload's own), each once.
 * ztunnel keeps the first two in hash sets, so the order among them is not defined: the verdict does not
 * depend on it, only which of several matching DENY policies is named.
 */
export function orderedPolicies(a: ApplicablePolicies): ZtunnelPolicy[] {
  const seen = new Set<ZtunnelPolicy>();
  return [...a.namespace, ...a.global, ...a.selector].filter((p) => (seen.has(p) ? false : (seen.add(p), true)));
}

/** assert_rbac, decided for the connection. */
export function decideL4(applicable: ApplicablePolicies, c: L4Connection): L4Verdict {
  const every = orderedPolicies(applicable).map((p) => outcome(p, c));
  const odd = every.filter((o) => o.unknownAction !== undefined && !o.dryRun);
  const all = every.filter((o) => o.unknownAction === undefined);
  const deny = all.filter((o) => o.action === 'DENY' && !o.dryRun);
  const allow = all.filter((o) => o.action === 'ALLOW' && !o.dryRun);
  const dryRun = all.filter((o) => o.dryRun);
  const v: L4Verdict = { decision: 'ALLOW', policy: null, reason: '', deny, allow, dryRun, dryRunNotes: [], missing: applicable.missing, uncertain: [] };
  const undecided = (os: PolicyOutcome[]) => os.filter((o) => o.matched === undefined);
  for (const o of undecided([...deny, ...allow])) v.uncertain.push(`ztunnel policy ${label(o)}: ${o.why.join('; ') || 'undecided'}`);

  const denyHit = deny.find((o) => o.matched === true);
  const denyOpen = undecided(deny);
  const allowHit = allow.find((o) => o.matched === true);
  const allowOpen = undecided(allow);
  if (denyHit) {
    v.decision = 'DENY';
    v.policy = denyHit.key;
    v.reason = `${label(denyHit)} matches: the DENY policy denies the connection`;
    v.uncertain = [];
  } else if (allow.length === 0) {
    v.decision = denyOpen.length ? 'UNDECIDED' : 'ALLOW';
    v.reason = denyOpen.length
      ? `${denyOpen.length} DENY polic${denyOpen.length === 1 ? 'y' : 'ies'} cannot be decided offline; no ALLOW policy applies, so it is allowed unless one of them matches`
      : deny.length
        ? `no DENY policy matches (${deny.length} checked) and no ALLOW policy applies to the workload: allowed`
        : 'no policy applies to the workload: allowed (ztunnel allows by default)';
  } else if (allowHit) {
    v.decision = denyOpen.length ? 'UNDECIDED' : 'ALLOW';
    v.policy = denyOpen.length ? null : allowHit.key;
    v.reason = denyOpen.length
      ? `${label(allowHit)} allows it, unless one of ${denyOpen.length} undecided DENY polic${denyOpen.length === 1 ? 'y' : 'ies'} matches`
      : `${label(allowHit)} matches: the ALLOW policy allows the connection${deny.length ? ` (no DENY policy matches, ${deny.length} checked)` : ''}`;
  } else if (allowOpen.length) {
    v.decision = 'UNDECIDED';
    v.reason = `${allowOpen.length} ALLOW polic${allowOpen.length === 1 ? 'y' : 'ies'} cannot be decided offline, and no other matches`;
  } else {
    // No ALLOW policy matches: denied whatever an undecided DENY policy would say.
    v.decision = 'DENY';
    v.reason = `no ALLOW policy matches (${allow.length} checked): denied${denyOpen.length ? ' (whatever the undecided DENY policies say)' : ''}`;
    v.uncertain = [];
  }

  // A policy of an unknown action decides nothing by itself, but may change the verdict: it stays open
  // unless a DENY matched, or it does not match and an ALLOW does (then no action of it would matter).
  if (odd.length && !denyHit && !(allowHit && odd.every((o) => o.matched === false))) {
    v.decision = 'UNDECIDED';
    v.policy = null;
    v.reason = `${odd.map((o) => `${o.key} has action ${o.unknownAction}`).join('; ')}, which meshctl does not know: it cannot tell what ${odd.length === 1 ? 'it does' : 'they do'} to the connection`;
    v.uncertain.push(`ztunnel: ${v.reason}`);
  }

  const dryDeny = dryRun.filter((o) => o.action === 'DENY');
  const dryAllow = dryRun.filter((o) => o.action === 'ALLOW');
  for (const o of dryDeny) {
    if (o.matched === true) v.dryRunNotes.push(`dry-run: ${label(o)} matches: the DENY policy would deny the connection if enforced`);
    else if (o.matched === undefined) v.dryRunNotes.push(`dry-run: ${o.key} is undecided (${o.why.join('; ')})`);
  }
  if (dryAllow.length) {
    const hit = dryAllow.find((o) => o.matched === true);
    if (hit) v.dryRunNotes.push(`dry-run: ${label(hit)} matches: the ALLOW policy would allow the connection`);
    else if (dryAllow.some((o) => o.matched === undefined)) v.dryRunNotes.push(`dry-run: the ALLOW policies ${dryAllow.map((o) => o.key).join(', ')} are undecided`);
    else if (allow.length === 0) v.dryRunNotes.push(`dry-run: no dry-run ALLOW policy matches (${dryAllow.map((o) => o.key).join(', ')}): enforcing them would deny the connection`);
    else v.dryRunNotes.push(`dry-run: no dry-run ALLOW policy matches (${dryAllow.map((o) => o.key).join(', ')})`);
  }
  return v;
}

/** The nearest ALLOW rules that did not match, with what each lacked (for "no ALLOW policy matches"). */
export function nearestAllow(v: L4Verdict, max = 5): { name: string; reason: string }[] {
  return v.allow
    .filter((o) => o.matched === false)
    .slice(0, max)
    .map((o) => ({ name: label(o), reason: o.why.join('; ') || 'does not match' }));
}

/** A policy's rules in the AuthorizationPolicy's words: per rule, its clauses, per clause its match groups. */
export function policyWords(p: ZtunnelPolicy): string[][][] {
  return (Array.isArray(p.rules) ? p.rules : []).map((rule) =>
    (Array.isArray(rule) ? rule : []).map((clause) =>
      (Array.isArray(clause) ? clause : []).map((g) => {
        if (!g || typeof g !== 'object' || groupIsEmpty(g)) return '(empty: never matches)';
        const parts: string[] = [];
        for (const k of KINDS) {
          for (const neg of [false, true]) {
            const values = list(g, neg ? k.negative : k.positive);
            if (values.length) parts.push(`${neg ? k.notField : k.field} [${values.map(k.text).join(', ')}]`);
          }
        }
        for (const f of unknownFields(g)) parts.push(`${unknownText(f)} (not known to meshctl)`);
        return parts.join(' and ');
      }),
    ),
  );
}
