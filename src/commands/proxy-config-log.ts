import type { KubeOptions } from '../kube/options.js';
import { MeshctlError, UsageError } from '../errors.js';
import { PROXY_CONTAINER, openLiveAdmin } from '../kube/admin-source.js';
import { connect } from '../kube/client.js';
import { fanout, stderrProgress } from '../kube/fanout.js';
import { listPods, podReady } from '../kube/pods.js';
import { renderData } from '../output/format.js';
import { readInput } from '../source/file.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;

export interface LogOptions extends Partial<KubeOptions> {
  file?: string;
  level?: string;
  reset?: boolean;
  /** Every ready sidecar pod with these labels (in -n's namespace), instead of one pod. */
  selector?: string;
  output?: 'short' | 'json' | 'yaml';
  proxyAdminPort?: number;
}

export interface LevelChange {
  /** Absent for the level of every logger. */
  logger?: string;
  level: string;
}

/** istioctl's `--level`: `<level>` and/or `<logger>:<level>`, comma-separated. */
export function parseLevels(spec: string): LevelChange[] {
  const changes: LevelChange[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [logger, level] = part.includes(':') ? part.split(':', 2) : [undefined, part];
    const lvl = level === 'warn' ? 'warning' : level;
    if (!(LOG_LEVELS as readonly string[]).includes(lvl)) {
      throw new UsageError(`--level: unknown level "${level}" in "${part}" (levels: ${LOG_LEVELS.join(', ')})`);
    }
    if (logger === '') throw new UsageError(`--level: empty logger name in "${part}"`);
    if (logger === undefined && changes.some((c) => c.logger === undefined)) {
      throw new UsageError('--level: give at most one level for all loggers');
    }
    changes.push({ logger, level: lvl });
  }
  if (changes.length === 0) throw new UsageError('--level: expected <level> or <logger>:<level>[,...]');
  return changes;
}

/** Envoy's `/logging` answer (`active loggers:` then `  name: level` lines) as a map. */
export function parseLoggers(text: string, name: string): Record<string, string> {
  const loggers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s+([\w.-]+):\s*(\w+)\s*$/.exec(line);
    if (m) loggers[m[1]] = m[2];
  }
  if (Object.keys(loggers).length === 0) throw new MeshctlError(`${name}: not an Envoy /logging answer (no "name: level" lines)`);
  return loggers;
}

/** Reads, and with --level or --reset sets, an Envoy's log levels (POST /logging, as Envoy requires). */
export async function proxyConfigLog(podRef: string | undefined, opts: LogOptions): Promise<string> {
  const changes = opts.reset ? [{ level: 'warning' }] : opts.level !== undefined ? parseLevels(opts.level) : [];
  if (opts.file) {
    if (podRef || opts.selector) throw new UsageError('give either a pod, -l or --file, not two of them');
    if (changes.length > 0) throw new UsageError('--level and --reset change a running Envoy; they cannot apply to a saved file');
    const input = await readInput(opts.file);
    return render(input.text, input.name, opts);
  }
  if (opts.selector !== undefined) {
    if (podRef) throw new UsageError('give either a pod or -l, not both');
    return forSelector(opts.selector, changes, opts);
  }
  if (!podRef) throw new UsageError('name a pod (name[.namespace] or deployment/name), or give -l or --file');
  const answer = await onePod(podRef, changes, opts);
  return render(answer.text, answer.name, opts);
}

function render(text: string, name: string, opts: LogOptions): string {
  const loggers = parseLoggers(text, name);
  if (opts.output === 'json' || opts.output === 'yaml') return renderData(loggers, opts.output);
  return text.endsWith('\n') ? text : text + '\n';
}

async function onePod(podRef: string, changes: LevelChange[], opts: LogOptions): Promise<{ pod: string; text: string; name: string }> {
  const admin = await openLiveAdmin(podRef, { istioNamespace: 'istio-system', timeout: '30s', ...opts });
  try {
    let answer = await admin.request('POST', '/logging');
    const known = parseLoggers(answer.text, answer.name);
    const unknown = changes.filter((c) => c.logger !== undefined && !(c.logger in known)).map((c) => c.logger);
    if (unknown.length > 0) {
      throw new MeshctlError(`Envoy of pod ${admin.name} has no logger ${unknown.join(', ')} (loggers: ${Object.keys(known).join(', ')})`);
    }
    // the level for all loggers first, so that per-logger levels given with it win
    for (const c of [...changes].sort((a, b) => Number(a.logger !== undefined) - Number(b.logger !== undefined))) {
      const query = c.logger === undefined ? `level=${c.level}` : `${encodeURIComponent(c.logger)}=${c.level}`;
      answer = await admin.request('POST', `/logging?${query}`);
    }
    return { pod: admin.name, ...answer };
  } finally {
    await admin.close();
  }
}

/** istioctl's `-l`: the same reading or change on every ready sidecar pod that matches, a few at a time. */
async function forSelector(selector: string, changes: LevelChange[], opts: LogOptions): Promise<string> {
  const kube = await connect(opts);
  let pods: string[];
  try {
    const found = await listPods(kube, kube.namespace, selector);
    pods = found
      .filter((p) => podReady(p) && (p.spec?.containers ?? []).concat(p.spec?.initContainers ?? []).some((c) => c.name === PROXY_CONTAINER))
      .map((p) => `${p.metadata!.name}.${kube.namespace}`)
      .sort();
    if (pods.length === 0) {
      throw new MeshctlError(`no ready pod with an ${PROXY_CONTAINER} container matches -l ${selector} in namespace ${kube.namespace} (${found.length} pod${found.length === 1 ? '' : 's'} matched)`);
    }
  } finally {
    kube.close();
  }
  const results = await fanout(pods, (pod) => onePod(pod, changes, opts), { limit: 8, onProgress: stderrProgress('setting log levels') });
  const failed = results.flatMap((r, i) => (r.ok ? [] : [`${pods[i]}: ${(r.error as Error).message ?? String(r.error)}`]));
  if (failed.length === pods.length) throw new MeshctlError(`no pod answered: ${failed.join('; ')}`);
  for (const f of failed) process.stderr.write(`warning: ${f}\n`);
  const ok = results.flatMap((r) => (r.ok ? [r.value] : []));
  if (opts.output === 'json' || opts.output === 'yaml') {
    return renderData(Object.fromEntries(ok.map((a) => [a.pod, parseLoggers(a.text, a.name)])), opts.output);
  }
  return ok.map((a) => `${a.pod}:\n${a.text.endsWith('\n') ? a.text : a.text + '\n'}`).join('');
}
