import type { Json } from './matchers.js';
import { matchString } from './matchers.js';
import { cidrOf, inCidr, isAnyAddress, isLoopback, joinHostPort, parseIp, type Ip } from './net.js';
import { asArray } from './route.js';

/** The downstream connection as the listener sees it (after iptables REDIRECT restored the original dst). */
export interface Connection {
  dstIp: string;
  dstPort: number;
  srcIp: string;
  srcPort: number;
  /** TLS ClientHello present (the client speaks TLS). */
  tls: boolean;
  /** SNI the client sends ('' for none). */
  sni: string;
  /** ALPN the client offers, in order. */
  alpn: string[];
  /** For plaintext: the HTTP version http_inspector would detect (null for non-HTTP bytes). */
  plaintextHttp: 'http/1.1' | 'h2c' | 'http/1.0' | null;
}

export interface ListenerIndex {
  all: Json[];
  byName: Map<string, Json>;
  /** `ip:port` (IPv6 in brackets) → listener, including additional_addresses. */
  byAddress: Map<string, Json>;
  /** port → listeners bound to that port on any address. */
  byPort: Map<number, Json[]>;
}

export function socketAddress(l: Json): { ip: string; port: number } | null {
  const sa = l?.address?.socket_address;
  if (!sa) return null;
  return { ip: String(sa.address ?? ''), port: Number(sa.port_value ?? 0) };
}

/** Built once per dump: a 10,000-service sidecar has thousands of listeners. */
export function indexListeners(listeners: Json[]): ListenerIndex {
  const idx: ListenerIndex = { all: listeners, byName: new Map(), byAddress: new Map(), byPort: new Map() };
  for (const l of listeners) {
    if (l?.name !== undefined) idx.byName.set(String(l.name), l);
    const addrs = [socketAddress(l), ...asArray(l?.additional_addresses).map((a: Json) => socketAddress(a))];
    for (const a of addrs) {
      if (!a) continue;
      const key = joinHostPort(a.ip, a.port);
      if (!idx.byAddress.has(key)) idx.byAddress.set(key, l);
      let list = idx.byPort.get(a.port);
      if (!list) idx.byPort.set(a.port, (list = []));
      list.push(l);
    }
  }
  return idx;
}

export function listenerLabel(l: Json): string {
  const a = socketAddress(l);
  const name = l?.name !== undefined ? String(l.name) : a ? joinHostPort(a.ip, a.port) : '(unnamed)';
  return name;
}

export interface ListenerChoice {
  /** The listener that accepted the socket (e.g. virtualOutbound on 15001). */
  receiving: Json | null;
  /** The listener whose filter chains handle the connection. */
  listener: Json | null;
  how: string;
  losers: { name: string; reason: string }[];
  notes: string[];
}

/**
 * Envoy's listener selection: the socket lands on the listener bound to the port iptables redirected to;
 * with use_original_dst it is handed to the listener bound to the original destination IP:port, else to
 * the wildcard 0.0.0.0:port (or [::]:port) one, else it stays with the receiving listener's own chains.
 */
export function selectListener(idx: ListenerIndex, conn: Connection, receivingPort: number | null): ListenerChoice {
  const notes: string[] = [];
  const losers: { name: string; reason: string }[] = [];
  let receiving: Json | null = null;
  if (receivingPort !== null) {
    const onPort = idx.byPort.get(receivingPort) ?? [];
    receiving = onPort.find((l) => l?.bind_to_port !== false) ?? onPort[0] ?? null;
    if (!receiving) {
      return { receiving: null, listener: null, how: `no listener is bound to port ${receivingPort}: the connection is refused`, losers, notes };
    }
  } else {
    // Not captured by iptables (or rules unknown): the application connects to the destination itself.
    const direct = exactOrWildcard(idx, conn);
    if (direct.listener) {
      return { receiving: direct.listener, listener: direct.listener, how: direct.how, losers: direct.losers, notes };
    }
    return { receiving: null, listener: null, how: `no listener on ${joinHostPort(conn.dstIp, conn.dstPort)}`, losers: direct.losers, notes };
  }
  const recvName = listenerLabel(receiving);
  if (receiving.use_original_dst !== true) {
    return { receiving, listener: receiving, how: `listener ${recvName} bound to port ${receivingPort}`, losers, notes };
  }
  const handoff = exactOrWildcard(idx, conn, receiving);
  if (handoff.listener && receiving.traffic_direction === 'INBOUND' && handoff.listener.traffic_direction === 'OUTBOUND') {
    notes.push(`${recvName} is INBOUND but hands the connection to ${listenerLabel(handoff.listener)}, an OUTBOUND listener: inbound traffic is handled by outbound configuration (Istio no longer sets use_original_dst on virtualInbound)`);
  }
  if (handoff.listener) {
    return {
      receiving,
      listener: handoff.listener,
      how: `${recvName} (use_original_dst) hands the connection to ${handoff.how}`,
      losers: handoff.losers,
      notes,
    };
  }
  return {
    receiving,
    listener: receiving,
    how: `${recvName} (use_original_dst): no listener for ${joinHostPort(conn.dstIp, conn.dstPort)} or ${wildcardKey(conn)}, so its own filter chains decide`,
    losers: handoff.losers,
    notes,
  };
}

