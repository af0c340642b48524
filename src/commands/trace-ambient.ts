import type { KubeOptions } from '../kube/options.js';
import { MeshctlError, UsageError } from '../errors.js';
import { parseConfigDump } from '../envoy/index.js';
import type { ClusterSource } from '../kube/cluster.js';
import type { ResolvedPod } from '../kube/pods.js';
import { hasSidecar, nameOf, namespaceOf, type AmbientPod, type AmbientWorld, type Obj } from '../ambient/index.js';
import { describeError } from '../errors.js';
import { deployedServiceName, gatewayNameOf } from '../resources/gateway-naming.js';
import { readInput } from '../source/file.js';
import { parseDocument } from '../source/parse.js';
import { traceAmbient, type AmbientSources, type WaypointView, type ZtunnelView } from '../trace/ambient.js';
import { worldFromConfigDump } from '../trace/dump-world.js';
import { TraceInputError, type TraceOutput } from '../trace/trace.js';
import { localNode, parseZtunnelDump, ZtunnelModel, type ZtunnelWorkload } from '../ztunnel/index.js';
import { sourceIdentity } from './identity.js';
import { parseHeader, parseMetadata, type TraceOptions } from './trace.js';

/**
 * `meshctl trace` for a pod in the ambient mesh (src/trace/ambient.ts): offline from a ztunnel dump
 * (--ztunnel-file; --dst-ztunnel-file for other nodes' ztunnels; --waypoint-file for waypoints' Envoys),
 * live from the cluster (the ztunnel on the pod's node, the destination node's, the waypoint pod's admin),
 * or from a bug-report bundle, through ClusterSource.
 */

export interface AmbientTraceOptions {
  /** Kubernetes resources (YAML/JSON files, directories) that say why waypoints are bound (src/ambient). */
  files?: string[];
  ztunnelFile?: string;
  dstZtunnelFile?: string[];
  waypointFile?: string[];
}

const WAYPOINT_HINT = 'pass --waypoint-file with its /config_dump?include_eds';

async function readZtunnel(file: string): Promise<ZtunnelView> {
  const input = await readInput(file);
  const model = new ZtunnelModel(parseZtunnelDump(parseDocument(input), input.name));
  for (const p of model.parsed.problems.slice(0, 5)) process.stderr.write(`warning: ${model.source}: skipped ${p.what} because ${p.reason}\n`);
  if (!model.has('workloads') || !model.has('services')) throw new MeshctlError(`${model.source}: a ztunnel dump without usable workloads and services cannot be traced through`);
  return { model, name: input.name };
}

/** A waypoint's Envoy dump, with who it is (bootstrap node metadata). */
export function waypointView(text: unknown, name: string): WaypointView {
  const dump = parseConfigDump(text, name);
  for (const p of dump.problems) process.stderr.write(`Warning: ${name}: skipped ${p.what}: ${p.reason}\n`);
  const md = (dump.bootstrap?.bootstrap.node?.metadata ?? {}) as Record<string, unknown>;
  const labels = (md.LABELS ?? {}) as Record<string, string>;
  const ips = typeof md.INSTANCE_IPS === 'string' ? md.INSTANCE_IPS.split(',').map((s) => s.trim()).filter(Boolean) : [];
  return {
    dump,
    world: worldFromConfigDump(dump),
    name,
    pod: typeof md.NAME === 'string' ? md.NAME : undefined,
    namespace: typeof md.NAMESPACE === 'string' ? md.NAMESPACE : undefined,
    gateway: gatewayNameOf(labels),
    ips,
    serviceAccount: typeof md.SERVICE_ACCOUNT === 'string' ? md.SERVICE_ACCOUNT : undefined,
  };
}

/**
 * Picks the given waypoint dump for an instance: the same pod, else a replica of the same waypoint, known by
 * the gateway label Istio puts on its pods (src/resources/gateway-naming.ts) or, for a dump without one, by
 * its pod name: the pods of the Deployment Istio names for the Gateway (its name-override, else the
 * waypoint's name), `<deployment>-<hashes>`.
 */
