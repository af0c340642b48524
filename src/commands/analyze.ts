import yaml from 'js-yaml';
import { ANALYZERS, ANALYZER_ALIASES, analyzeResources, applyDefaultNamespace, atLeast } from '../analyze/engine.js';
import { parseLevel, type Level } from '../analyze/messages.js';
import type { ClusterProvider } from '../analyze/cluster.js';
import { FileProvider, mergeResources, type ResourceProvider } from '../analyze/provider.js';
import { render, type AnalyzeFormat } from '../analyze/render.js';
import { ISTIO_NAMESPACE, obj, str, type RemoteCluster, type SnapshotOptions } from '../analyze/snapshot.js';
import { applySuppressions, parseSuppressions } from '../analyze/suppress.js';
import { MeshctlError, UsageError, describeError } from '../errors.js';
import { colourEnabled, colours } from '../output/colour.js';
import { writeStdout } from '../output/write.js';
import { isObject, locateField, type LoadProblem, type Resource } from '../resources/index.js';
import { readInput } from '../source/file.js';

/** istioctl's exit code when analyzers find issues at or above the failure threshold. */
export const EXIT_FINDINGS = 79;

export interface AnalyzeCommandOptions {
  files: string[];
  recursive: boolean;
  output: AnalyzeFormat;
  failureThreshold: string;
  outputThreshold: string;
  suppress: string[];
  listAnalyzers: boolean;
  analyzer: string[];
  allNamespaces: boolean;
  namespace?: string;
  meshConfigFile?: string;
  /** --partial: the files are only part of the mesh (see SnapshotOptions.partial). */
  partial?: boolean;
  /** MeshNetworks YAML (or the istio ConfigMap holding it under data.meshNetworks). */
  meshNetworksFile?: string;
  /** Kubeconfig contexts of the mesh's other clusters, whose Services are compared with this one's. */
  remoteContexts?: string[];
  /** `NAME=PATH`: the Services of another cluster, from saved manifests. */
  remoteFiles?: string[];
  revision?: string;
  /** undefined: files only when files are given, the cluster otherwise. */
  useKube?: boolean;
  /** A bug-report bundle read as the cluster (at capture time) instead of the live one. */
  bundle?: string;
  kubeconfig?: string;
  context?: string;
  timeout?: string;
}

