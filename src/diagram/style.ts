import type { GraphNode, NodeKind } from './model.js';

/** One palette for every drawing (DOT, Mermaid, SVG): each kind its colour, the path one accent. */
export const FILL: Record<NodeKind, string> = {
  request: '#f1f3f5',
  ztunnel: '#e6fcf5',
  listener: '#e7f5ff',
  filterChain: '#e3fafc',
  routeConfig: '#f3f0ff',
  virtualHost: '#f8f0fc',
  route: '#fff0f6',
  authz: '#fff4e6',
  cluster: '#ebfbee',
  endpoints: '#f4fce3',
  ztunnelIn: '#e6fcf5',
  pod: '#f8f9fa',
  outcome: '#fff9db',
};
export const STROKE = '#868e96';
export const PATH = '#d9480f';
export const LOST = '#adb5bd';
export const BAD_FILL = '#ffe3e3';
export const WARN_FILL = '#fff3bf';

export function fillOf(n: GraphNode): string {
  if (n.status === 'bad') return BAD_FILL;
  if (n.status === 'warn') return WARN_FILL;
  return FILL[n.kind];
}

/** The lines a node shows: its kind (with the group size), its name, its facts. */
export function nodeLines(n: GraphNode, maxDetails = 4): { caption: string; label: string; details: string[] } {
  const caption = n.count !== undefined ? `${n.count} ${plural(n.kind, n.count)}` : KIND_CAPTION[n.kind];
  const details = n.details.slice(0, maxDetails);
  if (n.details.length > maxDetails) details.push(`… ${n.details.length - maxDetails} more`);
  if (n.lost) details.unshift(`✗ ${n.lost}`);
  return { caption, label: n.label, details };
}

const KIND_CAPTION: Record<NodeKind, string> = {
  request: 'REQUEST',
  ztunnel: 'CLIENT ZTUNNEL',
  listener: 'LISTENER',
  filterChain: 'FILTER CHAIN',
  routeConfig: 'ROUTE CONFIG',
  virtualHost: 'VIRTUAL HOST',
  route: 'ROUTE',
  authz: 'AUTHORIZATION',
  cluster: 'CLUSTER',
  endpoints: 'ENDPOINTS',
  ztunnelIn: 'DESTINATION ZTUNNEL',
  pod: 'POD',
  outcome: 'OUTCOME',
};

function plural(kind: NodeKind, n: number): string {
  const word = KIND_CAPTION[kind].toLowerCase();
  return n === 1 ? word : word === 'endpoints' ? word : `${word}s`;
}