export function matchWaypoint(
  views: WaypointView[],
  inst: ZtunnelWorkload,
  gw: { name: string; namespace: string },
  world?: AmbientWorld,
): { view: WaypointView; note?: string } | { missing: string } {
  const same = views.find((v) => (v.pod === inst.name && v.namespace === inst.namespace) || (inst.workloadIps ?? []).some((ip) => v.ips.includes(ip)));
  if (same) return { view: same };
  const here = views.filter((v) => v.namespace === gw.namespace);
  let replica = here.find((v) => v.gateway === gw.name);
  let byName = '';
  if (!replica) {
    const gateway = world?.gateways.find((g) => nameOf(g) === gw.name && namespaceOf(g) === gw.namespace);
    const deployment = gateway ? deployedServiceName(gateway, world?.gatewayClasses) : gw.name;
    replica = deployment ? here.find((v) => v.gateway === undefined && v.pod?.startsWith(`${deployment}-`)) : undefined;
    byName = gateway
      ? ` (its dump carries no gateway label: matched by the pod name of Deployment ${deployment}, as Istio names it)`
      : ` (its dump carries no gateway label: matched by the pod name ${gw.name}-..., uncertain: the Gateway is not among the resources, so a gateway.istio.io/name-override is unknown)`;
  }
  if (replica) return { view: replica, note: `${replica.name} is of ${replica.pod}.${replica.namespace}, another replica of waypoint ${gw.namespace}/${gw.name}${byName}: replicas share one configuration` };
  if (!views.length) return { missing: `the config dump of waypoint ${inst.name}.${inst.namespace} was not given: its routing, L7 policies and endpoint choice are unknown (${WAYPOINT_HINT})` };
  return { missing: `none of the --waypoint-file dumps is of waypoint ${gw.namespace}/${gw.name} (${views.map((v) => `${v.name}: ${v.pod ?? '?'}.${v.namespace ?? '?'}`).join(', ')})` };
}

function request(o: TraceOptions & AmbientTraceOptions, identity: Awaited<ReturnType<typeof sourceIdentity>>, source: { name?: string; namespace?: string; ip?: string }) {
  return {
    target: o.target,
    method: o.method,
    headers: (o.header ?? []).map(parseHeader),
    source,
    dstIp: o.dstIp,
    random: o.random,
    allCandidates: o.allCandidates,
    identity: { claims: identity.claims, extAuthz: identity.extAuthz },
    ...(o.metadata?.length ? { metadata: parseMetadata(o.metadata) as Record<string, Record<string, unknown>> } : {}),
  };
}

function checkFlags(o: TraceOptions): void {
  const id = o.identity ?? {};
  if (id.sourcePrincipal || id.sourceNamespace || id.sourceSa || id.from) {
    throw new UsageError('in an ambient trace the client is the pod traced: its identity is the one ztunnel gives it (--source-principal, --source-namespace/--source-sa and --from do not apply)');
  }
  if (o.direction === 'inbound') throw new UsageError('an ambient trace follows the request from the client pod: give the client pod and the target (--direction inbound is for sidecars)');
  if (o.iptables) throw new UsageError('--iptables is for sidecars: in ambient mode ztunnel captures the traffic (in-pod redirection)');
  if (o.sni || o.alpn || o.plaintext) throw new UsageError('--sni, --alpn and --plaintext are for sidecar traces: ztunnel carries whatever the application sends');
}

async function run(sources: AmbientSources, o: TraceOptions & AmbientTraceOptions, source: { name?: string; namespace?: string; ip?: string }): Promise<TraceOutput> {
  const identity = await sourceIdentity(o.identity ?? {}, o, o.src);
  try {
    return await traceAmbient(sources, request(o, identity, source));
  } catch (err) {
    if (err instanceof TraceInputError) throw new UsageError(err.message);
    throw err;
  }
}

