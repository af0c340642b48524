import { isIP } from 'node:net';
import type { Json } from '../match/string.js';

/**
 * Istio's authorization builder (pilot/pkg/security/authz/builder + model), done offline: the
 * AuthorizationPolicies that apply to a workload become the RBAC and ext_authz filters Istio would push to
 * its proxy, so `authz check --files` and the dump-based trace are decided by the same evaluator.
 *
 * A rule becomes one RBAC policy named `ns[NS]-policy[NAME]-rule[i]`: a permission per `to` (an and_rules
 * of hosts, methods, paths, ports, then the `when` keys that are permissions) and a principal per `from`
 * (an and_ids of principals, requestPrincipals, namespaces, serviceAccounts, remoteIpBlocks, ipBlocks, then
 * the `when` keys that are principals). Each field is an or_rules/or_ids of its values, notValues a
 * not_rule/not_id of them, and an empty list is `any: true`.
 *
 * The rule model (RuleModel) is the plug-in point for other policy forms: ztunnel's L4 policies (principals,
 * namespaces, source IPs, destination ports) map onto the same fields and go through generatePolicy with
 * forTCP set, to be decided by the same engine on a network context.
 */
export interface AuthorizationPolicyDoc {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    action?: string;
    provider?: { name?: string };
    rules?: (RuleDoc | null)[];
    selector?: { matchLabels?: Record<string, string> };
    targetRef?: Json;
    targetRefs?: Json[];
  };
}

export interface RuleDoc {
  from?: { source?: Record<string, string[] | undefined> }[];
  to?: { operation?: Record<string, string[] | undefined> }[];
  when?: { key: string; values?: string[]; notValues?: string[] }[];
}

interface Field {
  key: string;
  values: string[];
  notValues: string[];
}

/** One rule as Istio's model holds it: a list of fields per `from` and per `to`. */
export interface RuleModel {
  principals: Field[][];
  permissions: Field[][];
}

const PERMISSION_KEYS = new Set(['destination.ip', 'destination.port', 'connection.sni', 'any']);
const HTTP_ONLY = /^(hosts|methods|paths|requestPrincipals|request\.auth\.|request\.headers\[)/;

export class PolicyError extends Error {}

/** Istio's model of one rule (model.New): `when` keys are appended after the from/to fields. */
export function ruleModel(rule: RuleDoc): RuleModel {
  const basePerm: Field[] = [];
  const basePrin: Field[] = [];
  for (const w of rule.when ?? []) {
    const f = { key: String(w.key), values: w.values ?? [], notValues: w.notValues ?? [] };
    if (!f.values.length && !f.notValues.length) continue;
    if (PERMISSION_KEYS.has(f.key) || f.key.startsWith('experimental.envoy.filters.')) basePerm.push(f);
    else if (/^(source\.ip|remote\.ip|source\.namespace|source\.principal|source\.serviceAccount|request\.auth\.principal|request\.auth\.audiences|request\.auth\.presenter)$/.test(f.key) || /^request\.(headers|auth\.claims)\[/.test(f.key)) basePrin.push(f);
    else throw new PolicyError(`unknown attribute ${f.key}`);
  }
  const field = (key: string, o: Record<string, string[] | undefined>, name: string): Field | null => {
    const values = o[name] ?? [];
    const notValues = o[`not${name[0].toUpperCase()}${name.slice(1)}`] ?? [];
    return values.length || notValues.length ? { key, values, notValues } : null;
  };
  const principals = (rule.from?.length ? rule.from : [null]).map((from) => {
    const s = from?.source ?? {};
    const front = [
      field('principals', s, 'principals'),
      field('requestPrincipals', s, 'requestPrincipals'),
      field('namespaces', s, 'namespaces'),
      field('serviceAccounts', s, 'serviceAccounts'),
      field('remoteIpBlocks', s, 'remoteIpBlocks'),
      field('ipBlocks', s, 'ipBlocks'),
    ].filter((x): x is Field => x !== null);
    return [...front, ...basePrin];
  });
  const permissions = (rule.to?.length ? rule.to : [null]).map((to) => {
    const o = to?.operation ?? {};
    const front = [field('hosts', o, 'hosts'), field('methods', o, 'methods'), field('paths', o, 'paths'), field('ports', o, 'ports')].filter((x): x is Field => x !== null);
    return [...front, ...basePerm];
  });
  return { principals, permissions };
}

// --- leaf generators (model/generator.go)

function stringMatcher(v: string, prefix = ''): Json {
  if (v === '*') return { safe_regex: { regex: '.+' } };
  if (v.startsWith('*')) return prefix ? { safe_regex: { regex: `${prefix}.*${v.slice(1)}` } } : { suffix: v.slice(1) };
  if (v.endsWith('*')) return { prefix: prefix + v.slice(0, -1) };
  return { exact: prefix + v };
}

function cidr(v: string): Json {
  const [addr, len] = v.split('/');
  if (!isIP(addr) || (len !== undefined && !/^\d+$/.test(len))) throw new PolicyError(`invalid IP address or CIDR ${v}`);
  return { address_prefix: addr, prefix_len: len !== undefined ? Number(len) : isIP(addr) === 6 ? 128 : 32 };
}

function headerMatcher(name: string, v: string, ignoreCase = false): Json {
  if (v === '*') return { name, present_match: true };
  const m = stringMatcher(v);
  return { name, string_match: ignoreCase ? { ...m, ignore_case: true } : m };
}

function bracketed(rest: string): string[] {
  const out: string[] = [];
  const re = /\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(rest))) {
    if (m.index !== at) break;
    out.push(m[1]);
    at = re.lastIndex;
  }
  if (!out.length || at !== rest.length) throw new PolicyError(`invalid key ${rest}: expected [name]`);
  return out;
}