/** Where the command writes: the process's stdout/stderr, or a test's buffers. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  colour?: boolean;
}

const processIo: CommandIo = {
  out: writeStdout,
  err: (text) => void process.stderr.write(text),
};

/** Runs `meshctl analyze`; returns the exit code. */
export async function analyzeCommand(opts: AnalyzeCommandOptions, io: CommandIo = processIo): Promise<number> {
  if (opts.listAnalyzers) {
    io.out(listAnalyzers());
    return 0;
  }
  const failureThreshold = level(opts.failureThreshold, '--failure-threshold');
  const outputThreshold = level(opts.outputThreshold, '--output-threshold');
  const suppressions = parseSuppressions(opts.suppress);
  for (const name of opts.analyzer) {
    if (!ANALYZERS.some((a) => a.name === name) && !ANALYZER_ALIASES.has(name)) throw new UsageError(`unknown analyzer "${name}": see meshctl analyze -L for the list`);
  }
  if (opts.allNamespaces && opts.namespace) throw new UsageError('--all-namespaces and --namespace cannot be used together');
  const remoteFiles = (opts.remoteFiles ?? []).map(parseRemoteFiles);

  const wantCluster = opts.useKube ?? (opts.files.length === 0 || opts.bundle !== undefined);
  if (opts.bundle !== undefined && opts.useKube === false) throw new UsageError('--bundle is the cluster to analyze: drop --use-kube=false, or drop --bundle to analyze the files alone');
  if (!wantCluster && opts.files.length === 0) {
    throw new UsageError('nothing to analyze: pass files, directories (-R), globs or - for stdin, or drop --use-kube=false to read the cluster');
  }
  const providers: ResourceProvider[] = [];
  let cluster: ClusterProvider | undefined;
  if (wantCluster) {
    const { ClusterProvider } = await import('../analyze/cluster.js');
    cluster = new ClusterProvider({
      kubeconfig: opts.kubeconfig, context: opts.context, timeout: opts.timeout ?? '30s', namespace: opts.namespace, revision: opts.revision, bundle: opts.bundle,
    });
    try {
      await cluster.connect();
    } catch (err) {
      if (!(err instanceof MeshctlError) || opts.bundle !== undefined) throw err;
      const hint = opts.files.length > 0 ? '; run with --use-kube=false to analyze the files alone' : '; or pass the manifests to analyze (files, directories with -R, globs, - for stdin)';
      throw new MeshctlError(`cannot read the cluster: ${err.message}${hint}`, err.exitCode);
    }
    providers.push(cluster);
  }
  if (opts.files.length > 0) providers.push(new FileProvider(opts.files, opts.recursive));

  let mesh: MeshSettings = opts.meshConfigFile ? await readMeshConfig(opts.meshConfigFile) : {};
  let meshNetworks = opts.meshNetworksFile ? await readMeshNetworks(opts.meshNetworksFile) : undefined;
  const defaultNs = opts.namespace ?? cluster?.namespace ?? 'default';
  const problems: LoadProblem[] = [];
  let resources: Resource[] = [];
  for (const p of providers) {
    const loaded = await p.load();
    problems.push(...loaded.problems);
    // namespaces first: a file's VirtualService without one replaces the cluster's in the default namespace
    applyDefaultNamespace(loaded.resources, defaultNs);
    resources = mergeResources(resources, loaded.resources);
  }
  for (const what of cluster?.skipped ?? []) io.err(`Warning: not allowed to list ${what}; the checks that need them are skipped\n`);
  if (cluster?.missing.length) io.err(`Warning: the bundle holds no ${cluster.missing.join(', ')} (its bug-report did not collect them); the checks that need them are skipped\n`);
  // what the cluster showed of each part of the mesh: a part it could not show whole makes the input
  // partial there, whatever --partial says (bundles hold no Secrets: credentials are not judged)
  const read = cluster?.read;
  if (cluster) {
    // the files given explicitly win over what the cluster's istio ConfigMap says, as in istioctl
    const cm = resources.find((r) => r.kind === 'ConfigMap' && !r.group && r.name === 'istio' && r.namespace === ISTIO_NAMESPACE);
    const data = obj(cm?.object.data);
    if (cm && !opts.meshConfigFile && typeof data.mesh === 'string') mesh = meshSettings(parseYaml(data.mesh, `ConfigMap ${ISTIO_NAMESPACE}/istio data.mesh`));
    if (cm && !meshNetworks && typeof data.meshNetworks === 'string') {
      meshNetworks = meshNetworksResource(parseYaml(data.meshNetworks, `ConfigMap ${ISTIO_NAMESPACE}/istio data.meshNetworks`), undefined);
    }
  }
  const remoteClusters: RemoteCluster[] = [];
  for (const ctx of opts.remoteContexts ?? []) remoteClusters.push(await readRemoteContext(ctx, opts));
  for (const { name, paths } of remoteFiles) {
    const loaded = await new FileProvider(paths, opts.recursive).load();
    problems.push(...loaded.problems);
    applyDefaultNamespace(loaded.resources, defaultNs);
    remoteClusters.push({ name, services: loaded.resources.filter((r) => r.kind === 'Service' && !r.group) });
  }

  // against a cluster, report on the context's namespace as istioctl does (-A for all); files alone
  // are reported on whole unless -n narrows them
  const namespace = opts.allNamespaces ? undefined : cluster ? defaultNs : opts.namespace;
  const all = await analyzeResources(resources, {
    ...mesh, read, partial: opts.partial === true, revision: opts.revision, namespace, analyzers: opts.analyzer,
    meshNetworks, remoteClusters, clusterName: cluster?.contextName || 'local',
  });
  const kept = applySuppressions(all, suppressions);
  const shown = kept.filter((d) => atLeast(d, outputThreshold));

  for (const p of problems) io.err(`Error: ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}\n`);
  const useColour = opts.output === 'log' && io.colour !== false;
  // colourEnabled first: colours() loads chalk (~10 ms) even to say colour is off
  io.out(render(shown, opts.output, useColour && colourEnabled(process.stdout) ? colours(process.stdout) : undefined));

  const target = namespace ? `namespace: ${namespace}` : 'all namespaces';
  const failed = kept.some((d) => atLeast(d, failureThreshold));
  if (opts.output === 'log') {
    if (shown.length === 0 && problems.length === 0) io.err(`\u2714 No validation issues found when analyzing ${target}.\n`);
  }
  if (problems.length > 0) {
    io.err(`Error: ${problems.length} input problem${problems.length === 1 ? '' : 's'}; the findings above cover only the documents that could be read\n`);
    return 1;
  }
  if (failed) {
    io.err(`Error: Analyzers found issues when analyzing ${target}.\nSee https://istio.io/latest/docs/reference/config/analysis for more information about causes and resolutions.\n`);
    return EXIT_FINDINGS;
  }
  return 0;
}

function level(value: string, flag: string): Level {
  const l = parseLevel(value);
  if (!l) throw new UsageError(`invalid ${flag} "${value}": use Info, Warning or Error`);
  return l;
}

function listAnalyzers(): string {
  const lines = ['Available analyzers:'];
  for (const a of ANALYZERS) {
    lines.push(`* ${a.name} [${a.codes.join(', ')}]:`, `    ${a.description}`);
    if (a.optIn) lines.push(`    (not run by default: --analyzer ${a.name} runs it)`);
  }
  return lines.join('\n') + '\n';
}