function wildcardKey(conn: Connection): string {
  return conn.dstIp.includes(':') ? `[::]:${conn.dstPort}` : `0.0.0.0:${conn.dstPort}`;
}

function exactOrWildcard(idx: ListenerIndex, conn: Connection, exclude?: Json): { listener: Json | null; how: string; losers: { name: string; reason: string }[] } {
  const losers: { name: string; reason: string }[] = [];
  const exactKey = joinHostPort(conn.dstIp, conn.dstPort);
  const exact = idx.byAddress.get(exactKey);
  const wildKey = wildcardKey(conn);
  const wild = idx.byAddress.get(wildKey);
  for (const l of idx.byPort.get(conn.dstPort) ?? []) {
    if (l === exact || l === exclude) continue;
    const a = socketAddress(l);
    if (!a) continue;
    if (l === wild) {
      if (exact) losers.push({ name: listenerLabel(l), reason: `bound to ${wildKey}; the listener on the exact address ${exactKey} wins` });
    } else if (!isAnyAddress(a.ip)) {
      losers.push({ name: listenerLabel(l), reason: `bound to ${joinHostPort(a.ip, a.port)}, not the destination ${conn.dstIp}` });
    }
  }
  if (exact && exact !== exclude) return { listener: exact, how: `listener ${listenerLabel(exact)} bound to ${exactKey}`, losers };
  if (wild && wild !== exclude) return { listener: wild, how: `listener ${listenerLabel(wild)} bound to ${wildKey} (no listener on ${exactKey})`, losers };
  return { listener: null, how: '', losers };
}

// ---------------------------------------------------------------------------------------------------

export interface ChainLevel {
  criterion: string;
  /** What the connection offers for this criterion. */
  value: string;
  /** The bucket chosen: the specific value or `any`. */
  bucket: string;
  kept: string[];
}

export interface ChainChoice {
  chain: Json | null;
  name: string | null;
  index: number | null;
  usedDefault: boolean;
  /** How the decision was made: the classic filter_chain_match tree or the filter_chain_matcher. */
  mode: 'filter_chain_match' | 'filter_chain_matcher' | 'none';
  levels: ChainLevel[];
  losers: { name: string; reason: string; level: number }[];
  notes: string[];
  uncertain: string[];
}

export function chainLabel(chain: Json, index: number | null): string {
  if (chain?.name) return String(chain.name);
  return index === null ? 'default_filter_chain' : `#${index}`;
}

/** What the listener filters let Envoy know about the connection (SNI, ALPN, transport protocol). */
export function detectedProperties(listener: Json, conn: Connection, inherited: Json[] = []): { transport: string; sni: string; alpn: string[]; notes: string[] } {
  const notes: string[] = [];
  // After a use_original_dst hand-off the socket keeps what the first listener's filters detected.
  const lf = [...inherited, ...asArray(listener?.listener_filters)];
  const active = (suffix: string) => {
    const f = lf.find((x: Json) => String(x?.name ?? '').endsWith(suffix) || String(x?.typed_config?.['@type'] ?? '').includes(suffix));
    if (!f) return false;
    if (f.filter_disabled && predicateHolds(f.filter_disabled, conn)) {
      notes.push(`${f.name} is disabled for this connection (filter_disabled)`);
      return false;
    }
    return true;
  };
  const tlsInspector = active('tls_inspector');
  const httpInspector = active('http_inspector');
  let transport = 'raw_buffer';
  let sni = '';
  let alpn: string[] = [];
  if (conn.tls) {
    if (tlsInspector) {
      transport = 'tls';
      sni = conn.sni;
      alpn = conn.alpn;
    }
  } else if (httpInspector && conn.plaintextHttp) {
    alpn = [conn.plaintextHttp === 'h2c' ? 'h2c' : conn.plaintextHttp];
  }
  const chains = asArray(listener?.filter_chains);
  const wantsAlpn = chains.some((c: Json) => asArray<string>(c?.filter_chain_match?.application_protocols).some((p) => p === 'http/1.1' || p === 'h2c'));
  if (wantsAlpn && !httpInspector && !conn.tls && conn.plaintextHttp) {
    notes.push('filter chains match on application_protocols http/1.1/h2c, but no http_inspector listener filter runs here: Envoy cannot detect the HTTP protocol, so those chains never match');
  }
  const wantsSni = chains.some((c: Json) => asArray(c?.filter_chain_match?.server_names).length > 0 || c?.filter_chain_match?.transport_protocol === 'tls');
  if (wantsSni && !tlsInspector && conn.tls) {
    notes.push('filter chains match on server_names/transport_protocol tls, but no tls_inspector listener filter runs here: those chains never match');
  }
  return { transport, sni, alpn, notes };
}

