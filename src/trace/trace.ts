import { searchNames } from '../resources/hosts.js';
import { isIP } from 'node:net';
import type { SourceIdentity } from '../authz/context.js';
import type { AuthzVerdict } from '../authz/decide.js';
import { authorizeConnection, authorizeRequest, hcmConfigOf, type AuthzConnection } from './authz.js';
import { downstreamTls, summariseCluster } from './cluster.js';
import { routerView } from './downstream.js';
import { networkFilters, normalizePath } from './filters.js';
import { connectUpgrade } from './upgrade.js';
import { listenerLabel, matchFilterChain, selectListener, socketAddress, type Connection } from './listener.js';
import type { Json } from './matchers.js';
import type { DynamicMetadata, HttpRequest } from './request.js';
import { asArray, effectiveRetries, findRoute, findVirtualHost, routeAction, routeLabel, type RouteActionResult } from './route.js';
import type { EndpointInfo, TraceWorld } from './world.js';

/** What the user asked to trace (CLI flags, already validated). */
export interface TraceRequest {
  /** `http://reviews:9080/api`, `https://host/`, `tcp://host:port` or `host:port`. */
  target: string;
  method?: string;
  /** Extra headers, names as given. */
  headers?: [string, string][];
  sni?: string;
  alpn?: string[];
  direction?: 'outbound' | 'inbound';
  srcIp?: string;
  dstIp?: string;
  random?: number;
  allCandidates?: boolean;
  /** The client speaks plaintext even where the inbound side offers mTLS (PERMISSIVE peers, non-mesh clients). */
  plaintext?: boolean;
  /** Dynamic metadata the stream carries when the router runs (--metadata), for dynamic_metadata route matches. */
  metadata?: DynamicMetadata;
  /** Runs the packet through known iptables rules (src/iptables); undefined: Istio's usual capture assumed. */
  /** Why no rules were used, when the user would expect them (e.g. live rules could not be read). */
  iptablesNote?: string;
  iptables?: (packet: { direction: 'outbound' | 'inbound'; dst: string; dport: number; src: string }) => IptablesOutcome;
  /** Who sends the request (principal, JWT claims, what ext_authz answers), for the authorization filters. */
  identity?: SourceIdentity;
  /**
   * Start at this listener instead of a captured port: an internal listener another one hands the
   * connection to (a waypoint's main_internal, after connect_terminate ended the HBONE tunnel). No iptables.
   */
  entry?: { listener: string; how: string; matched?: string[]; notes?: string[]; uncertain?: string[] };
  /**
   * The connection is not captured: it reaches the listener bound to its destination directly (a waypoint's
   * HBONE port, which no iptables rule redirects). Why, for the listener step's notes. No iptables step.
   */
  direct?: string;
  /** Names the proxy the steps happen in (`waypoint …`), on every step: see TraceStep.at. */
  at?: string;
}

export interface IptablesOutcome {
  /** REDIRECT, TPROXY, DNAT, ACCEPT, DROP, REJECT. */
  target: string;
  toPort: number | null;
  summary: string;
  uncertain: boolean;
  reasons: string[];
  /** The rules that decided, for the step's explanation. */
  trail: string[];
  source: string;
}

export interface Loser {
  name: string;
  reason: string;
}

export interface TraceStep {
  /** Ambient traces add `source`, `ztunnel`, `hbone` and `delivery` (src/trace/ambient.ts). */
  stage: 'destination' | 'iptables' | 'listener' | 'filterChain' | 'networkFilters' | 'authz' | 'routeConfig' | 'virtualHost' | 'route' | 'routeAction' | 'cluster' | 'endpoints' | 'source' | 'ztunnel' | 'hbone' | 'delivery';
  /** Where the step happens, in an ambient trace: `client ztunnel …`, `waypoint …`, `destination ztunnel …`. */
  at?: string;
  /** The config object this step chose (name), or null when none. */
  chosen: string | null;
  /** One line: what matched. */
  summary: string;
  /** Supporting facts: the conditions that held. */
  matched: string[];
  /** The nearest alternatives and why they lost (every candidate with allCandidates). */
  losers: Loser[];
  notes: string[];
  uncertain: string[];
  data?: Record<string, unknown>;
}

export interface TraceResultData {
  captured: string | null;
  listener: string | null;
  filterChain: string | null;
  routeConfig: string | null;
  virtualHost: string | null;
  route: string | number | null;
  cluster: string | null;
  weightedClusters: { name: string; weight: number }[] | null;
  pathRewrite: string | null;
  hostRewrite: string | null;
  redirect: string | null;
  directResponse: { status: number; body: string | null } | null;
  endpoints: EndpointInfo[] | null;
  /** The authorization filters' verdict (src/authz); null when the trace stopped before them. */
  authz: AuthzVerdict | null;
  uncertain: string[];
}

export interface TraceOutput {
  request: Record<string, unknown>;
  steps: TraceStep[];
  result: TraceResultData;
}

interface Target {
  scheme: 'http' | 'https' | 'tcp';
  host: string;
  port: number;
  path: string;
  authority: string;
}

const NEAREST = 5;

