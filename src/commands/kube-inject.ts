import { UsageError } from '../errors.js';
import { type Overrides, type SettingsProvider, resolveSettings } from '../inject/config.js';
import { DEFAULT_HUB, DEFAULT_TAG } from '../inject/defaults.js';
import { builtInDefaults, clusterProvider, fileProvider, hasFiles } from '../inject/providers.js';
import { type RunResult, injectText, uninjectText } from '../inject/run.js';
import { writeFileAtomic, writeStdout } from '../output/write.js';
import { readInput } from '../source/file.js';

export interface KubeInjectOptions extends Overrides {
  filename?: string;
  output?: string;
  meshConfigFile?: string;
  valuesFile?: string;
  injectConfigFile?: string;
  offline?: boolean;
  kubeconfig?: string;
  context?: string;
  istioNamespace: string;
}

/** Files beat the cluster; --offline (or no cluster flags) means Istio's built-in defaults. */
export function chooseProvider(opts: KubeInjectOptions): { provider: SettingsProvider; note?: string } {
  const files = { meshConfigFile: opts.meshConfigFile, valuesFile: opts.valuesFile, injectConfigFile: opts.injectConfigFile };
  if (hasFiles(files)) {
    if (opts.offline) throw new UsageError('--offline cannot be combined with --meshConfigFile/--valuesFile/--injectConfigFile');
    return { provider: fileProvider(files) };
  }
  if (opts.offline) return { provider: builtInDefaults };
  if (opts.kubeconfig || opts.context) {
    return { provider: clusterProvider({ kubeconfig: opts.kubeconfig, context: opts.context, istioNamespace: opts.istioNamespace, revision: opts.revision }) };
  }
  const hub = opts.hub ?? DEFAULT_HUB;
  const tag = opts.tag ?? DEFAULT_TAG;
  return {
    provider: builtInDefaults,
    note: `note: using Istio's built-in injection settings (${opts.image ?? `${hub}/proxyv2:${tag}`}); pass the cluster's with --injectConfigFile/--valuesFile/--meshConfigFile, or --offline to silence this note`,
  };
}

function requireFile(opts: { filename?: string }): string {
  if (!opts.filename) throw new UsageError('no input: give the manifest with -f FILE (or -f - for stdin)');
  return opts.filename;
}

async function emit(result: RunResult, output: string | undefined): Promise<void> {
  for (const note of result.notes) process.stderr.write(note + '\n');
  if (output) await writeFileAtomic(output, result.text);
  else writeStdout(result.text);
}

export async function kubeInject(opts: KubeInjectOptions): Promise<void> {
  const file = requireFile(opts);
  if (opts.image !== undefined && (opts.hub !== undefined || opts.tag !== undefined)) {
    throw new UsageError('--image names the whole proxy image; it cannot be combined with --hub or --tag');
  }
  const { provider, note } = chooseProvider(opts);
  const input = await readInput(file);
  const raw = await provider.load();
  const settings = resolveSettings(raw, opts);
  const result = injectText(input, settings);
  if (result.changed > 0) for (const n of [...(raw.notes ?? []), ...(note ? [note] : [])]) process.stderr.write(n + '\n');
  await emit(result, opts.output);
}

export async function uninject(opts: { filename?: string; output?: string }): Promise<void> {
  const input = await readInput(requireFile(opts));
  await emit(uninjectText(input), opts.output);
}
