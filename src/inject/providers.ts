import { MeshctlError } from '../errors.js';
import { readInput } from '../source/file.js';
import { type Obj, type RawSettings, type SettingsProvider, deepMerge, injectConfigFromText, meshFromText, valuesFromText } from './config.js';

/** Istio's built-in defaults only. */
export const builtInDefaults: SettingsProvider = {
  load: async () => ({ origin: 'built-in defaults' }),
};

export interface SettingsFiles {
  meshConfigFile?: string;
  valuesFile?: string;
  injectConfigFile?: string;
}

export function hasFiles(f: SettingsFiles): boolean {
  return Boolean(f.meshConfigFile || f.valuesFile || f.injectConfigFile);
}

/** Settings from files (istioctl's --meshConfigFile, --valuesFile, --injectConfigFile); defaults fill the rest. */
export function fileProvider(files: SettingsFiles): SettingsProvider {
  return {
    async load(): Promise<RawSettings> {
      const out: RawSettings = { origin: 'files' };
      if (files.injectConfigFile) {
        const input = await readInput(files.injectConfigFile);
        const { config, values } = injectConfigFromText(input.text, input.name);
        out.injectConfig = config;
        if (config.templates !== undefined) {
          out.notes = [
            `note: ${input.name}: template texts are not interpreted; meshctl renders Istio's sidecar template with this file's values, neverInjectSelector and injectedAnnotations`,
          ];
        }
        if (values) out.values = values;
      }
      if (files.valuesFile) {
        const input = await readInput(files.valuesFile);
        // an explicit values file beats values found inside the inject config ConfigMap
        out.values = deepMerge(out.values ?? {}, valuesFromText(input.text, input.name));
      }
      if (files.meshConfigFile) {
        const input = await readInput(files.meshConfigFile);
        out.mesh = meshFromText(input.text, input.name);
      }
      return out;
    },
  };
}

export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
  istioNamespace: string;
  revision?: string;
}

/**
 * Settings from the cluster: the istio-sidecar-injector[-<rev>] ConfigMap (config, values) and the
 * istio[-<rev>] ConfigMap (mesh). Needs the shared Kubernetes access in src/kube.
 */
export function clusterProvider(_opts: ClusterOptions): SettingsProvider {
  return {
    async load(): Promise<RawSettings> {
      throw new MeshctlError(
        'reading the injector settings from a cluster is not available in this build yet; ' +
          'pass --meshConfigFile/--valuesFile/--injectConfigFile (e.g. saved with kubectl get configmap -o yaml), or --offline for the built-in defaults',
      );
    },
  };
}

export type { Obj };
