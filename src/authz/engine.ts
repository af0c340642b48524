import { matchHeaderValue } from '../match/header.js';
import { cidrOf, inCidr, parseIp } from '../match/ip.js';
import { tryCompileRe2 } from '../match/re2.js';
import { matchString, type Json } from '../match/string.js';
import { compileUriTemplate, UriTemplateError } from '../match/uri-template.js';
import type { AuthzContext } from './context.js';

/**
 * Envoy's RBAC matchers (envoy.config.rbac.v3 Permission and Principal) with Envoy's semantics, over
 * three values: true, false, and undefined when meshctl cannot tell (an unknown matcher kind, a fact the
 * user did not give, a regex RE2 would take but we cannot reproduce). and/or/not follow Kleene's logic, so
 * an unknown part only leaves the answer open when it could change it — never a silent allow.
 */
export type Tri = boolean | undefined;

/** Why a matcher came out undefined; collected only when explaining (the fast path does not allocate). */
export type Unknowns = string[] | null;

const and = (parts: Tri[]): Tri => (parts.some((p) => p === false) ? false : parts.some((p) => p === undefined) ? undefined : true);

function all(items: Json[], f: (x: Json) => Tri): Tri {
  let open = false;
  for (const x of items) {
    const v = f(x);
    if (v === false) return false;
    if (v === undefined) open = true;
  }
  return open ? undefined : true;
}

function any(items: Json[], f: (x: Json) => Tri): Tri {
  let open = false;
  for (const x of items) {
    const v = f(x);
    if (v === true) return true;
    if (v === undefined) open = true;
  }
  return open ? undefined : false;
}

const not = (v: Tri): Tri => (v === undefined ? undefined : !v);
const list = (x: Json): Json[] => (Array.isArray(x) ? x : []);

function unknown(u: Unknowns, why: string): undefined {
  if (u && !u.includes(why)) u.push(why);
  return undefined;
}

/** A string matcher (exact/prefix/suffix/contains/safe_regex, ignore_case): undefined for one we cannot run. */
export function stringTri(m: Json, value: string, u: Unknowns, what: string): Tri {
  // Fast path without explanation strings: a policy set of 10,000 rules runs this a lot.
  if (m != null && typeof m === 'object') {
    const ic = m.ignore_case === true;
    const v = ic ? value.toLowerCase() : value;
    if (typeof m.exact === 'string') return v === (ic ? m.exact.toLowerCase() : m.exact);
    if (typeof m.prefix === 'string') return v.startsWith(ic ? m.prefix.toLowerCase() : m.prefix);
    if (typeof m.suffix === 'string') return v.endsWith(ic ? m.suffix.toLowerCase() : m.suffix);
    if (typeof m.contains === 'string') return v.includes(ic ? m.contains.toLowerCase() : m.contains);
    if (m.safe_regex && typeof m.safe_regex.regex === 'string') {
      const re = tryCompileRe2(m.safe_regex.regex);
      if (!(re instanceof Error)) return re.fullMatch(value);
    }
  }
  const r = matchString(m, value);
  if (r.uncertain) return unknown(u, `${what}: ${r.reason}`);
  return r.ok;
}

function ipTri(range: Json, ip: string | undefined, u: Unknowns, what: string, hint?: string): Tri {
  const c = cidrOf(range);
  if (ip === undefined) return unknown(u, `${what} unknown${hint ? ` (${hint})` : ''}: cannot tell whether it is in ${c.text}`);
  const p = parseIp(ip);
  if (!p) return unknown(u, `${what} ${ip} is not an IP address`);
  return inCidr(p, c.prefix, c.len);
}

/** The peer principal against a StringMatcher, as Envoy's `authenticated` does (URI SAN first). */
export function peerTri(m: Json | undefined, ctx: AuthzContext, u: Unknowns): Tri {
  if (!ctx.tls) return false; // plaintext: no certificate, no principal
  if (m == null) return true; // any authenticated peer
  if (ctx.peerPrincipal === undefined) return unknown(u, `the source principal is unknown (${ctx.hints?.principal ?? 'pass --source-principal'})`);
  if (ctx.peerPrincipal === null) return stringTri(m, '', u, 'principal');
  return stringTri(m, ctx.peerPrincipal, u, 'principal');
}

