import { fraction, fractionHolds, matchHeader, matchMetadata, matchQueryParam, type Json, type Verdict } from './matchers.js';
import { tryCompileRe2 } from './re2.js';
import { firstHeaderValue, pathOnly, portStart, queryParams, type HttpRequest } from './request.js';
import { compileUriTemplate, rewriteUriTemplate } from './uri-template.js';
import { pickWeighted } from './weights.js';

/** Options from the connection manager that change how the Host header is matched. */
export interface HostMatchOptions {
  /** The listener port: strip_matching_host_port removes `:port` from Host when it equals this. */
  listenerPort?: number;
  stripMatchingHostPort?: boolean;
  stripAnyHostPort?: boolean;
  /** strip_trailing_host_dot: `example.com.` is matched as `example.com`. */
  stripTrailingHostDot?: boolean;
}

export interface VirtualHostChoice {
  vhost: Json | null;
  name: string | null;
  /** The domain entry that decided, e.g. `*.svc.cluster.local`, or null. */
  domain: string | null;
  how: 'exact' | 'suffix wildcard' | 'prefix wildcard' | 'catch-all' | null;
  /** The host as matched (lower-cased, port possibly stripped). */
  host: string;
  hostNote: string | null;
  /** Other virtual hosts that also match or nearly match, with why they lost. */
  losers: { name: string; reason: string }[];
}

interface VhIndex {
  exact: Map<string, { vh: Json; domain: string }>;
  /** Wildcard lengths, longest first, each with its suffix/prefix map. */
  suffixes: [number, Map<string, { vh: Json; domain: string }>][];
  prefixes: [number, Map<string, { vh: Json; domain: string }>][];
  any: { vh: Json; domain: string } | null;
}

const vhIndexes = new WeakMap<object, VhIndex>();

/** Built once per RouteConfiguration: Istio's outbound route configs hold thousands of virtual hosts. */
function vhIndex(rc: Json): VhIndex {
  let idx = vhIndexes.get(rc);
  if (idx) return idx;
  const exact = new Map<string, { vh: Json; domain: string }>();
  const suf = new Map<number, Map<string, { vh: Json; domain: string }>>();
  const pre = new Map<number, Map<string, { vh: Json; domain: string }>>();
  let any: VhIndex['any'] = null;
  for (const vh of asArray(rc?.virtual_hosts)) {
    for (const d of asArray<string>(vh?.domains)) {
      const domain = String(d).toLowerCase();
      const entry = { vh, domain: String(d) };
      if (domain === '*') {
        any ??= entry;
      } else if (domain.startsWith('*')) {
        const key = domain.slice(1);
        let m = suf.get(key.length);
        if (!m) suf.set(key.length, (m = new Map()));
        if (!m.has(key)) m.set(key, entry);
      } else if (domain.endsWith('*')) {
        const key = domain.slice(0, -1);
        let m = pre.get(key.length);
        if (!m) pre.set(key.length, (m = new Map()));
        if (!m.has(key)) m.set(key, entry);
      } else if (!exact.has(domain)) {
        exact.set(domain, entry);
      }
    }
  }
  const sorted = (m: Map<number, Map<string, { vh: Json; domain: string }>>) => [...m.entries()].sort((a, b) => b[0] - a[0]);
  idx = { exact, suffixes: sorted(suf), prefixes: sorted(pre), any };
  vhIndexes.set(rc, idx);
  return idx;
}

/** Host header after the connection manager's port stripping and the route config's ignore_port_in_host_matching. */
export function hostForMatching(rc: Json, authority: string, opts: HostMatchOptions = {}): { host: string; note: string | null } {
  let host = authority;
  let note: string | null = null;
  if (opts.stripTrailingHostDot) {
    const p0 = portStart(host);
    const name = p0 === -1 ? host : host.slice(0, p0);
    if (name.endsWith('.')) {
      host = name.slice(0, -1) + (p0 === -1 ? '' : host.slice(p0));
      note = 'trailing dot stripped (strip_trailing_host_dot)';
    }
  }
  const ps = portStart(host);
  if (ps !== -1) {
    const port = Number(host.slice(ps + 1));
    if (opts.stripAnyHostPort) {
      note = [note, `port :${port} stripped (strip_any_host_port)`].filter(Boolean).join('; ');
      host = host.slice(0, ps);
    } else if (opts.stripMatchingHostPort && opts.listenerPort === port) {
      note = [note, `port :${port} stripped (strip_matching_host_port, listener port ${opts.listenerPort})`].filter(Boolean).join('; ');
      host = host.slice(0, ps);
    } else if (rc?.ignore_port_in_host_matching === true) {
      note = [note, `port :${port} ignored (ignore_port_in_host_matching)`].filter(Boolean).join('; ');
      host = host.slice(0, ps);
    }
  }
  return { host: host.toLowerCase(), note };
}

