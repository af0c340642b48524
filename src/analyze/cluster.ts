import { CONFIGMAP, DEPLOYMENT, NAMESPACE, POD, SERVICE, resourceName, type ClusterObject, type ClusterSource, type ResourceType } from '../kube/cluster.js';
import { CRD, GATEWAY_API_CRDS, MESH_KINDS, MUTATING_WEBHOOK, NODE, SECRET, VALIDATING_WEBHOOK } from '../kube/kinds.js';
import { newestServed } from '../kube/served.js';
import type { ClusterOptions } from '../kube/open.js';
import { toResource, type LoadResult, type Resource } from '../resources/index.js';
import type { ResourceProvider } from './provider.js';
import { ISTIO_NAMESPACE, type Aspect, type Coverage } from './snapshot.js';

/** A built-in kind analyze reads, and where: cluster-wide unless `namespace` fixes one (no fallback then). */
interface CoreKind {
  type: ResourceType;
  namespace?: string;
}

const CORE: CoreKind[] = [
  { type: NAMESPACE },
  { type: SERVICE },
  { type: POD },
  // only to check that Gateway credentials exist and hold a certificate; never printed
  { type: SECRET },
  // only Istio's own: the injector's configuration (proxy image, enableNamespacesByDefault) and the mesh's
  { type: CONFIGMAP, namespace: ISTIO_NAMESPACE },
  // node locality labels Istio puts on endpoints (destination rule subsets may select on them)
  { type: NODE },
  { type: MUTATING_WEBHOOK },
  { type: VALIDATING_WEBHOOK },
  { type: DEPLOYMENT },
];

/** Which lists make up each part of the mesh the "nothing matches" checks rely on. */
const ASPECTS: Record<Aspect, string[]> = {
  workloads: ['pods', 'deployments.apps'],
  services: ['services', 'serviceentries.networking.istio.io'],
  secrets: ['secrets'],
  namespaces: ['namespaces'],
  webhooks: ['mutatingwebhookconfigurations.admissionregistration.k8s.io'],
};

export interface ClusterProviderOptions extends ClusterOptions {
  /** Read only this namespace (when cluster-wide reads are refused, or by choice). */
  onlyNamespace?: string;
  /** Read only Services (a remote cluster, compared with this one by the multi-cluster analyzer). */
  servicesOnly?: boolean;
}

/**
 * The resources of a cluster, read through a ClusterSource: the live cluster (@kubernetes/client-node),
 * or a bug-report bundle (`bundle`), which answers as the cluster did at capture. Namespaces, services,
 * pods, deployments, nodes, webhook configurations, Istio's ConfigMaps, secrets (only to check that
 * Gateway credentials exist and hold a certificate; their contents are never printed; a bundle holds
 * none), the Gateway API CRDs whose version Istio checks, and every Istio and Gateway API kind of the
 * shared kind table (src/kube/kinds.ts). A kind whose CRD is not installed is skipped; a kind the user
 * may not list cluster-wide is read in the current namespace; what could not be read at all is named
 * in `skipped` (forbidden) or `missing` (not in the bundle), and `read` says how much of each part of
 * the mesh the cluster showed, for the "nothing matches" checks.
 */
export class ClusterProvider implements ResourceProvider {
  readonly complete = true;
  description = 'cluster';
  /** The kubeconfig context read (or recorded in the bundle); names the cluster in multi-cluster findings. */
  contextName = '';
  /** The context's namespace (or -n; a bundle's: the one at capture), known once connected. */
  namespace = 'default';
  /** Kinds that could not be read at all (forbidden), for a warning. */
  readonly skipped: string[] = [];
  /** Kinds the bundle does not hold (its bug-report did not collect them), for a warning; Secrets are never held and not named. */
  readonly missing: string[] = [];
  private source?: ClusterSource;
  /** Per list (`pods`, `serviceentries.networking.istio.io`): how much of it was read. */
  private readonly coverage = new Map<string, Coverage>();

  constructor(private readonly options: ClusterProviderOptions) {}

  /** Whether the resources come from a bug-report bundle. */
  get fromBundle(): boolean {
    return this.options.bundle !== undefined;
  }

  async connect(): Promise<void> {
    const { openCluster } = await import('../kube/open.js');
    this.source = await openCluster(this.options);
    this.namespace = this.source.namespace;
    this.contextName = this.source.context ?? '';
    this.description = this.fromBundle ? this.source.name : `cluster (context ${this.contextName})`;
  }

