import { cidrOf } from '../match/ip.js';
import type { Json } from '../match/string.js';
import type { AuthzContext } from './context.js';
import { permissionTri, principalTri, type Tri } from './engine.js';

/**
 * Reads an RBAC policy back as the AuthorizationPolicy rule Istio built it from. Istio turns each rule into
 * permissions (one `and_rules` per `to`, one clause per field: an `or_rules` of its values, or a `not_rule`
 * of them for notValues) and principals (one `and_ids` per `from`). A clause is named after the Istio field
 * its leaves come from (principals, namespaces, methods, paths, ...); a clause meshctl does not recognise is
 * shown in Envoy's terms, never dropped.
 */
export interface Clause {
  /** `principals`, `namespaces`, `methods`, `request.headers[x-user]`, ... or `envoy` for an unrecognised clause. */
  field: string;
  /** Where Istio puts the field: `from` (source), `to` (operation) or `when` (condition). */
  section: 'from' | 'to' | 'when';
  values: string[];
  /** notPrincipals, notMethods, ... (`notValues` in a condition). */
  negated: boolean;
  /** The Envoy matcher, for evaluation and for the unrecognised. */
  node: Json;
  side: 'permission' | 'principal';
}

const SA_REGEX = /^spiffe:\/\/\.\+\/ns\/(.+)\/\(\.\+\/\|\)sa\/(.+)\(\/\.\+\)\?$/;
const NS_REGEX = /^\.\*\/ns\/(.+)\/\.\*$/;
const JWT = 'envoy.filters.http.jwt_authn';

/** A StringMatcher as Istio's value syntax: `v`, `v*`, `*v`, `*`; other regexes as `~regex`. */
export function istioValue(m: Json, strip = ''): string {
  if (m == null) return '*';
  const cut = (s: string) => (strip && s.startsWith(strip) ? s.slice(strip.length) : s);
  if ('exact' in m) return cut(String(m.exact));
  if ('prefix' in m) return cut(String(m.prefix)) + '*';
  if ('suffix' in m) return '*' + String(m.suffix);
  if ('contains' in m) return `*${m.contains}*`;
  if ('safe_regex' in m) {
    const re = String(m.safe_regex?.regex ?? '');
    if (re === '.+' || re === '.*') return '*';
    if (strip && re.startsWith(strip + '.*') && !/[\\[\](){}|+?^$]/.test(re.slice(strip.length + 2))) return '*' + re.slice(strip.length + 2);
    return `~${re}`;
  }
  return `?${Object.keys(m).join(',')}`;
}

/** Istio's old multi-value header regex `^v$|^v,.*|.*,v,.*|.*,v$` (and its `.*` forms) read back as `v`. */
function headerValue(h: Json): string {
  if (h.present_match === true) return '*';
  if (h.string_match) return istioValue(h.string_match);
  if ('exact_match' in h) return String(h.exact_match);
  if ('prefix_match' in h) return `${h.prefix_match}*`;
  if ('suffix_match' in h) return `*${h.suffix_match}`;
  if ('contains_match' in h) return `*${h.contains_match}*`;
  if (h.safe_regex_match) {
    const re = String(h.safe_regex_match.regex ?? '');
    const m = /^\^(.*)\$\|\^\1,\.\*\|\.\*,\1,\.\*\|\.\*,\1\$$/.exec(re);
    if (m) return m[1].replace(/^\.\*/, '*').replace(/\.\*$/, '*');
    return `~${re}`;
  }
  if (h.present_match === false) return '(absent)';
  return `?${Object.keys(h).filter((k) => k !== 'name').join(',')}`;
}

function cidrText(r: Json): string {
  const c = cidrOf(r);
  const full = c.prefix.includes(':') ? 128 : 32;
  return c.len === full ? c.prefix : c.text;
}

function valueMatcherValues(vm: Json): string[] {
  if (vm == null) return ['?'];
  if (vm.string_match) return [istioValue(vm.string_match)];
  if (vm.list_match?.one_of) return valueMatcherValues(vm.list_match.one_of);
  if (vm.or_match) return (vm.or_match.value_matchers ?? []).flatMap(valueMatcherValues);
  if ('present_match' in vm) return [vm.present_match === true ? '*' : '(nothing: present_match false)'];
  if ('bool_match' in vm) return [String(vm.bool_match)];
  if ('double_match' in vm) return [JSON.stringify(vm.double_match)];
  return [`?${Object.keys(vm).join(',')}`];
}