/** Envoy's RouteMatcher::findVirtualHost: exact, then `*suffix` and `prefix*` longest first, then `*`. */
export function findVirtualHost(rc: Json, authority: string, opts: HostMatchOptions = {}, allCandidates = false): VirtualHostChoice {
  const idx = vhIndex(rc);
  const { host, note } = hostForMatching(rc, authority, opts);
  let chosen: { vh: Json; domain: string } | null = null;
  let how: VirtualHostChoice['how'] = null;
  const e = idx.exact.get(host);
  if (e) {
    chosen = e;
    how = 'exact';
  }
  if (!chosen) {
    for (const [len, m] of idx.suffixes) {
      if (len >= host.length) continue; // `*` stands for at least one character
      const hit = m.get(host.slice(host.length - len));
      if (hit) {
        chosen = hit;
        how = 'suffix wildcard';
        break;
      }
    }
  }
  if (!chosen) {
    for (const [len, m] of idx.prefixes) {
      if (len >= host.length) continue;
      const hit = m.get(host.slice(0, len));
      if (hit) {
        chosen = hit;
        how = 'prefix wildcard';
        break;
      }
    }
  }
  if (!chosen && idx.any) {
    chosen = idx.any;
    how = 'catch-all';
  }
  const losers = vhostLosers(rc, host, chosen?.vh ?? null, allCandidates);
  return {
    vhost: chosen?.vh ?? null,
    name: chosen ? String(chosen.vh?.name ?? '') : null,
    domain: chosen?.domain ?? null,
    how,
    host,
    hostNote: note,
    losers,
  };
}

const RANK: Record<string, number> = { exact: 0, 'suffix wildcard': 1, 'prefix wildcard': 2, 'catch-all': 3 };

/** Virtual hosts that also match (and lost on precedence) or that differ only in the port. */
function vhostLosers(rc: Json, host: string, winner: Json | null, all: boolean): { name: string; reason: string }[] {
  const out: { name: string; reason: string; rank: number }[] = [];
  const bare = portStart(host) === -1 ? host : host.slice(0, portStart(host));
  for (const vh of asArray(rc?.virtual_hosts)) {
    if (vh === winner) continue;
    let best: { reason: string; rank: number } | null = null;
    for (const d of asArray<string>(vh?.domains)) {
      const domain = String(d).toLowerCase();
      const kind = domainMatch(domain, host);
      if (kind) {
        const r = { reason: `domain ${d} also matches (${kind}) but loses on precedence`, rank: RANK[kind] };
        if (!best || r.rank < best.rank) best = r;
      } else if (!best) {
        const dBare = portStart(domain) === -1 ? domain : domain.slice(0, portStart(domain));
        if (dBare === bare && domain !== host) best = { reason: `domain ${d} differs only in the port from host ${host}`, rank: 5 };
      }
    }
    if (best) out.push({ name: String(vh?.name ?? ''), ...best });
    else if (all) out.push({ name: String(vh?.name ?? ''), reason: `no domain matches host ${host}`, rank: 9 });
  }
  return out.sort((a, b) => a.rank - b.rank).map(({ name, reason }) => ({ name, reason }));
}

function domainMatch(domain: string, host: string): VirtualHostChoice['how'] {
  if (domain === host) return 'exact';
  if (domain === '*') return 'catch-all';
  if (domain.startsWith('*') && host.length > domain.length - 1 && host.endsWith(domain.slice(1))) return 'suffix wildcard';
  if (domain.endsWith('*') && host.length > domain.length - 1 && host.startsWith(domain.slice(0, -1))) return 'prefix wildcard';
  return null;
}

// ---------------------------------------------------------------------------------------------------

export interface RouteEval {
  index: number;
  name: string | null;
  /** The match condition in Envoy's words, e.g. `prefix /api`. */
  match: string;
  matched: boolean;
  /** Why it matched or the first condition that failed. */
  reason: string;
  checks: Verdict[];
  /** Runtime fraction: the route matches only a share of requests. */
  probability: number | null;
}

