import { createHash } from 'node:crypto';
import type { Overview } from './overview.js';

export interface ReportTable {
  title: string;
  headers: string[];
  rows: string[][];
  /** Shown opened (small tables); big ones start folded. */
  open?: boolean;
}

export interface PodSection {
  /** `name.namespace`. */
  name: string;
  /** Where its config came from (file, `pod … /config_dump`). */
  source: string;
  facts: [string, string][];
  svg: string;
  graphNotes: string[];
  trace?: { summary: [string, string][]; steps: string };
  tables: ReportTable[];
  warnings: string[];
}

export interface Finding {
  level: string;
  code: string;
  origin: string;
  reference: string;
  message: string;
  documentationUrl: string;
}

export interface ReportModel {
  title: string;
  generatedAt: string;
  source: string;
  overview: Overview;
  /** undefined: no resources to analyze (said in findingsNote). */
  findings?: Finding[];
  findingsNote?: string;
  pods: PodSection[];
  warnings: string[];
  trace?: string;
}

/** HTML text and attribute escaping (names in a dump are user-controlled). */
export function esc(s: string): string {
  return (
    String(s)
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
  );
}

const CSS = `
:root { color-scheme: light; --fg: #212529; --muted: #6c757d; --line: #dee2e6; --accent: #d9480f; --bg2: #f8f9fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
header { padding: 16px 24px; border-bottom: 1px solid var(--line); background: var(--bg2); }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: var(--muted); }
.wrap { display: flex; align-items: flex-start; }
nav { position: sticky; top: 0; width: 240px; flex: none; max-height: 100vh; overflow: auto; padding: 12px 16px; border-right: 1px solid var(--line); font-size: 13px; }
nav a { display: block; color: var(--fg); text-decoration: none; padding: 2px 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
nav a:hover { color: var(--accent); }
nav h2 { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 12px 0 4px; }
main { flex: 1; min-width: 0; padding: 8px 24px 48px; }
section { margin: 24px 0; }
h2 { font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); position: sticky; top: 0; }
td { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
tr.hidden { display: none; }
.facts td:first-child { font-family: inherit; color: var(--muted); }
.diagram { overflow: auto; max-height: 80vh; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.diagram svg { display: block; }
.notes { color: var(--muted); font-size: 12.5px; margin: 4px 0 8px; padding-left: 18px; }
pre.trace { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; overflow: auto; font-size: 12px; max-height: 50vh; }
details > summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
.count { color: var(--muted); font-weight: normal; }
.filter { margin: 0 0 4px; padding: 3px 6px; width: 320px; max-width: 100%; font: inherit; }
.lvl-Error { color: #c92a2a; font-weight: 600; }
.lvl-Warning { color: #e67700; font-weight: 600; }
.lvl-Info { color: #1971c2; }
.warn { color: #e67700; }
.bad { color: #c92a2a; }
.ok { color: #2b8a3e; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 22px; height: 0; border-top: 3px solid var(--accent); vertical-align: middle; margin-right: 4px; }
.legend i.lost { border-top: 2px dashed #adb5bd; }
.legend i.plain { border-top: 1px solid #868e96; }
.empty { color: var(--muted); font-style: italic; }
`;

