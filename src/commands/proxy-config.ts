import { MeshctlError } from '../errors.js';
import type { ClustersStatus, ConfigDump, SectionKind } from '../envoy/index.js';
import { isClustersStatus, parseClustersStatus, parseConfigDump, redactSecrets, SECTION_LABEL, SECTION_TYPES } from '../envoy/index.js';
import {
  bootstrapSummary,
  clusterStatusEndpointSummary,
  clusterSummary,
  ecdsSummary,
  edsEndpointSummary,
  filteredClusters,
  filteredEndpointConfigs,
  filteredListeners,
  filteredRouteConfigs,
  listenerSummary,
  routeSummary,
  secretRows,
  secretSummary,
  type ClusterFilter,
  type EndpointFilter,
  type ListenerFilter,
  type RouteFilter,
  type Summary,
} from '../envoy/summary.js';
import { listSecrets } from '../envoy/query.js';
import { colourEnabled, colours } from '../output/colour.js';
import { renderData } from '../output/format.js';
import { renderTable } from '../output/table.js';
import type { EnvoyAdminSource } from '../source/envoy-admin.js';
import { parseDocument } from '../source/parse.js';

export const PROXY_CONFIG_KINDS = ['clusters', 'listeners', 'routes', 'endpoints', 'secret', 'bootstrap', 'ecds', 'all'] as const;
export type ProxyConfigKind = (typeof PROXY_CONFIG_KINDS)[number];
export type ProxyConfigOutput = 'short' | 'json' | 'yaml';

export interface ProxyConfigOptions extends ClusterFilter, ListenerFilter, RouteFilter, EndpointFilter {
  output: ProxyConfigOutput;
  /** Listener MATCH/DESTINATION and route detail rows (istioctl's --verbose, on by default). */
  verbose: boolean;
  /** `all`: istioctl's `------ X INFO ------` banners (the NAME prefixes are there either way). */
  withHeaders?: boolean;
  /** For VALID CERT; tests pin it. */
  now?: Date;
}

export interface ProxyConfigResult {
  stdout: string;
  /** One line each, without the `warning: ` prefix. */
  warnings: string[];
}

/** Admin paths each view reads; a saved file answers every path with itself. */
const ADMIN_PATH: Record<ProxyConfigKind, string> = {
  clusters: '/config_dump',
  listeners: '/config_dump',
  routes: '/config_dump',
  secret: '/config_dump',
  bootstrap: '/config_dump',
  ecds: '/config_dump',
  endpoints: '/clusters?format=json',
  all: '/config_dump?include_eds',
};

/** Which config-dump section each view needs. */
const NEEDS: Partial<Record<ProxyConfigKind, SectionKind>> = {
  clusters: 'clusters',
  listeners: 'listeners',
  routes: 'routes',
  secret: 'secrets',
  bootstrap: 'bootstrap',
  ecds: 'ecds',
  endpoints: 'endpoints',
};

/** source → model → summary → text. */
export async function proxyConfig(kind: ProxyConfigKind, options: ProxyConfigOptions, source: EnvoyAdminSource): Promise<ProxyConfigResult> {
  const { doc, name } = await fetchDocument(source, ADMIN_PATH[kind]);
  const warnings: string[] = [];

  if (kind === 'endpoints' && isClustersStatus(doc)) {
    const status = parseClustersStatus(doc, name);
    for (const p of status.problems) warnings.push(`skipped ${p.what} because ${p.reason}`);
    return { stdout: renderClustersStatus(status, options), warnings };
  }

  const dump = parseConfigDump(doc, name);
  const needed = NEEDS[kind];
  if (needed) requireSection(dump, needed);
  for (const p of dump.problems) warnings.push(`skipped ${p.what} because ${p.reason}`);
  warnings.push(...rejectedUpdates(dump, kind));
  if (kind === 'all') {
    const usable = (Object.keys(SECTION_TYPES) as SectionKind[]).filter((k) => usableSection(dump, k));
    if (usable.length === 0) throw new MeshctlError(`${dump.source}: nothing usable in this config dump (${describeProblems(dump)})`);
  }

  if (options.output !== 'short') return { stdout: renderData(redactSecrets(selectObjects(kind, dump, options)), options.output), warnings };
  return { stdout: renderShort(kind, dump, options, warnings), warnings };
}

/** The parsed answer, without its text: a large dump's text is garbage from here on. */
async function fetchDocument(source: EnvoyAdminSource, adminPath: string): Promise<{ doc: unknown; name: string }> {
  const input = await source.get(adminPath);
  return { doc: parseDocument(input), name: input.name };
}

/**
 * Updates Envoy refused (NACKed): the tables show the configuration still in force, so say that a newer
 * one was rejected and why. One line each, a handful at most.
 */
