import type { KubeOptions } from '../kube/options.js';
import { MeshctlError, UsageError } from '../errors.js';
import { colourEnabled, colours } from '../output/colour.js';
import { renderTable } from '../output/table.js';
import { writeStdout } from '../output/write.js';
import { fileAdminSource, type EnvoyAdminSource } from '../source/envoy-admin.js';
import { parseDocument } from '../source/parse.js';
// the ztunnel modules this command uses, not ztunnel/index.js: that also loads the L4 policy engine
// and the upstream picker (and node:net), which no table needs
import { ZtunnelModel } from '../ztunnel/model.js';
import { parseZtunnelDump, type Section } from '../ztunnel/parse.js';
import {
  certificateTable,
  connectionTable,
  filterPolicies,
  filterServices,
  filterWorkloads,
  filterWorkloadStates,
  policyTable,
  serviceTable,
  workloadTable,
  type ConnectionFilter,
  type PodFilter,
  type PolicyFilter,
  type ServiceFilter,
  type Table,
  type WorkloadFilter,
} from '../ztunnel/summary.js';

export const ZTUNNEL_CONFIG_KINDS = ['workloads', 'services', 'policies', 'certificates', 'connections', 'all'] as const;
export type ZtunnelConfigKind = (typeof ZTUNNEL_CONFIG_KINDS)[number];

export interface ZtunnelConfigOptions {
  output: 'short' | 'json' | 'yaml';
  /** `all`: istioctl's `------ X INFO ------` banners */
  withHeaders?: boolean;
  workloadNamespace?: string;
  workloadNode?: string;
  address?: string;
  serviceNamespace?: string;
  policyNamespace?: string;
  direction?: 'inbound' | 'outbound';
  raw?: boolean;
  /** A live run pointed at a workload pod: its ztunnel's view, filtered to it. */
  pod?: PodFilter;
  /** For VALID CERT; tests pin it. */
  now?: Date;
}

export interface ZtunnelConfigResult {
  stdout: string;
  /** One line each, without the `warning: ` prefix. */
  warnings: string[];
}

const NEEDS: Record<Exclude<ZtunnelConfigKind, 'all'>, Section> = {
  workloads: 'workloads',
  services: 'services',
  policies: 'policies',
  certificates: 'certificates',
  connections: 'workloadState',
};

const ALL_PARTS: { title: string; section: Section; kind: Exclude<ZtunnelConfigKind, 'all'> }[] = [
  { title: 'WORKLOAD INFO', section: 'workloads', kind: 'workloads' },
  { title: 'SERVICE INFO', section: 'services', kind: 'services' },
  { title: 'POLICY INFO', section: 'policies', kind: 'policies' },
  { title: 'SECRET INFO', section: 'certificates', kind: 'certificates' },
  { title: 'CONNECTIONS INFO', section: 'workloadState', kind: 'connections' },
];

/** At most this many skipped entries are named one by one; the rest are counted. */
const MAX_PROBLEM_LINES = 5;

