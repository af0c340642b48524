import type { KubeOptions } from '../cli/kube-options.js';
import type { Kube } from '../kube/client.js';
import { MeshctlError, describeError } from '../errors.js';
import type { EnvoyView } from './envoy-view.js';
import { envoyViewFromConfigDump } from './envoy-view.js';
import { parseConfigDump } from '../envoy/config-dump.js';
import { parseJson } from '../source/parse.js';
import { podsSelectedBy } from './services.js';
import { GATEWAY_API_GROUP } from './gateway-api.js';
import { ambientEnrollment, ztunnelForNode, ztunnelViewOf, type ZtunnelWorkloadView } from '../ambient/index.js';
import { emptyMeshObjects, type KubeObject, type MeshObjects, type Pod, type Service } from './objects.js';

/** The Istio resources describe reads, as the API serves them (v1 is served by every supported Istio). */
const ISTIO_RESOURCES: [group: string, plural: string, list: keyof MeshObjects][] = [
  ['networking.istio.io', 'destinationrules', 'destinationRules'],
  ['networking.istio.io', 'virtualservices', 'virtualServices'],
  ['networking.istio.io', 'gateways', 'gateways'],
  ['security.istio.io', 'peerauthentications', 'peerAuthentications'],
  ['security.istio.io', 'authorizationpolicies', 'authorizationPolicies'],
];

/**
 * The Gateway API resources describe reads, newest version first: older CRD bundles serve only v1beta1
 * (ReferenceGrant is v1beta1 in most). 404 on every version = the CRDs are not installed.
 */
const GATEWAY_API_RESOURCES: [plural: string, list: keyof MeshObjects, versions: string[]][] = [
  ['gateways', 'apiGateways', ['v1', 'v1beta1']],
  ['httproutes', 'httpRoutes', ['v1', 'v1beta1']],
  ['grpcroutes', 'grpcRoutes', ['v1', 'v1alpha2']],
  ['referencegrants', 'referenceGrants', ['v1beta1', 'v1']],
  // cluster-scoped; its labels may give waypoints their default istio.io/waypoint-for
  ['gatewayclasses', 'gatewayClasses', ['v1', 'v1beta1']],
];

/** Which istiod replica serves the proxy, and whether each xDS type is in sync (istiod's /debug/syncz). */
export interface IstiodConnection {
  istiod: string;
  /** `CDS SYNCED`, `LDS STALE`, ... as proxy-status prints them. */
  sync: Record<'CDS' | 'LDS' | 'EDS' | 'RDS' | 'ECDS', string>;
  version?: string;
}

export interface LiveLoad {
  objects: MeshObjects;
  target: Pod | Service;
  envoy?: EnvoyView;
  istiod?: IstiodConnection;
  /** Things describe could not read (forbidden lists, an unreachable proxy); the report says so. */
  warnings: string[];
  /** Whether the ztunnel pods (app=ztunnel) could be listed: ambient pods name the one on their node. */
  ztunnelsKnown: boolean;
  /** An ambient pod: what the ztunnel on its node holds for it (its /config_dump). */
  ztunnelView?: ZtunnelWorkloadView;
}

/**
 * Reads from the cluster what describe needs for one pod or service: the workload's namespace (pods,
 * services, endpoints, the Namespace), Services in every namespace (gateway addresses), the Istio resources
 * of every namespace, the mesh ConfigMap, and the pod's config dump through its admin port.
 */