/** envoy.config.listener.v3.ListenerFilterChainMatchPredicate. */
function predicateHolds(p: Json, conn: Connection): boolean {
  if (p.any_match) return true;
  if (p.or_match) return asArray(p.or_match.rules).some((r: Json) => predicateHolds(r, conn));
  if (p.and_match) return asArray(p.and_match.rules).every((r: Json) => predicateHolds(r, conn));
  if (p.not_match) return !predicateHolds(p.not_match, conn);
  if (p.destination_port_range) {
    const { start, end } = p.destination_port_range;
    return conn.dstPort >= Number(start ?? 0) && conn.dstPort < Number(end ?? 0);
  }
  return false;
}

interface Cand {
  chain: Json;
  index: number;
  m: Json;
  name: string;
}

/**
 * Filter chain selection in Envoy's order of precedence. At each criterion the most specific value
 * present among the remaining chains wins, and Envoy never backtracks: when that subtree has no match
 * the default_filter_chain is used.
 */
export function matchFilterChain(listener: Json, conn: Connection, inheritedFilters: Json[] = []): ChainChoice {
  const det = detectedProperties(listener, conn, inheritedFilters);
  if (listener?.filter_chain_matcher) return matchWithMatcher(listener, conn, det);
  const choice: ChainChoice = { chain: null, name: null, index: null, usedDefault: false, mode: 'filter_chain_match', levels: [], losers: [], notes: [...det.notes], uncertain: [] };
  const chains = asArray(listener?.filter_chains);
  // Istio gives several chains the same name (one per protocol): tell them apart by position.
  const counts = new Map<string, number>();
  for (const [i, c] of chains.entries()) counts.set(chainLabel(c, i), (counts.get(chainLabel(c, i)) ?? 0) + 1);
  const label = (c: Json, i: number) => (counts.get(chainLabel(c, i))! > 1 ? `${chainLabel(c, i)} (#${i})` : chainLabel(c, i));
  let S: Cand[] = chains.map((chain: Json, index: number) => ({ chain, index, m: chain?.filter_chain_match ?? {}, name: label(chain, index) }));
  const dst = parseIp(conn.dstIp);
  const src = parseIp(conn.srcIp);
  const local = src && dst ? isLoopback(src) || src.value === dst.value : false;
  const level = (criterion: string, value: string, pick: (c: Cand) => boolean, bucket: string, why: (c: Cand) => string) => {
    if (!S.length) return;
    const kept: Cand[] = [];
    for (const c of S) {
      if (pick(c)) kept.push(c);
      else choice.losers.push({ name: c.name, reason: why(c), level: choice.levels.length });
    }
    choice.levels.push({ criterion, value, bucket, kept: kept.map((c) => c.name) });
    S = kept;
  };

  // 1. destination port
  const port = conn.dstPort;
  const hasPort = S.some((c) => c.m.destination_port !== undefined && Number(c.m.destination_port) === port);
  level(
    'destination_port',
    String(port),
    (c) => (hasPort ? Number(c.m.destination_port) === port : c.m.destination_port === undefined),
    hasPort ? String(port) : 'any',
    (c) => (c.m.destination_port !== undefined ? `destination_port ${c.m.destination_port} ≠ ${port}` : `no destination_port, but a chain for port ${port} exists and wins`),
  );
  // 2. destination IP, longest prefix
  prefixLevel('prefix_ranges', 'destination IP', dst, conn.dstIp);
  // 3. server names: exact, then wildcards from the most specific, then none
  const sni = det.sni;
  const names = (c: Cand) => asArray<string>(c.m.server_names).map((n) => String(n).toLowerCase());
  let snKey: string | null = null;
  if (S.some((c) => names(c).includes(sni.toLowerCase()) && sni !== '')) snKey = sni.toLowerCase();
  if (snKey === null && sni) {
    for (let pos = sni.indexOf('.', 1); pos !== -1 && pos < sni.length - 1; pos = sni.indexOf('.', pos + 1)) {
      const wild = '*' + sni.slice(pos).toLowerCase();
      if (S.some((c) => names(c).includes(wild))) {
        snKey = wild;
        break;
      }
    }
  }
  level(
    'server_names',
    sni || '(none)',
    (c) => (snKey === null ? names(c).length === 0 : names(c).includes(snKey)),
    snKey ?? 'any',
    (c) =>
      names(c).length === 0
        ? `no server_names, but ${snKey} is more specific`
        : `server_names [${names(c).join(', ')}] ${snKey ? `lose to ${snKey}` : `do not match SNI ${sni ? JSON.stringify(sni) : '(none)'}`}`,
  );
  // 4. transport protocol
  const tp = det.transport;
  const hasTp = S.some((c) => c.m.transport_protocol === tp);
  level(
    'transport_protocol',
    tp,
    (c) => (hasTp ? c.m.transport_protocol === tp : !c.m.transport_protocol),
    hasTp ? tp : 'any',
    (c) => (c.m.transport_protocol ? `transport_protocol ${c.m.transport_protocol} ≠ ${tp}` : `no transport_protocol, but a chain for ${tp} exists and wins`),
  );
  // 5. application protocols: the first offered protocol some chain lists
  const aps = (c: Cand) => asArray<string>(c.m.application_protocols).map(String);
  const apKey = det.alpn.find((p) => S.some((c) => aps(c).includes(p))) ?? null;
  level(
    'application_protocols',
    det.alpn.length ? det.alpn.join(',') : '(none)',
    (c) => (apKey === null ? aps(c).length === 0 : aps(c).includes(apKey)),
    apKey ?? 'any',
    (c) => (aps(c).length ? `application_protocols [${aps(c).join(', ')}] ${apKey ? `lose to ${apKey}` : `offered: ${det.alpn.join(',') || 'none'}`}` : `no application_protocols, but ${apKey} matches`),
  );
  // 6. direct source IP
  prefixLevel('direct_source_prefix_ranges', 'direct source IP', src, conn.srcIp);
  // 7. source type
  const st = (c: Cand) => String(c.m.source_type ?? 'ANY');
  const wantType = local ? 'SAME_IP_OR_LOOPBACK' : 'EXTERNAL';
  const typeKey = S.some((c) => st(c) === wantType) ? wantType : 'ANY';
  level('source_type', local ? 'local' : 'external', (c) => st(c) === typeKey, typeKey === 'ANY' ? 'any' : typeKey, (c) => `source_type ${st(c)}${typeKey !== 'ANY' && st(c) === 'ANY' ? `, but ${typeKey} is more specific` : ` does not fit a ${local ? 'local' : 'external'} source`}`);
  // 8. source IP
  prefixLevel('source_prefix_ranges', 'source IP', src, conn.srcIp);
  // 9. source port
  const sps = (c: Cand) => asArray<number>(c.m.source_ports).map(Number);
  const hasSp = S.some((c) => sps(c).includes(conn.srcPort));
  level(
    'source_ports',
    String(conn.srcPort),
    (c) => (hasSp ? sps(c).includes(conn.srcPort) : sps(c).length === 0),
    hasSp ? String(conn.srcPort) : 'any',
    (c) => (sps(c).length ? `source_ports [${sps(c).join(', ')}] do not include ${conn.srcPort}` : `no source_ports, but ${conn.srcPort} is listed by another chain`),
  );

  if (S.length) {
    if (S.length > 1) choice.notes.push(`chains ${S.map((c) => c.name).join(', ')} have identical matches (Envoy rejects such a listener); using the first`);
    const c = S[0];
    return { ...choice, chain: c.chain, name: c.name, index: c.index };
  }
  return useDefault(listener, choice);

  function prefixLevel(field: string, label: string, ip: Ip | null, shown: string): void {
    if (!S.length) return;
    const ranges = (c: Cand) => {
      const rs = asArray(c.m[field]).map((r: Json) => cidrOf(r));
      return rs.length ? rs : [{ text: 'any', prefix: '', len: 0 }];
    };
    let best = -1;
    for (const c of S) for (const r of ranges(c)) if ((r.len === 0 && r.text === 'any') || (ip && inCidr(ip, r.prefix, r.len))) best = Math.max(best, r.len);
    const holds = (c: Cand) => ranges(c).some((r) => (r.text === 'any' ? best === 0 : r.len === best && ip !== null && inCidr(ip, r.prefix, r.len)));
    level(field, `${label} ${shown}`, holds, best < 0 ? 'none' : best === 0 && !S.some((c) => asArray(c.m[field]).length) ? 'any' : `/${best}`, (c) => {
      const rs = asArray(c.m[field]).map((r: Json) => cidrOf(r).text);
      if (!rs.length) return `no ${field}, but a longer prefix matches ${shown}`;
      const contains = ip !== null && asArray(c.m[field]).some((r: Json) => inCidr(ip, cidrOf(r).prefix, cidrOf(r).len));
      return contains ? `${field} [${rs.join(', ')}] lose to a longer prefix` : `${field} [${rs.join(', ')}] do not contain ${shown}`;
    });
  }
}

