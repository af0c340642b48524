import type { KubeOptions } from '../cli/kube-options.js';
import { MeshctlError, UsageError } from '../errors.js';
import { openLiveAdmin } from '../kube/admin-source.js';
import { renderData } from '../output/format.js';
import { readInput } from '../source/file.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;

export interface LogOptions extends Partial<KubeOptions> {
  file?: string;
  level?: string;
  reset?: boolean;
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
  let text: string;
  let name: string;
  if (opts.file) {
    if (podRef) throw new UsageError('give either a pod or --file, not both');
    if (changes.length > 0) throw new UsageError('--level and --reset change a running Envoy; they cannot apply to a saved file');
    const input = await readInput(opts.file);
    ({ text, name } = input);
  } else {
    if (!podRef) throw new UsageError('name a pod (name[.namespace] or deployment/name), or give --file');
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
      ({ text, name } = answer);
    } finally {
      await admin.close();
    }
  }
  if (opts.output === 'json' || opts.output === 'yaml') return renderData(parseLoggers(text, name), opts.output);
  parseLoggers(text, name);
  return text.endsWith('\n') ? text : text + '\n';
}