  /** How much of each part of the mesh was read (after load). */
  get read(): Record<Aspect, Coverage> {
    const out = {} as Record<Aspect, Coverage>;
    for (const [aspect, lists] of Object.entries(ASPECTS) as [Aspect, string[]][]) {
      out[aspect] = lists.map((l) => this.coverage.get(l) ?? []).reduce(meet);
    }
    return out;
  }

  async load(): Promise<LoadResult> {
    if (!this.source) await this.connect();
    const source = this.source!;
    const { ForbiddenError, NotFoundError } = await import('../kube/errors.js');
    const resources: Resource[] = [];
    const add = (items: readonly ClusterObject[]) => {
      for (const item of items) {
        const r = toResource(item as Record<string, unknown>);
        if (typeof r !== 'string') resources.push(r);
      }
    };
    const note = (list: string[], what: string) => {
      if (!list.includes(what)) list.push(what);
    };
    /**
     * One list: cluster-wide (a bundle: what it holds), else — forbidden — the one namespace this run
     * is about; its coverage is recorded. A kind not served at `t.version` is a NotFoundError, thrown
     * (from the namespace's list too: RBAC refuses before the API server looks the version up).
     */
    const read = async (t: ResourceType, fixed?: string): Promise<ClusterObject[]> => {
      const what = resourceName(t);
      const held = source.coverage?.(t);
      if (source.coverage && held === undefined) {
        // never collected into the bundle (Secrets never are)
        if (t.plural !== 'secrets') note(this.missing, what);
        this.coverage.set(what, []);
        return [];
      }
      const ns = fixed ?? (t.namespaced ? this.options.onlyNamespace : undefined);
      try {
        const items = await source.list(t, ns !== undefined ? { namespace: ns } : {});
        this.coverage.set(what, ns !== undefined ? [ns] : held ?? 'all');
        return items;
      } catch (err) {
        if (!(err instanceof ForbiddenError)) throw err;
        // a bundle too: a kind refused across all namespaces at capture may hold this namespace's own list (-A per namespace)
        if (!t.namespaced || ns !== undefined) {
          note(this.skipped, what);
          this.coverage.set(what, []);
          return [];
        }
        try {
          const items = await source.list(t, { namespace: this.namespace });
          this.coverage.set(what, [this.namespace]);
          return items;
        } catch (err2) {
          if (!(err2 instanceof ForbiddenError)) throw err2;
          note(this.skipped, what);
          this.coverage.set(what, []);
          return [];
        }
      }
    };
    try {
      const core = this.options.servicesOnly ? CORE.filter((k) => k.type === SERVICE) : CORE;
      await Promise.all(
        core.map(async (k) => {
          try {
            add(await read(k.type, k.namespace));
          } catch (err) {
            // a core kind is always served; a 404 here would be an API server that is not one
            if (!(err instanceof NotFoundError)) throw err;
            this.coverage.set(resourceName(k.type), 'all');
          }
        }),
      );
      await Promise.all(
        (this.options.servicesOnly ? [] : MESH_KINDS).map(async (k) => {
          const listed = await newestServed(k, (t) => read(t));
          // not served in any version (the CRD is not installed): the kind is absent, all of it
          if (listed.served) add(listed.value);
          else this.coverage.set(resourceName(k), 'all');
        }),
      );
      // the Gateway API CRDs, by name: absent is fine; forbidden stands the version check down
      await Promise.all(
        (this.options.servicesOnly ? [] : GATEWAY_API_CRDS).map(async (name) => {
          if (source.coverage && source.coverage(CRD) === undefined) return note(this.missing, resourceName(CRD));
          try {
            add([await source.get(CRD, name)]);
          } catch (err) {
            if (err instanceof NotFoundError) return;
            if (!(err instanceof ForbiddenError)) throw err;
            note(this.skipped, resourceName(CRD));
          }
        }),
      );
    } finally {
      source.close();
    }
    // a stable order whatever order the lists came back in (the bundle and the live cluster alike)
    this.skipped.sort();
    this.missing.sort();
    return { resources, problems: [] };
  }
}

/** The part two lists both cover: all of it, or the namespaces both read. */
function meet(a: Coverage, b: Coverage): Coverage {
  if (a === 'all') return b;
  if (b === 'all') return a;
  return a.filter((ns) => b.includes(ns));
}