function rejectedUpdates(dump: ConfigDump, kind: ProxyConfigKind): string[] {
  const lists: [string, { name: string; errorState?: Record<string, unknown> }[]][] = [];
  if (kind === 'clusters' || kind === 'all') lists.push(['cluster', dump.clusters]);
  if (kind === 'listeners' || kind === 'all') lists.push(['listener', dump.listeners]);
  if (kind === 'routes' || kind === 'all') lists.push(['route configuration', dump.routes]);
  if (kind === 'secret' || kind === 'all') lists.push(['secret', dump.secrets]);
  if (kind === 'endpoints' || kind === 'all') lists.push(['endpoints of cluster', dump.endpoints.map((e) => ({ name: e.clusterName, errorState: e.errorState }))]);
  const out: string[] = [];
  const seen = new Set<unknown>();
  let more = 0;
  for (const [what, entries] of lists) {
    for (const e of entries) {
      if (!e.errorState || seen.has(e.errorState)) continue;
      seen.add(e.errorState);
      if (out.length >= 5) {
        more++;
        continue;
      }
      const details = typeof e.errorState.details === 'string' ? e.errorState.details.split('\n')[0] : 'no details';
      const when = typeof e.errorState.last_update_attempt === 'string' ? ` at ${e.errorState.last_update_attempt}` : '';
      out.push(`Envoy rejected an update of ${what} "${e.name}"${when}: ${details}`);
    }
  }
  if (more) out.push(`Envoy rejected ${more} more updates; see error_state in -o json`);
  return out;
}

function usableSection(dump: ConfigDump, kind: SectionKind): boolean {
  return dump.sections.some((s) => s.kind === kind && s.ok);
}

function describeProblems(dump: ConfigDump): string {
  if (dump.problems.length === 0) return 'it has no sections meshctl reads';
  return dump.problems.map((p) => `${p.what}: ${p.reason}`).join('; ');
}

/** A view whose one section is missing or was skipped has nothing to show: that is an error, in one line. */
function requireSection(dump: ConfigDump, kind: SectionKind): void {
  if (usableSection(dump, kind)) return;
  const type = SECTION_TYPES[kind];
  if (dump.present.has(kind)) {
    const p = dump.problems.find((x) => x.section === kind);
    dump.problems = dump.problems.filter((x) => x !== p);
    throw new MeshctlError(`${dump.source}: the ${SECTION_LABEL[kind]} section (${type}) is unusable: ${p?.reason ?? 'malformed'}`);
  }
  if (kind === 'endpoints') {
    throw new MeshctlError(
      `${dump.source}: no endpoints in this config dump (no ${type}); save /config_dump?include_eds or /clusters?format=json instead`,
    );
  }
  throw new MeshctlError(`${dump.source}: this config dump has no ${SECTION_LABEL[kind]} section (${type})`);
}

function table(s: Summary): string {
  return renderTable(s.headers, highlight(s), { padding: s.padding });
}

/** On a terminal only: what an SRE scans for (unhealthy hosts, ejected hosts, bad certificates) stands out. */
function highlight(s: Summary): string[][] {
  // checked before colours(): that loads chalk, which a run with colour off (pipes, files) never needs
  if (!colourEnabled()) return s.rows;
  const c = colours();
  if (c.level === 0) return s.rows;
  const paint: Record<string, (v: string) => string> = {
    HEALTHY: c.green,
    UNHEALTHY: c.red,
    TIMEOUT: c.red,
    DRAINING: c.yellow,
    DEGRADED: c.yellow,
    FAILED: c.red,
    WARMING: c.yellow,
  };
  const cols = s.headers.map((h, i) => (['STATUS', 'OUTLIER CHECK', 'VALID CERT'].includes(h) ? i : -1)).filter((i) => i >= 0);
  if (cols.length === 0) return s.rows;
  return s.rows.map((row) => {
    const out = row.slice();
    for (const i of cols) {
      const v = out[i];
      if (v === 'false') out[i] = c.red(v);
      else if (paint[v]) out[i] = paint[v](v);
    }
    return out;
  });
}

function renderClustersStatus(status: ClustersStatus, o: ProxyConfigOptions): string {
  if (o.output === 'short') return table(clusterStatusEndpointSummary(status.clusters, o));
  const selected = status.clusters
    .filter((c) => clusterStatusEndpointSummary([c], o).rows.length > 0)
    .map((c) => c.raw);
  return renderData(redactSecrets(selected), o.output);
}

function renderBootstrapShort(dump: ConfigDump): string {
  const lines = bootstrapSummary(dump);
  const width = Math.max(...lines.map(([label]) => label.length)) + 1;
  return lines.map(([label, value]) => `${label.padEnd(width)}${value}`.trimEnd() + '\n').join('');
}

