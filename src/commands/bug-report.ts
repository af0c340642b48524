/** `meshctl bug-report`: the live cluster → a bundle that every --bundle command reads as that cluster. */
import { fstatSync, statSync } from 'node:fs';
import { Collector } from '../bugreport/collect.js';
import { DEFAULT_MAX_NAMESPACES } from '../bugreport/limits.js';
import { MeshctlError, UsageError } from '../errors.js';
import { resourceName } from '../kube/cluster.js';
import { connect } from '../kube/client.js';
import { parseDuration } from '../kube/duration.js';
import { liveCluster } from '../kube/live-cluster.js';
import { parseLabelSelector } from '../kube/selector.js';
import { startProgress } from '../output/progress.js';
import { FORMAT, FORMAT_VERSION, type PerNamespace } from '../source/bundle/format.js';
import { BundleWriter } from '../source/bundle/writer.js';
import { VERSION } from '../version.js';

export interface BugReportOptions {
  output?: string;
  namespace?: string[];
  allNamespaces?: boolean;
  selector?: string;
  includeIstiod?: boolean;
  includeZtunnel?: boolean;
  /** The whole collection's time limit (a duration). */
  timeout: string;
  /** Each request's timeout (a duration). */
  requestTimeout: string;
  maxSize?: string;
  concurrency: string;
  /** With -A, the most namespaces listed one by one for a kind refused across all namespaces. */
  maxNamespaces?: string;
  kubeconfig?: string;
  context?: string;
  istioNamespace: string;
  revision?: string;
  proxyAdminPort?: number;
  /** Where the summary and warnings go (tests). */
  out?: (line: string) => void;
  err?: NodeJS.WriteStream;
  /** Resolves when the user interrupts (default: SIGINT); a second interrupt aborts. */
  interrupts?: { on(fn: () => void): void; off(): void };
}