function keys(mm: Json): string[] {
  return (Array.isArray(mm?.path) ? mm.path : []).map((s: Json) => String(s?.key ?? ''));
}

/** One leaf matcher as (Istio field, section, value), or null when it is not one Istio generates. */
function leaf(node: Json, side: 'permission' | 'principal'): { field: string; section: Clause['section']; value: string } | null {
  if (node.authenticated || node.filter_state?.key === 'io.istio.peer_principal') {
    const m = node.authenticated ? node.authenticated.principal_name : node.filter_state.string_match;
    const re = m?.safe_regex?.regex;
    if (typeof re === 'string') {
      const sa = SA_REGEX.exec(re);
      if (sa) return { field: 'serviceAccounts', section: 'from', value: `${sa[1]}/${sa[2]}` };
      const ns = NS_REGEX.exec(re);
      if (ns) return { field: 'namespaces', section: 'from', value: ns[1].replace(/\.\*/g, '*') };
    }
    return { field: 'principals', section: 'from', value: istioValue(m, 'spiffe://') };
  }
  if (node.direct_remote_ip || node.source_ip) return { field: 'ipBlocks', section: 'from', value: cidrText(node.direct_remote_ip ?? node.source_ip) };
  if (node.remote_ip) return { field: 'remoteIpBlocks', section: 'from', value: cidrText(node.remote_ip) };
  if (node.header) {
    const name = String(node.header.name ?? '');
    if (side === 'permission' && name === ':method') return { field: 'methods', section: 'to', value: headerValue(node.header) };
    if (side === 'permission' && name === ':authority') return { field: 'hosts', section: 'to', value: headerValue(node.header) };
    return { field: `request.headers[${name}]`, section: 'when', value: headerValue(node.header) };
  }
  if (node.url_path) return { field: 'paths', section: 'to', value: istioValue(node.url_path.path) };
  if (node.uri_template) return { field: 'paths', section: 'to', value: String(node.uri_template.typed_config?.path_template ?? '?').replace(/\*\*/g, '{**}').replace(/(^|[^{*])\*(?![*}])/g, '$1{*}') };
  if ('destination_port' in node) return { field: 'ports', section: 'to', value: String(node.destination_port) };
  if (node.destination_port_range) return { field: 'ports', section: 'to', value: `${node.destination_port_range.start}-${Number(node.destination_port_range.end) - 1}` };
  if (node.destination_ip) return { field: 'destination.ip', section: 'when', value: cidrText(node.destination_ip) };
  if (node.requested_server_name) return { field: 'connection.sni', section: 'when', value: istioValue(node.requested_server_name) };
  if (node.metadata) {
    const mm = node.metadata;
    const k = keys(mm);
    const v = valueMatcherValues(mm.value).join(', ');
    if (mm.filter === 'istio_authn') {
      if (k[0] === 'request.auth.principal') return { field: 'requestPrincipals', section: 'from', value: v };
      if (k[0] === 'request.auth.claims') return { field: `request.auth.claims[${k.slice(1).join('][')}]`, section: 'when', value: v };
      if (k[0]) return { field: k[0], section: 'when', value: v };
    }
    if (mm.filter === JWT && k[0] === 'payload') {
      if (k.length === 2 && k[1] === 'aud') return { field: 'request.auth.audiences', section: 'when', value: v };
      if (k.length === 2 && k[1] === 'azp') return { field: 'request.auth.presenter', section: 'when', value: v };
      return { field: `request.auth.claims[${k.slice(1).join('][')}]`, section: 'when', value: v };
    }
    return { field: `experimental.${mm.filter}[${k.join('][')}]`, section: 'when', value: v };
  }
  return null;
}

/** The jwt_authn form of requestPrincipals: and_ids of payload.iss and payload.sub. */
function requestPrincipal(node: Json): string | null {
  const ids = node.and_ids?.ids;
  if (!Array.isArray(ids) || ids.length !== 2) return null;
  const [a, b] = ids.map((i: Json) => i?.metadata);
  if (!a || !b || a.filter !== JWT || b.filter !== JWT) return null;
  if (keys(a).join('.') !== 'payload.iss' || keys(b).join('.') !== 'payload.sub') return null;
  const iss = valueMatcherValues(a.value)[0];
  const sub = valueMatcherValues(b.value)[0];
  if (iss === '*' && sub === '*') return '*';
  if (sub === '*') return `${iss}/*`;
  return iss === '*' ? `*/${sub}` : `${iss}/${sub}`;
}

