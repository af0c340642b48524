import { headerTri as headerMatcherTri } from '../match/header.js';
import { cidrOf, inCidr, parseIp } from '../match/ip.js';
import { metadataTri } from '../match/metadata.js';
import { stringTri, unknown, type Json, type Tri, type Unknowns } from '../match/string.js';
import { compileUriTemplate, UriTemplateError } from '../match/uri-template.js';
import type { AuthzContext } from './context.js';

/**
 * Envoy's RBAC matchers (envoy.config.rbac.v3 Permission and Principal) with Envoy's semantics, over
 * three values: true, false, and undefined when meshctl cannot tell (an unknown matcher kind, a fact the
 * user did not give, a regex RE2 would take but we cannot reproduce). and/or/not follow Kleene's logic, so
 * an unknown part only leaves the answer open when it could change it — never a silent allow.
 */
// The string, header and metadata matchers are src/match's, shared with route matching.
export type { Tri, Unknowns };

const and = (parts: Tri[]): Tri => (parts.some((p) => p === false) ? false : parts.some((p) => p === undefined) ? undefined : true);

const not = (v: Tri): Tri => (v === undefined ? undefined : !v);


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
  return headerMatcherTri(h, ctx.header ? ctx.header(String(h?.name ?? '')) : undefined, u);
}

// The last context's path: matchers ask for it thousands of times per request.
let pathCtx: AuthzContext | null = null;
let pathMemo: string | undefined;