const JWT = 'envoy.filters.http.jwt_authn';
const jwtPath = (claims: string[]) => ['payload', ...claims].map((key) => ({ key }));
const orValues = (values: string[]): Json => (values.length === 1 ? { string_match: stringMatcher(values[0]) } : { or_match: { value_matchers: values.map((v) => ({ string_match: stringMatcher(v) })) } });
/** A claim may be a string or a list of strings in the token: match both, as Istio's extended JWT matcher does. */
const claimValue = (values: string[]): Json => ({ or_match: { value_matchers: [{ list_match: { one_of: orValues(values) } }, orValues(values)] } });

function requestPrincipal(v: string): Json {
  const idx = v.lastIndexOf('/');
  const found = idx >= 0;
  const [iss, sub] = found ? [v.slice(0, idx), v.slice(idx + 1)] : [v, ''];
  const any = { safe_regex: { regex: '.+' } };
  let mi: Json;
  let ms: Json;
  if (v === '*') [mi, ms] = [any, any];
  else if (v.startsWith('*')) [mi, ms] = found ? [iss === '*' ? any : { suffix: iss.slice(1) }, { exact: sub }] : [any, { suffix: v.slice(1) }];
  else if (v.endsWith('*')) [mi, ms] = found ? [{ exact: iss }, sub === '*' ? any : { prefix: sub.slice(0, -1) }] : [{ prefix: v.slice(0, -1) }, any];
  else [mi, ms] = [{ exact: iss }, { exact: sub }];
  const md = (claim: string, m: Json) => ({ metadata: { filter: JWT, path: jwtPath([claim]), value: { string_match: m } } });
  return { and_ids: { ids: [md('iss', mi), md('sub', ms)] } };
}

interface Gen {
  side: 'permission' | 'principal';
  /** One matcher per value (or'ed), or null when the key takes all values at once (extended generators). */
  one?: (v: string) => Json;
  all?: (vs: string[]) => Json;
}

