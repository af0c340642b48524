import type { V1Pod } from '@kubernetes/client-node';
import type { KubeOptions } from '../kube/options.js';
import { CONFIGMAP, ENDPOINTS, NAMESPACE, POD, SERVICE, type ClusterObject, type ClusterSource } from '../kube/cluster.js';
import { DamagedBundleError, MeshctlError, describeError } from '../errors.js';
import { meshKind } from '../kube/kinds.js';
import { listServed } from '../kube/served.js';
import type { EnvoyView } from './envoy-view.js';
import { envoyViewFromConfigDump } from './envoy-view.js';
import { parseConfigDump } from '../envoy/config-dump.js';
import { parseJson } from '../source/parse.js';
import { podsSelectedBy } from './services.js';
import { GATEWAY_API_GROUP } from './gateway-api.js';
import { ambientEnrollment, ztunnelForNode, ztunnelViewOf, type ZtunnelWorkloadView } from '../ambient/index.js';
import { isWaypointPod } from '../authz/select.js';
import { emptyMeshObjects, type KubeObject, type MeshObjects, type Pod, type Service } from './objects.js';

/** The Istio resources describe reads, each in the newest version the cluster serves (v1 from Istio 1.22; MESH_KINDS). */
const ISTIO_RESOURCES: [group: string, plural: string, list: keyof MeshObjects][] = [
  ['networking.istio.io', 'destinationrules', 'destinationRules'],
  ['networking.istio.io', 'virtualservices', 'virtualServices'],
  ['networking.istio.io', 'gateways', 'gateways'],
  ['security.istio.io', 'peerauthentications', 'peerAuthentications'],
  ['security.istio.io', 'authorizationpolicies', 'authorizationPolicies'],
];

/**
 * The Gateway API resources describe reads, each in the newest version the cluster serves (MESH_KINDS:
 * older CRD bundles serve only v1beta1). 404 on every version = the CRDs are not installed.
 */
const GATEWAY_API_RESOURCES: [plural: string, list: keyof MeshObjects][] = [
  ['gateways', 'apiGateways'],
  ['httproutes', 'httpRoutes'],
  ['grpcroutes', 'grpcRoutes'],
  ['tcproutes', 'tcpRoutes'],
  ['tlsroutes', 'tlsRoutes'],
  ['referencegrants', 'referenceGrants'],
  // cluster-scoped; its labels may give waypoints their default istio.io/waypoint-for
  ['gatewayclasses', 'gatewayClasses'],
];

/** Envoy's and ztunnel's admin port. */
const DEFAULT_ADMIN_PORT = 15000;

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

/** describe's cluster: the live one of the kubeconfig, or a bug-report bundle read as it (`bundle`). */
export type DescribeClusterOptions = KubeOptions & { bundle?: string };

/**
 * Reads from the cluster (live, or a bug-report bundle as it was at capture) what describe needs for one
 * pod or service: the workload's namespace (pods, services, endpoints, the Namespace), Services in every
 * namespace (gateway addresses), the Istio resources of every namespace, the mesh ConfigMap, and the
 * pod's config dump through its admin port. One code path for both: everything through a ClusterSource.
 */
