import { FONT, LINE, PAD_X, layoutGraph, type Layout, type Point } from './layout.js';
import { KIND_TITLE, type TrafficGraph } from './model.js';
import { LOST, PATH, STROKE, fillOf } from './style.js';

export interface SvgOptions {
  /** Prefix for ids inside the SVG (markers), unique per page when several diagrams share one. */
  idPrefix?: string;
}

/**
 * The graph as a standalone SVG: laid out (./layout.ts), drawn at its natural size (text stays readable;
 * a page scrolls a large one), colours as presentation attributes (no CSS, so a strict
 * Content-Security-Policy needs nothing for it). Every name is XML-escaped; no id comes from a name.
 */
export function renderSvg(g: TrafficGraph, options: SvgOptions = {}): string {
  return svgOfLayout(g, layoutGraph(g), options);
}

export function svgOfLayout(g: TrafficGraph, layout: Layout, options: SvgOptions = {}): string {
  const p = (options.idPrefix ?? 'g').replace(/[^A-Za-z0-9_-]/g, '_');
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="traffic" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" role="img" aria-label="${xml(g.title)}" font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace">`,
  );
  out.push(`<title>${xml(g.title)}</title>`);
  out.push('<defs>');
  for (const [name, colour] of [['a', STROKE], ['p', PATH], ['l', LOST]] as const) {
    out.push(`<marker id="${p}-${name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`);
  }
  out.push('</defs>');
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);

  // edges first (under the nodes); the path's edges last, so they are drawn on top of the others
  const edges = [...layout.edges].sort((a, b) => Number(Boolean(a.edge.onPath)) - Number(Boolean(b.edge.onPath)));
  out.push('<g class="edges">');
  for (const e of edges) {
    const colour = e.edge.onPath ? PATH : e.edge.lost ? LOST : STROKE;
    const cls = `edge${e.edge.onPath ? ' on-path' : ''}${e.edge.lost ? ' lost' : ''}`;
    const width = e.edge.onPath ? 3 : e.edge.count && e.edge.count > 1 ? Math.min(2.5, 1 + Math.log10(e.edge.count)) : 1;
    out.push(
      `<path class="${cls}" d="${curve(e.points)}" fill="none" stroke="${colour}" stroke-width="${width.toFixed(1)}"${e.edge.lost ? ' stroke-dasharray="5 4"' : ''} marker-end="url(#${p}-${e.edge.onPath ? 'p' : e.edge.lost ? 'l' : 'a'})"/>`,
    );
    if (e.label && e.labelAt) {
      out.push(
        `<text class="edge-label" x="${n(e.labelAt.x)}" y="${n(e.labelAt.y + FONT.edge / 3)}" text-anchor="middle" font-size="${FONT.edge}" fill="${e.edge.onPath ? PATH : '#495057'}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${xml(e.label)}</text>`,
      );
    }
  }
  out.push('</g>');

  out.push('<g class="nodes">');
  for (const ln of layout.nodes) {
    const node = ln.node;
    const cls = `node kind-${node.kind}${node.onPath ? ' on-path' : ''}${node.lost ? ' lost' : ''}${node.count !== undefined ? ' group' : ''}${node.status ? ` ${node.status}` : ''}`;
    const stroke = node.onPath ? PATH : node.lost ? LOST : STROKE;
    const tip = [`${KIND_TITLE[node.kind]}${node.count !== undefined ? ` (group of ${node.count})` : ''}: ${node.label}`, ...(node.lost ? [`lost: ${node.lost}`] : []), ...node.details].join('\n');
    out.push(`<g class="${cls}" transform="translate(${n(ln.x)},${n(ln.y)})">`);
    out.push(`<title>${xml(tip)}</title>`);
    if (node.count !== undefined) {
      // a stack: the group stands for several objects
      out.push(`<rect x="4" y="4" width="${ln.width}" height="${ln.height}" rx="6" fill="${fillOf(node)}" stroke="${stroke}" stroke-width="1"/>`);
    }
    out.push(
      `<rect width="${ln.width}" height="${ln.height}" rx="6" fill="${fillOf(node)}" stroke="${stroke}" stroke-width="${node.onPath ? 3 : 1}"${node.lost ? ' stroke-dasharray="5 4"' : ''}/>`,
    );
    let y = 6 + LINE.caption - 3;
    out.push(`<text x="${PAD_X}" y="${y}" font-size="${FONT.caption}" fill="#868e96" letter-spacing="0.5">${xml(ln.caption)}</text>`);
    y += LINE.label;
    out.push(`<text class="label" x="${PAD_X}" y="${y}" font-size="${FONT.label}" font-weight="bold" fill="#212529">${xml(ln.label)}</text>`);
    for (const d of ln.details) {
      y += LINE.detail;
      out.push(`<text x="${PAD_X}" y="${y}" font-size="${FONT.detail}" fill="${d.startsWith('✗') ? '#c92a2a' : '#495057'}">${xml(d)}</text>`);
    }
    out.push('</g>');
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n');
}

function n(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '0';
}

/** A smooth curve through dagre's points (Catmull-Rom turned into cubic Béziers). */
function curve(points: Point[]): string {
  if (points.length === 0) return 'M0,0';
  if (points.length === 1) return `M${n(points[0].x)},${n(points[0].y)}`;
  let d = `M${n(points[0].x)},${n(points[0].y)}`;
  for (let i = 0; i < points.length - 1; i++) {
    const p0 = points[i - 1] ?? points[i];
    const p1 = points[i];
    const p2 = points[i + 1];
    const p3 = points[i + 2] ?? p2;
    const c1 = { x: p1.x + (p2.x - p0.x) / 6, y: p1.y + (p2.y - p0.y) / 6 };
    const c2 = { x: p2.x - (p3.x - p1.x) / 6, y: p2.y - (p3.y - p1.y) / 6 };
    d += ` C${n(c1.x)},${n(c1.y)} ${n(c2.x)},${n(c2.y)} ${n(p2.x)},${n(p2.y)}`;
  }
  return d;
}

/** XML text and attribute escaping; characters XML 1.0 forbids are dropped. */
export function xml(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
  );
}
