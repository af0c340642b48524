import path from 'node:path';
import { Chalk } from 'chalk';
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeOptions } from '../kube/options.js';
import { DamagedBundleError, MeshctlError, UsageError, describeError } from '../errors.js';
import { configGraph } from '../diagram/config-graph.js';
import { renderSvg } from '../diagram/svg.js';
import { traceGraph } from '../diagram/trace-graph.js';
import {
  isClustersStatus,
  listClusters,
  listListeners,
  parseClustersStatus,
  parseConfigDump,
  type ClustersStatus,
  type ConfigDump,
} from '../envoy/index.js';
import {
  clusterStatusEndpointSummary,
  clusterSummary,
  edsEndpointSummary,
  listenerSummary,
  routeSummary,
  secretRows,
  secretSummary,
  type Summary,
} from '../envoy/summary.js';
import { parseSyncz, type SyncStatus } from '../istiod/syncz.js';
import { writeFileAtomic } from '../output/write.js';
import { fanoutProgress } from '../output/progress.js';
import { buildOverview } from '../report/overview.js';
import { renderReport, type Finding, type PodSection, type ReportModel } from '../report/html.js';
import type { LoadProblem, Resource } from '../resources/index.js';
import { readInput, type InputText } from '../source/file.js';
import { parseDocument } from '../source/parse.js';
import { worldFromConfigDump } from '../trace/dump-world.js';
import { renderTrace } from '../trace/render.js';
import { TraceInputError, traceRequest, type TraceOutput } from '../trace/trace.js';
import { parseHeader } from './trace.js';

export interface ReportOptions extends Partial<KubeOptions> {
  /** Saved Envoy /config_dump files (a /clusters?format=json right after one belongs to it), istiod /debug/syncz answers. */
  file?: string[];
  /** Kubernetes and Istio resources (files, directories, globs). */
  files?: string[];
  bundle?: string;
  pods: string[];
  trace?: string;
  header?: string[];
  /** With trace: the request enters the pod (its inbound listeners and RBAC) instead of leaving it. */
  direction?: 'outbound' | 'inbound';
  output: string;
  allNamespaces?: boolean;
  maxPods?: number;
  proxyAdminPort?: number;
  /** For tests: a fixed time in the page. */
  now?: Date;
}

/** One pod's Envoy as the report reads it. */
export interface PodInput {
  pod: string;
  source: string;
  dump: ConfigDump;
  clusters?: ClustersStatus;
}

/** What the report is made from, wherever it came from (files, a cluster, a bug-report bundle). */
export interface ReportInputs {
  source: string;
  resources: Resource[];
  problems: LoadProblem[];
  syncz: { istiod: string; statuses: SyncStatus[] }[];
  pods: PodInput[];
  warnings: string[];
  /** Resources from a cluster: absence means something (analyze's `complete`). */
  complete: boolean;
  /** The namespace findings are reported for (undefined: all). */
  namespace?: string;
}

/** Source → model → render → file. */
export async function reportCommand(o: ReportOptions): Promise<string> {
  if (!o.output) throw new UsageError('give the output file with -o report.html');
  if (o.bundle && (o.file?.length || o.files?.length)) throw new UsageError('--bundle is the whole input: give it without -f or --files');
  const inputs = o.file?.length || o.files?.length ? await fileInputs(o) : await clusterInputs(o);
  const model = await buildModel(inputs, o);
  await writeFileAtomic(o.output, renderReport(model));
  for (const w of inputs.warnings) process.stderr.write(`Warning: ${w}\n`);
  return `wrote ${o.output}: ${inputs.pods.length} pod${inputs.pods.length === 1 ? '' : 's'}, ${model.overview.workloads.length} workload${model.overview.workloads.length === 1 ? '' : 's'}, ${model.findings?.length ?? 0} finding${model.findings?.length === 1 ? '' : 's'}\n`;
}

// ---------------------------------------------------------------- sources

/** `sidecar~10.0.0.1~name.ns~ns.svc.cluster.local` → `name.ns`; else the node's metadata; else the file. */
export function podOfDump(dump: ConfigDump, fallback: string): string {
  const node = dump.bootstrap?.bootstrap.node;
  const parts = typeof node?.id === 'string' ? node.id.split('~') : [];
  if (parts.length >= 3 && parts[2]) return parts[2];
  const md = node?.metadata ?? {};
  if (typeof md.NAME === 'string' && typeof md.NAMESPACE === 'string') return `${md.NAME}.${md.NAMESPACE}`;
  return path.basename(fallback).replace(/(-config_dump)?\.(json|ya?ml)$/, '');
}

