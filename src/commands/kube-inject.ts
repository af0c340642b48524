import { MeshctlError, UsageError } from '../errors.js';
import { type Overrides, type SettingsProvider, resolveSettings } from '../inject/config.js';
import { DEFAULT_HUB, DEFAULT_TAG } from '../inject/defaults.js';
import type { KubeOptions } from '../kube/options.js';
import { connectConfigMapReader, kubeconfigAvailable } from '../inject/cluster.js';
import { builtInDefaults, clusterProvider, fileProvider, hasFiles } from '../inject/providers.js';
import { type RunResult, injectText, parseInput, uninjectText } from '../inject/run.js';
import { writeFileAtomic, writeStdout } from '../output/write.js';
import { readInput } from '../source/file.js';

export interface KubeInjectOptions extends Overrides, Partial<KubeOptions> {
  filename?: string;
  output?: string;
  meshConfigFile?: string;
  valuesFile?: string;
  injectConfigFile?: string;
  offline?: boolean;
  istioNamespace: string;
}

interface Choice {
  provider: SettingsProvider;
  note?: string;
  close?: () => void;
}

/**
 * Files beat the cluster; --offline means Istio's built-in defaults. Otherwise the cluster is read
 * when a kubeconfig can be found (as istioctl does), and the defaults are used, with a note, when not.
 */
export async function chooseProvider(opts: KubeInjectOptions, env: NodeJS.ProcessEnv = process.env): Promise<Choice> {
  const files = { meshConfigFile: opts.meshConfigFile, valuesFile: opts.valuesFile, injectConfigFile: opts.injectConfigFile };
  if (hasFiles(files)) {
    if (opts.offline) throw new UsageError('--offline cannot be combined with --meshConfigFile/--valuesFile/--injectConfigFile');
    return { provider: fileProvider(files) };
  }
  if (opts.offline) return { provider: builtInDefaults };
  if (kubeconfigAvailable(opts, env)) {
    const { read, close } = await connectConfigMapReader(opts);
    const cluster = clusterProvider(read, { istioNamespace: opts.istioNamespace, revision: opts.revision });
    const provider: SettingsProvider = {
      load: () =>
        cluster.load().catch((err: unknown) => {
          if (!(err instanceof MeshctlError)) throw err;
          throw new MeshctlError(`reading the injector settings: ${err.message} (--offline or the --*File flags inject without the cluster)`, err.exitCode);
        }),
    };
    return { provider, close };
  }
  const image = opts.image ?? `${opts.hub ?? DEFAULT_HUB}/proxyv2:${opts.tag ?? DEFAULT_TAG}`;
  return {
    provider: builtInDefaults,
    note: `note: no kubeconfig found; using Istio's built-in injection settings (${image}); pass the cluster's with --injectConfigFile/--valuesFile/--meshConfigFile, or --offline to silence this note`,
  };
}

function requireFile(opts: { filename?: string }): string {
  if (!opts.filename) throw new UsageError('no input: give the manifest with -f FILE (or -f - for stdin)');
  return opts.filename;
}

async function emit(result: RunResult, output: string | undefined, name: string, nothing: string): Promise<void> {
  for (const note of result.notes) process.stderr.write(note + '\n');
  if (result.changed === 0 && result.notes.length === 0) process.stderr.write(`note: ${name}: ${nothing}; written unchanged\n`);
  if (output) await writeFileAtomic(output, result.text);
  else writeStdout(result.text);
}

export async function kubeInject(opts: KubeInjectOptions): Promise<void> {
  const file = requireFile(opts);
  if (opts.image !== undefined && (opts.hub !== undefined || opts.tag !== undefined)) {
    throw new UsageError('--image names the whole proxy image; it cannot be combined with --hub or --tag');
  }
  const input = parseInput(await readInput(file));
  const { provider, note, close } = await chooseProvider(opts);
  let raw;
  try {
    raw = await provider.load();
  } finally {
    close?.();
  }
  const settings = resolveSettings(raw, opts);
  const result = injectText(input, settings);
  if (result.changed > 0) for (const n of [...(raw.notes ?? []), ...(note ? [note] : [])]) process.stderr.write(n + '\n');
  await emit(result, opts.output, input.input.name, 'no workload to inject (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController, DeploymentConfig)');
}

export async function uninject(opts: { filename?: string; output?: string }): Promise<void> {
  const input = await readInput(requireFile(opts));
  await emit(uninjectText(input), opts.output, input.name, 'no workload to uninject');
}