/** The Istio values of a clause's leaves, if they all name the same field. */
function leaves(node: Json, side: 'permission' | 'principal'): { field: string; section: Clause['section']; values: string[] } | null {
  const kids = node.or_rules?.rules ?? node.or_ids?.ids;
  const items: Json[] = Array.isArray(kids) ? kids : [node];
  let field: string | null = null;
  let section: Clause['section'] = 'when';
  const values: string[] = [];
  for (const it of items) {
    const rp = requestPrincipal(it);
    const l = rp !== null ? { field: 'requestPrincipals', section: 'from' as const, value: rp } : leaf(it, side);
    if (!l || (field !== null && l.field !== field)) return null;
    field = l.field;
    section = l.section;
    for (const v of l.value.split(', ')) if (!values.includes(v)) values.push(v);
  }
  return field === null ? null : { field, section, values };
}

/** Splits one permission or principal into Istio's clauses (the parts of its and_rules / and_ids). */
export function clausesOf(node: Json, side: 'permission' | 'principal'): Clause[] {
  const parts: Json[] = node?.and_rules?.rules ?? node?.and_ids?.ids ?? [node];
  const out: Clause[] = [];
  for (const part of parts) {
    if (part?.any === true) continue;
    const inner = part?.not_rule ?? part?.not_id;
    const l = leaves(inner ?? part, side);
    if (l) out.push({ ...l, negated: inner !== undefined, node: part, side });
    else out.push({ field: 'envoy', section: side === 'principal' ? 'from' : 'to', values: [envoyText(part)], negated: false, node: part, side });
  }
  return out;
}

/** A matcher in Envoy's own terms, short. */
export function envoyText(node: Json): string {
  const s = JSON.stringify(node);
  return s.length > 160 ? s.slice(0, 157) + '...' : s;
}

const NOT: Record<string, string> = {
  principals: 'notPrincipals',
  namespaces: 'notNamespaces',
  serviceAccounts: 'notServiceAccounts',
  ipBlocks: 'notIpBlocks',
  remoteIpBlocks: 'notRemoteIpBlocks',
  requestPrincipals: 'notRequestPrincipals',
  methods: 'notMethods',
  paths: 'notPaths',
  hosts: 'notHosts',
  ports: 'notPorts',
};

export function fieldName(c: Clause): string {
  if (!c.negated) return c.field;
  return NOT[c.field] ?? `${c.field} (notValues)`;
}

/** What the request has for a field, in words ("principal spiffe://...", "method POST"). */
export function observed(c: Clause, ctx: AuthzContext): string {
  const f = c.field;
  if (f === 'principals' || f === 'namespaces' || f === 'serviceAccounts') {
    // waypoints match the peer principal the HBONE tunnel carried (filter state), not this connection's TLS
    if (JSON.stringify(c.node).includes('"io.istio.peer_principal"')) {
      const fs = ctx.filterState['io.istio.peer_principal'];
      return fs === undefined ? 'the unknown peer principal' : `principal ${fs}`;
    }
    if (!ctx.tls) return 'the plaintext connection (no principal)';
    if (ctx.peerPrincipal === undefined) return 'the unknown source principal';
    return ctx.peerPrincipal === null ? 'a peer without a principal' : `principal ${ctx.peerPrincipal}`;
  }
  if (f === 'ipBlocks') return ctx.directRemoteIp === undefined ? 'the unknown source IP' : `source IP ${ctx.directRemoteIp}`;
  if (f === 'remoteIpBlocks') return ctx.remoteIp === undefined ? 'the unknown remote IP' : `remote IP ${ctx.remoteIp}`;
  if (f === 'ports') return `port ${ctx.localPort ?? '?'}`;
  if (f === 'destination.ip') return `destination IP ${ctx.localIp ?? '?'}`;
  if (f === 'connection.sni') return ctx.sni ? `SNI ${ctx.sni}` : 'no SNI';
  if (!ctx.header) return `a TCP connection (no HTTP ${f})`;
  if (f === 'methods') return `method ${ctx.header(':method') ?? '?'}`;
  if (f === 'hosts') return `host ${ctx.header(':authority') ?? '?'}`;
  if (f === 'paths') return `path ${(ctx.header(':path') ?? '?').replace(/[?#].*$/, '')}`;
  const h = /^request\.headers\[(.+)\]$/.exec(f);
  if (h) {
    const v = ctx.header(h[1]);
    return v === undefined ? `no ${h[1]} header` : `header ${h[1]}: ${v}`;
  }
  if (f === 'requestPrincipals' || f.startsWith('request.auth.')) {
    const jwt = ctx.dynamicMetadata[JWT]?.payload;
    if (!jwt) return 'a request without a validated JWT';
    if (f === 'requestPrincipals') return `request principal ${jwt.iss ?? '?'}/${jwt.sub ?? '?'}`;
    const claim = /^request\.auth\.claims\[(.+)\]$/.exec(f)?.[1].split('][') ?? [f === 'request.auth.audiences' ? 'aud' : 'azp'];
    let v: Json = jwt;
    for (const k of claim) v = v?.[k];
    return v === undefined ? `no ${claim.join('.')} claim` : `claim ${claim.join('.')} ${JSON.stringify(v)}`;
  }
  return 'the request';
}