/** Offline: dumps, /clusters answers and syncz answers by their shape; resources from --files. */
async function fileInputs(o: ReportOptions): Promise<ReportInputs> {
  const pods: PodInput[] = [];
  const syncz: ReportInputs['syncz'] = [];
  for (const f of o.file ?? []) {
    const input = await readInput(f);
    const doc = parseDocument(input);
    if (isClustersStatus(doc)) {
      const last = pods.at(-1);
      if (!last) throw new UsageError(`${input.name}: a /clusters answer belongs to the config dump given before it (-f dump.json -f clusters.json)`);
      last.clusters = parseClustersStatus(doc, input.name);
    } else if (Array.isArray(doc)) {
      syncz.push({ istiod: f === '-' ? 'stdin' : path.basename(f).replace(/\.(json|ya?ml)$/, ''), statuses: parseSyncz(input) });
    } else {
      const dump = parseConfigDump(doc, input.name);
      pods.push({ pod: podOfDump(dump, input.name), source: input.name, dump });
    }
  }
  const { loadResources } = await import('../resources/index.js');
  const loaded = o.files?.length ? await loadResources(o.files, { recursive: true }) : { resources: [], problems: [] };
  return {
    source: [...(o.file ?? []), ...(o.files ?? [])].map((f) => path.basename(f)).join(', '),
    resources: loaded.resources,
    problems: loaded.problems,
    syncz,
    pods: selectPods(pods, o.pods),
    warnings: [],
    complete: false,
    namespace: o.allNamespaces ? undefined : o.namespace,
  };
}

function selectPods(pods: PodInput[], wanted: string[]): PodInput[] {
  if (wanted.length === 0) return pods;
  return wanted.map((w) => {
    const found = pods.filter((p) => p.pod === w || p.pod.split('.')[0] === w || p.pod.startsWith(w));
    if (found.length === 0) throw new MeshctlError(`no config dump given for pod ${w} (dumps: ${pods.map((p) => p.pod).join(', ') || 'none'})`);
    return found[0];
  });
}

/**
 * A cluster as the input, live or a bug-report bundle (`--bundle`): the cluster's resources, istiod's sync
 * state, and each selected sidecar's config, all through one ClusterSource, so a bundle gives the report
 * the live cluster gave at capture.
 */
