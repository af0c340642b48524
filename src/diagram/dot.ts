import { COLUMN, type TrafficGraph } from './model.js';
import { FILL, LOST, PATH, STROKE, fillOf, nodeLines } from './style.js';

/**
 * Graphviz DOT source (`dot -Tsvg`): left to right, one rank per kind, the traced path bold in the
 * accent colour, losers dashed and grey with why they lost. Every name is a quoted DOT string: quotes
 * and backslashes escaped (so `\N`, `\G` in a name stay text), control characters dropped.
 */
export function renderDot(g: TrafficGraph): string {
  const out: string[] = [];
  out.push('digraph meshctl {');
  out.push(`  label=${q(g.title)};`);
  out.push('  labelloc=t; rankdir=LR; nodesep=0.25; ranksep=0.5;');
  out.push(`  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, color=${q(STROKE)}, fillcolor=${q(FILL.request)}];`);
  out.push(`  edge [fontname="Helvetica", fontsize=9, color=${q(STROKE)}];`);
  const ids = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
  for (const n of g.nodes) {
    const { caption, label, details } = nodeLines(n);
    const text = [caption, label, ...details].join('\n');
    const attrs = [`label=${q(text)}`, `fillcolor=${q(fillOf(n))}`, `tooltip=${q(n.id)}`];
    if (n.onPath) attrs.push(`color=${q(PATH)}`, 'penwidth=2.5');
    if (n.lost) attrs.push(`style="rounded,filled,dashed"`, `color=${q(LOST)}`, `fontcolor=${q('#495057')}`);
    out.push(`  ${ids.get(n.id)} [${attrs.join(', ')}];`);
  }
  // same kind, same rank: the columns read like the request's journey
  const ranks = new Map<number, string[]>();
  for (const n of g.nodes) {
    if (n.lost) continue;
    const list = ranks.get(COLUMN[n.kind]) ?? [];
    list.push(ids.get(n.id)!);
    ranks.set(COLUMN[n.kind], list);
  }
  for (const [, list] of [...ranks].sort((a, b) => a[0] - b[0])) if (list.length > 1) out.push(`  { rank=same; ${list.join('; ')}; }`);
  for (const e of g.edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (!from || !to) continue;
    const attrs: string[] = [];
    const label = [e.label, e.count && e.count > 1 ? `×${e.count}` : undefined].filter(Boolean).join(' ');
    if (label) attrs.push(`label=${q(label)}`);
    if (e.onPath) attrs.push(`color=${q(PATH)}`, 'penwidth=2.5');
    if (e.lost) attrs.push('style=dashed', `color=${q(LOST)}`, `fontcolor=${q('#868e96')}`, 'arrowhead=empty');
    out.push(`  ${from} -> ${to}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  for (const note of g.notes) out.push(`  // ${note.replace(/[\r\n]+/g, ' ')}`);
  out.push('}');
  return out.join('\n') + '\n';
}

/** A DOT quoted string. */
function q(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '');
  return `"${clean.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
