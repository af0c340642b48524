import type { KubeOptions } from '../kube/options.js';
import { describeError } from '../errors.js';
import type { Kube } from '../kube/index.js';
import { USE_WAYPOINT, USE_WAYPOINT_NAMESPACE } from './labels.js';
import type { AmbientWorld, Obj } from './types.js';
import { labelsOf, nameOf, namespaceOf } from './types.js';

const GROUP = 'gateway.networking.k8s.io';

export interface AmbientLiveLoad {
  world: AmbientWorld;
  /** -n, else the context's namespace, else `default`. */
  namespace: string;
  /** false when the cluster serves no Gateway API Gateways (404 on every version): no waypoint can exist. */
  gatewayApi: boolean;
  /** What could not be read (the answer may be incomplete); one line each. */
  warnings: string[];
}

/**
 * Reads what `waypoint list/status` need from a cluster: the Gateways of the namespace (or all), the
 * GatewayClasses, the Namespaces, and the Services and Pods that may be bound to a waypoint there — those
 * with an `istio.io/use-waypoint` label (one cluster-wide list by label) and those in namespaces whose label
 * names one — never every pod of the cluster.
 */
export async function loadAmbientLive(options: KubeOptions, allNamespaces: boolean): Promise<AmbientLiveLoad> {
  const [kubeMod, { meshKind }, { newestServed }] = await Promise.all([import('../kube/index.js'), import('../kube/kinds.js'), import('../kube/served.js')]);
  const kube = await kubeMod.connect(options);
  const warnings: string[] = [];
  const world: AmbientWorld = { namespaces: [], pods: [], services: [], gateways: [], gatewayClasses: [], authorizationPolicies: [] };
  try {
    const ns = kube.namespace;
    const scope = allNamespaces ? undefined : ns;
    const custom = kube.kc.makeApiClient(kube.lib.CustomObjectsApi);
    /** The kind in the newest version served; undefined when none is (the CRD is not installed). */
    const list = async (plural: string, namespace?: string): Promise<Obj[] | undefined> => {
      const listed = await newestServed(meshKind(GROUP, plural), async ({ version }) => {
        const answer = (await kube.call({ verb: 'list', resource: plural, group: GROUP, ...(namespace ? { namespace } : {}) }, (o) =>
          namespace
            ? custom.listNamespacedCustomObject({ group: GROUP, version, plural, namespace }, o)
            : custom.listClusterCustomObject({ group: GROUP, version, plural }, o),
        )) as { items?: Obj[] };
        return answer.items ?? [];
      });
      return listed.served ? listed.value : undefined;
    };

    // a refused Gateway list leaves nothing to show: that error is the answer
    const gateways = await list('gateways', scope);
    if (gateways === undefined) return { world, namespace: ns, gatewayApi: false, warnings };
    world.gateways = gateways;
    // GatewayClasses only give a default waypoint-for (Istio's own class sets none): unreadable is no warning
    world.gatewayClasses = (await list('gatewayclasses').catch(() => undefined)) ?? [];

    try {
      world.namespaces = (await kubeMod.listNamespaces(kube)).map(plain);
    } catch (err) {
      warnings.push(`cannot list namespaces (${describeError(err)}): waypoints used through other namespaces' labels are not shown`);
      if (scope) {
        const one = await kubeMod.getNamespace(kube, scope).catch(() => undefined);
        if (one) world.namespaces.push(plain(one));
      }
    }

    await addBound(kube, world, scope, warnings);
    return { world, namespace: ns, gatewayApi: true, warnings };
  } finally {
    kube.close();
  }
}

/** The Services and Pods that can be bound to a waypoint in `scope` (all namespaces when undefined). */
async function addBound(kube: Kube, world: AmbientWorld, scope: string | undefined, warnings: string[]): Promise<void> {
  const { ForbiddenError } = await import('../kube/index.js');
  const seen = new Set<string>();
  const add = (kind: 'pods' | 'services', items: unknown[]) => {
    for (const raw of items) {
      const o = plain(raw);
      const key = `${kind}/${namespaceOf(o)}/${nameOf(o)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      (kind === 'pods' ? world.pods : world.services).push(o);
    }
  };
  const read = async (namespace: string | undefined, labelSelector: string | undefined) => {
    const where = namespace ? ` in namespace ${namespace}` : '';
    for (const kind of ['services', 'pods'] as const) {
      try {
        const answer =
          kind === 'services'
            ? await kube.call({ verb: 'list', resource: kind, ...(namespace ? { namespace } : {}) }, (o) =>
                namespace ? kube.core.listNamespacedService({ namespace, labelSelector }, o) : kube.core.listServiceForAllNamespaces({ labelSelector }, o),
              )
            : await kube.call({ verb: 'list', resource: kind, ...(namespace ? { namespace } : {}) }, (o) =>
                namespace ? kube.core.listNamespacedPod({ namespace, labelSelector }, o) : kube.core.listPodForAllNamespaces({ labelSelector }, o),
              );
        add(kind, answer.items);
      } catch (err) {
        if (!namespace && scope && err instanceof ForbiddenError) {
          // cluster-wide refused: the namespace's own still tell most of the story
          warnings.push(`cannot list ${kind} in all namespaces (${describeError(err)}): only those in ${scope} are checked`);
          await readOne(scope, kind, labelSelector);
          continue;
        }
        warnings.push(`cannot list ${kind}${where}: ${describeError(err)}`);
      }
    }
  };
  const readOne = async (namespace: string, kind: 'services' | 'pods', labelSelector: string | undefined) => {
    try {
      const answer =
        kind === 'services'
          ? await kube.call({ verb: 'list', resource: kind, namespace }, (o) => kube.core.listNamespacedService({ namespace, labelSelector }, o))
          : await kube.call({ verb: 'list', resource: kind, namespace }, (o) => kube.core.listNamespacedPod({ namespace, labelSelector }, o));
      add(kind, answer.items);
    } catch (err) {
      warnings.push(`cannot list ${kind} in namespace ${namespace}: ${describeError(err)}`);
    }
  };

  // objects with their own label, anywhere (a label may name a waypoint in another namespace)
  await read(undefined, USE_WAYPOINT);
  // every object of a namespace whose label names a waypoint in scope (they inherit it)
  for (const n of world.namespaces) {
    const label = labelsOf(n)[USE_WAYPOINT];
    if (label === undefined || label === 'none') continue;
    const target = labelsOf(n)[USE_WAYPOINT_NAMESPACE] ?? nameOf(n);
    if (scope !== undefined && target !== scope) continue;
    await read(nameOf(n), undefined);
  }
}

/** client-node's typed objects carry Dates; ambient reads plain JSON, as files give it. */
function plain<T>(o: T): Obj {
  return JSON.parse(JSON.stringify(o)) as Obj;
}
