import type { ChalkInstance } from 'chalk';
import type { TraceOutput, TraceStep } from './trace.js';

const TITLES: Record<TraceStep['stage'], string> = {
  destination: 'Destination',
  iptables: 'iptables',
  listener: 'Listener',
  filterChain: 'Filter chain',
  networkFilters: 'Network filters',
  authz: 'Authorization',
  routeConfig: 'Route config',
  virtualHost: 'Virtual host',
  route: 'Route',
  routeAction: 'Route action',
  cluster: 'Cluster',
  endpoints: 'Endpoints',
  source: 'Source',
  ztunnel: 'ztunnel',
  hbone: 'HBONE',
  delivery: 'Delivery',
};

/** The human trace: one numbered block per step, chosen object first, then why, then the losers. */
export function renderTrace(t: TraceOutput, c: ChalkInstance, source: string): string {
  const lines: string[] = [];
  const req = t.request;
  const what = req.method ? `${req.method} ${req.target}` : String(req.target);
  lines.push(c.bold(`Trace of ${what} (${req.direction}) through ${source}`));
  const hdrs = Object.entries((req.headers as Record<string, string>) ?? {});
  if (hdrs.length) lines.push(`  headers: ${hdrs.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  if (req.random !== null && req.random !== undefined) lines.push(`  random value: ${req.random}`);
  lines.push('');
  let at: string | undefined;
  t.steps.forEach((s, i) => {
    // an ambient trace crosses several proxies: a heading where each one's steps begin
    if (s.at && s.at !== at) lines.push(c.bold.underline(`at ${s.at}`));
    at = s.at;
    const title = `${String(i + 1).padStart(2)}. ${TITLES[s.stage].padEnd(15)}`;
    lines.push(`${c.bold(title)} ${s.chosen === null ? c.red('(none)') : c.green(s.chosen)}`);
    lines.push(`    ${s.summary}`);
    for (const m of s.matched) lines.push(`    ${c.green('✓')} ${m}`);
    for (const l of s.losers) lines.push(`    ${c.red('✗')} ${c.dim(`${l.name}: ${l.reason}`)}`);
    for (const n of s.notes) lines.push(`    ${c.cyan('•')} ${n}`);
    for (const u of s.uncertain) lines.push(`    ${c.yellow('?')} ${c.yellow(u)}`);
  });
  lines.push('');
  lines.push(c.bold('Result'));
  const r = t.result;
  const row = (k: string, v: unknown) => {
    if (v === null || v === undefined || (Array.isArray(v) && !v.length)) return;
    lines.push(`  ${k.padEnd(17)} ${typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
  };
  const amb = (r as { ambient?: AmbientResultView }).ambient;
  if (amb) ambientRows(amb, row);
  row('captured', r.captured);
  row('listener', r.listener);
  row('filter chain', r.filterChain);
  row('route config', r.routeConfig);
  row('virtual host', r.virtualHost);
  row('route', r.route);
  row('cluster', r.cluster ?? (r.weightedClusters ? '(weighted; pass --random N)' : null));
  if (r.weightedClusters) row('weighted', r.weightedClusters.map((w) => `${w.name}=${w.weight}`).join(', '));
  row('path rewrite', r.pathRewrite);
  row('host rewrite', r.hostRewrite);
  if (r.redirect) {
    const status = redirectStatus(t);
    row('redirect', status === null ? r.redirect : `${status} → ${r.redirect}`);
  }
  if (r.directResponse) row('direct response', `${r.directResponse.status}${r.directResponse.body !== null ? ` ${JSON.stringify(r.directResponse.body)}` : ''}`);
  if (r.authz) row('authorization', `${r.authz.decision}${r.authz.authorizationPolicy ? ` by ${r.authz.authorizationPolicy}` : ''}${r.authz.filter ? ` (${r.authz.filter})` : ''}`);
  if (r.endpoints) row('endpoints', r.endpoints.length ? r.endpoints.map((e) => `${e.address} (${e.health})`).join(', ') : '(none)');
  if (r.uncertain.length) {
    lines.push(c.yellow(`  uncertain         ${r.uncertain[0]}`));
    for (const u of r.uncertain.slice(1)) lines.push(c.yellow(`                    ${u}`));
  }
  return lines.join('\n') + '\n';
}

/** The redirect's status code: the route action's (301 by default, or its response_code), 301 for require_tls. */
export function redirectStatus(t: TraceOutput): number | null {
  for (let i = t.steps.length - 1; i >= 0; i--) {
    const v = t.steps[i].data?.redirectStatus;
    if (typeof v === 'number') return v;
  }
  return null;
}

/** The ambient part of the result, as src/trace/ambient.ts writes it (only what the rows show). */
interface AmbientResultView {
  source: { workload: string | null; address: string | null; captured: boolean };
  path: string | null;
  service: string | null;
  waypoint: { name: string; namespace: string; boundTo: string; instance: string | null; authz?: { decision: string; authorizationPolicy: string | null } | null } | null;
  inbound?: { decision: string; authorizationPolicy: string | null } | null;
  hbone: { from: string; to: string; authority: string }[];
  destination: { workload: string; address: string; protocol: string } | null;
}

const PATHS: Record<string, string> = {
  'service-waypoint': "through the service's waypoint",
  'workload-waypoint': "through the workload's waypoint",
  direct: 'straight to the destination ztunnel (no waypoint)',
  passthrough: 'passthrough (outside the mesh)',
  'not-captured': 'not captured by ztunnel',
};

function ambientRows(a: AmbientResultView, row: (k: string, v: unknown) => void): void {
  row('source', a.source.workload ? `${a.source.workload} (${a.source.address})` : a.source.address);
  if (a.path) row('ambient path', PATHS[a.path] ?? a.path);
  row('service', a.service);
  if (a.waypoint) row('waypoint', `${a.waypoint.namespace}/${a.waypoint.name} (${a.waypoint.boundTo}-bound)${a.waypoint.instance ? `, instance ${a.waypoint.instance}` : ''}`);
  a.hbone.forEach((h, i) => row(i === 0 ? 'HBONE' : '', `${h.from} → ${h.to} (CONNECT ${h.authority})`));
  const verdict = (v: { decision: string; authorizationPolicy: string | null }) => `${v.decision}${v.authorizationPolicy ? ` by ${v.authorizationPolicy}` : ''}`;
  if (a.waypoint?.authz) row('waypoint authz', verdict(a.waypoint.authz));
  if (a.inbound) row('ztunnel authz', verdict(a.inbound));
  if (a.destination) row('destination', `${a.destination.workload} ${a.destination.address} (${a.destination.protocol})`);
}
