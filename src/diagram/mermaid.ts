import type { TrafficGraph } from './model.js';
import { FILL, LOST, PATH, fillOf, nodeLines } from './style.js';

/**
 * Mermaid flowchart source (GitHub and GitLab render it in Markdown). Node ids are generated (n0, n1…);
 * every name is written with Mermaid's entity codes for anything but plain letters, digits and a few
 * punctuation marks, so no name can close a label, start a link or inject markup.
 */
export function renderMermaid(g: TrafficGraph): string {
  const out: string[] = ['flowchart LR'];
  const ids = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
  for (const n of g.nodes) {
    const { caption, label, details } = nodeLines(n);
    const text = [`<b>${esc(caption)}</b>`, esc(label), ...details.map((d) => `<small>${esc(d)}</small>`)].join('<br/>');
    out.push(`  ${ids.get(n.id)}["${text}"]`);
  }
  const pathLinks: number[] = [];
  const lostLinks: number[] = [];
  let link = 0;
  for (const e of g.edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (!from || !to) continue;
    const label = [e.label, e.count && e.count > 1 ? `×${e.count}` : undefined].filter(Boolean).join(' ');
    const arrow = e.lost ? '-.->' : e.onPath ? '==>' : '-->';
    out.push(`  ${from} ${arrow}${label ? `|"${esc(label)}"|` : ''} ${to}`);
    if (e.onPath) pathLinks.push(link);
    if (e.lost) lostLinks.push(link);
    link++;
  }
  // one class per fill colour, then the path and the losers on top
  const fills = new Map<string, string[]>();
  for (const n of g.nodes) {
    const f = fillOf(n);
    fills.set(f, [...(fills.get(f) ?? []), ids.get(n.id)!]);
  }
  let k = 0;
  for (const [fill, members] of fills) {
    out.push(`  classDef c${k} fill:${fill},stroke:#868e96,color:#212529`);
    out.push(`  class ${members.join(',')} c${k}`);
    k++;
  }
  const onPath = g.nodes.filter((n) => n.onPath).map((n) => ids.get(n.id)!);
  if (onPath.length) {
    out.push(`  classDef path stroke:${PATH},stroke-width:3px`);
    out.push(`  class ${onPath.join(',')} path`);
  }
  const lost = g.nodes.filter((n) => n.lost).map((n) => ids.get(n.id)!);
  if (lost.length) {
    out.push(`  classDef lost fill:${FILL.request},stroke:${LOST},stroke-dasharray:4 3,color:#495057`);
    out.push(`  class ${lost.join(',')} lost`);
  }
  if (pathLinks.length) out.push(`  linkStyle ${pathLinks.join(',')} stroke:${PATH},stroke-width:3px`);
  if (lostLinks.length) out.push(`  linkStyle ${lostLinks.join(',')} stroke:${LOST}`);
  for (const note of g.notes) out.push(`  %% ${esc(note)}`);
  return out.join('\n') + '\n';
}

/** Mermaid entity codes (`#60;` for <) for everything outside a small safe set. */
function esc(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/[A-Za-z0-9 .,:/_*+=@-]/.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0)!;
      // control characters are dropped, not encoded
      if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
      out += `#${cp};`;
    }
  }
  return out;
}
