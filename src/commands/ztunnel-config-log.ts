import type { KubeOptions } from '../kube/options.js';
import { MeshctlError, UsageError } from '../errors.js';
import { openLiveAdmin } from '../kube/admin-source.js';
import { connect } from '../kube/client.js';
import { fanout, stderrProgress } from '../kube/fanout.js';
import { podReady } from '../kube/pods.js';
import { ZTUNNEL_ADMIN, listZtunnelPods, resolveZtunnelTarget } from '../kube/ztunnel.js';
import { renderData } from '../output/format.js';
import { readInput } from '../source/file.js';

/**
 * ztunnel's log levels (POST /logging, src/admin.rs): read them, set them (`?level=…`) or reset them to
 * the ones ztunnel started with (`?reset`), on one ztunnel or on every one of the DaemonSet.
 */

export interface ZtunnelLogOptions extends Partial<KubeOptions> {
  file?: string;
  level?: string;
  reset?: boolean;
  node?: string;
  output?: 'short' | 'json' | 'yaml';
  proxyAdminPort?: number;
}

/** istioctl's level names, and what ztunnel (tracing) calls them. */
const LEVELS: Record<string, string> = { trace: 'trace', debug: 'debug', info: 'info', warning: 'warn', warn: 'warn', error: 'error', critical: 'error', off: 'off' };

/**
 * `--level`: `<level>` for everything and/or `<target>:<level>` / `<target>=<level>` (a tracing target
 * such as `access` or `ztunnel::proxy`), comma-separated; turned into ztunnel's own `target=level` list.
 */
export function ztunnelLevelSpec(spec: string): string {
  const clauses: string[] = [];
  let global = 0;
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(.+?)\s*[:=]\s*([a-z]+)$/i.exec(part);
    const [target, level] = m && !part.endsWith('::') && !/:$/.test(m[1]) ? [m[1], m[2].toLowerCase()] : [undefined, part.toLowerCase()];
    const mapped = LEVELS[level];
    if (!mapped) throw new UsageError(`--level: unknown level "${level}" in "${part}" (levels: trace, debug, info, warning, error, critical, off)`);
    if (target === undefined) {
      if (++global > 1) throw new UsageError('--level: give at most one level for all targets');
      clauses.push(mapped);
    } else {
      if (!/^[A-Za-z_][\w:-]*$/.test(target)) throw new UsageError(`--level: "${target}" in "${part}" is not a log target (e.g. access, ztunnel::proxy)`);
      clauses.push(`${target}=${mapped}`);
    }
  }
  if (clauses.length === 0) throw new UsageError('--level: expected <level> or <target>:<level>[,...]');
  return clauses.join(',');
}

/** ztunnel's answer: `current log level is hickory_server::server=off,info`. */
export function parseZtunnelLogLevel(text: string, name: string): string {
  const m = /^current log level is (.*)$/m.exec(text);
  if (!m) throw new MeshctlError(`${name}: not a ztunnel /logging answer (no "current log level is …" line)`);
  return m[1].trim();
}

export async function ztunnelConfigLog(podRef: string | undefined, opts: ZtunnelLogOptions): Promise<string> {
  if (opts.reset && opts.level !== undefined) throw new UsageError('--level cannot be combined with --reset');
  const query = opts.reset ? '?reset' : opts.level !== undefined ? `?level=${encodeURIComponent(ztunnelLevelSpec(opts.level))}` : '';
  if (opts.file) {
    if (podRef !== undefined || opts.node !== undefined) throw new UsageError('at most one of --file, --node, or pod name must be passed');
    if (query) throw new UsageError('--level and --reset change a running ztunnel; they cannot apply to a saved file');
    const input = await readInput(opts.file);
    return render([{ pod: input.name, text: input.text, name: input.name }], opts);
  }
  const full: KubeOptions = { istioNamespace: 'istio-system', timeout: '30s', ...opts };
  let pods: string[];
  const kube = await connect(full);
  try {
    if (podRef !== undefined || opts.node !== undefined) {
      const target = await resolveZtunnelTarget(kube, { pod: podRef, node: opts.node, namespace: opts.namespace, istioNamespace: full.istioNamespace });
      if (target.workload) {
        throw new MeshctlError(
          `pod ${target.workload.name}.${target.workload.namespace} is not a ztunnel; the ztunnel serving it is ${target.ztunnel.name}.${target.ztunnel.namespace} (or use --node ${target.workload.node})`,
        );
      }
      pods = [`${target.ztunnel.name}.${target.ztunnel.namespace}`];
    } else {
      const all = await listZtunnelPods(kube, full.istioNamespace);
      pods = all.filter(podReady).map((p) => `${p.metadata!.name}.${full.istioNamespace}`);
      if (pods.length === 0) throw new MeshctlError(`no ztunnel pod in namespace ${full.istioNamespace} is running and ready (${all.length} pod${all.length === 1 ? '' : 's'})`);
    }
  } finally {
    kube.close();
  }
  const results = await fanout(pods, (pod) => onePod(pod, query, full, opts.proxyAdminPort), {
    limit: 8,
    onProgress: pods.length > 1 ? stderrProgress(query ? 'setting log levels' : 'reading log levels') : undefined,
  });
  const failed = results.flatMap((r, i) => (r.ok ? [] : [`${pods[i]}: ${(r.error as Error).message ?? String(r.error)}`]));
  if (failed.length === pods.length) throw new MeshctlError(pods.length === 1 ? failed[0] : `no ztunnel answered: ${failed.join('; ')}`);
  for (const f of failed) process.stderr.write(`warning: ${f}\n`);
  return render(results.flatMap((r) => (r.ok ? [r.value] : [])), opts);
}

async function onePod(pod: string, query: string, opts: KubeOptions, port?: number): Promise<{ pod: string; text: string; name: string }> {
  const admin = await openLiveAdmin(pod, { ...opts, proxyAdminPort: port, admin: ZTUNNEL_ADMIN });
  try {
    const answer = await admin.request('POST', `/logging${query}`);
    parseZtunnelLogLevel(answer.text, answer.name);
    return { pod: admin.name, ...answer };
  } finally {
    await admin.close();
  }
}

/** istioctl's layout: `pod.namespace:` then ztunnel's answer, per ztunnel. */
function render(answers: { pod: string; text: string; name: string }[], opts: ZtunnelLogOptions): string {
  if (opts.output === 'json' || opts.output === 'yaml') {
    return renderData(Object.fromEntries(answers.map((a) => [a.pod, parseZtunnelLogLevel(a.text, a.name)])), opts.output);
  }
  return answers
    .map((a) => {
      parseZtunnelLogLevel(a.text, a.name);
      return `${a.pod}:\n${a.text.endsWith('\n') ? a.text : a.text + '\n'}\n`;
    })
    .join('');
}