function useDefault(listener: Json, choice: ChainChoice): ChainChoice {
  if (listener?.default_filter_chain) {
    choice.notes.push('no filter chain matches: the default_filter_chain handles the connection');
    return { ...choice, chain: listener.default_filter_chain, name: chainLabel(listener.default_filter_chain, null), index: null, usedDefault: true };
  }
  choice.notes.push('no filter chain matches and there is no default_filter_chain: Envoy closes the connection');
  return choice;
}

// --- filter_chain_matcher (xds.type.matcher.v3.Matcher) ----------------------------------------------

interface MatchContext {
  conn: Connection;
  det: { transport: string; sni: string; alpn: string[] };
  local: boolean;
  trail: string[];
  uncertain: string[];
}

function inputValue(input: Json, ctx: MatchContext): string | null {
  const type = String(input?.typed_config?.['@type'] ?? input?.name ?? '');
  const t = type.slice(type.lastIndexOf('.') + 1);
  switch (t) {
    case 'DestinationIPInput':
      return ctx.conn.dstIp;
    case 'DestinationPortInput':
      return String(ctx.conn.dstPort);
    case 'SourceIPInput':
    case 'DirectSourceIPInput':
      return ctx.conn.srcIp;
    case 'SourcePortInput':
      return String(ctx.conn.srcPort);
    case 'SourceTypeInput':
      return ctx.local ? 'local' : null;
    case 'ServerNameInput':
      return ctx.det.sni || null;
    case 'TransportProtocolInput':
      return ctx.det.transport;
    case 'ApplicationProtocolInput':
      return ctx.det.alpn.length ? ctx.det.alpn.map((p) => `'${p}'`).join(',') : null;
    case 'FilterStateInput':
      // Istio's waypoints keep the CONNECT :authority (the original destination) under this key
      if (input?.typed_config?.key === 'envoy.filters.listener.original_dst.local_ip') return joinHostPort(ctx.conn.dstIp, ctx.conn.dstPort);
      ctx.uncertain.push(`matcher input filter state ${input?.typed_config?.key ?? '?'} cannot be evaluated offline`);
      return null;
    default:
      ctx.uncertain.push(`matcher input ${type} cannot be evaluated offline`);
      return null;
  }
}