type MeshSettings = Pick<SnapshotOptions, 'clusterDomain' | 'rootNamespace' | 'dnsAutoAllocate' | 'proxyImageType' | 'meshConfig'>;

function parseYaml(text: string, what: string): unknown {
  try {
    return yaml.load(text);
  } catch (err) {
    throw new MeshctlError(`${what}: not valid YAML: ${describeError(err)}`);
  }
}

/** Mesh settings analyze uses, from a MeshConfig file or the `istio` ConfigMap holding one under data.mesh. */
async function readMeshConfig(file: string): Promise<MeshSettings> {
  const input = await readInput(file);
  let doc: unknown;
  try {
    doc = yaml.load(input.text);
    if (isObject(doc) && doc.kind === 'ConfigMap' && typeof obj(doc.data).mesh === 'string') doc = yaml.load(str(obj(doc.data).mesh));
  } catch (err) {
    throw new MeshctlError(`${file}: not a valid mesh config: ${describeError(err)}`);
  }
  if (!isObject(doc)) throw new MeshctlError(`${file}: not a valid mesh config: expected a YAML mapping`);
  return meshSettings(doc);
}

function meshSettings(doc: unknown): MeshSettings {
  const d = obj(doc);
  const meta = obj(obj(d.defaultConfig).proxyMetadata);
  // istioctl's serviceentry.Analyzer: addresses are allocated only when DNS capture is on too
  const dnsCapture = str(meta.ISTIO_META_DNS_CAPTURE) === 'true';
  const allocate = str(meta.ISTIO_META_DNS_AUTO_ALLOCATE) === 'true' || str(meta.PILOT_ENABLE_IP_AUTOALLOCATE) === 'true';
  return {
    clusterDomain: str(d.clusterDomain) || undefined,
    rootNamespace: str(d.rootNamespace) || undefined,
    dnsAutoAllocate: dnsCapture && allocate,
    proxyImageType: str(obj(obj(d.defaultConfig).image).imageType) || undefined,
    meshConfig: d,
  };
}

/**
 * --meshNetworksFile: a MeshNetworks YAML (`networks: ...`), or the istio ConfigMap holding one under
 * data.meshNetworks; as istioctl, findings are about `MeshNetworks istio-system/meshnetworks`.
 */
async function readMeshNetworks(file: string): Promise<Resource> {
  const input = await readInput(file);
  let doc: unknown;
  let text = input.text;
  let textLine = 1;
  try {
    doc = yaml.load(text);
    if (isObject(doc) && doc.kind === 'ConfigMap') {
      const embedded = obj(doc.data).meshNetworks;
      if (typeof embedded !== 'string') throw new Error('the ConfigMap has no data.meshNetworks key');
      // a block scalar's text starts on the line after its key
      textLine = (locateField(text, ['data', 'meshNetworks']) ?? 0) + 2;
      text = embedded;
      doc = yaml.load(embedded);
    }
  } catch (err) {
    throw new MeshctlError(`${file}: not a valid mesh networks config: ${describeError(err)}`);
  }
  if (doc === undefined || doc === null) doc = {};
  if (!isObject(doc) || (doc.networks !== undefined && doc.networks !== null && !isObject(doc.networks))) {
    throw new MeshctlError(`${file}: not a valid mesh networks config: expected a mapping with a networks mapping`);
  }
  return meshNetworksResource(doc, { file: input.name, line: textLine, doc: 0, text, textLine });
}

function meshNetworksResource(doc: unknown, origin: Resource['origin']): Resource {
  const metadata = { name: 'meshnetworks', namespace: ISTIO_NAMESPACE };
  return {
    apiVersion: 'v1alpha1', kind: 'MeshNetworks', group: '', version: 'v1alpha1', name: metadata.name, namespace: metadata.namespace,
    metadata, object: obj(doc), origin,
  };
}

/** `--remote-files east=manifests/east/`: the cluster's name and where its manifests are. */
function parseRemoteFiles(spec: string): { name: string; paths: string[] } {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`invalid --remote-files "${spec}": use CLUSTER=PATH, e.g. east=manifests/east/`);
  return { name: spec.slice(0, eq), paths: [spec.slice(eq + 1)] };
}

/** The Services of another cluster of the mesh, read through its kubeconfig context. */
async function readRemoteContext(context: string, opts: AnalyzeCommandOptions): Promise<RemoteCluster> {
  const { ClusterProvider } = await import('../analyze/cluster.js');
  const remote = new ClusterProvider({ kubeconfig: opts.kubeconfig, context, timeout: opts.timeout ?? '30s', servicesOnly: true });
  try {
    const loaded = await remote.load();
    return { name: context, services: loaded.resources };
  } catch (err) {
    if (!(err instanceof MeshctlError)) throw err;
    throw new MeshctlError(`cannot read remote context ${context}: ${err.message}`, err.exitCode);
  }
}