/** Path matchers see the path without query string or fragment (worked out once per request). */
function pathOf(ctx: AuthzContext): string | undefined {
  if (pathCtx === ctx) return pathMemo;
  const p = ctx.header?.(':path');
  const q = p === undefined ? -1 : p.search(/[?#]/);
  pathMemo = p === undefined || q === -1 ? p : p.slice(0, q);
  pathCtx = ctx;
  return pathMemo;
}

/** Does `path` start with the template's literal head (up to its first `*` or `{`)? No allocation. */
function headMatches(template: string, path: string): boolean {
  for (let i = 0; i < template.length; i++) {
    const c = template.charCodeAt(i);
    if (c === 42 /* * */ || c === 123 /* { */) return true;
    if (path.charCodeAt(i) !== c) return false;
  }
  return true;
}

function uriTemplateTri(ext: Json, ctx: AuthzContext, u: Unknowns): Tri {
  const type = ext?.typed_config?.['@type'];
  if (typeof type !== 'string' || !type.includes('uri_template')) return unknown(u, `uri_template extension ${JSON.stringify(type ?? '')} is not known to meshctl`);
  const template = String(ext.typed_config.path_template ?? '');
  const path = pathOf(ctx);
  if (path === undefined) return false;
  // A match starts with the template's literal head: most templates of a large policy set end here, uncompiled.
  if (!headMatches(template, path)) return false;
  const t = compileUriTemplate(template);
  if (t instanceof UriTemplateError) return unknown(u, t.message);
  return t.fullMatch(path);
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

/** Kleene's "and" over a list of permissions or principals. */
function allOf(items: Json, tri: typeof permissionTri, ctx: AuthzContext, u: Unknowns): Tri {
  if (!Array.isArray(items)) return true;
  let open = false;
  for (const x of items) {
    const v = tri(x, ctx, u);
    if (v === false) return false;
    if (v === undefined) open = true;
  }
  return open ? undefined : true;
}

/** Kleene's "or" over a list of permissions or principals. */
function anyOf(items: Json, tri: typeof permissionTri, ctx: AuthzContext, u: Unknowns): Tri {
  if (!Array.isArray(items)) return false;
  let open = false;
  for (const x of items) {
    const v = tri(x, ctx, u);
    if (v === true) return true;
    if (v === undefined) open = true;
  }
  return open ? undefined : false;
}

/*
 * Permission and Principal are protobuf oneofs: the dump sets one field. One walk over the object's keys
 * looks each up in the side's table rather than probing a dozen fields: 10,000 policies run these a lot.
 */
type MatcherTri = (v: Json, ctx: AuthzContext, u: Unknowns) => Tri;

/** The matchers Permission and Principal share (the `any: true` case is handled by the walk). */
const SHARED: Record<string, MatcherTri> = {
  header: (v, ctx, u) => headerTri(v, ctx, u),
  url_path: (v, ctx, u) => urlPathTri(v, ctx, u),
  metadata: (v, ctx, u) => metadataTri(v, ctx.dynamicMetadata, u),
  sourced_metadata: (v, ctx, u) => sourcedTri(v, ctx, u),
};

const PERMISSION: Record<string, MatcherTri> = {
  ...SHARED,
  and_rules: (v, ctx, u) => allOf(v.rules, permissionTri, ctx, u),
  or_rules: (v, ctx, u) => anyOf(v.rules, permissionTri, ctx, u),
  not_rule: (v, ctx, u) => not(permissionTri(v, ctx, u)),
  uri_template: (v, ctx, u) => uriTemplateTri(v, ctx, u),
  destination_ip: (v, ctx, u) => ipTri(v, ctx.localIp, u, 'destination IP'),
  destination_port: (v, ctx, u) => (ctx.localPort === undefined ? unknown(u, 'destination port unknown') : ctx.localPort === Number(v)),
  destination_port_range: (v, ctx, u) => (ctx.localPort === undefined ? unknown(u, 'destination port unknown') : portRange(v, ctx.localPort)),
  requested_server_name: (v, ctx, u) => stringTri(v, ctx.sni, u, 'requested_server_name'),
};

const PRINCIPAL: Record<string, MatcherTri> = {
  ...SHARED,
  and_ids: (v, ctx, u) => allOf(v.ids, principalTri, ctx, u),
  or_ids: (v, ctx, u) => anyOf(v.ids, principalTri, ctx, u),
  not_id: (v, ctx, u) => not(principalTri(v, ctx, u)),
  authenticated: (v, ctx, u) => peerTri(v.principal_name, ctx, u),
  source_ip: (v, ctx, u) => ipTri(v, ctx.sourceIp, u, 'source IP', ctx.hints?.ip),
  direct_remote_ip: (v, ctx, u) => ipTri(v, ctx.directRemoteIp, u, 'source IP', ctx.hints?.ip),
  remote_ip: (v, ctx, u) => ipTri(v, ctx.remoteIp, u, 'remote IP', ctx.hints?.ip),
  filter_state: (v, ctx, u) => filterStateTri(v, ctx, u),
};

/** The first set field the side knows decides; `any: true` matches; nothing known leaves it open. */
function oneofTri(p: Json, table: Record<string, MatcherTri>, side: 'permission' | 'principal', ctx: AuthzContext, u: Unknowns): Tri {
  if (p == null || typeof p !== 'object') return unknown(u, `empty ${side}`);
  for (const k in p) {
    const v = p[k];
    if (v == null || v === false) continue;
    if (k === 'any') {
      if (v === true) return true;
      continue;
    }
    const tri = Object.hasOwn(table, k) ? table[k] : undefined;
    if (tri) return tri(v, ctx, u);
  }
  if (side === 'permission' && p.any === false) return unknown(u, 'permission "any: false" is not a valid Envoy matcher');
  return unknown(u, `${side} matcher ${JSON.stringify(Object.keys(p).join(','))} is not known to meshctl`);
}

/** One envoy.config.rbac.v3.Permission. */
export function permissionTri(p: Json, ctx: AuthzContext, u: Unknowns = null): Tri {
  return oneofTri(p, PERMISSION, 'permission', ctx, u);
}

/** One envoy.config.rbac.v3.Principal. */
export function principalTri(p: Json, ctx: AuthzContext, u: Unknowns = null): Tri {
  return oneofTri(p, PRINCIPAL, 'principal', ctx, u);
}

function urlPathTri(m: Json, ctx: AuthzContext, u: Unknowns): Tri {
  const path = pathOf(ctx);
  if (path === undefined) return false;
  return stringTri(m.path, path, u, 'url_path');
}

/** An RBAC policy: some permission and some principal (and its condition, which meshctl cannot run). */
export function policyTri(policy: Json, ctx: AuthzContext, u: Unknowns = null): Tri {
  // Principals first: usually the more selective side, and cheaper than paths and templates.
  const prin = anyOf(policy?.principals, principalTri, ctx, u);
  if (prin === false) return false;
  const perm = anyOf(policy?.permissions, permissionTri, ctx, u);
  if (perm === false) return false;
  const cond = policy?.condition !== undefined || policy?.checked_condition !== undefined ? unknown(u, 'the policy has a CEL condition, which meshctl does not evaluate') : true;
  return and([perm, prin, cond]);
}
