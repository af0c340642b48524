import dagre from '@dagrejs/dagre';
import { COLUMN, type GraphEdge, type GraphNode, type TrafficGraph } from './model.js';
import { nodeLines } from './style.js';

export interface Point {
  x: number;
  y: number;
}

export interface LaidNode {
  node: GraphNode;
  /** Top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
  caption: string;
  label: string;
  details: string[];
}

export interface LaidEdge {
  edge: GraphEdge;
  points: Point[];
  /** Where its label goes (centre), when it has one. */
  labelAt?: Point;
  label?: string;
}

export interface Layout {
  width: number;
  height: number;
  nodes: LaidNode[];
  edges: LaidEdge[];
}

/** Text metrics of the drawing (monospace, so widths are known without a browser). */
export const FONT = { caption: 9, label: 11, detail: 10, edge: 9, charWidth: 0.61 };
const PAD_X = 8;
const LINE = { caption: 12, label: 15, detail: 13 };
const MARGIN = 12;
const ROOT = '\u0000root';

function textWidth(text: string, size: number): number {
  return [...text].length * size * FONT.charWidth;
}

/** Node boxes sized to their text; the label is cut (in the middle) past this many characters. */
export function nodeBox(n: GraphNode): { width: number; height: number; caption: string; label: string; details: string[] } {
  const lines = nodeLines(n, 4);
  const label = lines.label.length > 60 ? `${lines.label.slice(0, 36)}…${lines.label.slice(-23)}` : lines.label;
  const details = lines.details.map((d) => (d.length > 64 ? `${d.slice(0, 63)}…` : d));
  const width = Math.ceil(
    Math.max(80, textWidth(lines.caption, FONT.caption), textWidth(label, FONT.label), ...details.map((d) => textWidth(d, FONT.detail))) + 2 * PAD_X,
  );
  const height = 6 + LINE.caption + LINE.label + LINE.detail * details.length + 4;
  return { width, height, caption: lines.caption, label, details };
}

/**
 * A layered left-to-right layout (dagre): one column per kind in use, so every drawing reads
 * request → listeners → … → endpoints; crossings reduced; the path's edges weighted to run straight.
 */