function headerTri(h: Json, ctx: AuthzContext, u: Unknowns): Tri {
  // A network filter has no headers: Envoy matches against an empty header map.
  const raw = ctx.header ? ctx.header(String(h?.name ?? '')) : undefined;
  // Fast paths for the forms Istio writes (string_match, present_match), without explanation strings.
  if (h && h.invert_match !== true && h.treat_missing_header_as_empty !== true) {
    if (h.present_match === true) return raw !== undefined;
    if (h.string_match !== undefined) return raw === undefined ? false : stringTri(h.string_match, raw, u, `header ${h.name}`);
  }
  const r = matchHeaderValue(h, raw);
  if (r.uncertain) return unknown(u, r.reason);
  return r.ok;
}

/** Path matchers see the path without query string or fragment. */
function pathOf(ctx: AuthzContext): string | undefined {
  const p = ctx.header?.(':path');
  if (p === undefined) return undefined;
  const q = p.search(/[?#]/);
  return q === -1 ? p : p.slice(0, q);
}

function uriTemplateTri(ext: Json, ctx: AuthzContext, u: Unknowns): Tri {
  const type = String(ext?.typed_config?.['@type'] ?? '');
  if (!/uri_template/.test(type)) return unknown(u, `uri_template extension ${JSON.stringify(type)} is not known to meshctl`);
  const template = String(ext.typed_config.path_template ?? '');
  const path = pathOf(ctx);
  if (path === undefined) return false;
  // A match starts with the template's literal head: most templates of a large policy set end here, uncompiled.
  const head = template.split(/[*{]/, 1)[0];
  if (!path.startsWith(head)) return false;
  const t = compileUriTemplate(template);
  if (t instanceof UriTemplateError) return unknown(u, t.message);
  return t.fullMatch(path);
}

/** Walks a Struct by keys; undefined when a key is missing. */
function structPath(root: Json, path: Json[]): Json {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = cur[String(seg?.key ?? '')];
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** envoy.type.matcher.v3.ValueMatcher over a JSON value (Struct values: null, number, string, bool, list, struct). */
export function valueTri(vm: Json, v: Json, u: Unknowns): Tri {
  if (vm == null) return unknown(u, 'value matcher without a pattern');
  if ('null_match' in vm) return v === null;
  if ('present_match' in vm) return (v !== undefined) === (vm.present_match === true);
  if (v === undefined) return false;
  if ('string_match' in vm) return typeof v === 'string' ? stringTri(vm.string_match, v, u, 'metadata value') : false;
  if ('bool_match' in vm) return typeof v === 'boolean' && v === vm.bool_match;
  if ('double_match' in vm) {
    if (typeof v !== 'number') return false;
    const d = vm.double_match;
    if ('exact' in d) return v === Number(d.exact);
    if ('range' in d) return v >= Number(d.range.start ?? -Infinity) && v < Number(d.range.end ?? Infinity);
    return unknown(u, 'double matcher without exact or range');
  }
  if ('list_match' in vm) {
    if (!Array.isArray(v)) return false;
    const one = vm.list_match?.one_of;
    if (one === undefined) return unknown(u, 'list matcher without one_of');
    return any(v, (item) => valueTri(one, item, u));
  }
  if ('or_match' in vm) return any(list(vm.or_match?.value_matchers), (m) => valueTri(m, v, u));
  return unknown(u, `value matcher ${JSON.stringify(Object.keys(vm).join(','))} is not known to meshctl`);
}

/** envoy.type.matcher.v3.MetadataMatcher over a metadata root (filter namespace → Struct). */
export function metadataTri(mm: Json, root: Json, u: Unknowns): Tri {
  const ns = root?.[String(mm?.filter ?? '')];
  const v = ns === undefined ? undefined : structPath(ns, list(mm?.path));
  const r = valueTri(mm?.value, v, u);
  return mm?.invert === true ? not(r) : r;
}

function sourcedTri(sm: Json, ctx: AuthzContext, u: Unknowns): Tri {
  const source = String(sm?.metadata_source ?? 'DYNAMIC');
  if (source === 'ROUTE') return ctx.routeMetadata == null ? false : metadataTri(sm.metadata_matcher, ctx.routeMetadata.filter_metadata ?? {}, u);
  if (source === 'DYNAMIC') return metadataTri(sm.metadata_matcher, ctx.dynamicMetadata, u);
  return unknown(u, `sourced_metadata source ${source} is not known to meshctl`);
}

function filterStateTri(fs: Json, ctx: AuthzContext, u: Unknowns): Tri {
  const key = String(fs?.key ?? '');
  if (!(key in ctx.filterState)) {
    return unknown(u, `filter state ${key} is not simulated by meshctl`);
  }
  const v = ctx.filterState[key];
  if (v === undefined) return unknown(u, `filter state ${key} is unknown${key === 'io.istio.peer_principal' ? ` (${ctx.hints?.principal ?? 'pass --source-principal'})` : ''}`);
  if (fs.string_match !== undefined) return stringTri(fs.string_match, v, u, `filter state ${key}`);
  return unknown(u, `filter state matcher on ${key} without string_match is not known to meshctl`);
}

function portRange(r: Json, port: number): boolean {
  return port >= Number(r?.start ?? 0) && port < Number(r?.end ?? 0);
}

/** One envoy.config.rbac.v3.Permission. */
export function permissionTri(p: Json, ctx: AuthzContext, u: Unknowns = null): Tri {
  if (p == null || typeof p !== 'object') return unknown(u, 'empty permission');
  if (p.any === true) return true;
  if (p.and_rules) return all(list(p.and_rules.rules), (r) => permissionTri(r, ctx, u));
  if (p.or_rules) return any(list(p.or_rules.rules), (r) => permissionTri(r, ctx, u));
  if (p.not_rule) return not(permissionTri(p.not_rule, ctx, u));
  if (p.header) return headerTri(p.header, ctx, u);
  if (p.url_path) {
    const path = pathOf(ctx);
    if (path === undefined) return false;
    return stringTri(p.url_path.path, path, u, 'url_path');
  }
  if (p.uri_template) return uriTemplateTri(p.uri_template, ctx, u);
  if (p.destination_ip) return ipTri(p.destination_ip, ctx.localIp, u, 'destination IP');
  if ('destination_port' in p) return ctx.localPort === undefined ? unknown(u, 'destination port unknown') : ctx.localPort === Number(p.destination_port);
  if (p.destination_port_range) return ctx.localPort === undefined ? unknown(u, 'destination port unknown') : portRange(p.destination_port_range, ctx.localPort);
  if (p.requested_server_name) return stringTri(p.requested_server_name, ctx.sni, u, 'requested_server_name');
  if (p.metadata) return metadataTri(p.metadata, ctx.dynamicMetadata, u);
  if (p.sourced_metadata) return sourcedTri(p.sourced_metadata, ctx, u);
  if (p.any === false) return unknown(u, 'permission "any: false" is not a valid Envoy matcher');
  return unknown(u, `permission matcher ${JSON.stringify(Object.keys(p).join(','))} is not known to meshctl`);
}

/** One envoy.config.rbac.v3.Principal. */
export function principalTri(p: Json, ctx: AuthzContext, u: Unknowns = null): Tri {
  if (p == null || typeof p !== 'object') return unknown(u, 'empty principal');
  if (p.any === true) return true;
  if (p.and_ids) return all(list(p.and_ids.ids), (r) => principalTri(r, ctx, u));
  if (p.or_ids) return any(list(p.or_ids.ids), (r) => principalTri(r, ctx, u));
  if (p.not_id) return not(principalTri(p.not_id, ctx, u));
  if (p.authenticated) return peerTri(p.authenticated.principal_name, ctx, u);
  if (p.source_ip) return ipTri(p.source_ip, ctx.sourceIp, u, 'source IP', ctx.hints?.ip);
  if (p.direct_remote_ip) return ipTri(p.direct_remote_ip, ctx.directRemoteIp, u, 'source IP', ctx.hints?.ip);
  if (p.remote_ip) return ipTri(p.remote_ip, ctx.remoteIp, u, 'remote IP', ctx.hints?.ip);
  if (p.header) return headerTri(p.header, ctx, u);
  if (p.url_path) {
    const path = pathOf(ctx);
    if (path === undefined) return false;
    return stringTri(p.url_path.path, path, u, 'url_path');
  }
  if (p.metadata) return metadataTri(p.metadata, ctx.dynamicMetadata, u);
  if (p.sourced_metadata) return sourcedTri(p.sourced_metadata, ctx, u);
  if (p.filter_state) return filterStateTri(p.filter_state, ctx, u);
  return unknown(u, `principal matcher ${JSON.stringify(Object.keys(p).join(','))} is not known to meshctl`);
}

/** An RBAC policy: some permission and some principal (and its condition, which meshctl cannot run). */
export function policyTri(policy: Json, ctx: AuthzContext, u: Unknowns = null): Tri {
  // Principals first: usually the more selective side, and cheaper than paths and templates.
  const prin = any(list(policy?.principals), (p) => principalTri(p, ctx, u));
  if (prin === false) return false;
  const perm = any(list(policy?.permissions), (p) => permissionTri(p, ctx, u));
  if (perm === false) return false;
  const cond = policy?.condition !== undefined || policy?.checked_condition !== undefined ? unknown(u, 'the policy has a CEL condition, which meshctl does not evaluate') : true;
  return and([perm, prin, cond]);
}