/** Returns the action's filter chain name, or null when nothing matched. */
function evalMatcher(m: Json, ctx: MatchContext): string | null {
  if (m?.matcher_tree) {
    const tree = m.matcher_tree;
    const v = inputValue(tree.input, ctx);
    const label = String(tree.input?.name ?? tree.input?.typed_config?.['@type'] ?? 'input').replace(/^.*\./, '');
    if (tree.exact_match_map) {
      const entry = v === null ? undefined : tree.exact_match_map.map?.[v];
      if (entry) {
        ctx.trail.push(`${label} ${v}: exact entry`);
        const r = evalOnMatch(entry, ctx);
        if (r !== null) return r;
      } else ctx.trail.push(`${label} ${v ?? '(none)'}: no exact entry`);
    } else if (tree.prefix_match_map) {
      const keys = Object.keys(tree.prefix_match_map.map ?? {}).filter((k) => v !== null && v.startsWith(k)).sort((a, b) => b.length - a.length);
      for (const k of keys) {
        ctx.trail.push(`${label} ${v}: prefix entry ${JSON.stringify(k)}`);
        const r = evalOnMatch(tree.prefix_match_map.map[k], ctx);
        if (r !== null) return r;
      }
      if (!keys.length) ctx.trail.push(`${label} ${v ?? '(none)'}: no prefix entry`);
    } else if (tree.custom_match) {
      const ipm = tree.custom_match.typed_config;
      const ip = v === null ? null : parseIp(v);
      const entries: { len: number; text: string; on: Json; exclusive: boolean }[] = [];
      for (const rm of asArray(ipm?.range_matchers)) {
        for (const r of asArray(rm.ranges)) {
          const c = cidrOf(r);
          if (ip && inCidr(ip, c.prefix, c.len)) entries.push({ len: c.len, text: c.text, on: rm.on_match, exclusive: rm.exclusive === true });
        }
      }
      entries.sort((a, b) => b.len - a.len);
      if (!ipm?.range_matchers) ctx.uncertain.push(`custom matcher ${ipm?.['@type'] ?? '?'} cannot be evaluated offline`);
      for (const e of entries) {
        ctx.trail.push(`${label} ${v}: in ${e.text}`);
        const r = evalOnMatch(e.on, ctx);
        if (r !== null) return r;
        if (e.exclusive) break;
      }
      if (!entries.length) ctx.trail.push(`${label} ${v ?? '(none)'}: in no range`);
    }
  } else if (m?.matcher_list) {
    for (const fm of asArray(m.matcher_list.matchers)) {
      if (predicate(fm.predicate, ctx)) {
        const r = evalOnMatch(fm.on_match, ctx);
        if (r !== null) return r;
      }
    }
  }
  if (m?.on_no_match) {
    ctx.trail.push('on_no_match');
    return evalOnMatch(m.on_no_match, ctx);
  }
  return null;
}