/** Offline: --ztunnel-file (the client's node), --dst-ztunnel-file (others), --waypoint-file. */
export async function ambientTraceOffline(o: TraceOptions & AmbientTraceOptions): Promise<{ out: TraceOutput; name: string }> {
  checkFlags(o);
  if (!o.ztunnelFile) throw new UsageError('an ambient trace needs --ztunnel-file (the client node\'s ztunnel /config_dump) offline, or a pod live');
  if (o.file) throw new UsageError('give -f (a sidecar\'s config dump) or --ztunnel-file (ambient), not both');
  const client = await readZtunnel(o.ztunnelFile);
  const others = await Promise.all((o.dstZtunnelFile ?? []).map(readZtunnel));
  const waypoints: WaypointView[] = [];
  for (const f of o.waypointFile ?? []) {
    const input = await readInput(f);
    waypoints.push(waypointView(parseDocument(input), input.name));
  }
  let world: AmbientWorld | undefined;
  if (o.files?.length) {
    const [{ loadMeshObjects }, { ambientWorld }] = await Promise.all([import('../describe/load.js'), import('../describe/report.js')]);
    world = ambientWorld(await loadMeshObjects(o.files));
  }
  const sources: AmbientSources = {
    client,
    ...(world ? { resources: async () => world } : {}),
    ztunnelOn: async (node) => {
      for (const v of [client, ...others]) if (localNode(v.model) === node) return v;
      const unknown = others.filter((v) => localNode(v.model) === undefined);
      // the only dump that does not say its node is taken for it, said as uncertain (not silently assumed)
      if (unknown.length === 1) return { ...unknown[0], uncertain: `${unknown[0].name} does not say its node (no config.localNode): taken as the ztunnel of ${node}` };
      const given = others.map((v) => `${v.name} (${localNode(v.model) ?? 'node unknown'})`);
      return { missing: `the ztunnel of node ${node} was not given${given.length ? ` (given: ${given.join(', ')})` : ''}: its certificate and the pod's state are unknown (pass --dst-ztunnel-file)` };
    },
    waypoint: async (inst, gw) => matchWaypoint(waypoints, inst, gw, world),
  };
  let source: { name?: string; namespace?: string; ip?: string };
  if (o.pod) {
    const dot = o.pod.indexOf('.');
    source = dot > 0 ? { name: o.pod.slice(0, dot), namespace: o.pod.slice(dot + 1) } : { name: o.pod, namespace: o.namespace };
    if (o.src) source.ip = o.src;
  } else if (o.src) source = { ip: o.src };
  else throw new UsageError('name the client pod (name.namespace, as in the ztunnel dump) before the target, or give --src with its address');
  return { out: await run(sources, o, source), name: client.name };
}

/** Is this pod traced the ambient way? Any pod without an Envoy of its own: its node's ztunnel sees its traffic (or says it does not capture it). */
export function isAmbientCandidate(pod: ResolvedPod): boolean {
  return !hasSidecar(pod.pod as AmbientPod);
}

