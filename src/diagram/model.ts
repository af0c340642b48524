/**
 * A small graph model of an Envoy's traffic configuration — listeners → filter chains → route
 * configurations → virtual hosts → routes → clusters → endpoints — with one traced request's path marked
 * on it. Built from a config dump (./config-graph.ts) or from a trace (./trace-graph.ts); drawn as Graphviz
 * DOT (./dot.ts), Mermaid (./mermaid.ts) or laid out as SVG (./layout.ts, ./svg.ts). Knows nothing of
 * terminals or HTML: labels are plain text, and every renderer escapes them for its own syntax.
 */
/** `ztunnel`, `ztunnelIn` and `pod`: an ambient trace's client ztunnel, destination ztunnel and receiving pod. */
export type NodeKind = 'request' | 'ztunnel' | 'listener' | 'filterChain' | 'routeConfig' | 'virtualHost' | 'route' | 'authz' | 'cluster' | 'endpoints' | 'ztunnelIn' | 'pod' | 'outcome';

/** Left to right: where each kind stands in a drawing. */
export const COLUMN: Record<NodeKind, number> = {
  request: 0,
  ztunnel: 0.5,
  listener: 1,
  filterChain: 2,
  routeConfig: 3,
  virtualHost: 4,
  route: 5,
  // RBAC and ext_authz filters: after routing (HTTP filters see the routed request), before the upstream;
  // a TCP chain's network RBAC lands here too, right after its filter chain.
  authz: 5.5,
  cluster: 6,
  outcome: 6,
  endpoints: 7,
  ztunnelIn: 8,
  pod: 9,
};

export const KIND_TITLE: Record<NodeKind, string> = {
  request: 'request',
  ztunnel: 'client ztunnel',
  listener: 'listener',
  filterChain: 'filter chain',
  routeConfig: 'route config',
  virtualHost: 'virtual host',
  route: 'route',
  authz: 'authorization',
  cluster: 'cluster',
  endpoints: 'endpoints',
  ztunnelIn: 'destination ztunnel',
  pod: 'pod',
  outcome: 'outcome',
};

export interface GraphNode {
  /** Stable and unique: `kind:name` (see nodeId), so a trace's path finds the same nodes in a dump's graph. */
  id: string;
  kind: NodeKind;
  /** The object's name (first line). */
  label: string;
  /** Short facts, one per line. */
  details: string[];
  /** A group standing for this many objects (collapsed), e.g. 140 clusters of one namespace. */
  count?: number;
  /** On the traced request's path. */
  onPath?: boolean;
  /** A candidate that lost to the path: why. */
  lost?: string;
  /** Something an SRE should look at: no endpoints, unhealthy hosts, a 404. */
  status?: 'warn' | 'bad';
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
  onPath?: boolean;
  /** To a candidate that lost (drawn dashed). */
  lost?: boolean;
  /** How many config links this edge stands for (routes from a route config to a cluster group). */
  count?: number;
}

export interface TrafficGraph {
  title: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** What was left out or grouped, for a caption. */
  notes: string[];
}

export function nodeId(kind: NodeKind, ...parts: string[]): string {
  return `${kind}:${parts.join('/')}`;
}

/** Collects nodes and edges once each: a node added twice is merged, an edge added twice is counted. */
export class GraphBuilder {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly edges = new Map<string, GraphEdge>();
  readonly notes: string[] = [];

  constructor(readonly title: string) {}

  has(id: string): boolean {
    return this.nodes.has(id);
  }

  get(id: string): GraphNode | undefined {
    return this.nodes.get(id);
  }

  node(n: Omit<GraphNode, 'details'> & { details?: string[] }): GraphNode {
    const old = this.nodes.get(n.id);
    if (old) {
      if (n.onPath) old.onPath = true;
      if (n.status === 'bad' || (n.status === 'warn' && old.status === undefined)) old.status = n.status;
      for (const d of n.details ?? []) if (!old.details.includes(d)) old.details.push(d);
      return old;
    }
    const created: GraphNode = { ...n, details: [...(n.details ?? [])] };
    this.nodes.set(n.id, created);
    return created;
  }

  edge(from: string, to: string, extra: Omit<GraphEdge, 'from' | 'to'> = {}): GraphEdge {
    const key = `${from}\u0000${to}`;
    const old = this.edges.get(key);
    if (old) {
      old.count = (old.count ?? 1) + (extra.count ?? 1);
      if (extra.onPath) old.onPath = true;
      if (!old.label && extra.label) old.label = extra.label;
      return old;
    }
    const created: GraphEdge = { from, to, ...extra };
    this.edges.set(key, created);
    return created;
  }

  build(): TrafficGraph {
    return { title: this.title, nodes: [...this.nodes.values()], edges: [...this.edges.values()], notes: [...this.notes] };
  }
}

/** Long names (FQDN clusters, regex routes) cut in the middle, so both ends stay readable. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = max - 1;
  const head = Math.ceil(keep * 0.6);
  return `${text.slice(0, head)}…${text.slice(text.length - (keep - head))}`;
}
