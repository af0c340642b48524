import path from 'node:path';
import http from 'node:http';
import type net from 'node:net';
import type { KubeOptions } from '../kube/options.js';
import { MeshctlError, UsageError } from '../errors.js';
import { askAllIstiods, warnFailures } from '../istiod/discover.js';
import { REGISTRY_HEADERS, mergeRegistries, parseRegistryz, registryRows } from '../istiod/registry.js';
import { connect } from '../kube/client.js';
import type { ClusterSource } from '../kube/cluster.js';
import { type ClusterOptions, openCluster } from '../kube/open.js';
import { resolvePod } from '../kube/pods.js';
import { forwardLocalPort, openTunnel } from '../kube/portforward.js';
import { DEFAULT_PROXY_ADMIN_PORT } from '../kube/admin-source.js';
import { renderData } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { readInput } from '../source/file.js';
import { parseDocument } from '../source/parse.js';

export interface IstiodOptions extends ClusterOptions {
  /** Saved answers, one file per istiod replica. */
  file?: string[];
  output?: 'short' | 'json' | 'yaml';
}

export interface Answer {
  /** The istiod pod, or the file for saved answers. */
  istiod: string;
  text: string;
  name: string;
}

/** One debug endpoint from every replica (live or a bundle) or from saved files; missing replicas are warned about. */
export async function istiodAnswers(debugPath: string, opts: IstiodOptions, cluster?: ClusterSource): Promise<Answer[]> {
  if (opts.file && opts.file.length > 0) {
    if (opts.bundle !== undefined) throw new UsageError('give either --bundle or -f, not both');
    const answers: Answer[] = [];
    for (const f of opts.file) {
      const input = await readInput(f);
      answers.push({ istiod: f === '-' ? 'stdin' : path.basename(f).replace(/\.(json|ya?ml)$/, ''), text: input.text, name: input.name });
    }
    return answers;
  }
  const own = cluster ?? (await openCluster(opts));
  try {
    const { answers, failures } = await askAllIstiods(own, debugPath);
    warnFailures(failures);
    return answers.map((a) => ({ ...a, name: `istiod ${a.istiod} ${debugPath}` }));
  } finally {
    if (!cluster) own.close();
  }
}

export async function istiodRegistry(opts: IstiodOptions): Promise<string> {
  const answers = await istiodAnswers('/debug/registryz', opts);
  let services = mergeRegistries(answers.map((a) => parseRegistryz({ name: a.name, text: a.text })));
  if (opts.namespace) services = services.filter((s) => s.Attributes?.Namespace === opts.namespace);
  if (opts.output === 'json' || opts.output === 'yaml') return renderData(services, opts.output);
  return renderTable(REGISTRY_HEADERS, registryRows(services));
}

const KNOWN = ['registryz', 'syncz', 'configz', 'endpointz', 'adsz'];

/** `syncz`, `debug/syncz`, `/debug/syncz?namespace=x` → `/debug/syncz?namespace=x`. */
export function debugPath(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/^\/+/, '').replace(/^debug\//, '');
  if (trimmed === '' || /[\s#]/.test(trimmed)) {
    throw new UsageError(`"${endpoint}" is not an istiod debug endpoint (e.g. ${KNOWN.join(', ')})`);
  }
  return `/debug/${trimmed}`;
}

export async function istiodDebug(endpoint: string, opts: IstiodOptions & { istiod?: string }): Promise<string> {
  const p = debugPath(endpoint);
  let answers = await istiodAnswers(p, opts);
  if (opts.istiod) {
    answers = answers.filter((a) => a.istiod === opts.istiod);
    if (answers.length === 0) throw new MeshctlError(`no answer from an istiod named ${opts.istiod}`);
  }
  const parse = (a: Answer): unknown => {
    try {
      return parseDocument({ name: a.name, text: a.text });
    } catch {
      return a.text;
    }
  };
  if (answers.length === 1) {
    if (opts.output === 'yaml' || opts.output === 'json') return renderData(parse(answers[0]), opts.output);
    const text = answers[0].text;
    return text.endsWith('\n') ? text : text + '\n';
  }
  // several replicas: one document keyed by replica, as istioctl's internal-debug --all does
  const merged: Record<string, unknown> = {};
  for (const a of answers) merged[a.istiod] = parse(a);
  return renderData(merged, opts.output === 'yaml' ? 'yaml' : 'json');
}

export interface DashboardOptions extends Partial<KubeOptions> {
  file?: string;
  port?: number;
  proxyAdminPort?: number;
  /** Where to print the URL (tests read it from stdout). */
  out?: (line: string) => void;
  /** Resolves when the dashboard should stop (default: SIGINT or SIGTERM). */
  until?: Promise<void>;
}

/** Holds a local port-forward to the pod's Envoy admin UI (or serves a saved dump) until interrupted. */
export async function dashboardEnvoy(podRef: string | undefined, opts: DashboardOptions): Promise<void> {
  const out = opts.out ?? ((line: string) => process.stdout.write(line + '\n'));
  if (opts.file) {
    if (podRef) throw new UsageError('give either a pod or --file, not both');
    const input = await readInput(opts.file);
    const server = await serveSaved(input.text, opts.port ?? 0);
    out(`http://localhost:${(server.address() as net.AddressInfo).port}  (serving ${input.name} as /config_dump; Ctrl-C to stop)`);
    await (opts.until ?? untilSignal());
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return;
  }
  if (!podRef) throw new UsageError('name a pod (name[.namespace] or deployment/name), or give --file');
  const kube = await connect(opts);
  try {
    const pod = await resolvePod(kube, podRef);
    const adminPort = opts.proxyAdminPort ?? DEFAULT_PROXY_ADMIN_PORT;
    // one forward up front, so that RBAC or a closed port fails now rather than on each browser request
    const probe = await openTunnel(kube, pod, adminPort);
    probe.destroy();
    const forward = await forwardLocalPort(kube, pod, adminPort, opts.port ?? 0, (err) =>
      process.stderr.write(`warning: ${err instanceof Error ? err.message : String(err)}\n`),
    );
    out(`http://localhost:${forward.port}  (Envoy admin of pod ${pod.name}.${pod.namespace}; Ctrl-C to stop)`);
    await (opts.until ?? untilSignal());
    await forward.close();
  } finally {
    kube.close();
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function serveSaved(text: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/config_dump') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    } else if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body><h1>meshctl: saved Envoy admin</h1><a href="/config_dump">/config_dump</a></body></html>\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not in the saved file: ${url.pathname}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new MeshctlError(`cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`)));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