function evalOnMatch(on: Json, ctx: MatchContext): string | null {
  if (!on) return null;
  if (on.matcher) return evalMatcher(on.matcher, ctx);
  if (on.action) {
    const tc = on.action.typed_config;
    return String(tc?.value ?? on.action.name ?? '');
  }
  return null;
}

function predicate(p: Json, ctx: MatchContext): boolean {
  if (!p) return false;
  if (p.single_predicate) {
    const v = inputValue(p.single_predicate.input, ctx);
    if (v === null) return false;
    if (p.single_predicate.value_match) return matchString(p.single_predicate.value_match, v).ok;
    ctx.uncertain.push('custom single_predicate cannot be evaluated offline');
    return false;
  }
  if (p.or_matcher) return asArray(p.or_matcher.predicate).some((x: Json) => predicate(x, ctx));
  if (p.and_matcher) return asArray(p.and_matcher.predicate).every((x: Json) => predicate(x, ctx));
  if (p.not_matcher) return !predicate(p.not_matcher, ctx);
  return false;
}

function matchWithMatcher(listener: Json, conn: Connection, det: ReturnType<typeof detectedProperties>): ChainChoice {
  const choice: ChainChoice = { chain: null, name: null, index: null, usedDefault: false, mode: 'filter_chain_matcher', levels: [], losers: [], notes: [...det.notes], uncertain: [] };
  const src = parseIp(conn.srcIp);
  const dst = parseIp(conn.dstIp);
  const ctx: MatchContext = { conn, det, local: src && dst ? isLoopback(src) || src.value === dst.value : false, trail: [], uncertain: choice.uncertain };
  const name = evalMatcher(listener.filter_chain_matcher, ctx);
  choice.levels = ctx.trail.map((t) => ({ criterion: 'filter_chain_matcher', value: t, bucket: '', kept: [] }));
  if (name) {
    const chains = asArray(listener.filter_chains);
    const index = chains.findIndex((c: Json) => c?.name === name);
    for (const [i, c] of chains.entries()) if (i !== index) choice.losers.push({ name: chainLabel(c, i), reason: `the matcher chose ${name}`, level: 0 });
    if (index !== -1) return { ...choice, chain: chains[index], name, index };
    if (listener.default_filter_chain?.name === name) return { ...choice, chain: listener.default_filter_chain, name, index: null, usedDefault: true };
    choice.notes.push(`the matcher names filter chain ${name}, which the listener does not have`);
    return choice;
  }
  return useDefault(listener, choice);
}