export async function loadLive(kind: 'pod' | 'service', ref: string, options: DescribeClusterOptions, withEnvoy: boolean, withZtunnel = true): Promise<LiveLoad> {
  const [kubeMod, { openCluster }] = await Promise.all([import('../kube/index.js'), import('../kube/open.js')]);
  const { NotFoundError, ForbiddenError } = kubeMod;
  const cluster = await openCluster(options);
  const warnings: string[] = [];
  try {
    let target: Pod | Service;
    let ns: string;
    if (kind === 'pod') {
      const resolved = await kubeMod.resolvePod(cluster, ref);
      target = resolved.pod as Pod;
      ns = resolved.namespace;
    } else {
      const dot = ref.lastIndexOf('.');
      const [name, refNs] = options.namespace || dot <= 0 ? [ref, cluster.namespace] : [ref.slice(0, dot), ref.slice(dot + 1)];
      ns = refNs;
      target = (await cluster.get(SERVICE, name, ns)) as Service;
    }
    const objects = emptyMeshObjects();
    // what was read in full (every namespace), which a waypoint's serving need not read again
    const whole = new Map<keyof MeshObjects, ClusterObject[]>();
    const [pods, services, endpoints] = await Promise.all([
      kubeMod.listPods(cluster, ns),
      cluster.list(SERVICE).then((items) => (whole.set('services', items), items), async (err: unknown) => {
        if (!(err instanceof ForbiddenError)) throw err;
        warnings.push(`cannot list services in all namespaces (${describeError(err)}); gateway addresses are unknown`);
        return cluster.list(SERVICE, { namespace: ns });
      }),
      cluster.list(ENDPOINTS, { namespace: ns }).catch(optional(warnings, 'endpoints')),
    ]);
    objects.pods = pods as Pod[];
    objects.services = services as Service[];
    objects.endpoints = (endpoints ?? []) as KubeObject[];
    const nsObj = await cluster.get(NAMESPACE, ns).catch(optional(warnings, `namespace ${ns}`));
    if (nsObj) objects.namespaces.push(nsObj as KubeObject);
    const cmName = options.revision && options.revision !== 'default' ? `istio-${options.revision}` : 'istio';
    const cm = await cluster.get(CONFIGMAP, cmName, options.istioNamespace).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      return optional(warnings, `ConfigMap ${cmName}.${options.istioNamespace}`)(err);
    });
    if (cm) objects.configMaps.push(cm as KubeObject);

    /** The kind in the newest version served; none served (not installed): nothing to read; unreadable: a warning. */
    const readKind = async (group: string, plural: string, list: keyof MeshObjects): Promise<ClusterObject[] | undefined> => {
      try {
        const items = (await listServed(cluster, meshKind(group, plural))) ?? [];
        (objects[list] as KubeObject[]).push(...(items as KubeObject[]));
        return items;
      } catch (err) {
        if (err instanceof DamagedBundleError) throw err;
        // GatewayClasses only give waypoints a default waypoint-for (Istio's own class sets none): not worth a warning
        if (plural === 'gatewayclasses' && err instanceof ForbiddenError) return [];
        warnings.push(`cannot list ${plural}.${group}: ${describeError(err)}`);
        return undefined;
      }
    };
    await Promise.all(ISTIO_RESOURCES.map(([group, plural, list]) => readKind(group, plural, list)));
    await Promise.all(
      GATEWAY_API_RESOURCES.map(async ([plural, list]) => {
        const items = await readKind(GATEWAY_API_GROUP, plural, list);
        if (items) whole.set(list, items);
      }),
    );
    // A listener admitting routes by namespace label selector needs the routes' namespaces.
    const bySelector = objects.apiGateways.some((g) => (g.spec?.listeners ?? []).some((l) => l.allowedRoutes?.namespaces?.from === 'Selector'));
    if (bySelector) {
      const routeNamespaces = new Set([...objects.httpRoutes, ...objects.grpcRoutes, ...objects.tcpRoutes, ...objects.tlsRoutes].map((r) => r.metadata?.namespace ?? 'default'));
      for (const rns of routeNamespaces) {
        if (objects.namespaces.some((n) => n.metadata?.name === rns)) continue;
        // unreadable: the report says the selector was not checked
        const n = await cluster.get(NAMESPACE, rns).catch(rethrowDamage);
        if (n) objects.namespaces.push(n as KubeObject);
      }
    }

    // Gateway pods (for the host IP when the gateway Service has no external address).
    const selectors = new Set(objects.gateways.map((g) => JSON.stringify(g.spec?.selector ?? {})).filter((s) => s !== '{}'));
    for (const s of selectors) {
      const sel = Object.entries(JSON.parse(s) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
      const gwPods = ((await cluster.list(POD, { labelSelector: sel }).catch(rethrowDamage)) ?? []) as Pod[];
      for (const p of gwPods) if (!objects.pods.some((x) => x.metadata?.name === p.metadata?.name && x.metadata?.namespace === p.metadata?.namespace)) objects.pods.push(p);
    }

    // a waypoint: every Namespace and ServiceEntry too, to tell which services it serves (authz check reads the same)
    if (kind === 'pod' && isWaypointPod((target as Pod).metadata?.labels ?? {})) {
      const { waypointServingObjects } = await import('../authz/cluster.js');
      const w = await waypointServingObjects(cluster, { services: whole.get('services'), gateways: whole.get('apiGateways'), gatewayClasses: whole.get('gatewayClasses') });
      const { addWaypointServing } = await import('./report.js');
      addWaypointServing(objects, w);
      // a list refused to both is said once
      for (const p of w.problems) if (!warnings.includes(p)) warnings.push(p);
    }

    // ztunnel pods (ambient: the one on the described pod's node carries its traffic)
    const ztunnelsKnown = kind === 'pod' && !hasSidecar(target as Pod) ? await addZtunnelPods(cluster, objects, options.istioNamespace, warnings) : false;

    let envoy: EnvoyView | undefined;
    let istiod: IstiodConnection | undefined;
    if (kind === 'pod' && hasSidecar(target as Pod)) {
      if (withEnvoy) envoy = await dumpOf(cluster, target as Pod, warnings);
      istiod = await connectionOf(cluster, `${target.metadata?.name}.${ns}`, warnings);
    } else if (kind === 'service' && withEnvoy) {
      // from the service's side, the first running meshed pod's proxy stands for all (as istioctl does)
      const first = podsSelectedBy(target as Service, objects.pods)
        .filter((p) => hasSidecar(p) && p.status?.phase === 'Running')
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
      if (first) envoy = await dumpOf(cluster, first, warnings);
    }
    let ztunnelView: ZtunnelWorkloadView | undefined;
    if (kind === 'pod' && withZtunnel && ztunnelsKnown && ambientEnrollment(target as Pod, objects.namespaces).enrolled) {
      const zt = ztunnelForNode(objects.pods, (target as Pod).spec?.nodeName, options.istioNamespace);
      if (zt) ztunnelView = await ztunnelViewFrom(cluster, zt, target as Pod, warnings);
    }
    const load: LiveLoad = { objects, target, warnings, ztunnelsKnown };
    if (ztunnelView) load.ztunnelView = ztunnelView;
    if (envoy) load.envoy = envoy;
    if (istiod) load.istiod = istiod;
    return load;
  } finally {
    cluster.close();
  }
}