/** Parses the target: a URL (http, https, tcp) or `host:port` (a TCP connection). */
export function parseTarget(t: string): Target | string {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(t);
  if (m) {
    const scheme = m[1].toLowerCase();
    if (scheme !== 'http' && scheme !== 'https' && scheme !== 'tcp') return `unsupported scheme ${scheme}: (use http://, https://, tcp:// or host:port)`;
    let url: URL;
    try {
      url = new URL(scheme === 'tcp' ? 'http' + t.slice(3) : t);
    } catch {
      return `not a valid URL: ${t}`;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!host) return `no host in ${t}`;
    const defPort = scheme === 'https' ? 443 : 80;
    if (scheme === 'tcp' && !url.port) return `tcp:// needs a port: ${t}`;
    const port = url.port ? Number(url.port) : defPort;
    // The raw path as typed (URL() would normalise dot segments and escapes, which Envoy may not).
    const rest = t.slice(m[0].length);
    const slash = rest.search(/[/?#]/);
    let path = slash === -1 ? '/' : rest.slice(slash);
    const hash = path.indexOf('#');
    if (hash !== -1) path = path.slice(0, hash);
    if (path.startsWith('?')) path = '/' + path;
    return { scheme: scheme as Target['scheme'], host, port, path, authority: url.host };
  }
  const hp = /^(\[[^\]]+\]|[^:/\s]+):(\d{1,5})$/.exec(t);
  if (!hp) return `expected a URL (http://host:port/path) or host:port, got ${JSON.stringify(t)}`;
  const port = Number(hp[2]);
  if (port < 1 || port > 65535) return `port out of range in ${t}`;
  return { scheme: 'tcp', host: hp[1].replace(/^\[|\]$/g, ''), port, path: '/', authority: `${hp[1]}:${port}` };
}

/** A result with nothing decided yet (shared with the ambient trace, src/trace/ambient.ts). */
export function emptyResult(uncertain: string[]): TraceResultData {
  return {
    captured: null,
    listener: null,
    filterChain: null,
    routeConfig: null,
    virtualHost: null,
    route: null,
    cluster: null,
    weightedClusters: null,
    pathRewrite: null,
    hostRewrite: null,
    redirect: null,
    directResponse: null,
    endpoints: null,
    authz: null,
    uncertain,
  };
}

export type StepInput = Omit<TraceStep, 'losers' | 'notes' | 'uncertain' | 'matched' | 'at'> & Partial<TraceStep>;

/**
 * Appends steps: defaults for the lists, the nearest losers only (unless all), uncertainties collected
 * for the result. `at` names where the steps happen (a fixed place, or read at each push).
 */
export function stepRecorder(steps: TraceStep[], uncertain: string[], all: boolean, at?: string | (() => string)): (s: StepInput) => TraceStep {
  return (s) => {
    const where = typeof at === 'function' ? at() : at;
    const step: TraceStep = {
      stage: s.stage,
      ...(where ? { at: where } : {}),
      chosen: s.chosen,
      summary: s.summary,
      matched: s.matched ?? [],
      losers: s.losers ?? [],
      notes: s.notes ?? [],
      uncertain: s.uncertain ?? [],
      ...(s.data ? { data: s.data } : {}),
    };
    if (!all && step.losers.length > NEAREST) {
      const more = step.losers.length - NEAREST;
      step.losers = step.losers.slice(0, NEAREST);
      step.notes.push(`${more} more candidate(s) not shown (--all-candidates lists them)`);
    }
    uncertain.push(...step.uncertain);
    steps.push(step);
    return step;
  };
}

/** Simulates the request through the dump, step by step. Throws Error(message) only for bad input. */
export function traceRequest(world: TraceWorld, req: TraceRequest): TraceOutput {
  const parsed = parseTarget(req.target);
  if (typeof parsed === 'string') throw new TraceInputError(parsed);
  const target: Target = parsed;
  const direction = req.direction ?? 'outbound';
  const all = req.allCandidates === true;
  const steps: TraceStep[] = [];
  const uncertain: string[] = [];
  const result = emptyResult(uncertain);
  const push = stepRecorder(steps, uncertain, all, req.at);

  // --- headers and request shape
  const headers: [string, string][] = [];
  let authority = target.authority;
  for (const [k, v] of req.headers ?? []) {
    const key = k.toLowerCase();
    if (key === 'host' || key === ':authority') authority = v;
    else headers.push([key, v]);
  }
  const isHttp = target.scheme === 'http';
  // ALPN of plaintext HTTP (h2c, http/1.1) is what http_inspector detects, not a TLS handshake.
  const plainAlpn = isHttp && (req.alpn?.length ?? 0) > 0 && req.alpn!.every((p) => p === 'h2c' || p === 'http/1.1' || p === 'http/1.0');
  const tls = target.scheme === 'https' || req.sni !== undefined || ((req.alpn?.length ?? 0) > 0 && !plainAlpn);

  // --- destination IP
  const dst = resolveDestination(world, target, direction, req.dstIp);
  const src = req.srcIp ?? (direction === 'outbound' ? world.podIps[0] : undefined) ?? (direction === 'outbound' ? '10.244.0.100' : '10.244.0.200');
  const srcNote = req.srcIp ? `--src ${req.srcIp}` : direction === 'outbound' && world.podIps[0] ? `the pod's IP ${world.podIps[0]} (INSTANCE_IPS)` : `${src} (assumed; pass --src)`;
  push({
    stage: 'destination',
    chosen: `${dst.ip.includes(':') ? `[${dst.ip}]` : dst.ip}:${target.port}`,
    summary: `${direction} ${isHttp ? 'HTTP' : tls ? 'TLS' : 'TCP'} connection to ${dst.ip}:${target.port} from ${src}`,
    matched: [`destination IP: ${dst.how}`, `source IP: ${srcNote}`],
    uncertain: dst.uncertain ? [dst.uncertain] : [],
    data: { host: target.host, port: target.port, ip: dst.ip, how: dst.how, src },
  });

  // --- iptables
  let receivingPort: number | null;
  if (req.entry || req.direct !== undefined) {
    receivingPort = null;
  } else if (req.iptables) {
    const ipt = req.iptables({ direction, dst: dst.ip, dport: target.port, src });
    result.captured = ipt.target === 'REDIRECT' || ipt.target === 'TPROXY' ? `${ipt.target} ${ipt.toPort}` : ipt.target;
    push({
      stage: 'iptables',
      chosen: result.captured,
      summary: ipt.summary,
      matched: ipt.trail,
      uncertain: ipt.uncertain ? ipt.reasons.map((r) => `iptables: ${r}`) : [],
      notes: [`rules from ${ipt.source}`],
    });
    if (ipt.target === 'REDIRECT' || ipt.target === 'TPROXY') receivingPort = ipt.toPort;
    else {
      const fate = ipt.target === 'DROP' || ipt.target === 'REJECT' ? `the packet is ${ipt.target === 'DROP' ? 'dropped' : 'rejected'} by iptables` : 'not captured: the connection bypasses Envoy';
      steps[steps.length - 1].notes.push(fate);
      return { request: describeRequest(), steps, result };
    }
  } else {
    const port = direction === 'outbound' ? 15001 : 15006;
    const has = world.listeners.byPort.has(port);
    receivingPort = has ? port : null;
    result.captured = has ? `REDIRECT ${port}` : null;
    push({
      stage: 'iptables',
      chosen: has ? `REDIRECT ${port}` : null,
      summary: has
        ? `assumed captured by Istio's iptables rules: ${direction} traffic is redirected to ${port} (pass --iptables FILE to check)`
        : `no listener on ${port} in the dump: assuming no capture, the connection reaches the listener for its destination directly`,
      uncertain: has ? [`iptables rules not given: capture to ${port} assumed`] : [],
      notes: req.iptablesNote ? [req.iptablesNote] : [],
    });
  }

  // --- listener
  let peerMtls = false;
  const conn: Connection = {
    dstIp: dst.ip,
    dstPort: target.port,
    srcIp: src,
    srcPort: 40000,
    tls,
    sni: req.sni ?? (target.scheme === 'https' && !isIP(target.host) ? target.host : ''),
    alpn: plainAlpn ? [] : (req.alpn ?? (target.scheme === 'https' ? ['h2', 'http/1.1'] : [])),
    plaintextHttp: isHttp && !tls ? (plainAlpn ? (req.alpn![0] as Connection['plaintextHttp']) : 'http/1.1') : null,
  };
  if (direction === 'inbound' && !req.plaintext && !req.sni && !req.alpn && !tls && inboundExpectsMtls(world, receivingPort)) {
    // A mesh peer's sidecar originates mTLS with Istio's ALPN: that is what the inbound listener sees.
    conn.tls = true;
    conn.alpn = isHttp ? ['istio-http/1.1', 'istio', 'http/1.1'] : ['istio-peer-exchange', 'istio'];
    conn.plaintextHttp = null;
    peerMtls = true;
  }
  if (peerMtls) {
    steps[steps.length - 1].notes.push(`assumed a mesh peer: its sidecar originates mTLS with ALPN ${conn.alpn.join(',')} (--plaintext for a plaintext client)`);
  }
  const lc = req.entry ? entryListener(world, req.entry) : selectListener(world.listeners, conn, receivingPort);
  result.listener = lc.listener ? listenerLabel(lc.listener) : null;
  push({
    stage: 'listener',
    chosen: result.listener,
    summary: lc.how,
    matched: [
      receivingPort !== null ? `accepted on port ${receivingPort}${lc.receiving ? ` by ${listenerLabel(lc.receiving)}` : ''}` : null,
      lc.receiving?.use_original_dst === true ? `original destination ${dst.ip.includes(':') ? `[${dst.ip}]` : dst.ip}:${target.port} restored (original_dst)` : null,
      ...(req.entry?.matched ?? []),
    ].filter((x): x is string => x !== null),
    losers: lc.losers,
    notes: [...(req.direct ? [req.direct] : []), ...lc.notes],
    uncertain: req.entry?.uncertain ?? [],
    data: lc.listener ? { address: socketAddress(lc.listener), receiving: lc.receiving ? listenerLabel(lc.receiving) : null } : undefined,
  });
  if (!lc.listener) return { request: describeRequest(), steps, result };
  if (dst.uncertain && lc.listener !== lc.receiving && ipIrrelevant(world, lc.listener, target.port)) {
    // Only wildcard listeners (without destination prefixes) serve this port: the unknown IP changes nothing.
    const d = steps[0];
    d.uncertain = [];
    d.notes.push(`the IP does not matter here: only wildcard listeners serve port ${target.port}`);
    const at = uncertain.indexOf(dst.uncertain);
    if (at !== -1) uncertain.splice(at, 1);
  }

  // --- filter chain
  const inherited = lc.receiving && lc.receiving !== lc.listener ? asArray(lc.receiving.listener_filters) : [];
  const fc = matchFilterChain(lc.listener, conn, inherited);
  result.filterChain = fc.name;
  const nearLevel = fc.losers.length ? Math.max(...fc.losers.map((l) => l.level)) : 0;
  const chainLosers = all ? fc.losers : [...fc.losers].sort((a, b) => b.level - a.level).filter((l) => l.level >= nearLevel - 1);
  push({
    stage: 'filterChain',
    chosen: fc.name,
    summary: fc.chain
      ? `${fc.usedDefault ? 'default filter chain' : `filter chain ${fc.name}`} (${fc.mode}); ${downstreamTls(fc.chain)}`
      : 'no filter chain matches: the connection is closed',
    matched: chainLevels(fc.levels, all),
    losers: chainLosers.map(({ name, reason }) => ({ name, reason })),
    notes: [
      ...fc.notes,
      ...(fc.chain && /mTLS/.test(downstreamTls(fc.chain)) && !conn.tls ? ['this chain terminates mTLS but the client speaks plaintext: the handshake fails'] : []),
    ],
    uncertain: fc.uncertain,
    data: { transport: conn.tls ? 'tls' : 'raw_buffer', sni: conn.sni || null, alpn: conn.alpn },
  });
  if (!fc.chain) return { request: describeRequest(), steps, result };

  // --- network filters
  const nf = networkFilters(fc.chain, req.random);
  push({
    stage: 'networkFilters',
    chosen: nf.hcm ? 'http_connection_manager' : nf.tcpProxy ? 'tcp_proxy' : null,
    summary: nf.filters.map((f) => f.name).join(' → ') || 'no network filters',
    matched: nf.filters.map((f) => `${f.name}: ${f.effect}`),
    notes: nf.hcm ? nf.hcm.httpFilters.map((f) => `http filter ${f.name}: ${f.effect}`) : [],
    uncertain: nf.uncertain,
  });

  // --- authorization: network RBAC / ext_authz, in chain order, before the terminal filter
  const srcKnown = req.srcIp !== undefined || (direction === 'outbound' && world.podIps[0] !== undefined);
  const authzConn: AuthzConnection = {
    srcIp: src,
    srcKnown,
    dstIp: dst.ip,
    dstPort: target.port,
    sni: conn.sni,
    // Envoy ends the client's TLS only where the chain has a DownstreamTlsContext ("no TLS termination" otherwise)
    tlsTerminated: conn.tls && /^m?TLS \(/.test(downstreamTls(fc.chain)),
    clientCertRequired: /mTLS/.test(downstreamTls(fc.chain)),
  };
  const netAuthz = authorizeConnection(asArray(fc.chain.filters), authzConn, req.identity ?? {});
  if (netAuthz) {
    for (const s of netAuthz.steps) push(s);
    result.authz = netAuthz.verdict;
    if (netAuthz.verdict.decision === 'DENY') return { request: describeRequest(), steps, result };
  }
  const authz = { conn: authzConn, hcm: hcmConfigOf(fc.chain) };

  let clusterName: string | null = null;
  if (nf.tcpProxy && !nf.hcm) {
    if (!netAuthz) result.authz = { decision: 'ALLOW', policy: null, authorizationPolicy: null, filter: null, reason: 'no RBAC or ext_authz filter on this path: nothing restricts the connection' };
    clusterName = nf.tcpProxy.cluster;
    if (nf.tcpProxy.weightedClusters) result.weightedClusters = nf.tcpProxy.weightedClusters;
  } else if (nf.hcm) {
    const terminates = Boolean(fc.chain.transport_socket) && /TLS/.test(downstreamTls(fc.chain));
    const r = traceHttp(world, nf.hcm, target, conn, authority, headers, req, lc.listener, terminates, push, result, authz);
    if (r === 'stop') return { request: describeRequest(), steps, result };
    clusterName = r;
  } else {
    return { request: describeRequest(), steps, result };
  }

  // --- cluster and endpoints
  if (clusterName !== null) traceCluster(world, clusterName, conn, dst.uncertain ? target.host : null, push, result, { terminated: authzConn.tlsTerminated, direction });
  return { request: describeRequest(), steps, result };

  function describeRequest(): Record<string, unknown> {
    return {
      target: req.target,
      direction,
      method: isHttp ? (req.method ?? 'GET') : null,
      authority: isHttp ? authority : null,
      path: isHttp ? target.path : null,
      headers: Object.fromEntries(headers),
      random: req.random ?? null,
      ...(req.metadata ? { metadata: req.metadata } : {}),
    };
  }
}

/** The criteria that decided (all of them with --all-candidates). */
function chainLevels(levels: { criterion: string; value: string; bucket: string; kept: string[] }[], all: boolean): string[] {
  const shown = levels.filter((l) => all || l.criterion === 'filter_chain_matcher' || l.bucket !== 'any');
  const lines = shown.map((l) => (l.criterion === 'filter_chain_matcher' ? l.value : `${l.criterion}: ${l.value} → ${l.bucket === 'any' ? 'chains without this criterion' : l.bucket}${all ? ` (${l.kept.join(', ')})` : ''}`));
  if (!lines.length && levels.length) lines.push('no chain sets any decisive criterion: the only candidate wins');
  return lines;
}

type Push = (s: Omit<TraceStep, 'losers' | 'notes' | 'uncertain' | 'matched'> & Partial<TraceStep>) => TraceStep;

function traceHttp(
  world: TraceWorld,
  hcm: NonNullable<ReturnType<typeof networkFilters>['hcm']>,
  target: Target,
  conn: Connection,
  authority: string,
  headers: [string, string][],
  req: TraceRequest,
  listener: Json,
  terminatesTls: boolean,
  push: Push,
  result: TraceResultData,
  authz: { conn: AuthzConnection; hcm: Json | null },
): string | null | 'stop' {
  const notes: string[] = [];
  if (target.scheme === 'tcp') notes.push('the target is host:port, but this chain speaks HTTP: tracing GET / (give an http:// URL to choose)');
  if (target.scheme === 'https') notes.push('the client speaks TLS but this chain parses HTTP directly');
  let rc: Json | undefined;
  if (hcm.rdsName !== null) {
    rc = world.routeConfig(hcm.rdsName);
    result.routeConfig = hcm.rdsName;
    push({
      stage: 'routeConfig',
      chosen: hcm.rdsName,
      summary: rc ? `RDS route configuration ${hcm.rdsName}` : `RDS route configuration ${hcm.rdsName} is not in the dump (not yet received?): Envoy answers 404`,
      notes,
    });
  } else if (hcm.inlineRouteConfig) {
    rc = hcm.inlineRouteConfig;
    result.routeConfig = rc.name !== undefined ? String(rc.name) : '(inline)';
    push({ stage: 'routeConfig', chosen: result.routeConfig, summary: `inline route_config ${result.routeConfig}`, notes });
  } else {
    push({ stage: 'routeConfig', chosen: null, summary: 'the connection manager has neither rds nor route_config (scoped routes are not simulated)', uncertain: ['scoped_routes not simulated'], notes });
    return 'stop';
  }
  if (!rc) return 'stop';

  // a CONNECT has no :path (RFC 9113 8.5): only a connect_matcher route matches it (Envoy's upgrades docs)
  const connect = (req.method ?? '').toUpperCase() === 'CONNECT';
  const path0 = connect ? '' : target.scheme === 'tcp' ? '/' : target.path;
  const path = connect ? '' : normalizePath(path0, hcm.normalizePath, hcm.mergeSlashes);
  const shown = connect ? authority : path;
  // the scheme and internal-ness the router sees come from the connection manager (./downstream.ts)
  const view = routerView(hcm.config, { remoteIp: conn.srcIp, tls: terminatesTls || target.scheme === 'https' }, headers);
  const httpReq: HttpRequest = {
    authority,
    path,
    method: (req.method ?? 'GET').toUpperCase(),
    scheme: view.scheme,
    headers: view.headers,
    internal: view.internal,
    random: req.random,
    ...(req.metadata ? { metadata: req.metadata } : {}),
  };
  const listenerPort = socketAddress(listener)?.port;
  const vh = findVirtualHost(rc, authority, { listenerPort: conn.dstPort ?? listenerPort, stripAnyHostPort: hcm.stripAnyHostPort, stripMatchingHostPort: hcm.stripMatchingHostPort, stripTrailingHostDot: hcm.stripTrailingHostDot }, req.allCandidates === true);
  result.virtualHost = vh.name;
  push({
    stage: 'virtualHost',
    chosen: vh.name,
    summary: vh.vhost
      ? `virtual host ${vh.name}: domain ${vh.domain} matches host ${vh.host} (${vh.how})`
      : `no virtual host of ${result.routeConfig} matches host ${vh.host}: Envoy answers 404 (NR)`,
    matched: [vh.hostNote, path !== path0 ? `path normalised to ${path} (normalize_path/merge_slashes)` : null].filter((x): x is string => x !== null),
    losers: vh.losers,
  });
  if (!vh.vhost) return 'stop';

  const rt = findRoute(vh.vhost, httpReq, req.allCandidates === true);
  const requireTls = String(vh.vhost.require_tls ?? 'NONE');
  const viewFacts = [requireTls !== 'NONE' || headers.some(([k]) => k === 'x-forwarded-proto') ? view.schemeHow : null, requireTls === 'EXTERNAL_ONLY' ? view.internalHow : null].filter((x): x is string => x !== null);
  const viewNotes = [...view.notes, ...rt.notes];
  if (rt.tlsRedirect) {
    result.redirect = rt.tlsRedirect;
    push({ stage: 'route', chosen: null, summary: `virtual host requires TLS (require_tls ${vh.vhost.require_tls}): Envoy redirects to ${rt.tlsRedirect} (301)`, matched: viewFacts, notes: viewNotes, uncertain: view.uncertain, data: { redirectStatus: 301 } });
    return 'stop';
  }
  const label = (i: number) => routeLabel(asArray(vh.vhost.routes)[i], i);
  const failed = rt.evaluated.filter((e) => !e.matched || (rt.index !== null && e.index > rt.index));
  const losers = failed.map((e) => ({ name: `route ${label(e.index)} \`${e.match}\``, reason: e.reason }));
  // The nearest losers are the routes just before the winner.
  const shownLosers = req.allCandidates ? losers : losers.slice(-NEAREST).reverse();
  result.route = rt.route ? (rt.name ?? rt.index) : null;
  const chosenEval = rt.index !== null ? rt.evaluated.find((e) => e.index === rt.index) : undefined;
  push({
    stage: 'route',
    chosen: rt.route ? label(rt.index!) : null,
    summary: rt.route
      ? `route ${label(rt.index!)} \`${chosenEval?.match}\` is the first that matches ${httpReq.method} ${shown}`
      : `no route of virtual host ${vh.name} matches ${httpReq.method} ${shown}: Envoy answers 404 (NR)`,
    matched: [...(requireTls !== 'NONE' ? [`require_tls ${requireTls}: no redirect`] : []), ...viewFacts, ...(chosenEval ? chosenEval.checks.map((c) => c.reason) : [])],
    losers: shownLosers,
    notes: [...viewNotes, ...(!req.allCandidates && losers.length > NEAREST ? [`${losers.length - NEAREST} earlier route(s) did not match either (--all-candidates lists them)`] : [])],
    uncertain: [...view.uncertain, ...rt.uncertain],
  });
  // Authorization filters run before the router: they see the routed request and can end it with 403.
  const az = authorizeRequest(authz.hcm, httpReq, rt.route ?? null, vh.vhost, authz.conn, req.identity ?? {});
  if (az) {
    for (const s of az.steps) push(s);
    result.authz = az.verdict;
    if (az.verdict.decision === 'DENY') return 'stop';
  } else if (result.authz === null) {
    result.authz = { decision: 'ALLOW', policy: null, authorizationPolicy: null, filter: null, reason: 'no RBAC or ext_authz filter on this path: nothing restricts the request' };
  }
  if (!rt.route) return 'stop';

  const act: RouteActionResult = routeAction(rt.route, vh.vhost, httpReq);
  const upgrade = connect && act.kind === 'route' ? connectUpgrade(hcm.config, rt.route) : null;
  if (upgrade && !upgrade.enabled) {
    result.directResponse = { status: 403, body: null };
    push({ stage: 'routeAction', chosen: 'direct_response 403', summary: 'CONNECT is not enabled on this route: Envoy answers 403 itself', matched: upgrade.facts, data: { kind: 'direct_response', connect: { enabled: false, terminated: false } } });
    return 'stop';
  }
  result.pathRewrite = act.pathRewrite;
  result.hostRewrite = act.hostRewrite;
  result.redirect = act.redirect?.location ?? null;
  result.directResponse = act.directResponse;
  result.weightedClusters = act.weightedClusters?.map(({ name, weight }) => ({ name, weight })) ?? null;
  result.cluster = act.cluster;
  const retries = act.kind === 'route' ? effectiveRetries(rt.route, vh.vhost) : null;
  const matched: string[] = [];
  if (act.kind === 'route') {
    matched.push(act.cluster ? `cluster ${act.cluster} (${act.clusterSource})` : `cluster: ${act.clusterSource ?? 'none'}${act.weightedClusters ? ' — undecided' : ''}`);
    for (const w of act.weightedClusters ?? []) matched.push(`  ${w.name}: weight ${w.weight} (${w.percent}%, random % ${act.totalWeight} in [${w.range[0]}, ${w.range[1]}))`);
    if (act.pathRewrite !== null) matched.push(`path rewritten to ${act.pathRewrite}`);
    if (act.hostRewrite !== null) matched.push(`host rewritten to ${act.hostRewrite}`);
    matched.push(`timeout ${act.timeout}${act.idleTimeout ? `, idle_timeout ${act.idleTimeout}` : ''}`);
    if (retries) matched.push(`retries: ${retries.numRetries} on ${retries.retryOn ?? '(none)'}${retries.perTryTimeout ? `, per try ${retries.perTryTimeout}` : ''}`);
    for (const m of act.mirrors) matched.push(`mirrored to ${m.cluster}${m.percent !== null ? ` (${m.percent}%)` : ''}`);
    const hp = asArray(rt.route.route?.hash_policy);
    if (hp.length) matched.push(`hash policy: ${hp.map((h: Json) => Object.keys(h).filter((k) => k !== 'terminal').join('+')).join(', ')} (consistent-hash load balancers pick the endpoint by it)`);
    if (upgrade) matched.push(...upgrade.facts);
  } else if (act.redirect && act.kind === 'redirect') matched.push(`redirect ${act.redirect.status} Location: ${act.redirect.location}`);
  else if (act.directResponse) matched.push(`direct response ${act.directResponse.status}${act.directResponse.body !== null ? ` body ${JSON.stringify(act.directResponse.body)}` : ''}${act.redirect ? ` Location: ${act.redirect.location}` : ''}`);
  if (act.fault) {
    if (act.fault.delay) matched.push(`fault: delay ${act.fault.delay}`);
    if (act.fault.abort) matched.push(`fault: abort ${act.fault.abort}`);
  }
  push({
    stage: 'routeAction',
    chosen:
      act.cluster ??
      (act.kind === 'redirect' && act.redirect
        ? act.redirect.location
        : act.directResponse
          ? `direct_response ${act.directResponse.status}`
          : act.weightedClusters
            ? `one of ${act.weightedClusters.length} weighted clusters`
            : null),
    summary: `${act.kind}${act.istio ? ` from ${act.istio}` : ''}`,
    matched,
    notes: act.notes,
    uncertain: act.uncertain,
    data: {
      kind: act.kind,
      istio: act.istio,
      timeout: act.timeout,
      retries,
      mirrors: act.mirrors,
      fault: act.fault,
      randomUsed: act.randomUsed,
      redirectStatus: act.redirect?.status ?? null,
      ...(upgrade ? { connect: { enabled: upgrade.enabled, terminated: upgrade.terminated } } : {}),
    },
  });
  if (act.kind !== 'route') return 'stop';
  return act.cluster;
}

/**
 * What happens to a TLS client's encryption on the way up, when the cluster adds none: passed through
 * untouched (a chain that does not terminate TLS), or ended by this chain (Istio's inbound mTLS: the
 * application gets plaintext).
 */
function tlsNote(conn: Connection, upstreamTls: string, chain: { terminated: boolean; direction: string }): string | null {
  if (!conn.tls || upstreamTls !== 'plaintext') return null;
  if (!chain.terminated) return "Envoy adds no TLS: the client's own TLS passes through unchanged";
  return chain.direction === 'inbound'
    ? "the client's TLS ends at this filter chain: Envoy forwards plaintext to the application"
    : "the client's TLS ends at this filter chain: Envoy connects upstream in plaintext";
}

function traceCluster(world: TraceWorld, name: string, conn: Connection, unresolvedHost: string | null, push: Push, result: TraceResultData, chain: { terminated: boolean; direction: string }): void {
  result.cluster = name;
  const c = world.cluster(name);
  if (!c) {
    push({ stage: 'cluster', chosen: name, summary: `cluster ${name} is not in the dump: Envoy answers 503 (NC, cluster not found)` });
    return;
  }
  const s = summariseCluster(name, c, world.secret);
  push({
    stage: 'cluster',
    chosen: name,
    summary: `${s.type} cluster, ${s.lbPolicy}, upstream ${s.tls}`,
    matched: [
      s.service ? `service ${s.service.host} port ${s.service.port}${s.service.subset ? ` subset ${s.service.subset}` : ''} (${s.service.direction})` : null,
      s.istio ? `from ${s.istio}` : null,
      s.validation,
      s.connectTimeout ? `connect_timeout ${s.connectTimeout}` : null,
      `circuit breakers: ${s.circuitBreakers ?? 'Envoy defaults'}`,
      `outlier detection: ${s.outlierDetection ?? 'off'}`,
    ].filter((x): x is string => x !== null),
    notes: [...s.notes, ...[tlsNote(conn, s.tls, chain)].filter((n): n is string => n !== null)],
    data: { ...s },
  });
  if (s.type === 'ORIGINAL_DST') {
    const ip = unresolvedHost ?? (conn.dstIp.includes(':') ? `[${conn.dstIp}]` : conn.dstIp);
    const ep: EndpointInfo = { address: `${ip}:${conn.dstPort}`, health: 'n/a (original destination)', locality: null, weight: null, priority: 0, tlsMode: null, hostname: unresolvedHost };
    result.endpoints = [ep];
    push({
      stage: 'endpoints',
      chosen: ep.address,
      summary: unresolvedHost
        ? `original destination: whatever ${unresolvedHost} resolves to in the application, port ${conn.dstPort}`
        : `original destination ${ep.address}`,
      data: { source: 'ORIGINAL_DST' },
    });
    return;
  }
  const found = world.endpoints(name);
  if (found === undefined) {
    push({
      stage: 'endpoints',
      chosen: null,
      summary: `endpoints of ${name} are not in ${world.name} (save the dump with ?include_eds, or trace a live pod)`,
      uncertain: [`endpoints of ${name} unknown`],
    });
    return;
  }
  const eps = found.list;
  result.endpoints = eps;
  const healthy = eps.filter((e) => /^(HEALTHY|UNKNOWN)$/.test(e.health));
  push({
    stage: 'endpoints',
    chosen: eps.length ? `${eps.length} endpoint(s)` : null,
    summary: eps.length
      ? `${healthy.length} of ${eps.length} endpoint(s) can take traffic (${found.source}); the ${s.lbPolicy} load balancer picks one per request${
          eps.some((e) => e.priority > 0) ? '; higher priorities take traffic only when priority 0 is unhealthy' : ''
        }`
      : `cluster ${name} has no endpoints: Envoy answers 503 (UH, no healthy upstream)`,
    matched: eps.map((e) => `${e.address} ${e.health}${e.locality ? ` ${e.locality}` : ''}${e.weight !== null ? ` weight ${e.weight}` : ''}${e.priority ? ` priority ${e.priority}` : ''}${e.tlsMode ? ` tlsMode=${e.tlsMode}` : ''}`),
    data: { source: found.source },
  });
}

/** The listener a trace starts at when another listener handed it the connection (TraceRequest.entry). */
function entryListener(world: TraceWorld, entry: NonNullable<TraceRequest['entry']>): ReturnType<typeof selectListener> {
  const l = world.listeners.byName.get(entry.listener) ?? null;
  if (!l) return { receiving: null, listener: null, how: `no listener ${entry.listener} in ${world.name}: the connection is closed`, losers: [], notes: entry.notes ?? [] };
  return { receiving: l, listener: l, how: entry.how, losers: [], notes: entry.notes ?? [] };
}

function ipIrrelevant(world: TraceWorld, listener: Json, port: number): boolean {
  const specific = (world.listeners.byPort.get(port) ?? []).some((l) => {
    const a = socketAddress(l);
    return a !== null && a.ip !== '0.0.0.0' && a.ip !== '::';
  });
  const prefixes = asArray(listener?.filter_chains).some((fc: Json) => asArray(fc?.filter_chain_match?.prefix_ranges).length > 0);
  return !specific && !prefixes && listener?.filter_chain_matcher === undefined;
}

/** Does the inbound listener on this port hold mTLS chains (so a mesh peer would speak mTLS)? */
function inboundExpectsMtls(world: TraceWorld, port: number | null): boolean {
  if (port === null) return false;
  for (const l of world.listeners.byPort.get(port) ?? []) {
    for (const fc of asArray(l?.filter_chains)) if (fc?.filter_chain_match?.transport_protocol === 'tls' && fc?.transport_socket) return true;
  }
  return false;
}

/**
 * The destination IP for a host name: given, an IP literal, or looked up in the dump — an Istio
 * virtual host lists the service VIP among its domains, and TCP listeners are named by it.
 */
export function resolveDestination(world: TraceWorld, target: Target, direction: string, given?: string): { ip: string; how: string; uncertain?: string } {
  if (given) return { ip: given, how: `--dst-ip ${given}` };
  if (isIP(target.host)) return { ip: target.host, how: 'the target is an IP address' };
  if (direction === 'inbound') {
    if (world.podIps[0]) return { ip: world.podIps[0], how: `the pod's own IP (INSTANCE_IPS)` };
    return { ip: '10.244.0.100', how: 'assumed pod IP 10.244.0.100', uncertain: 'inbound destination IP unknown (no INSTANCE_IPS in the dump); pass --dst-ip' };
  }
  const host = target.host.toLowerCase();
  const withPort = `${host}:${target.port}`;
  // 1. Route configurations: the virtual host for host or host:port, and an IP among its domains.
  const preferred = world.routeConfig(String(target.port));
  const rcs = preferred ? [preferred, ...world.routeConfigs().filter((r) => r !== preferred)] : world.routeConfigs();
  for (const rc of rcs) {
    for (const vh of asArray(rc?.virtual_hosts)) {
      const domains = asArray<string>(vh?.domains).map((d) => String(d).toLowerCase());
      if (!domains.includes(host) && !domains.includes(withPort)) continue;
      const ip = domains.map((d) => d.replace(/:\d+$/, '')).find((d) => isIP(d.replace(/^\[|\]$/g, '')));
      if (ip) return { ip: ip.replace(/^\[|\]$/g, ''), how: `${ip} from the domains of virtual host ${vh.name} in route configuration ${rc.name}` };
    }
  }
  // 2. TCP listeners bound to a VIP whose tcp_proxy cluster names the host.
  for (const l of world.listeners.byPort.get(target.port) ?? []) {
    const a = socketAddress(l);
    if (!a || a.ip === '0.0.0.0' || a.ip === '::') continue;
    for (const fc of asArray(l?.filter_chains)) {
      for (const f of asArray(fc?.filters)) {
        const cluster = String(f?.typed_config?.cluster ?? '');
        const fqdn = cluster.split('|')[3] ?? '';
        if (fqdn && (fqdn === host || fqdn.startsWith(host + '.'))) {
          return { ip: a.ip, how: `${a.ip}: listener ${listenerLabel(l)} proxies to ${cluster}` };
        }
      }
    }
  }
  // 3. No VIP (e.g. a headless service): the first endpoint of its outbound cluster, as DNS would answer.
  const names = searchNames(host, world.podNamespace);
  for (const n of names) {
    const cluster = `outbound|${target.port}||${n}`;
    const eps = world.cluster(cluster) ? world.endpoints(cluster) : undefined;
    const first = eps?.list.map((e) => /^\[?([0-9a-fA-F:.]+?)\]?:\d+$/.exec(e.address)?.[1]).find((ip) => ip !== undefined && isIP(ip));
    if (first) {
      return {
        ip: first,
        how: `${first}: first endpoint of cluster ${cluster} (${eps!.source}); no service VIP in the dump`,
        uncertain: eps!.list.length > 1 ? `${host} has no VIP in the dump: its endpoint ${first} was used; DNS may return another of its ${eps!.list.length} endpoints` : undefined,
      };
    }
  }
  return {
    ip: '240.240.240.240',
    how: `not found in the dump for ${host}; using 240.240.240.240, which only wildcard (0.0.0.0) listeners match`,
    uncertain: `destination IP of ${host} unknown; pass --dst-ip for listeners bound to a specific IP`,
  };
}

export class TraceInputError extends Error {}