/** source → model → table or selection → text. */
export async function ztunnelConfig(kind: ZtunnelConfigKind, o: ZtunnelConfigOptions, source: EnvoyAdminSource): Promise<ZtunnelConfigResult> {
  const model = new ZtunnelModel(await fetchDump(source));
  const warnings: string[] = [];

  if (kind === 'all') {
    if (!ALL_PARTS.some((p) => model.has(p.section))) {
      throw new MeshctlError(`${model.source}: nothing usable in this ztunnel dump (${model.parsed.problems.map((p) => `${p.what}: ${p.reason}`).join('; ')})`);
    }
  } else {
    requireSection(model, NEEDS[kind]);
  }
  warnings.push(...problemLines(model, kind));
  if (o.pod && (kind === 'workloads' || kind === 'all') && filterWorkloads(model, { pod: o.pod }).length === 0) {
    warnings.push(`pod ${o.pod.name}.${o.pod.namespace} is not among the workloads of ztunnel ${source.name} (not pushed yet, or not a workload of this mesh)`);
  }

  if (o.output !== 'short') {
    // loaded for -o json|yaml only: the tables need neither
    const [{ redactSecrets }, { renderData }] = await Promise.all([import('../envoy/secrets.js'), import('../output/format.js')]);
    return { stdout: renderData(redactSecrets(selection(kind, model, o)), o.output), warnings };
  }
  if (kind !== 'all') return { stdout: table(tableFor(kind, model, o)), warnings };

  const out: string[] = [];
  for (const part of ALL_PARTS) {
    if (!model.has(part.section)) {
      if (!model.present.has(part.section)) warnings.push(`${model.source} has no ${part.section} section; not shown`);
      continue;
    }
    const body = table(tableFor(part.kind, model, { ...o, pod: part.kind === 'workloads' || part.kind === 'connections' ? o.pod : undefined }));
    out.push(o.withHeaders ? `\n------ ${part.title} ------\n\n${body}` : `\n${body}`);
  }
  return { stdout: out.join(''), warnings };
}

/** The parsed dump, without its text: a large dump's text is garbage from here on. */
async function fetchDump(source: EnvoyAdminSource) {
  const input = await source.get('/config_dump');
  return parseZtunnelDump(parseDocument(input), input.name);
}

function requireSection(model: ZtunnelModel, section: Section): void {
  const unusable = model.parsed.unusable.get(section);
  if (unusable) throw new MeshctlError(`${model.source}: the ${section} section is unusable: ${unusable}`);
  if (!model.present.has(section)) {
    const why = section === 'workloadState' ? ' (ztunnels list connections only in in-pod mode, Istio 1.22 and later)' : '';
    throw new MeshctlError(`${model.source}: this ztunnel dump has no ${section} section${why}`);
  }
}

/** Skipped entries of the sections this view reads, one line each, a handful at most. */
function problemLines(model: ZtunnelModel, kind: ZtunnelConfigKind): string[] {
  const wanted = new Set<Section>(kind === 'all' ? ALL_PARTS.map((p) => p.section) : [NEEDS[kind]]);
  // names in other tables come from these sections too
  if (kind === 'services' || kind === 'connections') wanted.add('workloads');
  if (kind === 'workloads' || kind === 'connections') wanted.add('services');
  const relevant = model.parsed.problems.filter((p) => wanted.has(p.section));
  const lines = relevant.slice(0, MAX_PROBLEM_LINES).map((p) => `skipped ${p.what} because ${p.reason}`);
  if (relevant.length > MAX_PROBLEM_LINES) lines.push(`skipped ${relevant.length - MAX_PROBLEM_LINES} more broken entries; see -o json`);
  return lines;
}

function workloadFilter(o: ZtunnelConfigOptions): WorkloadFilter {
  return { namespace: o.workloadNamespace, node: o.workloadNode, address: o.address, pod: o.pod };
}
const serviceFilter = (o: ZtunnelConfigOptions): ServiceFilter => ({ namespace: o.serviceNamespace });
const policyFilter = (o: ZtunnelConfigOptions): PolicyFilter => ({ namespace: o.policyNamespace });
function connectionFilter(o: ZtunnelConfigOptions): ConnectionFilter {
  return { namespace: o.workloadNamespace, direction: o.direction, raw: o.raw, pod: o.pod };
}

function tableFor(kind: Exclude<ZtunnelConfigKind, 'all'>, model: ZtunnelModel, o: ZtunnelConfigOptions): Table {
  switch (kind) {
    case 'workloads':
      return workloadTable(model, workloadFilter(o));
    case 'services':
      return serviceTable(model, serviceFilter(o));
    case 'policies':
      return policyTable(model, policyFilter(o));
    case 'certificates':
      return certificateTable(model, o.now);
    case 'connections':
      return connectionTable(model, connectionFilter(o));
  }
}