/** Live (or a bundle): the ztunnel on the pod's node, the destination node's, the waypoint pod's Envoy. */
export async function ambientTraceLive(o: TraceOptions & AmbientTraceOptions, cluster: ClusterSource, pod: ResolvedPod): Promise<{ out: TraceOutput; name: string }> {
  checkFlags(o);
  const { ztunnelOnNodeOf } = await import('../kube/ztunnel.js');
  const { adminAnswer, checkReachable } = await import('../kube/admin-source.js');
  const { resolvePod } = await import('../kube/pods.js');
  const istioNs = (o as Partial<KubeOptions>).istioNamespace ?? 'istio-system';
  const port = o.proxyAdminPort ?? 15000;
  const node = pod.pod.spec?.nodeName;
  if (!node) throw new MeshctlError(`pod ${pod.name}.${pod.namespace} is not scheduled on a node yet, so no ztunnel serves it`);
  const byNode = new Map<string, Promise<ZtunnelView>>();
  const readNode = (n: string) => {
    let p = byNode.get(n);
    if (!p) {
      p = (async () => {
        const z = await ztunnelOnNodeOf(cluster, istioNs, n);
        const label = `${z.name}.${z.namespace}`;
        const r = await cluster.podGet(z, port, '/config_dump');
        const input = adminAnswer(label, r.status, r.body, 'GET', '/config_dump', 'ztunnel');
        return { model: new ZtunnelModel(parseZtunnelDump(parseDocument(input), label)), name: label };
      })();
      byNode.set(n, p);
    }
    return p;
  };
  let client: ZtunnelView;
  try {
    client = await readNode(node);
  } catch (err) {
    // a pod with neither a sidecar nor a ztunnel: say both, not only the ambient half
    if (err instanceof MeshctlError && /no ztunnel DaemonSet/.test(err.message)) {
      throw new MeshctlError(`pod ${pod.name}.${pod.namespace} has no istio-proxy sidecar, and ${err.message.replace(/^no /, 'there is no ')}`);
    }
    throw err;
  }
  const worlds = new Map<string, Promise<AmbientWorld | undefined>>();
  const sources: AmbientSources = {
    client,
    rootNamespace: istioNs,
    resources: (ns) => {
      let w = worlds.get(ns);
      if (!w) worlds.set(ns, (w = liveWorld(cluster, ns, istioNs)));
      return w;
    },
    ztunnelOn: async (n) => {
      try {
        return await readNode(n);
      } catch (err) {
        if (!(err instanceof MeshctlError)) throw err;
        return { missing: `the ztunnel of node ${n} could not be read: ${err.message}` };
      }
    },
    waypoint: async (inst) => {
      const label = `${inst.name}.${inst.namespace}`;
      try {
        const wp = await resolvePod(cluster, label);
        checkReachable(wp, port);
        const r = await cluster.podGet(wp, port, '/config_dump?include_eds');
        const input = adminAnswer(label, r.status, r.body, 'GET', '/config_dump?include_eds');
        return { view: waypointView(parseDocument(input), label) };
      } catch (err) {
        if (!(err instanceof MeshctlError)) throw err;
        return { missing: `the Envoy of waypoint ${label} could not be read: ${err.message}` };
      }
    },
  };
  return { out: await run(sources, o, { name: pod.name, namespace: pod.namespace }), name: client.name };
}

/**
 * What says why a namespace's services and pods have their waypoints (src/ambient): the Namespaces, the
 * Gateways and GatewayClasses, and the namespace's Services, Pods and AuthorizationPolicies (with the root
 * namespace's). A refused or failed read leaves the trace with ztunnel's view alone (said in a note).
 */
async function liveWorld(cluster: ClusterSource, ns: string, rootNs: string): Promise<AmbientWorld | undefined> {
  const [{ NAMESPACE, POD, SERVICE }, { meshKind }, { listServed }] = await Promise.all([import('../kube/cluster.js'), import('../kube/kinds.js'), import('../kube/served.js')]);
  // not served in any version (the CRD is not installed): there are none
  const kind = async (group: string, plural: string, namespace?: string): Promise<Obj[]> =>
    ((await listServed(cluster, meshKind(group, plural), namespace ? { namespace } : {})) ?? []) as Obj[];
  const GW = 'gateway.networking.k8s.io';
  try {
    const [namespaces, services, pods, gateways, gatewayClasses, own, root] = await Promise.all([
      cluster.list(NAMESPACE),
      cluster.list(SERVICE, { namespace: ns }),
      cluster.list(POD, { namespace: ns }),
      kind(GW, 'gateways'),
      kind(GW, 'gatewayclasses'),
      kind('security.istio.io', 'authorizationpolicies', ns),
      ns === rootNs ? Promise.resolve([]) : kind('security.istio.io', 'authorizationpolicies', rootNs),
    ]);
    return { namespaces, services, pods, gateways, gatewayClasses, authorizationPolicies: [...own, ...root] } as AmbientWorld;
  } catch (err) {
    process.stderr.write(`Warning: cannot read the resources of namespace ${ns} (${describeError(err)}): the trace shows ztunnel's view without the labels that explain it\n`);
    return undefined;
  }
}