export interface RouteChoice {
  route: Json | null;
  index: number | null;
  name: string | null;
  /** Every route evaluated before (and including) the winner; later ones only with allCandidates. */
  evaluated: RouteEval[];
  /** Present when the vhost forces TLS and the request is plain: Envoy redirects before routing. */
  tlsRedirect: string | null;
  uncertain: string[];
  notes: string[];
}

/** Describes a route's path condition the way Envoy's config spells it. */
export function describeMatch(match: Json): string {
  const cs = match?.case_sensitive === false ? ' (case-insensitive)' : '';
  if (match == null) return '(no match)';
  if ('prefix' in match) return `prefix ${match.prefix}${cs}`;
  if ('path' in match) return `path ${match.path}${cs}`;
  if ('safe_regex' in match) return `regex ${match.safe_regex?.regex}`;
  if ('path_separated_prefix' in match) return `path_separated_prefix ${match.path_separated_prefix}${cs}`;
  if ('path_match_policy' in match) return `uri template ${uriTemplateOf(match) ?? '?'}`;
  if ('connect_matcher' in match) return 'CONNECT';
  return '(unknown path matcher)';
}

function uriTemplateOf(match: Json): string | undefined {
  const cfg = match?.path_match_policy?.typed_config;
  return cfg?.path_template ?? undefined;
}

/** Path part of a route match (Envoy strips query and fragment before path matching). */
function matchPath(match: Json, req: HttpRequest): Verdict {
  const path = pathOnly(req.path);
  const ci = match?.case_sensitive === false;
  const norm = (s: string) => (ci ? s.toLowerCase() : s);
  const p = norm(path);
  const shownPath = JSON.stringify(path);
  if ('prefix' in match) {
    const ok = p.startsWith(norm(String(match.prefix)));
    return { ok, reason: `prefix ${match.prefix} ${ok ? 'matches' : 'does not match'} path ${shownPath}` };
  }
  if ('path' in match) {
    const ok = p === norm(String(match.path));
    return { ok, reason: `path ${match.path} ${ok ? 'equals' : 'does not equal'} path ${shownPath}` };
  }
  if ('safe_regex' in match) {
    const re = tryCompileRe2(String(match.safe_regex?.regex ?? ''));
    if (re instanceof Error) return { ok: false, reason: re.message, uncertain: re.message };
    const ok = re.fullMatch(path);
    return { ok, reason: `regex ${JSON.stringify(re.pattern)} ${ok ? 'matches' : 'does not match'} path ${shownPath} (full match)` };
  }
  if ('path_separated_prefix' in match) {
    const pre = norm(String(match.path_separated_prefix));
    const ok = p === pre || p.startsWith(pre + '/');
    return { ok, reason: `path_separated_prefix ${match.path_separated_prefix} ${ok ? 'matches' : 'does not match'} path ${shownPath}` };
  }
  if ('path_match_policy' in match) {
    const tpl = uriTemplateOf(match);
    if (tpl === undefined) {
      const u = 'path_match_policy extension without a path_template cannot be evaluated offline';
      return { ok: false, reason: u, uncertain: u };
    }
    const t = compileUriTemplate(tpl);
    if (t instanceof Error) return { ok: false, reason: t.message, uncertain: t.message };
    const ok = t.fullMatch(path);
    return { ok, reason: `uri template ${tpl} ${ok ? 'matches' : 'does not match'} path ${shownPath}` };
  }
  if ('connect_matcher' in match) {
    const ok = req.method.toUpperCase() === 'CONNECT';
    return { ok, reason: `CONNECT matcher: method ${req.method}` };
  }
  const u = `unknown route match ${JSON.stringify(Object.keys(match ?? {}))}`;
  return { ok: false, reason: u, uncertain: u };
}