/** What -o json|yaml prints: the same entries as the table, as ztunnel wrote them (istioctl's choice). */
function selection(kind: ZtunnelConfigKind, model: ZtunnelModel, o: ZtunnelConfigOptions): unknown {
  switch (kind) {
    case 'workloads':
      return filterWorkloads(model, workloadFilter(o));
    case 'services':
      return filterServices(model, serviceFilter(o));
    case 'policies':
      return filterPolicies(model, policyFilter(o));
    case 'certificates':
      return model.certificates;
    case 'connections':
      // keyed by pod UID in the dump; listed without the key, as istioctl does
      return filterWorkloadStates(model, connectionFilter(o)).map(({ uid: _uid, ...state }) => state);
    case 'all':
      return model.parsed.raw;
  }
}

function table(t: Table): string {
  return renderTable(t.headers, highlight(t), { padding: t.padding });
}

/** On a terminal only: certificates that are not usable, services with unhealthy endpoints. */
function highlight(t: Table): string[][] {
  if (!colourEnabled()) return t.rows;
  const c = colours();
  if (c.level === 0) return t.rows;
  const at = (h: string) => t.headers.indexOf(h);
  const status = at('STATUS');
  const valid = at('VALID CERT');
  const endpoints = at('ENDPOINTS');
  if (status < 0 && endpoints < 0) return t.rows;
  return t.rows.map((row) => {
    const out = row.slice();
    if (status >= 0) {
      if (out[status] === 'Unavailable') out[status] = c.red(out[status]);
      else if (out[status] === 'Initializing') out[status] = c.yellow(out[status]);
      if (out[valid] === 'false') out[valid] = c.red(out[valid]);
    }
    if (endpoints >= 0) {
      const [healthy, all] = out[endpoints].split('/');
      if (healthy !== all) out[endpoints] = (healthy === '0' ? c.red : c.yellow)(out[endpoints]);
    }
    return out;
  });
}

/** What the command line gives `meshctl ztunnel-config <kind>`. */
export interface ZtunnelConfigCommandOptions extends KubeOptions, Omit<ZtunnelConfigOptions, 'pod' | 'now'> {
  file?: string;
  bundle?: string;
  node?: string;
  proxyAdminPort: number;
  /** The view differs per ztunnel: without a pod or --node, refuse to pick one of several. */
  needsOne?: boolean;
}

/** `meshctl ztunnel-config <kind> [pod]`: the source (-f, or a ztunnel live / in the bundle), then the view. */
export async function ztunnelConfigCommand(kind: ZtunnelConfigKind, pod: string | undefined, opts: ZtunnelConfigCommandOptions): Promise<void> {
  const sources = [opts.file !== undefined, pod !== undefined, opts.node !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UsageError('at most one of --file, --node, or pod name must be passed');
  if (opts.bundle !== undefined && opts.file !== undefined) throw new UsageError('give either --bundle (with a pod, --node or neither) or --file, not both');
  if (opts.file === '-' && process.stdin.isTTY) {
    throw new UsageError('-f - reads the config dump from stdin, which is a terminal: pipe a dump in or give a file');
  }
  let source: EnvoyAdminSource;
  let workload: PodFilter | undefined;
  if (opts.file !== undefined) source = fileAdminSource(opts.file);
  else {
    const { openZtunnelSource } = await import('./ztunnel-source.js');
    ({ source, workload } = await openZtunnelSource(opts, { pod, node: opts.node, needsOne: opts.needsOne, what: `ztunnel-config ${kind}`, proxyAdminPort: opts.proxyAdminPort }));
  }
  try {
    const result = await ztunnelConfig(
      kind,
      {
        output: opts.output,
        withHeaders: opts.withHeaders === true,
        workloadNamespace: opts.workloadNamespace,
        workloadNode: opts.workloadNode,
        address: opts.address,
        serviceNamespace: opts.serviceNamespace,
        policyNamespace: opts.policyNamespace,
        direction: opts.direction,
        raw: opts.raw === true,
        pod: workload,
      },
      source,
    );
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    writeStdout(result.stdout);
  } finally {
    await source.close();
  }
}
