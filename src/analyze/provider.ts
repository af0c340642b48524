import { groupKind, loadResources, type LoadResult, type Resource } from '../resources/index.js';

/**
 * Where analyze gets resources from. Files today; a cluster provider (reading the API server with
 * @kubernetes/client-node) plugs in beside it, and `mergeResources` lays the files over what the
 * cluster holds, as `istioctl analyze --use-kube` does.
 */
export interface ResourceProvider {
  /** For messages: `files`, `cluster (context kind-mesh)`. */
  readonly description: string;
  /** True when the provider sees every workload and secret (a cluster), so absence means something. */
  readonly complete: boolean;
  load(): Promise<LoadResult>;
}

export class FileProvider implements ResourceProvider {
  readonly description = 'files';
  readonly complete = false;
  constructor(private readonly paths: readonly string[], private readonly recursive: boolean) {}

  load(): Promise<LoadResult> {
    return loadResources(this.paths, { recursive: this.recursive });
  }
}

function key(r: Resource): string {
  return `${groupKind(r)}|${r.namespace}|${r.name}`;
}

/** The base resources with each overlay resource replacing the one of the same kind, namespace and name. */
export function mergeResources(base: readonly Resource[], overlay: readonly Resource[]): Resource[] {
  // files alone (no cluster): nothing to replace, and no key to build for each of 10,000 resources
  if (base.length === 0) return [...overlay];
  const replaced = new Set(overlay.map(key));
  return [...base.filter((r) => !replaced.has(key(r))), ...overlay];
}