function generator(key: string, policyNs: string, useFilterState: boolean): Gen {
  const authenticated = (m: Json) => (useFilterState ? { filter_state: { key: 'io.istio.peer_principal', string_match: m } } : { authenticated: { principal_name: m } });
  switch (key) {
    case 'principals':
    case 'source.principal':
      return { side: 'principal', one: (v) => authenticated(stringMatcher(v, 'spiffe://')) };
    case 'namespaces':
    case 'source.namespace':
      return { side: 'principal', one: (v) => authenticated({ safe_regex: { regex: `.*/ns/${v.replace(/\*/g, '.*')}/.*` } }) };
    case 'serviceAccounts':
    case 'source.serviceAccount':
      return {
        side: 'principal',
        one: (v) => {
          const [ns, sa] = v.includes('/') ? v.split('/', 2) : [policyNs, v];
          return authenticated({ safe_regex: { regex: `spiffe://.+/ns/${ns}/(.+/|)sa/${sa}(/.+)?` } });
        },
      };
    case 'ipBlocks':
    case 'source.ip':
      return { side: 'principal', one: (v) => ({ direct_remote_ip: cidr(v) }) };
    case 'remoteIpBlocks':
    case 'remote.ip':
      return { side: 'principal', one: (v) => ({ remote_ip: cidr(v) }) };
    case 'requestPrincipals':
    case 'request.auth.principal':
      return { side: 'principal', all: (vs) => (vs.length === 1 ? requestPrincipal(vs[0]) : { or_ids: { ids: vs.map(requestPrincipal) } }) };
    case 'request.auth.audiences':
      return { side: 'principal', all: (vs) => ({ metadata: { filter: JWT, path: jwtPath(['aud']), value: claimValue(vs) } }) };
    case 'request.auth.presenter':
      return { side: 'principal', all: (vs) => ({ metadata: { filter: JWT, path: jwtPath(['azp']), value: claimValue(vs) } }) };
    case 'hosts':
      return { side: 'permission', one: (v) => ({ header: headerMatcher(':authority', v, true) }) };
    case 'methods':
      return { side: 'permission', one: (v) => ({ header: headerMatcher(':method', v) }) };
    case 'paths':
      return {
        side: 'permission',
        one: (v) =>
          /\{\*\*?\}/.test(v)
            ? { uri_template: { name: 'uri-template', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig', path_template: v.replace(/\{\*\*\}/g, '**').replace(/\{\*\}/g, '*') } } }
            : { url_path: { path: stringMatcher(v) } },
      };
    case 'ports':
    case 'destination.port':
      return {
        side: 'permission',
        one: (v) => {
          if (!/^\d+$/.test(v) || Number(v) > 65535) throw new PolicyError(`invalid port ${v}`);
          return { destination_port: Number(v) };
        },
      };
    case 'destination.ip':
      return { side: 'permission', one: (v) => ({ destination_ip: cidr(v) }) };
    case 'connection.sni':
      return { side: 'permission', one: (v) => ({ requested_server_name: stringMatcher(v) }) };
    case 'any':
      return { side: 'permission', one: () => ({ any: true }) };
  }
  if (key.startsWith('request.headers[')) {
    const [name] = bracketed(key.slice('request.headers'.length));
    return { side: 'principal', one: (v) => ({ header: headerMatcher(name, v) }) };
  }
  if (key.startsWith('request.auth.claims[')) {
    const claims = bracketed(key.slice('request.auth.claims'.length));
    return { side: 'principal', all: (vs) => ({ metadata: { filter: JWT, path: jwtPath(claims), value: claimValue(vs) } }) };
  }
  if (key.startsWith('experimental.envoy.filters.')) {
    const m = /^experimental\.(envoy\.filters\.[^[]+)\[([^\]]+)\]$/.exec(key);
    if (!m) throw new PolicyError(`invalid key ${key}`);
    return {
      side: 'permission',
      one: (v) =>
        v.startsWith('[') && v.endsWith(']')
          ? { metadata: { filter: m[1], path: [{ key: m[2] }], value: { list_match: { one_of: { string_match: stringMatcher(v.slice(1, -1)) } } } } }
          : { metadata: { filter: m[1], path: [{ key: m[2] }], value: { string_match: stringMatcher(v) } } },
    };
  }
  throw new PolicyError(`unknown attribute ${key}`);
}

/**
 * The matchers of one field: an or of its values, a not of its notValues. For TCP filter chains an HTTP-only
 * field makes an ALLOW rule disappear (less is allowed) and is dropped from a DENY/AUDIT rule (more is denied).
 */
function fieldMatchers(f: Field, policyNs: string, forTCP: boolean, action: string, useFilterState: boolean): Json[] {
  if (forTCP && HTTP_ONLY.test(f.key)) {
    if (action === 'ALLOW') throw new PolicyError(`"${f.key}" is HTTP only`);
    return [];
  }
  const g = generator(f.key, policyNs, useFilterState);
  const or = g.side === 'permission' ? (xs: Json[]) => ({ or_rules: { rules: xs } }) : (xs: Json[]) => ({ or_ids: { ids: xs } });
  const neg = g.side === 'permission' ? (x: Json) => ({ not_rule: x }) : (x: Json) => ({ not_id: x });
  const out: Json[] = [];
  const build = (vs: string[]) => (g.all ? g.all(vs) : or(vs.map((v) => g.one!(v))));
  if (f.values.length) out.push(build(f.values));
  if (f.notValues.length) out.push(neg(build(f.notValues)));
  return out;
}

/** model.Generate: one RBAC policy for a rule. */
export function generatePolicy(m: RuleModel, policyNs: string, opts: { forTCP: boolean; action: string; useFilterState?: boolean }): Json {
  const fs = opts.useFilterState === true;
  const permissions = m.permissions.map((fields) => {
    const and = fields.flatMap((f) => fieldMatchers(f, policyNs, opts.forTCP, opts.action, fs));
    return { and_rules: { rules: and.length ? and : [{ any: true }] } };
  });
  const principals = m.principals.map((fields) => {
    const and = fields.flatMap((f) => fieldMatchers(f, policyNs, opts.forTCP, opts.action, fs));
    return { and_ids: { ids: and.length ? and : [{ any: true }] } };
  });
  return { permissions, principals };
}

const MATCH_NEVER = { permissions: [{ not_rule: { any: true } }], principals: [{ not_id: { any: true } }] };

export function isDryRun(ap: AuthorizationPolicyDoc): boolean {
  return /^(true|1|t)$/i.test(String(ap.metadata?.annotations?.['istio.io/dry-run'] ?? ''));
}

export interface BuiltFilters {
  /** http_filters to put before the router, in Istio's order: CUSTOM, AUDIT, DENY, ALLOW. */
  http: Json[];
  /** Network filters for TCP filter chains, same order. */
  network: Json[];
  /** Rules Istio would skip, and why. */
  skipped: string[];
}

const T = (t: string) => `type.googleapis.com/${t}`;

/** The RBAC (and ext_authz) filters Istio builds for these policies (already selected for one workload). */
export function buildFilters(policies: AuthorizationPolicyDoc[], opts: { useFilterState?: boolean } = {}): BuiltFilters {
  const skipped: string[] = [];
  const groups: Record<string, AuthorizationPolicyDoc[]> = { CUSTOM: [], AUDIT: [], DENY: [], ALLOW: [] };
  for (const ap of policies) {
    const action = String(ap.spec?.action ?? 'ALLOW').toUpperCase();
    (groups[action] ?? (skipped.push(`${ap.metadata?.name}.${ap.metadata?.namespace}: unknown action ${action}`), [])).push(ap);
  }
  const out: BuiltFilters = { http: [], network: [], skipped };
  for (const forTCP of [false, true]) {
    const list = forTCP ? out.network : out.http;
    const rbacType = forTCP ? T('envoy.extensions.filters.network.rbac.v3.RBAC') : T('envoy.extensions.filters.http.rbac.v3.RBAC');
    const rbacName = forTCP ? 'envoy.filters.network.rbac' : 'envoy.filters.http.rbac';
    const build = (aps: AuthorizationPolicyDoc[], action: string, prefix = (_ap: AuthorizationPolicyDoc) => '') => {
      const rules: Json = { action, policies: {} };
      const shadow: Json = { action, policies: {} };
      let enforce = false;
      let dry = false;
      for (const ap of aps) {
        const ns = String(ap.metadata?.namespace ?? 'default');
        const name = String(ap.metadata?.name ?? '');
        const into = isDryRun(ap) && action !== 'CUSTOM' ? ((dry = true), shadow) : ((enforce = true), rules);
        const rs = ap.spec?.rules ?? [];
        rs.forEach((rule, i) => {
          const id = `${prefix(ap)}ns[${ns}]-policy[${name}]-rule[${i}]`;
          if (rule == null) return skipped.push(`${id}: nil rule`);
          try {
            into.policies[id] = generatePolicy(ruleModel(rule), ns, { forTCP, action: action === 'CUSTOM' ? 'DENY' : action, useFilterState: opts.useFilterState });
          } catch (err) {
            if (!(err instanceof PolicyError)) throw err;
            skipped.push(`${id}${forTCP ? ' on TCP filter chains' : ''}: ${err.message}`);
          }
        });
        if (rs.length === 0) into.policies[`${prefix(ap)}ns[${ns}]-policy[${name}]-rule[0]`] = MATCH_NEVER;
      }
      return { rules: enforce ? rules : null, shadow: dry ? shadow : null };
    };
    // CUSTOM: shadow rules that mark the request for the provider's ext_authz filter, one pair per provider.
    const providers = [...new Set(groups.CUSTOM.map((ap) => String(ap.spec?.provider?.name ?? '')))].sort();
    for (const p of providers) {
      const b = build(groups.CUSTOM.filter((ap) => String(ap.spec?.provider?.name ?? '') === p), 'CUSTOM', () => `istio-ext-authz-${p}-`);
      const shadow = b.rules ? { ...b.rules, action: 'DENY' } : null;
      list.push({ name: rbacName, typed_config: { '@type': rbacType, shadow_rules: shadow, shadow_rules_stat_prefix: 'istio_ext_authz_', ...(forTCP ? { stat_prefix: 'tcp.' } : {}) } });
      list.push({
        name: forTCP ? 'envoy.filters.network.ext_authz' : 'envoy.filters.http.ext_authz',
        typed_config: {
          '@type': forTCP ? T('envoy.extensions.filters.network.ext_authz.v3.ExtAuthz') : T('envoy.extensions.filters.http.ext_authz.v3.ExtAuthz'),
          grpc_service: { envoy_grpc: { cluster_name: `provider ${p}` } },
          filter_enabled_metadata: { filter: rbacName, path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }], value: { string_match: { prefix: `istio-ext-authz-${p}` } } },
        },
      });
    }
    for (const action of ['AUDIT', 'DENY', 'ALLOW'] as const) {
      if (!groups[action].length) continue;
      const envoyAction = action === 'AUDIT' ? 'LOG' : action;
      const b = build(groups[action], envoyAction);
      const cfg: Json = { '@type': rbacType };
      if (b.rules) cfg.rules = b.rules;
      if (b.shadow) {
        cfg.shadow_rules = b.shadow;
        cfg.shadow_rules_stat_prefix = action === 'ALLOW' ? 'istio_dry_run_allow_' : action === 'DENY' ? 'istio_dry_run_deny_' : '';
      }
      if (forTCP) cfg.stat_prefix = 'tcp.';
      list.push({ name: rbacName, typed_config: cfg });
    }
  }
  return out;
}
