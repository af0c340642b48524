import { policyLabel } from '../authz/names.js';
import type { TraceOutput, TraceStep } from '../trace/trace.js';
import { GraphBuilder, nodeId, shorten, type GraphNode, type NodeKind, type TrafficGraph } from './model.js';

/** Endpoint lines listed in an endpoints node before "+N more". */
const ENDPOINT_LINES = 6;
/** Losers drawn per step (the trace already keeps only the nearest unless --all-candidates). */
const LOSERS = 5;

/** The id of a route configuration node: its name, or per listener for an unnamed inline one. */
export function routeConfigId(listener: string | null, name: string): string {
  return name === '(inline)' ? nodeId('routeConfig', listener ?? '', '(inline)') : nodeId('routeConfig', name);
}

/**
 * The traced request's path as a graph: request → listener(s) → filter chain → route config → virtual
 * host → route → authorization filters → cluster(s) → endpoints, or the outcome where the request stops
 * (404, 403, connection closed, redirect, direct response, no listener…). Each RBAC / ext_authz filter is
 * a node with its decision; a TCP chain's network RBAC comes right after the filter chain. The nearest
 * candidates that lost hang off the step they lost at, with why.
 */
export function traceGraph(t: TraceOutput, source?: string): TrafficGraph {
  const r = t.result;
  const g = new GraphBuilder(`${requestText(t)}${source ? ` through ${source}` : ''}`);
  const step = (stage: TraceStep['stage']) => t.steps.find((s) => s.stage === stage);

  const request = g.node({
    id: nodeId('request', 'trace'),
    kind: 'request',
    label: requestText(t),
    details: [String(t.request.direction ?? 'outbound'), ...(step('destination')?.chosen ? [`to ${step('destination')!.chosen}`] : [])],
    onPath: true,
  });
  let at = request.id;
  const stop = (label: string, details: string[] = [], status: GraphNode['status'] = 'bad', edgeLabel?: string) => {
    const id = nodeId('outcome', label);
    g.node({ id, kind: 'outcome', label, details, onPath: true, status });
    g.edge(at, id, { onPath: true, label: edgeLabel });
    at = id;
  };
  const losers = (s: TraceStep | undefined, kind: NodeKind, idOf: (name: string) => string, from: string) => {
    for (const l of (s?.losers ?? []).slice(0, LOSERS)) {
      // routes lose as "route 0 (jason) `prefix /`": the label and the match apart
      const m = kind === 'route' ? /^route (.*?) `(.*)`$/.exec(l.name) : null;
      const name = m ? m[1] : l.name;
      const id = idOf(name);
      if (g.has(id)) continue;
      g.node({ id, kind, label: name, details: m ? [shorten(m[2], 70)] : [], lost: l.reason });
      g.edge(from, id, { lost: true });
    }
  };

  /** The chain's authorization filters of one kind, in order; true when one of them ends the request. */
  const authorize = (kind: 'http' | 'network'): boolean => {
    const steps = t.steps.filter((s) => s.stage === 'authz' && s.data?.kind === kind);
    for (const [i, s] of steps.entries()) {
      const a = authzFacts(s);
      const id = nodeId('authz', kind, String(i), String(s.chosen ?? ''));
      g.node({ id, kind: 'authz', label: a.title, details: a.details, onPath: true, status: a.decision === 'DENY' ? 'bad' : a.decision === 'UNDECIDED' ? 'warn' : undefined });
      g.edge(at, id, { onPath: true });
      at = id;
      if (a.decision === 'DENY') {
        if (kind === 'http') stop('403', [a.extAuthz ? 'denied by the external authorizer' : 'RBAC: access denied'], 'bad', 'denied');
        else stop('connection closed', [`${a.extAuthz ? 'ext_authz' : 'network RBAC'} denied the connection`], 'bad', 'denied');
        return true;
      }
    }
    return false;
  };

  // --- capture and listener
  const ipt = step('iptables');
  const ls = step('listener');
  if (ipt && ipt.chosen === null && t.steps.indexOf(ipt) === t.steps.length - 1) {
    stop(ipt.notes.find((n) => /bypasses|dropped|rejected/.test(n)) ?? 'not captured by iptables', [ipt.summary], 'warn');
    return g.build();
  }
  const capture = ipt?.chosen ?? undefined;
  if (!ls || ls.chosen === null) {
    stop('no listener', ls ? [ls.summary] : [], 'bad', capture);
    return g.build();
  }
  const receiving = typeof ls.data?.receiving === 'string' ? ls.data.receiving : null;
  if (receiving && receiving !== ls.chosen) {
    const rid = nodeId('listener', receiving);
    g.node({ id: rid, kind: 'listener', label: receiving, details: [], onPath: true });
    g.edge(at, rid, { onPath: true, label: capture });
    at = rid;
  }
  const lid = nodeId('listener', ls.chosen);
  g.node({ id: lid, kind: 'listener', label: ls.chosen, details: address(ls), onPath: true });
  g.edge(at, lid, { onPath: true, label: receiving && receiving !== ls.chosen ? 'original_dst' : capture });
  losers(ls, 'listener', (n) => nodeId('listener', n), at);
  at = lid;

  // --- filter chain and network filters
  const fc = step('filterChain');
  if (!fc) return g.build();
  if (fc.chosen === null) {
    stop('no filter chain matches', ['the connection is closed']);
    return g.build();
  }
  const nf = step('networkFilters');
  const fcid = nodeId('filterChain', ls.chosen, fc.chosen);
  g.node({ id: fcid, kind: 'filterChain', label: fc.chosen, details: [fc.summary.replace(/^.*?\(([^)]*)\); /, '$1; '), ...(nf?.chosen ? [nf.chosen] : [])].map((d) => shorten(d, 70)), onPath: true });
  g.edge(at, fcid, { onPath: true });
  losers(fc, 'filterChain', (n) => nodeId('filterChain', ls.chosen!, n), lid);
  at = fcid;
  if (authorize('network')) return g.build();
  if (!nf || nf.chosen === null) {
    if (nf) stop('no proxy filter', [nf.summary], 'warn');
    return g.build();
  }

  // --- HTTP: route config, virtual host, route, route action
  const rcs = step('routeConfig');
  if (nf.chosen === 'http_connection_manager') {
    if (!rcs || rcs.chosen === null) {
      stop('no route configuration', rcs ? [rcs.summary] : [], 'warn');
      return g.build();
    }
    const rcid = routeConfigId(ls.chosen, rcs.chosen);
    const missing = /not in the dump/.test(rcs.summary);
    g.node({ id: rcid, kind: 'routeConfig', label: rcs.chosen, details: [missing ? 'not in the dump' : /inline/.test(rcs.summary) ? 'inline' : 'RDS'], onPath: true, status: missing ? 'bad' : undefined });
    g.edge(at, rcid, { onPath: true });
    at = rcid;
    if (missing) {
      stop('404', ['route configuration not received']);
      return g.build();
    }
    const vs = step('virtualHost');
    if (!vs) return g.build();
    if (vs.chosen === null) {
      stop('404 (NR)', ['no virtual host matches']);
      return g.build();
    }
    const vhid = nodeId('virtualHost', rcs.chosen, vs.chosen);
    g.node({ id: vhid, kind: 'virtualHost', label: vs.chosen, details: [shorten(vs.summary.replace(/^virtual host \S+: /, ''), 70)], onPath: true });
    g.edge(at, vhid, { onPath: true });
    losers(vs, 'virtualHost', (n) => nodeId('virtualHost', rcs.chosen!, n), rcid);
    at = vhid;
    const rs = step('route');
    if (!rs) return g.build();
    if (rs.chosen === null) {
      if (r.redirect) stop(`redirect ${typeof rs.data?.redirectStatus === 'number' ? rs.data.redirectStatus : ''}`.trim(), [r.redirect, rs.summary].map((d) => shorten(d, 70)), 'warn');
      // the authorization filters run before the router: a denial answers 403 even without a route
      else if (!authorize('http')) stop('404 (NR)', ['no route matches']);
      return g.build();
    }
    const rid = nodeId('route', rcs.chosen, vs.chosen, rs.chosen);
    const match = /`([^`]*)`/.exec(rs.summary)?.[1];
    g.node({ id: rid, kind: 'route', label: rs.chosen, details: [...(match ? [match] : []), ...rs.matched.slice(1, 3)].map((d) => shorten(d, 70)), onPath: true });
    g.edge(at, rid, { onPath: true });
    losers(rs, 'route', (n) => nodeId('route', rcs.chosen!, vs.chosen!, n), vhid);
    at = rid;
    if (authorize('http')) return g.build();
    const act = step('routeAction');
    const kind = act?.data?.kind;
    if (kind === 'redirect') {
      stop(`redirect ${act?.data?.redirectStatus ?? ''}`.trim(), r.redirect ? [r.redirect] : [], 'warn');
      return g.build();
    }
    if (r.directResponse) {
      stop(`direct response ${r.directResponse.status}`, r.directResponse.body ? [shorten(r.directResponse.body, 60)] : [], r.directResponse.status >= 400 ? 'bad' : 'warn');
      return g.build();
    }
    if (r.weightedClusters && r.weightedClusters.length > 0) {
      const total = r.weightedClusters.reduce((n, w) => n + w.weight, 0);
      for (const w of r.weightedClusters) {
        const chosen = w.name === r.cluster;
        const cid = nodeId('cluster', w.name);
        g.node({ id: cid, kind: 'cluster', label: w.name, details: [], onPath: chosen });
        g.edge(at, cid, { onPath: chosen, label: `weight ${w.weight}${total ? ` (${Math.round((100 * w.weight) / total)}%)` : ''}` });
      }
      if (!r.cluster) {
        g.notes.push('weighted clusters: pass --random N to pick one as Envoy would');
        return g.build();
      }
    }
  }

  // --- cluster and endpoints
  const cs = step('cluster');
  if (!cs || cs.chosen === null) return g.build();
  const cid = nodeId('cluster', cs.chosen);
  const missing = /not in the dump/.test(cs.summary);
  g.node({ id: cid, kind: 'cluster', label: cs.chosen, details: missing ? ['not in the dump'] : [shorten(cs.summary, 70)], onPath: true, status: missing ? 'bad' : undefined });
  g.edge(at, cid, { onPath: true });
  at = cid;
  if (missing) {
    stop('503 (NC)', ['cluster not found']);
    return g.build();
  }
  const es = step('endpoints');
  if (!es) return g.build();
  const eps = r.endpoints ?? [];
  const lines = eps.slice(0, ENDPOINT_LINES).map((e) => `${e.address} ${e.health}`);
  if (eps.length > ENDPOINT_LINES) lines.push(`+${eps.length - ENDPOINT_LINES} more`);
  const healthy = eps.filter((e) => /^(HEALTHY|UNKNOWN|n\/a)/.test(e.health)).length;
  g.node({
    id: nodeId('endpoints', cs.chosen),
    kind: 'endpoints',
    label: es.chosen === null ? (r.endpoints === null ? 'endpoints unknown' : 'no endpoints') : es.chosen,
    details: lines,
    onPath: true,
    status: r.endpoints !== null && (eps.length === 0 || healthy === 0) ? 'bad' : healthy < eps.length ? 'warn' : undefined,
  });
  g.edge(at, nodeId('endpoints', cs.chosen), { onPath: true });
  return g.build();
}

/** One authorization step in the drawing's words: what the filter is and what it decided. */
function authzFacts(s: TraceStep): { title: string; decision: string; extAuthz: boolean; details: string[] } {
  const d = s.data ?? {};
  const decision = String(d.decision ?? 'UNDECIDED');
  const extAuthz = d.action === 'CUSTOM' || /^ext_authz/.test(s.summary);
  const kind = d.kind === 'network' ? 'network ' : '';
  const title = extAuthz ? `${kind}ext_authz (CUSTOM)` : `${kind}RBAC ${typeof d.action === 'string' ? d.action : '(dry-run only)'}`;
  const policy = typeof d.policy === 'string' ? policyLabel(d.policy) : null;
  const reason = s.summary.replace(/^[^:]*: (ALLOW|DENY|UNDECIDED) — /, '').replace(/: denied$/, '');
  let verdict: string;
  if (decision === 'DENY') verdict = policy && d.action !== 'ALLOW' ? `denied by ${policy}` : `denied: ${reason}`;
  else if (decision === 'ALLOW') verdict = policy && d.action !== 'DENY' ? `allowed by ${policy}` : `allowed: ${reason}`;
  else verdict = `undecided: ${reason}`;
  const details = [verdict];
  const shadow = d.shadow as { result?: string } | null | undefined;
  if (shadow?.result) details.push(`dry-run: would be ${shadow.result}`);
  if (s.chosen) details.push(s.chosen);
  return { title, decision, extAuthz, details: details.map((x) => shorten(x, 70)) };
}

function requestText(t: TraceOutput): string {
  const q = t.request;
  return q.method ? `${String(q.method)} ${String(q.target)}` : String(q.target);
}

function address(s: TraceStep): string[] {
  const a = s.data?.address as { ip?: string; port?: number } | null | undefined;
  return a && a.ip !== undefined ? [`${a.ip.includes(':') ? `[${a.ip}]` : a.ip}:${a.port}`] : [];
}
