import { MeshctlError, UsageError } from '../errors.js';
import { colours } from '../output/colour.js';
import { renderData, type DataFormat } from '../output/format.js';
import { writeStdout } from '../output/write.js';
import { fileAdminSource, type EnvoyAdminSource } from '../source/envoy-admin.js';
import { readInput } from '../source/file.js';
import { parseDocument } from '../source/parse.js';
import type { KubeOptions } from '../cli/kube-options.js';
import { worldFromConfigDump } from '../trace/dump-world.js';
import { renderTrace } from '../trace/render.js';
import { TraceInputError, traceRequest, type TraceRequest } from '../trace/trace.js';

export interface TraceOptions extends Partial<KubeOptions> {
  file?: string;
  pod?: string;
  target: string;
  clusters?: string;
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
  output: 'short' | DataFormat;
  proxyAdminPort?: number;
}

/** `-H 'name: value'` as curl takes it. */
export function parseHeader(h: string): [string, string] {
  const i = h.indexOf(':', h.startsWith(':') ? 1 : 0);
  if (i <= 0) throw new UsageError(`header ${JSON.stringify(h)} is not "name: value"`);
  const name = h.slice(0, i).trim();
  if (!/^:?[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`header name ${JSON.stringify(name)} is not a valid HTTP header name`);
  return [name, h.slice(i + 1).trim()];
}

/** Source → model → simulate → render. */
export async function traceCommand(o: TraceOptions): Promise<void> {
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
  };

  let source: EnvoyAdminSource;
  if (o.file) source = fileAdminSource(o.file);
  else if (o.pod) {
    const { openAdminSource } = await import('../kube/admin-source.js');
    source = await openAdminSource(o.pod, { ...(o as KubeOptions), proxyAdminPort: o.proxyAdminPort });
  } else throw new UsageError('give a pod, or -f with a saved config dump');

  let dumpJson: unknown;
  let clustersJson: unknown;
  try {
    const dumpText = await source.get('/config_dump?include_eds');
    dumpJson = parseDocument(dumpText);
    if (o.clusters) clustersJson = parseDocument(await readInput(o.clusters));
    else if (!source.offline) clustersJson = parseDocument(await source.get('/clusters?format=json'));
  } finally {
    await source.close();
  }
  if (!isConfigDump(dumpJson)) {
    throw new MeshctlError(`${source.name}: not an Envoy config dump (expected an object with a "configs" list, as /config_dump returns)`);
  }
  if (clustersJson !== undefined && !isClustersStatus(clustersJson)) {
    throw new MeshctlError(`${o.clusters ?? `${source.name} /clusters`}: not /clusters?format=json output (expected "cluster_statuses")`);
  }
  const world = worldFromConfigDump(dumpJson, source.name, clustersJson);

  let out;
  try {
    out = traceRequest(world, request);
  } catch (err) {
    if (err instanceof TraceInputError) throw new UsageError(err.message);
    throw err;
  }
  if (o.output === 'short') writeStdout(renderTrace(out, colours(), source.name));
  else writeStdout(renderData({ steps: out.steps, result: out.result, request: out.request }, o.output));
}

function isConfigDump(v: unknown): v is { configs: unknown[] } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { configs?: unknown }).configs);
}

function isClustersStatus(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Array.isArray((v as { cluster_statuses?: unknown }).cluster_statuses);
}