export async function loadLive(kind: 'pod' | 'service', ref: string, options: KubeOptions, withEnvoy: boolean, withZtunnel = true): Promise<LiveLoad> {
  const kubeMod = await import('../kube/index.js');
  const kube = await kubeMod.connect(options);
  const warnings: string[] = [];
  try {
    let target: Pod | Service;
    let ns: string;
    if (kind === 'pod') {
      const resolved = await kubeMod.resolvePod(kube, ref);
      target = plain(resolved.pod) as Pod;
      ns = resolved.namespace;
    } else {
      const dot = ref.lastIndexOf('.');
      const [name, refNs] = options.namespace || dot <= 0 ? [ref, kube.namespace] : [ref.slice(0, dot), ref.slice(dot + 1)];
      ns = refNs;
      target = plain(
        await kube.call({ verb: 'get', resource: 'services', namespace: ns, name }, (o) => kube.core.readNamespacedService({ name, namespace: ns }, o)),
      ) as Service;
    }
    const objects = emptyMeshObjects();
    const [pods, services, endpoints] = await Promise.all([
      kubeMod.listPods(kube, ns),
      kubeMod.listServices(kube).catch(async (err: unknown) => {
        if (!(err instanceof kubeMod.ForbiddenError)) throw err;
        warnings.push(`cannot list services in all namespaces (${describeError(err)}); gateway addresses are unknown`);
        return kubeMod.listServices(kube, ns);
      }),
      kubeMod.listEndpoints(kube, ns).catch(optional(warnings, 'endpoints')),
    ]);
    objects.pods = pods.map(plain) as Pod[];
    objects.services = services.map(plain) as Service[];
    objects.endpoints = (endpoints ?? []).map(plain);
    const nsObj = await kubeMod.getNamespace(kube, ns).catch(optional(warnings, `namespace ${ns}`));
    if (nsObj) objects.namespaces.push(plain(nsObj));
    const cmName = options.revision && options.revision !== 'default' ? `istio-${options.revision}` : 'istio';
    const cm = await kubeMod.getConfigMap(kube, cmName, options.istioNamespace).catch((err: unknown) => {
      if (err instanceof kubeMod.NotFoundError) return undefined;
      return optional(warnings, `ConfigMap ${cmName}.${options.istioNamespace}`)(err);
    });
    if (cm) objects.configMaps.push(plain(cm));

    const custom = kube.kc.makeApiClient(kube.lib.CustomObjectsApi);
    await Promise.all(
      ISTIO_RESOURCES.map(async ([group, plural, list]) => {
        try {
          const answer = (await kube.call({ verb: 'list', resource: plural, group }, (o) =>
            custom.listClusterCustomObject({ group, version: 'v1', plural }, o),
          )) as { items?: KubeObject[] };
          (objects[list] as KubeObject[]).push(...(answer.items ?? []));
        } catch (err) {
          // Istio not installed (no such resource): nothing to read. Anything else: say what is missing.
          if (err instanceof kubeMod.NotFoundError) return;
          warnings.push(`cannot list ${plural}.${group}: ${describeError(err)}`);
        }
      }),
    );

    await Promise.all(
      GATEWAY_API_RESOURCES.map(async ([plural, list, versions]) => {
        const group = GATEWAY_API_GROUP;
        for (const version of versions) {
          try {
            const answer = (await kube.call({ verb: 'list', resource: plural, group }, (o) =>
              custom.listClusterCustomObject({ group, version, plural }, o),
            )) as { items?: KubeObject[] };
            (objects[list] as KubeObject[]).push(...(answer.items ?? []));
            return;
          } catch (err) {
            if (err instanceof kubeMod.NotFoundError) continue; // this version (or the whole API) is not served
            // GatewayClasses only give waypoints a default waypoint-for (Istio's own class sets none): not worth a warning
            if (plural === 'gatewayclasses' && err instanceof kubeMod.ForbiddenError) return;
            warnings.push(`cannot list ${plural}.${group}: ${describeError(err)}`);
            return;
          }
        }
      }),
    );
    // A listener admitting routes by namespace label selector needs the routes' namespaces.
    const bySelector = objects.apiGateways.some((g) => (g.spec?.listeners ?? []).some((l) => l.allowedRoutes?.namespaces?.from === 'Selector'));
    if (bySelector) {
      const routeNamespaces = new Set([...objects.httpRoutes, ...objects.grpcRoutes].map((r) => r.metadata?.namespace ?? 'default'));
      for (const rns of routeNamespaces) {
        if (objects.namespaces.some((n) => n.metadata?.name === rns)) continue;
        // unreadable: the report says the selector was not checked
        const n = await kubeMod.getNamespace(kube, rns).catch(() => undefined);
        if (n) objects.namespaces.push(plain(n));
      }
    }

    // Gateway pods (for the host IP when the gateway Service has no external address).
    const selectors = new Set(objects.gateways.map((g) => JSON.stringify(g.spec?.selector ?? {})).filter((s) => s !== '{}'));
    for (const s of selectors) {
      const sel = Object.entries(JSON.parse(s) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
      const gwPods = await kube
        .call({ verb: 'list', resource: 'pods' }, (o) => kube.core.listPodForAllNamespaces({ labelSelector: sel }, o))
        .then((l) => l.items)
        .catch(() => []);
      for (const p of gwPods) if (!objects.pods.some((x) => x.metadata?.name === p.metadata?.name && x.metadata?.namespace === p.metadata?.namespace)) objects.pods.push(plain(p) as Pod);
    }

    // ztunnel pods (ambient: the one on the described pod's node carries its traffic)
    const ztunnelsKnown = kind === 'pod' && !hasSidecar(target as Pod) ? await addZtunnelPods(kube, objects, options.istioNamespace, warnings) : false;

    let envoy: EnvoyView | undefined;
    let istiod: IstiodConnection | undefined;
    if (kind === 'pod' && hasSidecar(target as Pod)) {
      if (withEnvoy) envoy = await dumpOf(target as Pod, options, warnings);
      istiod = await connectionOf(kube, `${target.metadata?.name}.${ns}`, warnings);
    } else if (kind === 'service' && withEnvoy) {
      // from the service's side, the first running meshed pod's proxy stands for all (as istioctl does)
      const first = podsSelectedBy(target as Service, objects.pods)
        .filter((p) => hasSidecar(p) && p.status?.phase === 'Running')
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
      if (first) envoy = await dumpOf(first, options, warnings);
    }
    let ztunnelView: ZtunnelWorkloadView | undefined;
    if (kind === 'pod' && withZtunnel && ztunnelsKnown && ambientEnrollment(target as Pod, objects.namespaces).enrolled) {
      const zt = ztunnelForNode(objects.pods, (target as Pod).spec?.nodeName, options.istioNamespace);
      if (zt) ztunnelView = await ztunnelViewFrom(zt, target as Pod, options, warnings);
    }
    const load: LiveLoad = { objects, target, warnings, ztunnelsKnown };
    if (ztunnelView) load.ztunnelView = ztunnelView;
    if (envoy) load.envoy = envoy;
    if (istiod) load.istiod = istiod;
    return load;
  } finally {
    kube.close();
  }
}

/** What the ztunnel `zt` holds for `pod` (its admin /config_dump); unreadable is a warning. */
async function ztunnelViewFrom(zt: Pod, pod: Pod, options: KubeOptions, warnings: string[]): Promise<ZtunnelWorkloadView | undefined> {
  const [{ openLiveAdmin }, { ZTUNNEL_ADMIN }, { parseZtunnelDump, ZtunnelModel }, { parseDocument }] = await Promise.all([
    import('../kube/index.js'),
    import('../kube/ztunnel.js'),
    import('../ztunnel/index.js'),
    import('../source/parse.js'),
  ]);
  const name = `${zt.metadata?.name}.${zt.metadata?.namespace}`;
  let admin;
  try {
    admin = await openLiveAdmin(name, { ...options, admin: ZTUNNEL_ADMIN });
    const input = await admin.get('/config_dump');
    const model = new ZtunnelModel(parseZtunnelDump(parseDocument(input), input.name));
    return ztunnelViewOf(model, pod.metadata?.name ?? '', pod.metadata?.namespace ?? 'default', `${zt.metadata?.namespace}/${zt.metadata?.name}`);
  } catch (err) {
    warnings.push(`cannot read the config dump of ztunnel ${name}: ${describeError(err)}`);
    return undefined;
  } finally {
    await admin?.close();
  }
}

/** Adds the ztunnel pods (label app=ztunnel, any namespace, else the Istio namespace) to `objects.pods`. */
async function addZtunnelPods(kube: Kube, objects: MeshObjects, istioNamespace: string, warnings: string[]): Promise<boolean> {
  const { ForbiddenError } = await import('../kube/index.js');
  const labelSelector = 'app=ztunnel';
  let found;
  try {
    found = await kube.call({ verb: 'list', resource: 'pods' }, (o) => kube.core.listPodForAllNamespaces({ labelSelector }, o));
  } catch (err) {
    if (!(err instanceof ForbiddenError)) {
      warnings.push(`cannot list ztunnel pods: ${describeError(err)}`);
      return false;
    }
    try {
      found = await kube.call({ verb: 'list', resource: 'pods', namespace: istioNamespace }, (o) =>
        kube.core.listNamespacedPod({ namespace: istioNamespace, labelSelector }, o),
      );
    } catch (err2) {
      warnings.push(`cannot list ztunnel pods: ${describeError(err2)}`);
      return false;
    }
  }
  for (const p of found.items) {
    if (!objects.pods.some((x) => x.metadata?.name === p.metadata?.name && x.metadata?.namespace === p.metadata?.namespace)) objects.pods.push(plain(p) as Pod);
  }
  return true;
}

function hasSidecar(pod: Pod): boolean {
  return (
    (pod.spec?.containers ?? []).some((c) => c.name === 'istio-proxy') ||
    (pod.spec?.initContainers ?? []).some((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always')
  );
}

/** Asks every istiod for /debug/syncz and finds the proxy; a control plane that cannot be asked is a warning. */
async function connectionOf(kube: Kube, proxy: string, warnings: string[]): Promise<IstiodConnection | undefined> {
  const { askAllIstiods } = await import('../istiod/discover.js');
  const { parseSyncz, statusRow } = await import('../istiod/syncz.js');
  try {
    const { answers, failures } = await askAllIstiods(kube, '/debug/syncz');
    for (const f of failures) warnings.push(`istiod ${f.istiod} did not answer /debug/syncz: ${f.reason}`);
    for (const a of answers) {
      const status = parseSyncz({ name: `istiod ${a.istiod} /debug/syncz`, text: a.text }).find((s) => s.proxy === proxy);
      if (!status) continue;
      const row = statusRow(status, a.istiod);
      const conn: IstiodConnection = { istiod: a.istiod, sync: { CDS: row.cds, LDS: row.lds, EDS: row.eds, RDS: row.rds, ECDS: row.ecds } };
      if (row.version) conn.version = row.version;
      return conn;
    }
    warnings.push(`no istiod reports proxy ${proxy} as connected (istiod's /debug/syncz): the proxy is not receiving configuration`);
  } catch (err) {
    warnings.push(`cannot ask istiod which replica serves the proxy: ${describeError(err)}`);
  }
  return undefined;
}

async function dumpOf(pod: Pod, options: KubeOptions, warnings: string[]): Promise<EnvoyView | undefined> {
  if (pod.status?.phase !== 'Running') return undefined;
  const { openLiveAdmin } = await import('../kube/index.js');
  let admin;
  try {
    admin = await openLiveAdmin(`${pod.metadata?.name}.${pod.metadata?.namespace}`, options);
    const input = await admin.get('/config_dump');
    return envoyViewFromConfigDump(parseConfigDump(parseJson(input), input.name));
  } catch (err) {
    warnings.push(`cannot read the proxy's config dump: ${describeError(err)}`);
    return undefined;
  } finally {
    await admin?.close();
  }
}

function optional(warnings: string[], what: string) {
  return (err: unknown): undefined => {
    if (err instanceof MeshctlError) {
      warnings.push(`cannot read ${what}: ${describeError(err)}`);
      return undefined;
    }
    throw err;
  };
}

/** client-node's typed objects carry Dates; describe reads plain JSON as files and the API give it. */
function plain<T>(o: T): KubeObject {
  return JSON.parse(JSON.stringify(o)) as KubeObject;
}