function renderSecretsShort(dump: ConfigDump, o: ProxyConfigOptions, warnings: string[], withNames: boolean): string {
  if (listSecrets(dump).length === 0) return 'No active or warming secrets found.\n';
  const rows = secretRows(dump, o.now);
  for (const r of rows) {
    if (r.problem) warnings.push(`secret "${r.name}"${r.trustDomain ? ` (trust domain ${r.trustDomain})` : ''}: cannot read its certificate: ${r.problem}`);
  }
  return table(secretSummary(rows, withNames));
}

function renderShort(kind: ProxyConfigKind, dump: ConfigDump, o: ProxyConfigOptions, warnings: string[]): string {
  switch (kind) {
    case 'clusters':
      return table(clusterSummary(dump, o));
    case 'listeners':
      return table(listenerSummary(dump, o, o.verbose));
    case 'routes':
      return table(routeSummary(dump, o, o.verbose));
    case 'endpoints':
      return table(edsEndpointSummary(dump, o));
    case 'secret':
      return renderSecretsShort(dump, o, warnings, false);
    case 'bootstrap':
      return renderBootstrapShort(dump);
    case 'ecds':
      return table(ecdsSummary(dump));
    case 'all':
      return renderAll(dump, o, warnings);
  }
}

/**
 * Every section, with istioctl's NAME columns (`cluster/…`, `listener/…`, …); --with-headers adds its
 * `------ X INFO ------` banners.
 */
function renderAll(dump: ConfigDump, o: ProxyConfigOptions, warnings: string[]): string {
  const named = true;
  const parts: { title: string; section: SectionKind; render: () => string }[] = [
    { title: 'BOOTSTRAP INFO', section: 'bootstrap', render: () => renderBootstrapShort(dump) },
    { title: 'CLUSTER INFO', section: 'clusters', render: () => table(clusterSummary(dump, o, named)) },
    { title: 'LISTENER INFO', section: 'listeners', render: () => table(listenerSummary(dump, o, o.verbose, named)) },
    { title: 'ROUTE INFO', section: 'routes', render: () => table(routeSummary(dump, o, o.verbose, named)) },
    { title: 'SECRET INFO', section: 'secrets', render: () => renderSecretsShort(dump, o, warnings, named) },
    { title: 'ENDPOINTS INFO', section: 'endpoints', render: () => table(edsEndpointSummary(dump, o, named)) },
  ];
  const out: string[] = [];
  for (const part of parts) {
    if (!usableSection(dump, part.section)) {
      if (!dump.present.has(part.section)) {
        const why = part.section === 'endpoints' ? ' (saved without ?include_eds)' : '';
        warnings.push(`${dump.source} has no ${SECTION_LABEL[part.section]} section${why}; not shown`);
      }
      continue;
    }
    const body = part.render();
    out.push(o.withHeaders ? `------ ${part.title} ------\n\n${body}` : body);
  }
  return out.join('\n');
}

/** The Envoy objects a view shows, after filtering, for -o json|yaml. */
function selectObjects(kind: ProxyConfigKind, dump: ConfigDump, o: ProxyConfigOptions): unknown {
  switch (kind) {
    case 'clusters':
      return filteredClusters(dump, o).map((c) => c.cluster);
    case 'listeners':
      return filteredListeners(dump, o).map((l) => l.listener);
    case 'routes':
      return filteredRouteConfigs(dump, o).map((r) => r.routeConfig);
    case 'endpoints':
      return filteredEndpointConfigs(dump, o).map(({ entry, matched }) => withOnlyMatched(entry.endpointConfig, matched.map((m) => m.ep)));
    case 'secret':
      return sectionsOf(dump, 'secrets');
    case 'bootstrap':
      return sectionsOf(dump, 'bootstrap');
    case 'ecds':
      return sectionsOf(dump, 'ecds');
    case 'all':
      return dump.raw;
  }
}

/** One section as a single object, several as a list. */
function sectionsOf(dump: ConfigDump, kind: SectionKind): unknown {
  const raws = dump.sections.filter((s) => s.kind === kind && s.ok).map((s) => s.raw);
  return raws.length === 1 ? raws[0] : raws;
}

/** A ClusterLoadAssignment reduced to the endpoints that passed the filter; the original when all did. */
function withOnlyMatched(cla: Record<string, unknown>, keep: unknown[]): unknown {
  const groups = Array.isArray(cla.endpoints) ? (cla.endpoints as Record<string, unknown>[]) : [];
  const total = groups.reduce((n, g) => n + (Array.isArray(g?.lb_endpoints) ? g.lb_endpoints.length : 0), 0);
  if (total === keep.length) return cla;
  const wanted = new Set(keep);
  return {
    ...cla,
    endpoints: groups.map((g) => (Array.isArray(g?.lb_endpoints) ? { ...g, lb_endpoints: g.lb_endpoints.filter((e) => wanted.has(e)) } : g)),
  };
}
