import { DamagedBundleError, MeshctlError, UsageError } from '../errors.js';
import { colours } from '../output/colour.js';
import { renderData, type DataFormat } from '../output/format.js';
import { writeStdout } from '../output/write.js';
import { fileAdminSource, type EnvoyAdminSource } from '../source/envoy-admin.js';
import { readInput } from '../source/file.js';
import type { LoadedRules } from '../iptables/source.js';
import { parseDocument } from '../source/parse.js';
import type { KubeOptions } from '../kube/options.js';
import { sourceIdentity, type IdentityFlags } from './identity.js';
import { parseClustersStatus, parseConfigDump, type ClustersStatus } from '../envoy/index.js';
import { worldFromConfigDump } from '../trace/dump-world.js';
import { renderTrace } from '../trace/render.js';
import type { DynamicMetadata } from '../trace/request.js';
import { TraceInputError, traceRequest, type IptablesOutcome, type TraceOutput, type TraceRequest } from '../trace/trace.js';

export interface TraceOptions extends Partial<KubeOptions> {
  file?: string;
  /** A bug-report bundle read as the cluster (the pod's dumps and rules as captured). */
  bundle?: string;
  pod?: string;
  target: string;
  clusters?: string;
  iptables?: string;
  method?: string;
  header?: string[];
  sni?: string;
  alpn?: string;
  direction?: 'outbound' | 'inbound';
  src?: string;
  dstIp?: string;
  random?: number;
  allCandidates?: boolean;
  plaintext?: boolean;
  /** `filter.key=value`, repeatable: the stream's dynamic metadata when the router runs. */
  metadata?: string[];
  output: 'short' | DataFormat | 'dot' | 'mermaid';
  proxyAdminPort?: number;
  identity?: IdentityFlags;
  /** Ambient (src/commands/trace-ambient.ts): the client node's ztunnel dump, other nodes', waypoints' Envoy dumps. */
  ztunnelFile?: string;
  dstZtunnelFile?: string[];
  waypointFile?: string[];
  /** Ambient, offline: Kubernetes resources that say why waypoints are bound. */
  files?: string[];
}

/** `-H 'name: value'` as curl takes it. */
export function parseHeader(h: string): [string, string] {
  const i = h.indexOf(':', h.startsWith(':') ? 1 : 0);
  if (i <= 0) throw new UsageError(`header ${JSON.stringify(h)} is not "name: value"`);
  const name = h.slice(0, i).trim();
  if (!/^:?[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`header name ${JSON.stringify(name)} is not a valid HTTP header name`);
  return [name, h.slice(i + 1).trim()];
}

/**
 * `--metadata filter.key=value` into dynamic metadata by filter. Filter names have dots of their own
 * (`envoy.lb`, `envoy.filters.http.lua`): the key is the part after the last dot before `=`. The value is
 * JSON when it parses (`true`, `7`, `{"a":1}` for nested paths), else the text itself.
 */
export function parseMetadata(items: string[]): DynamicMetadata {
  const out: DynamicMetadata = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const dot = eq === -1 ? -1 : item.lastIndexOf('.', eq);
    if (eq === -1 || dot <= 0 || dot === eq - 1) throw new UsageError(`--metadata ${JSON.stringify(item)} is not filter.key=value (e.g. envoy.lb.canary=true)`);
    const text = item.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    (out[item.slice(0, dot)] ??= {})[item.slice(dot + 1, eq)] = value;
  }
  return out;
}

/** Source → model → simulate → render. */
export async function traceCommand(o: TraceOptions): Promise<void> {
  if (o.ztunnelFile !== undefined || o.dstZtunnelFile?.length || o.waypointFile?.length || o.files?.length) {
    const { ambientTraceOffline } = await import('./trace-ambient.js');
    const { out, name } = await ambientTraceOffline(o);
    return emitTrace(o, out, name);
  }
  const headers = (o.header ?? []).map(parseHeader);
  const request: TraceRequest = {
    target: o.target,
    method: o.method,
    headers,
    sni: o.sni,
    alpn: o.alpn ? o.alpn.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    direction: o.direction,
    srcIp: o.src,
    dstIp: o.dstIp,
    random: o.random,
    allCandidates: o.allCandidates,
    plaintext: o.plaintext,
    ...(o.metadata?.length ? { metadata: parseMetadata(o.metadata) } : {}),
  };
  request.identity = await sourceIdentity(o.identity ?? {}, o, o.src);
  if (request.identity.ip && request.srcIp === undefined) request.srcIp = request.identity.ip;

  if (o.bundle !== undefined && o.file) throw new UsageError('give either --bundle (with a pod) or -f FILE, not both');
  let source: EnvoyAdminSource;
  let podRules: (() => Promise<LoadedRules>) | undefined;
  if (o.file) source = fileAdminSource(o.file);
  else if (o.pod) {
    const opened = await openPod(o.pod, o);
    if ('ambient' in opened) return emitTrace(o, opened.ambient.out, opened.ambient.name);
    ({ source, rules: podRules } = opened);
  } else throw new UsageError('give a pod, or -f with a saved config dump');

  let dumpJson: unknown;
  let clustersJson: unknown;
  let rules: LoadedRules | MeshctlError | undefined;
  try {
    const dumpText = await source.get('/config_dump?include_eds');
    dumpJson = parseDocument(dumpText);
    if (o.clusters) clustersJson = parseDocument(await readInput(o.clusters));
    else if (!source.offline) clustersJson = parseDocument(await source.get('/clusters?format=json'));
    // the pod's rules through the same cluster (or bundle), before it is closed
    if (podRules && !o.iptables) rules = await podRules().catch((err: unknown) => (err instanceof MeshctlError && !(err instanceof DamagedBundleError) ? err : Promise.reject(err)));
  } finally {
    await source.close();
  }
  const dump = parseConfigDump(dumpJson, source.name);
  for (const p of dump.problems) process.stderr.write(`Warning: ${source.name}: skipped ${p.what}: ${p.reason}\n`);
  let status: ClustersStatus | undefined;
  if (clustersJson !== undefined) status = parseClustersStatus(clustersJson, o.clusters ?? `${source.name} /clusters`);
  const world = worldFromConfigDump(dump, status);
  request.iptables = await iptablesTracer(o, request, rules);

  let out;
  try {
    out = traceRequest(world, request);
  } catch (err) {
    if (err instanceof TraceInputError) throw new UsageError(err.message);
    throw err;
  }
  return emitTrace(o, out, source.name);
}