export function layoutGraph(g: TrafficGraph): Layout {
  const columns = [...new Set(g.nodes.map((n) => COLUMN[n.kind]))].sort((a, b) => a - b);
  const col = (n: GraphNode) => columns.indexOf(COLUMN[n.kind]) + 1;
  const byId = new Map(g.nodes.map((n) => [n.id, n]));

  const dg = new dagre.graphlib.Graph({ multigraph: false });
  dg.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 48, edgesep: 8, marginx: MARGIN, marginy: MARGIN, ranker: 'network-simplex' });
  dg.setDefaultEdgeLabel(() => ({}));
  const boxes = new Map<string, ReturnType<typeof nodeBox>>();
  for (const n of g.nodes) {
    const box = nodeBox(n);
    boxes.set(n.id, box);
    dg.setNode(n.id, { width: box.width, height: box.height });
  }
  // a hidden root left of everything, tied to each node no edge leads to: one connected graph whose
  // ranks are exactly the kind columns (every edge spans its column distance)
  dg.setNode(ROOT, { width: 1, height: 1 });
  const rank = ranks(g, col);
  const hasIncoming = new Set(g.edges.map((e) => e.to));
  for (const n of g.nodes) if (!hasIncoming.has(n.id)) dg.setEdge(ROOT, n.id, { minlen: rank.get(n.id)!, weight: 0 });
  const edgeLabels = new Map<GraphEdge, string>();
  for (const e of g.edges) {
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    if (!from || !to || e.from === e.to) continue;
    const label = [e.label, e.count && e.count > 1 ? `×${e.count}` : undefined].filter(Boolean).join(' ');
    if (label) edgeLabels.set(e, label);
    dg.setEdge(e.from, e.to, {
      minlen: Math.max(1, rank.get(to.id)! - rank.get(from.id)!),
      weight: e.onPath ? 8 : 1,
    });
  }
  dagre.layout(dg);

  const nodes: LaidNode[] = [];
  for (const n of g.nodes) {
    const d = dg.node(n.id);
    const box = boxes.get(n.id)!;
    nodes.push({ node: n, x: (d.x ?? 0) - box.width / 2, y: (d.y ?? 0) - box.height / 2, width: box.width, height: box.height, caption: box.caption, label: box.label, details: box.details });
  }
  const edges: LaidEdge[] = [];
  for (const e of g.edges) {
    if (!dg.hasEdge(e.from, e.to)) continue;
    const d = dg.edge(e.from, e.to);
    const label = edgeLabels.get(e);
    const points = (d.points ?? []).map((p: Point) => ({ x: p.x, y: p.y }));
    // labels sit on the edge, just before its end (not dagre label nodes, which bend every edge)
    edges.push({ edge: e, points, label, labelAt: label ? labelPoint(points, e.onPath ? 0.5 : 0.8) : undefined });
  }
  // drop the root's column: shift everything left so the first real column starts at the margin
  const minX = Math.min(...nodes.map((n) => n.x), ...edges.flatMap((e) => e.points.map((p) => p.x))) - MARGIN;
  const minY = Math.min(...nodes.map((n) => n.y), ...edges.flatMap((e) => e.points.map((p) => p.y))) - MARGIN;
  for (const n of nodes) {
    n.x -= minX;
    n.y -= minY;
  }
  for (const e of edges) {
    e.points = e.points.map((p) => ({ x: p.x - minX, y: p.y - minY }));
    if (e.labelAt) e.labelAt = { x: e.labelAt.x - minX, y: e.labelAt.y - minY };
  }
  const width = Math.ceil(Math.max(...nodes.map((n) => n.x + n.width), 0) + MARGIN);
  const height = Math.ceil(Math.max(...nodes.map((n) => n.y + n.height), ...edges.flatMap((e) => e.points.map((p) => p.y)), 0) + MARGIN);
  return { width, height, nodes, edges };
}

/** The point at this fraction of a polyline's length. */
function labelPoint(points: Point[], at: number): Point | undefined {
  if (points.length === 0) return undefined;
  const seg = points.slice(1).map((p, i) => Math.hypot(p.x - points[i].x, p.y - points[i].y));
  let left = seg.reduce((a, b) => a + b, 0) * at;
  for (let i = 0; i < seg.length; i++) {
    if (left <= seg[i] && seg[i] > 0) {
      const t = left / seg[i];
      return { x: points[i].x + (points[i + 1].x - points[i].x) * t, y: points[i].y + (points[i + 1].y - points[i].y) * t - 3 };
    }
    left -= seg[i];
  }
  return points.at(-1);
}

/**
 * Each node's rank: its kind's column, pushed right past its predecessors where an edge stays within a
 * column (a listener handing a connection to another). Longest path over the edges in a topological order.
 */
function ranks(g: TrafficGraph, col: (n: GraphNode) => number): Map<string, number> {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const incoming = new Map<string, GraphEdge[]>();
  for (const e of g.edges) if (byId.has(e.from) && byId.has(e.to) && e.from !== e.to) incoming.set(e.to, [...(incoming.get(e.to) ?? []), e]);
  const rank = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = rank.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    if (visiting.has(id)) return col(n); // a cycle: break it here
    visiting.add(id);
    let r = col(n);
    for (const e of incoming.get(id) ?? []) {
      const from = byId.get(e.from)!;
      r = Math.max(r, visit(e.from) + Math.max(1, col(n) - col(from)));
    }
    visiting.delete(id);
    rank.set(id, r);
    return r;
  };
  for (const n of g.nodes) visit(n.id);
  return rank;
}

export { LINE, PAD_X };