/** Evaluates one route's match like RouteEntryImplBase::matchRoute plus its path matcher. */
export function evaluateRoute(route: Json, index: number, req: HttpRequest, params?: Map<string, string>): RouteEval {
  const match = route?.match ?? {};
  const checks: Verdict[] = [matchPath(match, req)];
  let probability: number | null = null;
  if (match.runtime_fraction) {
    const fp = match.runtime_fraction.default_value;
    const { percent } = fraction(fp);
    const key = match.runtime_fraction.runtime_key ? ` (runtime key ${match.runtime_fraction.runtime_key} may override)` : '';
    if (req.random !== undefined) {
      const ok = fractionHolds(fp, req.random);
      checks.push({ ok, reason: `runtime_fraction ${percent}%: random ${req.random} ${ok ? 'falls inside' : 'falls outside'}${key}` });
    } else if (percent >= 100 || percent <= 0) {
      checks.push({ ok: percent >= 100, reason: `runtime_fraction ${percent}%${key}` });
    } else {
      probability = percent;
      checks.push({
        ok: true,
        reason: `runtime_fraction ${percent}%: matches only that share of requests${key}`,
        uncertain: `route ${routeLabel(route, index)} matches ${percent}% of requests (runtime_fraction); pass --random N to decide`,
      });
    }
  }
  if (match.grpc) {
    const ct = req.headers.find(([k]) => k === 'content-type')?.[1] ?? '';
    const ok = /^application\/grpc(\+|;|$)/.test(ct);
    checks.push({ ok, reason: `grpc: content-type ${ct ? JSON.stringify(ct) : 'absent'}` });
  }
  for (const h of asArray(match.headers)) checks.push(matchHeader(h, req));
  const qps = asArray(match.query_parameters);
  if (qps.length) {
    const ps = params ?? queryParams(req.path);
    for (const p of qps) checks.push(matchQueryParam(p, req, ps));
  }
  if (match.tls_context) {
    const u = 'tls_context match (presented/validated client certificate) cannot be decided offline; assumed to hold';
    checks.push({ ok: true, reason: u, uncertain: u });
  }
  // Envoy checks the stream's dynamic metadata: without any (none given, no filter setting it) the
  // matcher sees absent values, and the route does not match.
  for (const m of asArray(match.dynamic_metadata)) checks.push(matchMetadata(m, req.metadata));
  if (match.filter_state && asArray(match.filter_state).length) {
    const u = 'filter_state match depends on run time state; assumed to hold';
    checks.push({ ok: true, reason: u, uncertain: u });
  }
  const failed = checks.find((c) => !c.ok);
  return {
    index,
    name: route?.name ? String(route.name) : null,
    match: describeMatch(match),
    matched: !failed,
    reason: failed ? failed.reason : checks.map((c) => c.reason).join('; '),
    checks,
    probability,
  };
}

export function routeLabel(route: Json, index: number): string {
  return route?.name ? `${index} (${route.name})` : String(index);
}