async function clusterInputs(o: ReportOptions): Promise<ReportInputs> {
  const [{ ClusterProvider }, { adminSourceFor, PROXY_CONTAINER }, { fanout }, { istiodAnswers }, { openCluster }, { isZtunnelPod }] = await Promise.all([
    import('../analyze/cluster.js'),
    import('../kube/admin-source.js'),
    import('../kube/fanout.js'),
    import('./istiod.js'),
    import('../kube/open.js'),
    import('../kube/ztunnel.js'),
  ]);
  const warnings: string[] = [];
  const options = { istioNamespace: 'istio-system', timeout: '30s', ...o };
  const provider = new ClusterProvider({ ...options, onlyNamespace: undefined });
  try {
    await provider.connect();
  } catch (err) {
    if (!(err instanceof MeshctlError) || o.bundle !== undefined) throw err;
    throw new MeshctlError(`cannot read the cluster: ${err.message}; or make the report from saved files (-f dump.json, --files manifests/)`, err.exitCode);
  }
  const namespace = o.allNamespaces ? undefined : (o.namespace ?? provider.namespace);
  const loaded = await provider.load();
  for (const what of provider.skipped) warnings.push(`not allowed to list ${what}; the overview and findings leave them out`);
  for (const what of provider.missing) warnings.push(`the bundle holds no ${what}; the overview and findings leave them out`);

  const cluster = await openCluster(options);
  try {
    const syncz: ReportInputs['syncz'] = [];
    try {
      for (const a of await istiodAnswers('/debug/syncz', { ...options, file: undefined, output: undefined }, cluster)) {
        syncz.push({ istiod: a.istiod, statuses: parseSyncz({ name: a.name, text: a.text }) });
      }
    } catch (err) {
      if (err instanceof DamagedBundleError) throw err;
      warnings.push(`proxy status unavailable: ${describeError(err)}`);
    }

    // which pods get a section: the ones named, else every running sidecar pod in scope
    let targets: string[];
    if (o.pods.length) targets = o.pods;
    else {
      targets = loaded.resources
        .filter((r) => r.kind === 'Pod' && r.group === '' && (namespace === undefined || r.namespace === namespace))
        .filter((r) => {
          const spec = (r.object as { spec?: { containers?: { name?: string }[]; initContainers?: { name?: string }[] } }).spec;
          const status = (r.object as { status?: { phase?: string } }).status;
          // ztunnel's container is named istio-proxy too, but it is no Envoy (as bug-report tells them apart)
          if (isZtunnelPod(r.object as V1Pod)) return false;
          return status?.phase === 'Running' && [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some((c) => c.name === PROXY_CONTAINER);
        })
        .map((r) => `${r.name}.${r.namespace}`)
        .sort();
      const max = o.maxPods ?? 50;
      if (targets.length > max) {
        warnings.push(`${targets.length} sidecar pods in ${namespace ? `namespace ${namespace}` : 'the cluster'}: the first ${max} have a section (--max-pods, or name the pods)`);
        targets = targets.slice(0, max);
      }
    }
    const results = await fanout(
      targets,
      async (ref) => {
        const admin = await adminSourceFor(cluster, ref, o.proxyAdminPort ?? 15000);
        const dumpText = await admin.get('/config_dump?include_eds');
        let clustersText: InputText | undefined;
        try {
          clustersText = await admin.get('/clusters?format=json');
        } catch (err) {
          if (err instanceof DamagedBundleError) throw err;
          warnings.push(`${admin.name}: /clusters unavailable, endpoint health from EDS: ${describeError(err)}`);
        }
        const dump = parseConfigDump(parseDocument(dumpText), dumpText.name);
        const clusters = clustersText ? parseClustersStatus(parseDocument(clustersText), clustersText.name) : undefined;
        return { pod: admin.name, source: `pod ${admin.name} /config_dump?include_eds`, dump, clusters } satisfies PodInput;
      },
      { limit: 4, onProgress: fanoutProgress('reading Envoy configs') },
    );
    const pods: PodInput[] = [];
    results.forEach((r, i) => {
      if (r.ok) pods.push(r.value);
      else if (o.pods.length || r.error instanceof DamagedBundleError) throw r.error instanceof MeshctlError ? r.error : new MeshctlError(`${targets[i]}: ${describeError(r.error)}`);
      else warnings.push(`${targets[i]}: left out: ${describeError(r.error)}`);
    });
    const source = cluster.captured ? `${cluster.name}, captured ${cluster.captured}${cluster.context ? ` from context ${cluster.context}` : ''}` : provider.description;
    return { source, resources: loaded.resources, problems: loaded.problems, syncz, pods, warnings, complete: true, namespace };
  } finally {
    cluster.close();
  }
}

// ---------------------------------------------------------------- model

async function buildModel(inputs: ReportInputs, o: ReportOptions): Promise<ReportModel> {
  const overview = buildOverview({ resources: inputs.resources, syncz: inputs.syncz, dumps: inputs.pods });
  for (const p of inputs.problems) inputs.warnings.push(`${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`);

  let findings: Finding[] | undefined;
  let findingsNote: string | undefined;
  if (inputs.resources.length === 0) findingsNote = 'No Kubernetes or Istio resources in the input (give them with --files, or run against a cluster).';
  else {
    const [{ analyzeResources, applyDefaultNamespace }, { toData }] = await Promise.all([import('../analyze/engine.js'), import('../analyze/render.js')]);
    applyDefaultNamespace(inputs.resources, o.namespace ?? 'default');
    const ds = await analyzeResources(inputs.resources, { namespace: inputs.namespace });
    findings = ds.map((d) => {
      const x = toData(d);
      return { level: x.level, code: x.code, origin: x.origin ?? '', reference: x.reference ?? '', message: x.message, documentationUrl: x.documentationUrl };
    });
  }

  const headers = (o.header ?? []).map(parseHeader);
  const pods: PodSection[] = inputs.pods.map((p, i) => podSection(p, i, o.trace, headers, o.direction));
  return {
    title: 'meshctl report',
    generatedAt: (o.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z'),
    source: inputs.source,
    overview,
    findings,
    findingsNote,
    pods,
    warnings: inputs.warnings,
    trace: o.trace,
  };
}

const NO_COLOUR = new Chalk({ level: 0 });

function podSection(p: PodInput, index: number, target: string | undefined, headers: [string, string][], direction?: 'outbound' | 'inbound'): PodSection {
  const world = worldFromConfigDump(p.dump, p.clusters);
  const warnings = p.dump.problems.map((x) => `skipped ${x.what}: ${x.reason}`);
  let trace: TraceOutput | undefined;
  if (target) {
    try {
      trace = traceRequest(world, { target, headers, ...(direction ? { direction } : {}) });
    } catch (err) {
      if (err instanceof TraceInputError) throw new UsageError(`--trace: ${err.message}`);
      throw err;
    }
  }
  const path = trace ? traceGraph(trace, p.pod) : undefined;
  const graph = configGraph(p.dump, p.pod, { path, endpoints: (n) => world.endpoints(n) });
  const md = (p.dump.bootstrap?.bootstrap.node?.metadata ?? {}) as Record<string, unknown>;
  const facts: [string, string][] = [];
  if (typeof md.ISTIO_VERSION === 'string') facts.push(['Istio version', md.ISTIO_VERSION]);
  if (typeof md.INSTANCE_IPS === 'string') facts.push(['pod IPs', md.INSTANCE_IPS]);
  if (typeof md.SERVICE_ACCOUNT === 'string') facts.push(['service account', md.SERVICE_ACCOUNT]);
  facts.push(['config', `${listListeners(p.dump).length} listeners, ${listClusters(p.dump).length} clusters`]);

  const tables: PodSection['tables'] = [];
  const add = (title: string, s: () => Summary, open = false) => {
    try {
      const t = s();
      tables.push({ title, headers: t.headers, rows: t.rows, open });
    } catch (err) {
      warnings.push(`${title}: ${describeError(err)}`);
    }
  };
  const has = (k: string) => p.dump.sections.some((s) => s.kind === k && s.ok);
  if (has('listeners')) add('Listeners', () => listenerSummary(p.dump, {}, true));
  if (has('routes')) add('Routes', () => routeSummary(p.dump, {}, true));
  if (has('clusters')) add('Clusters', () => clusterSummary(p.dump, {}));
  if (p.clusters) add('Endpoints (live health from /clusters)', () => clusterStatusEndpointSummary(p.clusters!.clusters, {}));
  else if (has('endpoints')) add('Endpoints', () => edsEndpointSummary(p.dump, {}));
  if (has('secrets')) add('Secrets (certificates only; keys are never shown)', () => secretSummary(secretRows(p.dump), false));

  let traceSection: PodSection['trace'];
  if (trace) {
    const r = trace.result;
    const summary: [string, string][] = [];
    const row = (k: string, v: unknown) => {
      if (v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)) summary.push([k, typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v)]);
    };
    row('request', `${trace.request.method ?? ''} ${target}`.trim());
    row('listener', r.listener);
    row('route config', r.routeConfig);
    row('virtual host', r.virtualHost);
    row('route', r.route);
    row('cluster', r.cluster ?? (r.weightedClusters ? `one of ${r.weightedClusters.map((w) => `${w.name} (${w.weight})`).join(', ')}` : null));
    if (r.authz && r.authz.filter !== null) row('authorization', `${r.authz.decision}${r.authz.authorizationPolicy ? ` by ${r.authz.authorizationPolicy}` : ''}: ${r.authz.reason}`);
    row('redirect', r.redirect);
    if (r.directResponse) row('direct response', String(r.directResponse.status));
    if (r.endpoints) row('endpoints', r.endpoints.map((e) => `${e.address} ${e.health}`).join(', ') || 'none');
    if (r.uncertain.length) row('uncertain', r.uncertain.join('; '));
    traceSection = { summary, steps: renderTrace(trace, NO_COLOUR, p.source) };
  }
  return { name: p.pod, source: p.source, facts, svg: renderSvg(graph, { idPrefix: `p${index}` }), graphNotes: graph.notes, trace: traceSection, tables, warnings };
}
