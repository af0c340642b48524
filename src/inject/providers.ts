import { MeshctlError } from '../errors.js';
import { readInput } from '../source/file.js';
import { type Obj, type RawSettings, type SettingsProvider, deepMerge, injectConfigFromText, meshFromText, parseSettingsText, valuesFromText } from './config.js';

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
            `note: ${input.name}: template texts are not interpreted; meshctl renders Istio's own sidecar, gateway, grpc-agent and grpc-simple templates with this file's values, neverInjectSelector and injectedAnnotations`,
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
  istioNamespace: string;
  revision?: string;
}

/** Reads one ConfigMap's data; undefined when the ConfigMap does not exist. */
export type ConfigMapReader = (namespace: string, name: string) => Promise<Record<string, string> | undefined>;

/**
 * Settings from the cluster, as istioctl finds them: the istio-sidecar-injector[-REV] ConfigMap
 * (config, values) and the istio[-REV] ConfigMap (mesh) in the Istio namespace. A missing ConfigMap
 * falls back to the built-in defaults, with a note.
 */
export function clusterProvider(read: ConfigMapReader, opts: ClusterOptions): SettingsProvider {
  return {
    async load(): Promise<RawSettings> {
      const suffix = opts.revision && opts.revision !== 'default' ? `-${opts.revision}` : '';
      const ns = opts.istioNamespace;
      const injectorName = `istio-sidecar-injector${suffix}`;
      const meshName = `istio${suffix}`;
      const [injector, mesh] = await Promise.all([read(ns, injectorName), read(ns, meshName)]);
      const out: RawSettings = { origin: 'cluster', notes: [] };
      if (injector) {
        const where = `ConfigMap ${ns}/${injectorName}`;
        if (injector.config !== undefined) out.injectConfig = parseSettingsText(injector.config, `${where} (data.config)`);
        if (injector.values !== undefined) out.values = parseSettingsText(injector.values, `${where} (data.values)`);
      } else {
        out.notes!.push(`note: ConfigMap ${ns}/${injectorName} not found; using Istio's built-in injector values`);
      }
      if (mesh?.mesh !== undefined) out.mesh = parseSettingsText(mesh.mesh, `ConfigMap ${ns}/${meshName} (data.mesh)`);
      else out.notes!.push(`note: ConfigMap ${ns}/${meshName} not found; using Istio's built-in mesh config`);
      return out;
    },
  };
}

export type { Obj };