// Tables filter as you type; each diagram opens scrolled to the traced path. Nothing is fetched.
const JS = `
document.querySelectorAll('.diagram').forEach(function (box) {
  var node = box.querySelector('g.node.on-path:not(.kind-request)') || box.querySelector('g.node.on-path');
  if (!node) return;
  var m = /translate\\(([-0-9.]+),([-0-9.]+)\\)/.exec(node.getAttribute('transform') || '');
  if (!m) return;
  box.scrollLeft = Math.max(0, Number(m[1]) - 40);
  box.scrollTop = Math.max(0, Number(m[2]) - box.clientHeight / 3);
});
document.querySelectorAll('input.filter').forEach(function (input) {
  var table = document.getElementById(input.getAttribute('data-table'));
  if (!table) return;
  input.addEventListener('input', function () {
    var q = input.value.toLowerCase();
    table.querySelectorAll('tbody tr').forEach(function (tr) {
      tr.classList.toggle('hidden', q !== '' && tr.textContent.toLowerCase().indexOf(q) === -1);
    });
  });
});
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * One self-contained page: inline CSS, one small inline script (by hash), inline SVG, no URL loaded.
 * The Content-Security-Policy allows exactly that style and that script and nothing else — no network,
 * no other script even if something slipped past the escaping.
 */
export function renderReport(m: ReportModel): string {
  const csp = [`default-src 'none'`, `style-src ${sha256(CSS)}`, `script-src ${sha256(JS)}`, `img-src 'none'`, `base-uri 'none'`, `form-action 'none'`].join('; ');
  let tableSeq = 0;
  const table = (headers: string[], rows: string[][], opts: { filter?: boolean; cls?: (row: string[], col: number) => string | undefined } = {}): string => {
    if (rows.length === 0) return '<p class="empty">none</p>';
    const id = `t${tableSeq++}`;
    const out: string[] = [];
    if (opts.filter && rows.length > 8) out.push(`<input class="filter" type="search" placeholder="filter ${rows.length} rows" data-table="${id}" aria-label="filter">`);
    out.push(`<table id="${id}"><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`);
    for (const r of rows) {
      out.push(`<tr>${r.map((c, i) => {
        const cls = opts.cls?.(r, i);
        return `<td${cls ? ` class="${cls}"` : ''}>${esc(c ?? '')}</td>`;
      }).join('')}</tr>`);
    }
    out.push('</tbody></table>');
    return out.join('');
  };
  const syncClass = (v: string) => (v === 'SYNCED' ? 'ok' : v.startsWith('STALE') ? 'bad' : v === 'NOT SENT' ? 'warn' : undefined);

  const o = m.overview;
  const body: string[] = [];
  body.push(`<header><h1>${esc(m.title)}</h1><p>${esc(`Generated ${m.generatedAt} from ${m.source}`)}${m.trace ? esc(` · traced request: ${m.trace}`) : ''}</p></header>`);
  body.push('<div class="wrap"><nav aria-label="contents">');
  body.push('<h2>Mesh</h2><a href="#overview">Overview</a><a href="#proxy-status">Proxy status</a><a href="#findings">Analyze findings</a>');
  if (m.warnings.length) body.push('<a href="#warnings">Warnings</a>');
  body.push(`<h2>Pods (${m.pods.length})</h2>`);
  m.pods.forEach((p, i) => body.push(`<a href="#pod-${i}" title="${esc(p.name)}">${esc(p.name)}</a>`));
  body.push('</nav><main>');

  body.push('<section id="overview"><h2>Overview</h2>');
  body.push(`<h3>Namespaces <span class="count">(${o.namespaces.length})</span></h3>`);
  body.push(table(['NAMESPACE', 'MESH MODE', 'WORKLOADS', 'PODS'], o.namespaces.map((n) => [n.name, n.mode || '-', String(n.workloads), String(n.pods)])));
  body.push(`<h3>Workloads <span class="count">(${o.workloads.length})</span></h3>`);
  body.push(
    table(
      ['NAMESPACE', 'WORKLOAD', 'KIND', 'PODS READY', 'DATA PLANE', 'PROXY VERSION', 'SYNC'],
      o.workloads.map((w) => [w.namespace, w.name, w.kind, `${w.ready}/${w.pods}`, w.dataPlane, w.version || '-', w.sync || '-']),
      { filter: true, cls: (r, i) => (i === 6 ? syncClass(r[6]) : undefined) },
    ),
  );
  if (o.controlPlane.length) {
    body.push('<h3>Control plane</h3>');
    body.push(table(['ISTIOD', 'NAMESPACE', 'REVISION', 'VERSION', 'STATE'], o.controlPlane.map((c) => [c.name, c.namespace, c.revision, c.version || '-', c.ready])));
  }
  body.push('</section>');

  body.push('<section id="proxy-status"><h2>Proxy status</h2>');
  if (o.proxyStatus.length === 0) body.push('<p class="empty">No istiod /debug/syncz answer in the input.</p>');
  else {
    body.push(
      table(
        ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'ISTIOD', 'VERSION'],
        o.proxyStatus.map((r) => [r.name, r.cluster, r.cds, r.lds, r.eds, r.rds, r.ecds, r.istiod, r.version]),
        { filter: true, cls: (r, i) => (i >= 2 && i <= 6 ? syncClass(r[i]) : undefined) },
      ),
    );
  }
  body.push('</section>');

  body.push('<section id="findings"><h2>Analyze findings</h2>');
  if (m.findings === undefined) body.push(`<p class="empty">${esc(m.findingsNote ?? 'Not analyzed.')}</p>`);
  else if (m.findings.length === 0) body.push('<p class="ok">No validation issues found.</p>');
  else {
    body.push(
      table(
        ['LEVEL', 'CODE', 'RESOURCE', 'WHERE', 'MESSAGE'],
        m.findings.map((f) => [f.level, f.code, f.origin, f.reference, f.message]),
        { filter: true, cls: (r, i) => (i === 0 ? `lvl-${r[0].replace(/[^A-Za-z]/g, '')}` : undefined) },
      ),
    );
  }
  body.push('</section>');

  if (m.warnings.length) {
    body.push('<section id="warnings"><h2>Warnings</h2><ul>');
    for (const w of m.warnings) body.push(`<li class="warn">${esc(w)}</li>`);
    body.push('</ul></section>');
  }

  m.pods.forEach((p, i) => {
    body.push(`<section id="pod-${i}" class="pod"><h2>${esc(p.name)}</h2>`);
    body.push(`<table class="facts"><tbody>${[['config from', p.source], ...p.facts].map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`);
    for (const w of p.warnings) body.push(`<p class="warn">${esc(w)}</p>`);
    if (p.trace) {
      body.push(`<h3>Traced request</h3>`);
      body.push(`<table class="facts trace-result"><tbody>${p.trace.summary.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`);
      body.push(`<details><summary>Every step</summary><pre class="trace">${esc(p.trace.steps)}</pre></details>`);
    }
    body.push('<h3>Traffic</h3>');
    body.push(
      `<p class="legend"><span><i></i>${p.trace ? 'the traced request' : 'traced request (none: pass --trace URL)'}</span><span><i class="plain"></i>config link (×N: how many routes)</span><span>stacked box: a group of objects</span></p>`,
    );
    body.push(`<div class="diagram">${p.svg}</div>`);
    if (p.graphNotes.length) body.push(`<ul class="notes">${p.graphNotes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
    for (const t of p.tables) {
      body.push(`<details${t.open ? ' open' : ''}><summary>${esc(t.title)} <span class="count">(${t.rows.length})</span></summary>`);
      body.push(table(t.headers, t.rows, { filter: true, cls: (r, i) => (['HEALTHY'].includes(r[i]) ? 'ok' : ['UNHEALTHY', 'FAILED', 'TIMEOUT'].includes(r[i]) ? 'bad' : undefined) }));
      body.push('</details>');
    }
    body.push('</section>');
  });
  body.push('</main></div>');

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${esc(m.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    `<script>${JS}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
