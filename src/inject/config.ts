import yaml from 'js-yaml';
import { MeshctlError } from '../errors.js';
import { defaultInjectConfig, defaultMeshConfig, defaultValues } from './defaults.js';

export type Obj = Record<string, unknown>;

/** A problem with one workload; the caller adds which document it is. */
export class InjectError extends Error {}

/** Everything the injector needs besides the workload: Helm values, mesh config, injector policy. */
export interface InjectSettings {
  values: Obj;
  mesh: Obj;
  injectConfig: Obj;
  /** Control-plane revision ('' for the default one). */
  revision: string;
  /** Where the settings came from, for notes and errors. */
  origin: string;
  /** Full proxy image from --image; beats hub/tag but not the proxyImage annotation. */
  image?: string;
  /** Namespace for workloads whose manifest names none (-n); Istio assumes "default". */
  namespace?: string;
}

/** The raw pieces a provider found; anything missing falls back to the built-in defaults. */
export interface RawSettings {
  values?: Obj;
  mesh?: Obj;
  injectConfig?: Obj;
  origin: string;
  /** Things the user should know about how the settings were read (printed on stderr). */
  notes?: string[];
}

/** Where injection settings come from: files, the built-in defaults, or the cluster. */
export interface SettingsProvider {
  load(): Promise<RawSettings>;
}

/** JSON as Go's encoding/json writes it: compact, with <, > and & escaped. */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Recursive merge of plain objects; arrays and scalars in `over` replace those in `base`. */
export function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  }
  return out;
}

export function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

export interface Overrides {
  revision?: string;
  hub?: string;
  tag?: string;
  image?: string;
  namespace?: string;
}

/** Overlays what a provider found on the defaults, then the command-line flags on top. */
export function resolveSettings(raw: RawSettings, flags: Overrides): InjectSettings {
  let values = deepMerge(defaultValues(), raw.values ?? {});
  const global: Obj = { ...(values.global as Obj) };
  if (flags.hub !== undefined) global.hub = flags.hub;
  if (flags.tag !== undefined) global.tag = flags.tag;
  values = { ...values, global };
  if (flags.revision !== undefined) values.revision = flags.revision;
  const revision = String(values.revision ?? '');
  return {
    values,
    mesh: deepMerge(defaultMeshConfig(), raw.mesh ?? {}),
    injectConfig: deepMerge(defaultInjectConfig(), raw.injectConfig ?? {}),
    revision,
    origin: raw.origin,
    image: flags.image,
    namespace: flags.namespace,
  };
}

/** Parses a YAML/JSON settings text; `what` names it in errors. Empty text is an empty object. */
export function parseSettingsText(text: string, what: string): Obj {
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: what });
  } catch (err) {
    const reason = err instanceof yaml.YAMLException ? err.message.split('\n')[0] : String(err);
    throw new MeshctlError(`${what}: not valid YAML: ${reason}`);
  }
  if (doc === undefined || doc === null) return {};
  if (!isObj(doc)) throw new MeshctlError(`${what}: expected a YAML mapping, found ${describeValue(doc)}`);
  return doc;
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

function isConfigMap(doc: Obj): boolean {
  return doc.kind === 'ConfigMap' && isObj(doc.data);
}

function dataKey(doc: Obj, key: string, file: string): string | undefined {
  const v = (doc.data as Obj)[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new MeshctlError(`${file}: ConfigMap data.${key} must be a string`);
  return v;
}

/** A mesh config file: the mesh YAML itself, or the `istio` ConfigMap holding it under data.mesh. */
export function meshFromText(text: string, file: string): Obj {
  const doc = parseSettingsText(text, file);
  if (!isConfigMap(doc)) return doc;
  const mesh = dataKey(doc, 'mesh', file);
  if (mesh === undefined) throw new MeshctlError(`${file}: ConfigMap has no data.mesh key (is this the istio ConfigMap?)`);
  return parseSettingsText(mesh, `${file} (data.mesh)`);
}

/** A values file: the values YAML/JSON, or the istio-sidecar-injector ConfigMap (data.values). */
export function valuesFromText(text: string, file: string): Obj {
  const doc = parseSettingsText(text, file);
  if (!isConfigMap(doc)) return doc;
  const values = dataKey(doc, 'values', file);
  if (values === undefined) {
    throw new MeshctlError(`${file}: ConfigMap has no data.values key (is this the istio-sidecar-injector ConfigMap?)`);
  }
  return parseSettingsText(values, `${file} (data.values)`);
}

/**
 * An inject config file: the injector's `config` YAML, or the istio-sidecar-injector ConfigMap
 * (data.config, and data.values when present).
 */
export function injectConfigFromText(text: string, file: string): { config: Obj; values?: Obj } {
  const doc = parseSettingsText(text, file);
  if (!isConfigMap(doc)) return { config: doc };
  const config = dataKey(doc, 'config', file);
  if (config === undefined) {
    throw new MeshctlError(`${file}: ConfigMap has no data.config key (is this the istio-sidecar-injector ConfigMap?)`);
  }
  const values = dataKey(doc, 'values', file);
  return {
    config: parseSettingsText(config, `${file} (data.config)`),
    values: values === undefined ? undefined : parseSettingsText(values, `${file} (data.values)`),
  };
}