/** The first route of the virtual host whose match holds; the vhost's require_tls comes first. */
export function findRoute(vhost: Json, req: HttpRequest, allCandidates = false): RouteChoice {
  const uncertain: string[] = [];
  const tls = String(vhost?.require_tls ?? 'NONE');
  const plain = req.scheme !== 'https';
  if ((tls === 'ALL' && plain) || (tls === 'EXTERNAL_ONLY' && plain && !req.internal)) {
    return { route: null, index: null, name: null, evaluated: [], tlsRedirect: `https://${req.authority}${req.path}`, uncertain, notes: [] };
  }
  const routes = asArray(vhost?.routes);
  const evaluated: RouteEval[] = [];
  const params = queryParams(req.path);
  let winner: RouteEval | null = null;
  for (let i = 0; i < routes.length; i++) {
    const ev = evaluateRoute(routes[i], i, req, params);
    if (!winner) {
      evaluated.push(ev);
      for (const c of ev.checks) if (c.uncertain && (ev.matched || c.ok === false)) uncertain.push(c.uncertain);
      if (ev.matched) {
        winner = ev;
        if (!allCandidates) break;
      }
    } else {
      evaluated.push({ ...ev, reason: `not evaluated: route ${routeLabel(routes[winner.index], winner.index)} matched first${ev.matched ? ' (would match too)' : ''}` });
    }
  }
  if (winner?.probability !== null && winner?.probability !== undefined) {
    const next = routes.slice(winner.index + 1).map((r, j) => evaluateRoute(r, winner!.index + 1 + j, { ...req, random: req.random }, params)).find((e) => e.matched);
    uncertain.push(
      `otherwise (${(100 - winner.probability).toFixed(4).replace(/\.?0+$/, '')}% of requests) ${next ? `route ${routeLabel(routes[next.index], next.index)} would be taken` : 'no later route matches (404)'}`,
    );
  }
  const notes: string[] = [];
  if (!req.metadata && evaluated.some((e) => asArray(routes[e.index]?.match?.dynamic_metadata).length > 0)) {
    notes.push('the request carries no dynamic metadata (filters before the router may set some at run time): dynamic_metadata matches see absent values; --metadata filter.key=value supplies it');
  }
  return {
    route: winner ? routes[winner.index] : null,
    index: winner ? winner.index : null,
    name: winner?.name ?? null,
    evaluated,
    tlsRedirect: null,
    uncertain,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------------

export interface WeightedCluster {
  name: string;
  weight: number;
  /** Share of requests, in percent. */
  percent: number;
  /** The random value range [from, to) that picks it. */
  range: [number, number];
}

export interface RouteActionResult {
  kind: 'route' | 'redirect' | 'direct_response' | 'tls_redirect' | 'non_forwarding' | 'filter_action' | 'unknown';
  cluster: string | null;
  /** How the cluster was chosen: `cluster`, `weighted_clusters`, `cluster_header x-foo`. */
  clusterSource: string | null;
  weightedClusters: WeightedCluster[] | null;
  totalWeight: number | null;
  /** The random value used for the weighted pick, and where it came from. */
  randomUsed: { value: number; from: string } | null;
  pathRewrite: string | null;
  hostRewrite: string | null;
  redirect: { location: string; status: number } | null;
  directResponse: { status: number; body: string | null } | null;
  timeout: string | null;
  idleTimeout: string | null;
  retries: Json | null;
  mirrors: { cluster: string; percent: number | null }[];
  fault: { delay: string | null; abort: string | null } | null;
  /** The Istio object that produced this route (from `istio` filter metadata). */
  istio: string | null;
  notes: string[];
  uncertain: string[];
}

/** RedirectAction.RedirectResponseCode, by name and by number (proto JSON and YAML accept both). */
const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
  0: 301,
  1: 302,
  2: 303,
  3: 307,
  4: 308,
};

function emptyAction(kind: RouteActionResult['kind']): RouteActionResult {
  return {
    kind,
    cluster: null,
    clusterSource: null,
    weightedClusters: null,
    totalWeight: null,
    randomUsed: null,
    pathRewrite: null,
    hostRewrite: null,
    redirect: null,
    directResponse: null,
    timeout: null,
    idleTimeout: null,
    retries: null,
    mirrors: [],
    fault: null,
    istio: null,
    notes: [],
    uncertain: [],
  };
}

/** What Envoy does with a matched route: the cluster (or redirect/direct response) and the rewrites. */
export function routeAction(route: Json, vhost: Json, req: HttpRequest): RouteActionResult {
  let out: RouteActionResult;
  if (route.route) out = forwardAction(route, req);
  else if (route.redirect) out = redirectAction(route, req);
  else if (route.direct_response) out = directResponseAction(route, req);
  else if (route.non_forwarding_action) {
    out = emptyAction('non_forwarding');
    out.notes.push('non_forwarding_action: the route matches but forwards nothing (filters act on it)');
  } else if (route.filter_action) {
    out = emptyAction('filter_action');
    out.uncertain.push('filter_action: what happens is decided by a filter at run time');
  } else {
    out = emptyAction('unknown');
    out.uncertain.push(`unknown route action ${JSON.stringify(Object.keys(route).filter((k) => k !== 'match' && k !== 'name'))}`);
  }
  out.istio = istioConfig(route?.metadata);
  const fault = faultOf(route) ?? faultOf(vhost);
  if (fault) out.fault = fault;
  return out;
}

function forwardAction(route: Json, req: HttpRequest): RouteActionResult {
  const r = route.route;
  const out = emptyAction('route');
  if (r.cluster !== undefined) {
    out.cluster = String(r.cluster);
    out.clusterSource = 'cluster';
  } else if (r.cluster_header !== undefined) {
    const name = String(r.cluster_header).toLowerCase();
    const v = firstHeaderValue(req, name);
    out.clusterSource = `cluster_header ${name}`;
    if (v === undefined) {
      out.notes.push(`header ${name} is absent: Envoy answers ${clusterNotFoundCode(r)} (cluster not found)`);
    } else out.cluster = v;
  } else if (r.weighted_clusters) {
    weighted(r.weighted_clusters, req, out);
  } else if (r.cluster_specifier_plugin !== undefined || r.inline_cluster_specifier_plugin !== undefined) {
    out.clusterSource = 'cluster_specifier_plugin';
    out.uncertain.push('the cluster is chosen by a cluster specifier plugin at run time');
  }
  const rw = pathRewrite(route, req);
  out.pathRewrite = rw.path;
  out.uncertain.push(...rw.uncertain);
  const host = hostRewrite(r, req);
  out.hostRewrite = host.host;
  out.uncertain.push(...host.uncertain);
  out.timeout = r.timeout !== undefined ? String(r.timeout) : '15s (Envoy default)';
  if (r.timeout === '0s') out.timeout = '0s (disabled)';
  out.idleTimeout = r.idle_timeout !== undefined ? String(r.idle_timeout) : null;
  if (r.max_stream_duration?.max_stream_duration) out.notes.push(`max_stream_duration ${r.max_stream_duration.max_stream_duration}`);
  if (r.retry_policy) out.retries = summariseRetry(r.retry_policy);
  const mirrors = asArray(r.request_mirror_policies);
  if (r.request_mirror_policy) mirrors.push(r.request_mirror_policy);
  out.mirrors = mirrors.map((m: Json) => ({
    cluster: String(m.cluster ?? m.cluster_header ?? ''),
    percent: m.runtime_fraction ? fraction(m.runtime_fraction.default_value).percent : null,
  }));
  for (const m of out.mirrors) if (m.percent !== null && m.percent < 100) out.notes.push(`mirror to ${m.cluster} samples ${m.percent}% of requests`);
  return out;
}

function clusterNotFoundCode(r: Json): number {
  return r.cluster_not_found_response_code === 'NOT_FOUND' ? 404 : r.cluster_not_found_response_code === 'INTERNAL_SERVER_ERROR' ? 500 : 503;
}

/** Envoy's weighted pick: (random % total weight), then the first cluster whose cumulative range holds it. */
function weighted(wc: Json, req: HttpRequest, out: RouteActionResult): void {
  const clusters = asArray(wc.clusters);
  const total = clusters.reduce((s: number, c: Json) => s + Number(c.weight ?? 0), 0);
  out.clusterSource = 'weighted_clusters';
  out.totalWeight = total;
  let begin = 0;
  out.weightedClusters = clusters.map((c: Json) => {
    const w = Number(c.weight ?? 0);
    const entry: WeightedCluster = { name: String(c.name ?? c.cluster_header ?? ''), weight: w, percent: total ? round((w / total) * 100) : 0, range: [begin, begin + w] };
    begin += w;
    return entry;
  });
  if (wc.total_weight !== undefined && Number(wc.total_weight) !== total) {
    out.notes.push(`total_weight ${wc.total_weight} differs from the sum of weights ${total}`);
  }
  if (wc.runtime_key_prefix) out.notes.push(`weights may be overridden at run time (runtime_key_prefix ${wc.runtime_key_prefix})`);
  let random: { value: number; from: string } | null = null;
  if (wc.header_name) {
    const v = firstHeaderValue(req, String(wc.header_name));
    if (v !== undefined && /^\d+$/.test(v)) random = { value: Number(v), from: `header ${wc.header_name}` };
  }
  if (!random && req.random !== undefined) random = { value: req.random, from: '--random' };
  const sole = pickWeighted(out.weightedClusters.map((c) => c.weight), undefined);
  if (wc.use_hash_policy === true && !sole) {
    out.uncertain.push('weighted cluster chosen by the route hash policy at run time');
    return;
  }
  const picked = random ? pickWeighted(out.weightedClusters.map((c) => c.weight), random.value) : sole;
  if (!picked) {
    if (total > 0) out.uncertain.push(`weighted choice among ${clusters.length} clusters; pass --random N to decide one`);
    return;
  }
  const pick = out.weightedClusters[picked.index];
  if ('sole' in picked) {
    out.notes.push(`all the weight (${total}) is on ${pick.name}: every request goes there, whatever the random value`);
  } else {
    out.randomUsed = random;
    out.notes.push(`random ${random!.value} (${random!.from}) % total weight ${total} = ${picked.selected}: in [${pick.range[0]}, ${pick.range[1]}) of ${pick.name}`);
  }
  const entry = clusters[picked.index];
  if (entry?.cluster_header && !entry.name) {
    // A weighted entry may name its cluster through a request header.
    const v = firstHeaderValue(req, String(entry.cluster_header));
    out.cluster = v ?? null;
    out.notes.push(v === undefined ? `header ${entry.cluster_header} is absent: Envoy answers 503 (cluster not found)` : `that entry takes its cluster from header ${entry.cluster_header}`);
    return;
  }
  out.cluster = pick.name;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The :path Envoy sends upstream (query string kept), or null when the route rewrites nothing. */
export function pathRewrite(route: Json, req: HttpRequest): { path: string | null; uncertain: string[] } {
  const r = route.route ?? route.redirect ?? {};
  const match = route.match ?? {};
  const path = req.path;
  const justPath = pathOnly(path);
  if (r.prefix_rewrite !== undefined && r.prefix_rewrite !== '') {
    let matched: string;
    if ('prefix' in match) matched = String(match.prefix);
    else if ('path_separated_prefix' in match) matched = String(match.path_separated_prefix);
    else if ('path' in match) matched = String(match.path);
    else matched = justPath; // regex and templates: the whole matched path is replaced
    return { path: String(r.prefix_rewrite) + path.slice(matched.length), uncertain: [] };
  }
  if (r.regex_rewrite) {
    const re = tryCompileRe2(String(r.regex_rewrite.pattern?.regex ?? ''));
    if (re instanceof Error) return { path: null, uncertain: [re.message] };
    return { path: re.replaceAll(justPath, String(r.regex_rewrite.substitution ?? '')) + path.slice(justPath.length), uncertain: [] };
  }
  const tplRewrite = route.route?.path_rewrite_policy?.typed_config?.path_template_rewrite;
  if (tplRewrite !== undefined) {
    const tpl = uriTemplateOf(match);
    if (tpl === undefined) return { path: null, uncertain: ['path_rewrite_policy without a uri template match cannot be evaluated'] };
    const rewritten = rewriteUriTemplate(tpl, String(tplRewrite), justPath);
    if (rewritten instanceof Error) return { path: null, uncertain: [rewritten.message] };
    // Envoy's template rewriter drops the query string.
    return { path: rewritten ?? path, uncertain: [] };
  }
  return { path: null, uncertain: [] };
}

function hostRewrite(r: Json, req: HttpRequest): { host: string | null; uncertain: string[] } {
  if (r.host_rewrite_literal) return { host: String(r.host_rewrite_literal), uncertain: [] };
  if (r.host_rewrite_header) {
    const v = firstHeaderValue(req, String(r.host_rewrite_header));
    return { host: v ?? null, uncertain: [] };
  }
  if (r.host_rewrite_path_regex) {
    const re = tryCompileRe2(String(r.host_rewrite_path_regex.pattern?.regex ?? ''));
    if (re instanceof Error) return { host: null, uncertain: [re.message] };
    return { host: re.replaceAll(pathOnly(req.path), String(r.host_rewrite_path_regex.substitution ?? '')), uncertain: [] };
  }
  if (r.auto_host_rewrite === true) {
    return { host: null, uncertain: ['auto_host_rewrite: Host becomes the chosen endpoint\'s hostname (known only at run time)'] };
  }
  return { host: null, uncertain: [] };
}

/** The full Location Envoy sends (RouteEntryImplBase::newUri after the redirect's path rewrite). */
function redirectAction(route: Json, req: HttpRequest): RouteActionResult {
  const rd = route.redirect;
  const out = emptyAction('redirect');
  // prefix_rewrite / regex_rewrite of a redirect rewrite the request path first.
  const rw = pathRewrite(route, req);
  out.uncertain.push(...rw.uncertain);
  const path = rw.path ?? req.path;
  const scheme = rd.scheme_redirect ? String(rd.scheme_redirect) : rd.https_redirect === true ? 'https' : req.scheme;
  const port = rd.port_redirect ? `:${rd.port_redirect}` : '';
  const host = rd.host_redirect ? String(rd.host_redirect) : requestHostForRedirect(req, scheme, port);
  let finalPath: string;
  const pathRedirect = rd.path_redirect !== undefined ? String(rd.path_redirect) : '';
  const hasQuery = pathRedirect.includes('?');
  if (pathRedirect) {
    if (hasQuery) finalPath = pathRedirect;
    else {
      const qi = path.indexOf('?');
      finalPath = qi === -1 ? pathRedirect : pathRedirect + path.slice(qi);
    }
  } else finalPath = path;
  if (!finalPath.startsWith('/')) finalPath = '/' + finalPath;
  if (!hasQuery && rd.strip_query === true) {
    const qi = finalPath.indexOf('?');
    if (qi !== -1) finalPath = finalPath.slice(0, qi);
  }
  const code = String(rd.response_code ?? 'MOVED_PERMANENTLY');
  const status = REDIRECT_CODES[code] ?? 301;
  if (REDIRECT_CODES[code] === undefined) out.uncertain.push(`unknown redirect response_code ${JSON.stringify(rd.response_code)}: Envoy refuses such a route; 301 shown`);
  else if (rd.response_code !== undefined) out.notes.push(`response_code ${rd.response_code}: ${status}`);
  out.redirect = { location: `${scheme}://${host}${port}${finalPath}`, status };
  return out;
}

/** Host for a redirect that keeps it: its port is dropped when the port changes or is the old scheme's default. */
function requestHostForRedirect(req: HttpRequest, newScheme: string, newPort: string): string {
  const host = req.authority;
  if (!host) return host;
  let end: number;
  if (host.startsWith('[')) {
    end = host.lastIndexOf(']:');
    if (end !== -1) end += 1;
  } else end = host.lastIndexOf(':');
  if (end === -1) return host;
  const reqPort = host.slice(end);
  const proto = req.scheme;
  let remove = newPort !== '';
  if (newScheme !== proto) {
    remove ||= proto === 'https' && reqPort === ':443';
    remove ||= proto === 'http' && reqPort === ':80';
  }
  return remove ? host.slice(0, end) : host;
}

function directResponseAction(route: Json, req: HttpRequest): RouteActionResult {
  const dr = route.direct_response;
  const out = emptyAction('direct_response');
  const status = Number(dr.status ?? 200);
  const body = dr.body ? (dr.body.inline_string ?? (dr.body.inline_bytes !== undefined ? Buffer.from(String(dr.body.inline_bytes), 'base64').toString('utf8') : null)) : null;
  out.directResponse = { status, body };
  if (dr.body?.filename) out.notes.push(`body read from file ${dr.body.filename} on the proxy`);
  if (status === 201 || (status >= 300 && status < 400)) {
    // Envoy adds a Location built from the request itself.
    out.redirect = { location: `${req.scheme}://${req.authority}${req.path}`, status };
  }
  return out;
}

function summariseRetry(rp: Json): Json {
  return {
    retryOn: rp.retry_on ?? null,
    numRetries: rp.num_retries ?? 1,
    perTryTimeout: rp.per_try_timeout ?? null,
    ...(rp.retriable_status_codes ? { retriableStatusCodes: rp.retriable_status_codes } : {}),
  };
}

/** Retry policy in effect: the route's own, else the virtual host's. */
export function effectiveRetries(route: Json, vhost: Json): Json | null {
  const rp = route?.route?.retry_policy ?? vhost?.retry_policy;
  return rp ? summariseRetry(rp) : null;
}

const FAULT_FILTER = 'envoy.filters.http.fault';

function faultOf(obj: Json): RouteActionResult['fault'] {
  const cfg = obj?.typed_per_filter_config?.[FAULT_FILTER];
  if (!cfg) return null;
  const f = cfg.config ?? cfg.value ?? cfg; // FilterConfig wrapper or the HTTPFault itself
  const pct = (p: Json) => (p ? `${fraction(p).percent}% of requests` : '100% of requests');
  const delay = f.delay ? `${f.delay.fixed_delay ?? 'header-controlled delay'} for ${pct(f.delay.percentage)}` : null;
  const abort = f.abort
    ? `${f.abort.http_status ? `HTTP ${f.abort.http_status}` : f.abort.grpc_status !== undefined ? `gRPC ${f.abort.grpc_status}` : 'header-controlled abort'} for ${pct(f.abort.percentage)}`
    : null;
  return delay || abort ? { delay, abort } : null;
}

/** `/apis/networking.istio.io/v1alpha3/namespaces/default/virtual-service/reviews` → `VirtualService default/reviews`. */
export function istioConfig(metadata: Json): string | null {
  const cfg = metadata?.filter_metadata?.istio?.config;
  if (typeof cfg !== 'string') return null;
  const m = /namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(cfg);
  if (!m) return cfg;
  const kinds: Record<string, string> = {
    'virtual-service': 'VirtualService',
    'destination-rule': 'DestinationRule',
    'service-entry': 'ServiceEntry',
    sidecar: 'Sidecar',
    'envoy-filter': 'EnvoyFilter',
    'gateway': 'Gateway',
  };
  return `${kinds[m[2]] ?? m[2]} ${m[1]}/${m[3]}`;
}

export function asArray<T = Json>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