/** What the ztunnel `zt` holds for `pod` (its admin /config_dump); unreadable is a warning. */
async function ztunnelViewFrom(cluster: ClusterSource, zt: Pod, pod: Pod, warnings: string[]): Promise<ZtunnelWorkloadView | undefined> {
  const [{ adminSourceOn }, { ZTUNNEL_ADMIN }, { parseZtunnelDump, ZtunnelModel }, { parseDocument }] = await Promise.all([
    import('../kube/admin-source.js'),
    import('../kube/ztunnel.js'),
    import('../ztunnel/index.js'),
    import('../source/parse.js'),
  ]);
  const name = `${zt.metadata?.name}.${zt.metadata?.namespace}`;
  try {
    const resolved = { name: zt.metadata?.name ?? '', namespace: zt.metadata?.namespace ?? '', pod: zt as V1Pod, ref: name };
    const input = await adminSourceOn(cluster, resolved, DEFAULT_ADMIN_PORT, false, ZTUNNEL_ADMIN).get('/config_dump');
    const model = new ZtunnelModel(parseZtunnelDump(parseDocument(input), input.name));
    return ztunnelViewOf(model, pod.metadata?.name ?? '', pod.metadata?.namespace ?? 'default', `${zt.metadata?.namespace}/${zt.metadata?.name}`);
  } catch (err) {
    if (err instanceof DamagedBundleError) throw err;
    warnings.push(`cannot read the config dump of ztunnel ${name}: ${describeError(err)}`);
    return undefined;
  }
}

/** Adds the ztunnel pods (label app=ztunnel, any namespace, else the Istio namespace) to `objects.pods`. */
async function addZtunnelPods(cluster: ClusterSource, objects: MeshObjects, istioNamespace: string, warnings: string[]): Promise<boolean> {
  const { ForbiddenError } = await import('../kube/index.js');
  const labelSelector = 'app=ztunnel';
  let found;
  try {
    found = await cluster.list(POD, { labelSelector });
  } catch (err) {
    if (err instanceof DamagedBundleError) throw err;
    if (!(err instanceof ForbiddenError)) {
      warnings.push(`cannot list ztunnel pods: ${describeError(err)}`);
      return false;
    }
    try {
      found = await cluster.list(POD, { namespace: istioNamespace, labelSelector });
    } catch (err2) {
      if (err2 instanceof DamagedBundleError) throw err2;
      warnings.push(`cannot list ztunnel pods: ${describeError(err2)}`);
      return false;
    }
  }
  for (const p of found as Pod[]) {
    if (!objects.pods.some((x) => x.metadata?.name === p.metadata?.name && x.metadata?.namespace === p.metadata?.namespace)) objects.pods.push(p);
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
async function connectionOf(cluster: ClusterSource, proxy: string, warnings: string[]): Promise<IstiodConnection | undefined> {
  const { askAllIstiods } = await import('../istiod/discover.js');
  const { parseSyncz, statusRow } = await import('../istiod/syncz.js');
  try {
    const { answers, failures } = await askAllIstiods(cluster, '/debug/syncz');
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
    if (err instanceof DamagedBundleError) throw err;
    warnings.push(`cannot ask istiod which replica serves the proxy: ${describeError(err)}`);
  }
  return undefined;
}

async function dumpOf(cluster: ClusterSource, pod: Pod, warnings: string[]): Promise<EnvoyView | undefined> {
  if (pod.status?.phase !== 'Running') return undefined;
  const { adminSourceFor } = await import('../kube/admin-source.js');
  try {
    const admin = await adminSourceFor(cluster, `${pod.metadata?.name}.${pod.metadata?.namespace}`, DEFAULT_ADMIN_PORT);
    const input = await admin.get('/config_dump');
    return envoyViewFromConfigDump(parseConfigDump(parseJson(input), input.name));
  } catch (err) {
    if (err instanceof DamagedBundleError) throw err;
    warnings.push(`cannot read the proxy's config dump: ${describeError(err)}`);
    return undefined;
  }
}

/** An answer that may be missing (a warning or nothing), unless the bundle is damaged. */
function rethrowDamage(err: unknown): undefined {
  if (err instanceof DamagedBundleError) throw err;
  return undefined;
}

function optional(warnings: string[], what: string) {
  return (err: unknown): undefined => {
    if (err instanceof MeshctlError && !(err instanceof DamagedBundleError)) {
      warnings.push(`cannot read ${what}: ${describeError(err)}`);
      return undefined;
    }
    throw err;
  };
}