/** A clause's verdict for this request. */
export function clauseTri(c: Clause, ctx: AuthzContext, u: string[] | null = null): Tri {
  return c.side === 'permission' ? permissionTri(c.node, ctx, u) : principalTri(c.node, ctx, u);
}

/** Why a clause failed (or held), in the AuthorizationPolicy's words. */
export function clauseWords(c: Clause, ctx: AuthzContext, holds: Tri, u: string[] = []): string {
  const values = `[${c.values.join(', ')}]`;
  if (c.node?.not_rule?.any === true || c.node?.not_id?.any === true) return 'matches no request (an AuthorizationPolicy without rules)';
  if (c.field === 'envoy') return `${holds === false ? 'fails' : holds ? 'holds' : 'undecided'}: ${c.values[0]}${holds === undefined && u.length ? ` (${u.join('; ')})` : ''}`;
  const what = observed(c, ctx);
  const name = fieldName(c);
  const named = c.field === 'principals' && !c.negated ? values : `${name} ${values}`;
  if (holds === undefined) {
    const hint = /^(principals|namespaces|serviceAccounts)$/.test(c.field) ? ctx.hints?.principal : /IpBlocks$/.test(c.field) ? ctx.hints?.ip : undefined;
    return `cannot tell whether ${what} is in ${named} (${hint ?? u.join('; ')})`;
  }
  const inside = c.negated ? !holds : holds;
  if (!inside && /^(no |a request without|a TCP connection)/.test(what)) return `${named} cannot match: ${what}`;
  return `${what} is ${inside ? '' : 'not '}in ${named}`;
}

/** An AuthorizationPolicy rule in words, reconstructed from an RBAC policy (for `authz check -o json|yaml`). */
export interface RuleWords {
  from: { source: Record<string, string[]> }[];
  to: { operation: Record<string, string[]> }[];
  when: { key: string; values?: string[]; notValues?: string[] }[];
  /** Matchers meshctl could not read back as Istio fields, in Envoy's terms. */
  envoy?: string[];
}

export function ruleWords(policy: Json): RuleWords {
  const from: Record<string, string[]>[] = [];
  const to: Record<string, string[]>[] = [];
  const envoy: string[] = [];
  const when = new Map<string, { key: string; values?: string[]; notValues?: string[] }>();
  const collect = (nodes: Json[], side: 'permission' | 'principal', into: Record<string, string[]>[]) => {
    for (const n of nodes) {
      const entry: Record<string, string[]> = {};
      for (const c of clausesOf(n, side)) {
        if (c.field === 'envoy') envoy.push(c.values[0]);
        else if (c.section === 'when') {
          const w = when.get(c.field) ?? { key: c.field };
          if (c.negated) w.notValues = c.values;
          else w.values = c.values;
          when.set(c.field, w);
        } else entry[fieldName(c)] = c.values;
      }
      if (Object.keys(entry).length) into.push(entry);
    }
  };
  collect(Array.isArray(policy?.principals) ? policy.principals : [], 'principal', from);
  collect(Array.isArray(policy?.permissions) ? policy.permissions : [], 'permission', to);
  const out: RuleWords = { from: from.map((source) => ({ source })), to: to.map((operation) => ({ operation })), when: [...when.values()] };
  if (envoy.length) out.envoy = envoy;
  return out;
}