/** The trace in the asked format. */
async function emitTrace(o: TraceOptions, out: TraceOutput, sourceName: string): Promise<void> {
  const source = { name: sourceName };
  if (o.output === 'short') writeStdout(renderTrace(out, colours(), source.name));
  else if (o.output === 'dot' || o.output === 'mermaid') {
    const [{ ambientTraceGraph }, { renderDot }, { renderMermaid }] = await Promise.all([
      import('../diagram/ambient-graph.js'),
      import('../diagram/dot.js'),
      import('../diagram/mermaid.js'),
    ]);
    // an ambient trace's hops around the waypoint's Envoy path; a sidecar's path as before
    const graph = ambientTraceGraph(out, source.name);
    writeStdout(o.output === 'dot' ? renderDot(graph) : renderMermaid(graph));
  } else {
    // JSON round trip: drops undefined fields, which YAML would refuse; `result` comes last, as documented.
    const data = JSON.parse(JSON.stringify({ request: out.request, steps: out.steps, result: out.result }));
    writeStdout(renderData(data, o.output));
  }
}

/**
 * A pod of the live cluster, or of the --bundle: its Envoy admin API, and a reader of its iptables rules
 * through the same cluster (closed with the admin source).
 */
async function openPod(
  podRef: string,
  o: TraceOptions,
): Promise<{ source: EnvoyAdminSource; rules: () => Promise<LoadedRules> } | { ambient: { out: TraceOutput; name: string } }> {
  const [{ openCluster }, { adminSourceFor }, { podRules }, { resolvePod }] = await Promise.all([
    import('../kube/open.js'),
    import('../kube/admin-source.js'),
    import('../iptables/source.js'),
    import('../kube/pods.js'),
  ]);
  const cluster = await openCluster({ istioNamespace: 'istio-system', timeout: '30s', ...o });
  try {
    // A pod without a sidecar is traced the ambient way: through its node's ztunnel (src/commands/trace-ambient.ts).
    const pod = await resolvePod(cluster, podRef);
    const ambient = await import('./trace-ambient.js');
    if (ambient.isAmbientCandidate(pod)) {
      const r = await ambient.ambientTraceLive(o, cluster, pod);
      cluster.close();
      return { ambient: r };
    }
    const source = await adminSourceFor(cluster, podRef, o.proxyAdminPort ?? 15000, true);
    return { source, rules: () => podRules(cluster, source.pod) };
  } catch (err) {
    cluster.close();
    throw err;
  }
}

/**
 * With --iptables FILE (or, for a pod, its live rules when they can be read) the packet goes through
 * those rules (src/iptables' pure trace). Live rules that cannot be read leave Istio's capture assumed.
 */
async function iptablesTracer(o: TraceOptions, request: TraceRequest, podRules: LoadedRules | MeshctlError | undefined): Promise<TraceRequest['iptables']> {
  if (!o.iptables && !podRules) return undefined;
  const [{ fileSource }, { parseIptables }, { traceIptables }] = await Promise.all([
    import('../iptables/source.js'),
    import('../iptables/parse.js'),
    import('../iptables/trace.js'),
  ]);
  let loaded: LoadedRules;
  if (o.iptables) loaded = await fileSource(o.iptables).load();
  else if (podRules instanceof MeshctlError) {
    request.iptablesNote = `live iptables rules unavailable (${podRules.message})`;
    return undefined;
  } else loaded = podRules!;
  const rules = parseIptables(loaded.text, loaded.name);
  for (const w of rules.warnings) process.stderr.write(`Warning: ${w}\n`);
  return (p): IptablesOutcome => {
    let r;
    try {
      r = traceIptables(rules, { direction: p.direction, protocol: 'tcp', dst: p.dst, dport: p.dport, src: p.src, podIp: p.direction === 'inbound' ? p.dst : p.src });
    } catch (err) {
      throw new MeshctlError(`${loaded.name}: ${(err as Error).message}`);
    }
    const v = r.verdict;
    return {
      target: v.target,
      toPort: v.toPort,
      summary: v.summary,
      uncertain: v.uncertain,
      reasons: v.reasons,
      trail: r.steps.filter((s) => s.matched === true && s.action).map((s) => `${s.table}/${s.chain}${s.index !== null ? ` #${s.index}` : ''}: ${s.rule} → ${s.action}`),
      source: loaded.description,
    };
  };
}
