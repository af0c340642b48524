import type { AmbientResult } from '../trace/ambient.js';
import type { TraceOutput, TraceStep } from '../trace/trace.js';
import { GraphBuilder, nodeId, shorten, type TrafficGraph } from './model.js';
import { traceGraph } from './trace-graph.js';

/**
 * An ambient trace (src/trace/ambient.ts) as a graph: request → client ztunnel → (HBONE) the waypoint's
 * Envoy path, drawn by traceGraph from the waypoint's own steps → (HBONE) destination ztunnel with its L4
 * decision → pod; or where it stops (not captured, refused, unknown).
 */
export function ambientTraceGraph(t: TraceOutput, source?: string): TrafficGraph {
  const a = (t.result as { ambient?: AmbientResult }).ambient;
  if (!a) return traceGraph(t, source);
  const title = `${t.request.method ? `${String(t.request.method)} ` : ''}${String(t.request.target)}`;
  const g = new GraphBuilder(`${title}${source ? ` through ${source}` : ''}`);
  const of = (prefix: string) => t.steps.filter((s) => s.at?.startsWith(prefix));
  const client = of('client ztunnel');
  const dst = client.find((s) => s.stage === 'destination');
  const request = g.node({ id: nodeId('request', 'trace'), kind: 'request', label: title, details: [a.source.workload ?? a.source.address ?? '?', ...(dst?.chosen ? [`to ${dst.chosen}`] : [])], onPath: true });
  let at = request.id;
  const next = (id: string, edge?: string) => {
    g.edge(at, id, { onPath: true, label: edge });
    at = id;
  };
  const stop = (label: string, details: string[], status: 'bad' | 'warn' = 'bad') => {
    g.node({ id: nodeId('outcome', label), kind: 'outcome', label, details: details.map((d) => shorten(d, 70)), onPath: true, status });
    next(nodeId('outcome', label));
  };

  const decision = client.find((s) => s.stage === 'ztunnel');
  const zid = nodeId('ztunnel', a.source.ztunnel);
  g.node({ id: zid, kind: 'ztunnel', label: a.source.ztunnel, details: [a.source.identity ?? 'not captured', ...(decision ? [decision.summary] : [])].map((d) => shorten(d, 70)), onPath: true, status: uncertainOf(client) });
  next(zid);
  const unknown = (steps: TraceStep[]) => steps.flatMap((s) => s.uncertain)[0];

  if (a.waypoint) {
    const hop = a.hbone[0];
    const wp = of('waypoint');
    // the waypoint's Envoy from its internal listener on, drawn as any Envoy's path; the HBONE termination
    // before it (connect_terminate's steps, data.tunnel) is the edge into it
    const steps = wp.filter((s) => s.data?.tunnel !== true);
    if (!steps.some((s) => s.stage === 'listener' && s.chosen !== null)) {
      const refused = wp.length > 0 && !wp.some((s) => s.uncertain.length);
      stop(`waypoint ${a.waypoint.name}`, [unknown(wp) ?? wp.at(-1)?.summary ?? 'its configuration is unknown'], refused ? 'bad' : 'warn');
      return g.build();
    }
    const inner: TraceOutput = { request: t.request, steps, result: t.result };
    const sub = traceGraph(inner);
    const root = sub.nodes.find((n) => n.kind === 'request')!;
    for (const n of sub.nodes) if (n !== root) g.node({ ...n, id: `wp:${n.id}` });
    for (const { from, to, ...e } of sub.edges) {
      g.edge(from === root.id ? zid : `wp:${from}`, `wp:${to}`, { ...e, ...(from === root.id ? { label: `HBONE ${hop?.to ?? ''} (waypoint ${a.waypoint.name})` } : {}) });
    }
    const last = [...sub.nodes].reverse().find((n) => n.onPath && n.kind === 'endpoints') ?? [...sub.nodes].reverse().find((n) => n.onPath);
    if (!last || last.kind !== 'endpoints' || !a.destination && !a.inbound) return g.build();
    at = `wp:${last.id}`;
  }
  const hop = a.hbone.at(-1);
  if (a.inbound) {
    const id = nodeId('ztunnelIn', a.inbound.ztunnel);
    const dsteps = of('destination ztunnel');
    g.node({
      id,
      kind: 'ztunnelIn',
      label: a.inbound.ztunnel,
      details: [`L4 policy ${a.inbound.decision}${a.inbound.policy ? ` by ${a.inbound.policy}` : ''}`, `peer ${a.inbound.peerIdentity ?? 'plaintext'}`].map((d) => shorten(d, 70)),
      onPath: true,
      status: a.inbound.decision === 'DENY' ? 'bad' : a.inbound.decision === 'UNDECIDED' ? 'warn' : uncertainOf(dsteps),
    });
    next(id, hop ? `HBONE ${hop.to}` : 'plaintext');
    if (a.inbound.decision === 'DENY') {
      stop('connection reset', ['the destination ztunnel refuses the connection']);
      return g.build();
    }
  }
  if (a.destination) {
    const id = nodeId('pod', a.destination.workload);
    g.node({ id, kind: 'pod', label: a.destination.workload, details: [a.destination.address, a.destination.protocol], onPath: true });
    next(id, a.inbound ? undefined : a.destination.protocol);
  } else if (!a.waypoint) {
    const last = t.steps.at(-1);
    if (last) stop(last.chosen === null ? 'stopped' : 'outside the mesh', [unknown(t.steps) ?? last.summary], last.uncertain.length ? 'warn' : 'bad');
  }
  return g.build();
}

function uncertainOf(steps: TraceStep[]): 'warn' | undefined {
  return steps.some((s) => s.uncertain.length) ? 'warn' : undefined;
}
