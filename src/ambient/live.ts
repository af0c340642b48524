import { describeError } from '../errors.js';
import { type ClusterObject, type ClusterSource, NAMESPACE, POD, type ResourceType, SERVICE, resourceName } from '../kube/cluster.js';
import { ForbiddenError } from '../kube/errors.js';
import { meshKind } from '../kube/kinds.js';
import type { ClusterOptions } from '../kube/open.js';
import { listServed } from '../kube/served.js';
import { USE_WAYPOINT, USE_WAYPOINT_NAMESPACE } from './labels.js';
import type { AmbientWorld, Obj } from './types.js';
import { labelsOf, nameOf, namespaceOf } from './types.js';

const GROUP = 'gateway.networking.k8s.io';

export interface AmbientLiveLoad {
  world: AmbientWorld;
  /** -n, else the context's namespace (a bundle: the one recorded at capture), else `default`. */
  namespace: string;
  /** false when the cluster serves no Gateway API Gateways (404 on every version): no waypoint can exist. */
  gatewayApi: boolean;
  /** What could not be read (the answer may be incomplete); one line each. */
  warnings: string[];
}

/**
 * Reads what `waypoint list/status` need from the cluster of `options`: the live one, or a bug-report
 * bundle read as it was at capture (`options.bundle`). See `loadAmbientFrom`.
 */
export async function loadAmbientLive(options: ClusterOptions, allNamespaces: boolean): Promise<AmbientLiveLoad> {
  const { openCluster } = await import('../kube/open.js');
  const cluster = await openCluster(options);
  try {
    return await loadAmbientFrom(cluster, allNamespaces);
  } finally {
    cluster.close();
  }
}

/**
 * The Gateways of the namespace (or all), the GatewayClasses, the Namespaces, and the Services and Pods
 * that may be bound to a waypoint there — those with an `istio.io/use-waypoint` label (one cluster-wide
 * list by label) and those in namespaces whose label names one — never every pod of the cluster.
 */
export async function loadAmbientFrom(cluster: ClusterSource, allNamespaces: boolean): Promise<AmbientLiveLoad> {
  const warnings: string[] = [];
  const world: AmbientWorld = { namespaces: [], pods: [], services: [], gateways: [], gatewayClasses: [], authorizationPolicies: [] };
  const ns = cluster.namespace;
  const scope = allNamespaces ? undefined : ns;
  /** The kind in the newest version served; undefined when none is (the CRD is not installed). */
  const list = async (plural: string, namespace?: string): Promise<Obj[] | undefined> =>
    (await listServed(cluster, meshKind(GROUP, plural), namespace !== undefined ? { namespace } : {}))?.map(obj);

  // a refused Gateway list leaves nothing to show: that error is the answer
  const gateways = await list('gateways', scope);
  if (gateways === undefined) return { world, namespace: ns, gatewayApi: false, warnings };
  world.gateways = gateways;
  // GatewayClasses only give a default waypoint-for (Istio's own class sets none): unreadable is no warning
  world.gatewayClasses = (await list('gatewayclasses').catch(() => undefined)) ?? [];

  try {
    world.namespaces = (await cluster.list(NAMESPACE)).map(obj);
  } catch (err) {
    warnings.push(`cannot list namespaces (${describeError(err)}): waypoints used through other namespaces' labels are not shown`);
    if (scope) {
      const one = await cluster.get(NAMESPACE, scope).catch(() => undefined);
      if (one) world.namespaces.push(obj(one));
    }
  }

  await addBound(cluster, world, scope, warnings);
  return { world, namespace: ns, gatewayApi: true, warnings };
}

/** The Services and Pods that can be bound to a waypoint in `scope` (all namespaces when undefined). */
async function addBound(cluster: ClusterSource, world: AmbientWorld, scope: string | undefined, warnings: string[]): Promise<void> {
  const seen = new Set<string>();
  const add = (t: ResourceType, items: ClusterObject[]) => {
    for (const o of items.map(obj)) {
      const key = `${t.plural}/${namespaceOf(o)}/${nameOf(o)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      (t === POD ? world.pods : world.services).push(o);
    }
  };
  const readOne = async (t: ResourceType, namespace: string, labelSelector: string | undefined) => {
    try {
      add(t, await cluster.list(t, { namespace, ...(labelSelector ? { labelSelector } : {}) }));
    } catch (err) {
      warnings.push(`cannot list ${t.plural} in namespace ${namespace}: ${describeError(err)}`);
    }
  };
  const readAll = async (t: ResourceType, labelSelector: string) => {
    try {
      add(t, await cluster.list(t, { labelSelector }));
    } catch (err) {
      if (scope && err instanceof ForbiddenError) {
        // cluster-wide refused: the namespace's own still tell most of the story
        warnings.push(`cannot list ${t.plural} in all namespaces (${describeError(err)}): only those in ${scope} are checked`);
        await readOne(t, scope, labelSelector);
        return;
      }
      warnings.push(`cannot list ${t.plural}: ${describeError(err)}`);
      return;
    }
    // a bundle of some namespaces answers a cluster-wide list with theirs: say so, as a refused list would
    const held = cluster.coverage?.(t, labelSelector);
    if (Array.isArray(held)) {
      warnings.push(`${cluster.name} holds the ${resourceName(t)} of namespace${held.length === 1 ? '' : 's'} ${held.join(', ') || '(none)'} only: those elsewhere are not checked`);
    }
  };

  // objects with their own label, anywhere (a label may name a waypoint in another namespace)
  for (const t of [SERVICE, POD]) await readAll(t, USE_WAYPOINT);
  // every object of a namespace whose label names a waypoint in scope (they inherit it)
  for (const n of world.namespaces) {
    const label = labelsOf(n)[USE_WAYPOINT];
    if (label === undefined || label === 'none') continue;
    const target = labelsOf(n)[USE_WAYPOINT_NAMESPACE] ?? nameOf(n);
    if (scope !== undefined && target !== scope) continue;
    for (const t of [SERVICE, POD]) await readOne(t, nameOf(n), undefined);
  }
}

/** The cluster's objects are plain JSON, as files give them. */
function obj(o: ClusterObject): Obj {
  return o as Obj;
}
