import yaml from 'js-yaml';
import { DEFAULT_DOMAIN_SUFFIX } from '../resources/hosts.js';
import type { ConfigMap, KubeObject } from './objects.js';
import { namespaceOf } from './objects.js';

/** The few MeshConfig settings describe's answers depend on. */
export interface MeshSettings {
  rootNamespace: string;
  domainSuffix: string;
  /** exportTo used when a DestinationRule/VirtualService gives none (MeshConfig defaults; `*` unless changed). */
  defaultDestinationRuleExportTo: string[];
  defaultVirtualServiceExportTo: string[];
}

export function defaultMeshSettings(istioNamespace = 'istio-system'): MeshSettings {
  return {
    rootNamespace: istioNamespace,
    domainSuffix: DEFAULT_DOMAIN_SUFFIX,
    defaultDestinationRuleExportTo: ['*'],
    defaultVirtualServiceExportTo: ['*'],
  };
}

/**
 * Reads MeshConfig from istiod's `istio` (or `istio-<revision>`) ConfigMap in the Istio namespace when one is
 * available; otherwise Istio's defaults. A malformed mesh config is reported, not fatal: describe still works.
 */
export function meshSettingsFrom(
  configMaps: ConfigMap[],
  istioNamespace: string,
  revision?: string,
): { settings: MeshSettings; warning?: string; source?: string } {
  const settings = defaultMeshSettings(istioNamespace);
  const wanted = revision && revision !== 'default' ? `istio-${revision}` : 'istio';
  const cm = configMaps.find((c) => c.metadata?.name === wanted && namespaceOf(c) === istioNamespace);
  const text = cm?.data?.mesh;
  if (!cm || typeof text !== 'string') return { settings };
  const source = `ConfigMap ${wanted}.${istioNamespace}`;
  let mesh: unknown;
  try {
    mesh = yaml.load(text);
  } catch (err) {
    return { settings, source, warning: `${source}: mesh config is not valid YAML (${(err as Error).message.split('\n')[0]}); using Istio's defaults` };
  }
  if (mesh && typeof mesh === 'object') {
    const m = mesh as Record<string, unknown>;
    if (typeof m.rootNamespace === 'string' && m.rootNamespace) settings.rootNamespace = m.rootNamespace;
    if (Array.isArray(m.defaultDestinationRuleExportTo)) settings.defaultDestinationRuleExportTo = m.defaultDestinationRuleExportTo.map(String);
    if (Array.isArray(m.defaultVirtualServiceExportTo)) settings.defaultVirtualServiceExportTo = m.defaultVirtualServiceExportTo.map(String);
  }
  return { settings, source };
}

/**
 * Is a config in namespace `owner` with `exportTo` visible to proxies in namespace `client`?
 * `*` everyone, `.` its own namespace, `~` nobody, otherwise the listed namespaces.
 */
export function exportedTo(exportTo: string[] | undefined, defaults: string[], owner: string, client: string): boolean {
  const list = exportTo && exportTo.length > 0 ? exportTo : defaults;
  for (const e of list) {
    if (e === '*') return true;
    if (e === '.' && owner === client) return true;
    if (e === client) return true;
  }
  return false;
}

export function exportToOf(obj: KubeObject): string[] | undefined {
  const spec = obj.spec as { exportTo?: unknown } | undefined;
  return Array.isArray(spec?.exportTo) ? spec.exportTo.map(String) : undefined;
}