export async function bugReport(opts: BugReportOptions): Promise<void> {
  const output = opts.output;
  if (!output) throw new UsageError('bug-report needs -o FILE (e.g. -o bundle.tar.gz)');
  if (output === '-') throw new UsageError('-o -: a bundle is written to a file (atomically), not to stdout');
  if (opts.allNamespaces && opts.namespace?.length) throw new UsageError('give either -A or -n, not both');
  if (opts.selector) parseLabelSelector(opts.selector);
  const limitMs = parseDuration(opts.timeout, '--timeout');
  parseDuration(opts.requestTimeout, '--request-timeout');
  const maxBytes = opts.maxSize !== undefined ? parseSize(opts.maxSize) : undefined;
  const concurrency = Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency: "${opts.concurrency}" is not a number from 1 to 64`);
  const maxNamespaces = opts.maxNamespaces === undefined ? DEFAULT_MAX_NAMESPACES : Number(opts.maxNamespaces);
  if (!Number.isInteger(maxNamespaces) || maxNamespaces < 1) throw new UsageError(`--max-namespaces: "${opts.maxNamespaces}" is not a whole number of at least 1`);
  try {
    if (statSync(output).isDirectory()) throw new UsageError(`-o ${output}: is a directory; give a file name such as bundle.tar.gz`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
  }
  const out = opts.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const errStream = opts.err ?? process.stderr;

  const kube = await connect({ kubeconfig: opts.kubeconfig, context: opts.context, istioNamespace: opts.istioNamespace, revision: opts.revision, timeout: opts.requestTimeout });
  const live = liveCluster(kube);
  const namespaces: string[] | 'all' = opts.allNamespaces ? 'all' : opts.namespace?.length ? [...new Set(opts.namespace)] : [kube.namespace];
  const started = new Date();
  const writer = await BundleWriter.create(output, started);
  // a log file gets a line per tenth of each phase; a pipe gets nothing (another program reads it)
  const plain = isFile(errStream) ? 'lines' : 'quiet';
  const collector = new Collector(live, writer, {
    namespaces,
    labelSelector: opts.selector,
    includeIstiod: opts.includeIstiod !== false,
    includeZtunnel: opts.includeZtunnel !== false,
    concurrency,
    maxBytes,
    maxNamespaces,
    proxyAdminPort: opts.proxyAdminPort,
    progress: (label, total) => startProgress(`bug-report: ${label}`, total, { stream: errStream, plain }),
  });

  // the time limit and Ctrl-C end collection the same way: what is in flight is cut, the bundle written
  let interrupted = 0;
  const stopNow = (reason: string) => {
    collector.stop(reason);
    live.close();
  };
  const timer = setTimeout(() => stopNow(`the time limit (--timeout ${opts.timeout}) was reached`), limitMs);
  const interrupts = opts.interrupts ?? signalInterrupts();
  const aborted = new Promise<'aborted'>((resolve) => {
    interrupts.on(() => {
      interrupted++;
      if (interrupted === 1) {
        errStream.write('\nbug-report: interrupted; writing what was collected (Ctrl-C again to abort)\n');
        stopNow('interrupted (Ctrl-C)');
      } else resolve('aborted');
    });
  });
  try {
    const result = await Promise.race([collector.run(), aborted]);
    if (result === 'aborted') {
      await writer.abort();
      throw new MeshctlError('bug-report aborted; no bundle written', 130);
    }
    const succeeded = result.resources.some((r) => !r.error) || result.calls.some((c) => !c.error);
    if (!succeeded) {
      await writer.abort();
      const first = result.failures[0]?.reason ?? result.resources.find((r) => r.error)?.error?.message ?? 'no reason given';
      throw new MeshctlError(`nothing could be collected, no bundle written: ${first}`);
    }
    const finished = new Date();
    await writer.finish({
      format: FORMAT,
      version: FORMAT_VERSION,
      meshctl: VERSION,
      started: started.toISOString(),
      finished: finished.toISOString(),
      cluster: { context: kube.contextName, server: kube.server, namespace: kube.namespace, istioNamespace: kube.istioNamespace, ...(kube.revision ? { revision: kube.revision } : {}) },
      request: {
        namespaces,
        ...(opts.selector ? { labelSelector: opts.selector } : {}),
        includeIstiod: opts.includeIstiod !== false,
        includeZtunnel: opts.includeZtunnel !== false,
        timeout: opts.timeout,
        ...(maxBytes !== undefined ? { maxSize: maxBytes } : {}),
        requestTimeout: opts.requestTimeout,
        concurrency,
      },
      complete: !result.stopped && result.failures.length === 0 && result.pods.skipped.length === 0,
      ...(result.stopped ? { stopped: result.stopped } : {}),
      pods: result.pods,
      resources: result.resources,
      ...(result.perNamespace.length ? { perNamespace: result.perNamespace } : {}),
      calls: result.calls,
      failures: result.failures,
    });
    const p = result.pods;
    const lists = result.resources.filter((r) => !r.error).length;
    out(
      `wrote ${output} (${size(writer.bytes)}): ${p.proxies.length} prox${p.proxies.length === 1 ? 'y' : 'ies'}, ${p.istiods.length} istiod, ${p.ztunnels.length} ztunnel, ${lists} resource lists in ${((finished.getTime() - started.getTime()) / 1000).toFixed(1)} s`,
    );
    for (const line of perNamespaceLines(result.perNamespace)) out(line);
    if (result.stopped) errStream.write(`warning: collection stopped early: ${result.stopped}; the bundle is partial (index.json lists what is missing)\n`);
    const skipped = p.skipped.length;
    if (result.failures.length || skipped) {
      const first = result.failures[0] ?? p.skipped[0];
      errStream.write(
        `warning: ${result.failures.length} failure${result.failures.length === 1 ? '' : 's'}, ${skipped} pod${skipped === 1 ? '' : 's'} skipped (first: ${first.what}: ${first.reason}); see index.json in the bundle\n`,
      );
    }
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    clearTimeout(timer);
    interrupts.off();
    live.close();
  }
}

/**
 * What was listed namespace by namespace because its list across all namespaces was refused, one line per
 * outcome (kinds with the same namespaces asked, refused and cut share a line).
 */
export function perNamespaceLines(notes: PerNamespace[]): string[] {
  const groups = new Map<string, { kinds: string[]; note: PerNamespace }>();
  for (const n of notes) {
    const key = JSON.stringify([n.namespaces, n.of, n.refused, n.cut]);
    const g = groups.get(key) ?? { kinds: [], note: n };
    g.kinds.push(resourceName(n));
    groups.set(key, g);
  }
  return [...groups.values()].map(({ kinds, note: n }) =>
    `${kinds.join(', ')}: refused across all namespaces, listed namespace by namespace: ${n.namespaces} of ${n.of} namespace${n.of === 1 ? '' : 's'}`
    + `${n.refused.length ? ` (refused in ${n.refused.join(', ')})` : ''}${n.cut ? `; ${n.cut}` : ''}`);
}

function signalInterrupts(): { on(fn: () => void): void; off(): void } {
  let handler: (() => void) | undefined;
  return {
    on(fn) {
      handler = fn;
      process.on('SIGINT', fn);
      process.on('SIGTERM', fn);
    },
    off() {
      if (!handler) return;
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, ki: 1024, kib: 1024, mi: 1048576, mib: 1048576, gi: 1073741824, gib: 1073741824 };

/** `500MB`, `1GiB`, `200M`, `1048576` → bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`--max-size: "${text}" is not a size (use e.g. 500MB, 2GiB, 100M)`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 16 * 1024) throw new UsageError(`--max-size: ${text} is too small for a bundle (at least 16KiB)`);
  return bytes;
}

function size(bytes: number): string {
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

/** stderr redirected to a regular file (a CI log), as opposed to a terminal or a pipe. */
function isFile(stream: NodeJS.WriteStream): boolean {
  const fd = (stream as { fd?: unknown }).fd;
  if (stream.isTTY || typeof fd !== 'number') return false;
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}
