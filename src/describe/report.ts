import { ambientEnrollment, DATAPLANE_MODE, DATAPLANE_MODE_AMBIENT, ambientRelevant, bindingWarnings, boundConditionWarnings, podAmbientFacts, servicesOfWaypoint, waypointFor, WAYPOINT_BOUND_CONDITION, type AmbientWorld, type Condition, type PodAmbientFacts, type WaypointBinding, type WaypointService, type ZtunnelWorkloadView } from '../ambient/index.js';
import { chainedServices, type Chain, type Shadowed } from '../authz/chains.js';
import { gatewayNameOf, isWaypointPod } from '../authz/select.js';
import { authorizationFor, type AuthorizationFacts } from './authz.js';
import { effectiveClientTls, lookupDestinationRules, matchSubsets, nearMissRules, summarisePolicy, type SubsetMatch } from './destination-rules.js';
import { confirmWithEnvoy, type EnvoyFacts, type EnvoyView } from './envoy-view.js';
import { routeExposures, type RouteExposure } from './gateway-api.js';
import { gatewayExposures, type GatewayExposure } from './gateways.js';
import { precedenceWarnings, routeCandidates } from './mesh-route-precedence.js';
import { meshRoutesFor, meshRoutesVia } from './mesh-routes.js';
import { serviceFqdn } from '../resources/hosts.js';
import type { MeshSettings } from './mesh.js';
import { effectiveMtls, mtlsForPort, type EffectiveMtls } from './mtls.js';
import type { WaypointServingObjects } from '../authz/cluster.js';
import type { DestinationRule, KubeObject, Labels, MeshObjects, Pod, Service } from './objects.js';
import { kname, namespaceOf, nameOf, originOf } from './objects.js';
import { podFacts, type PodFacts } from './pod.js';
import { endpointState, endpointWarning, podsSelectedBy, servicePortFacts, servicesSelecting } from './services.js';
import { describeVirtualService, duplicateHostWarnings, virtualServicesRoutingTo, type VirtualServiceFacts } from './virtual-services.js';
import type { DestinationRuleFacts, ServiceReport } from './service-report.js';

export type { DestinationRuleFacts, ServiceReport } from './service-report.js';

export interface PodReport {
  kind: 'Pod';
  pod: PodFacts;
  services: ServiceReport[];
  mtls: EffectiveMtls;
  authorization: AuthorizationFacts;
  exposures: GatewayExposure[];
  /** Exposure through Gateway API routes; present only when a route reaches the workload. */
  gatewayApiExposures?: RouteExposure[];
  /** Ambient mode: present when the pod is enrolled, its namespace is ambient, or a waypoint label applies. */
  ambient?: PodAmbientFacts;
  envoy?: EnvoyFacts;
  /** Every warning of the report, in the order printed. */
  warnings: string[];
}

export interface ServicePodSummary {
  name: string;
  phase?: string;
  sidecar: boolean;
  /** Enrolled in ambient mode (ztunnel carries its traffic). */
  ambient?: boolean;
  ready?: boolean;
  subsets: string[];
}

export interface ServiceDescribeReport {
  kind: 'Service';
  service: ServiceReport;
  pods: ServicePodSummary[];
  /** Inbound mTLS per group of pods that get the same answer. */
  mtls: (EffectiveMtls & { pods: string[] })[];
  authorization: (AuthorizationFacts & { pods: string[] })[];
  exposures: GatewayExposure[];
  /** Exposure through Gateway API routes; present only when a route reaches the service. */
  gatewayApiExposures?: RouteExposure[];
  /** The service's waypoint (ambient), when a waypoint label applies or Istio reports a binding. */
  waypoint?: { binding: WaypointBinding; condition?: Condition };
  envoy?: EnvoyFacts;
  warnings: string[];
}

export interface DescribeOptions {
  mesh: MeshSettings;
  /** The namespace the user is "in": names there are printed without `.namespace`, as istioctl does. */
  currentNamespace: string;
  envoy?: EnvoyView;
  /** istiod's namespace (where the ztunnel pods are looked for first; default the root namespace). */
  istioNamespace?: string;
  /** Whether ztunnel pods were read (live); offline, whether the files hold any. */
  ztunnelsKnown?: boolean;
  /** The pod's ztunnel's own view of it, when available (src/ztunnel). */
  ztunnelView?: ZtunnelWorkloadView;
}

/** The objects ambient decisions read, from describe's. */
export function ambientWorld(objects: MeshObjects): AmbientWorld {
  return {
    namespaces: objects.namespaces,
    pods: objects.pods,
    services: objects.services,
    gateways: objects.apiGateways,
    gatewayClasses: objects.gatewayClasses,
    authorizationPolicies: objects.authorizationPolicies,
    serviceEntries: objects.serviceEntries,
  };
}

/**
 * For a waypoint's pod, the Services and ServiceEntries it serves (AuthorizationPolicies attached to one
 * reach it through them), those whose binding cannot be told from the objects, and the served ServiceEntries
 * with no chain of their own (src/authz/chains.ts); undefined for other pods.
 */
export function waypointServicesOf(objects: MeshObjects, ns: string, labels: Labels): { services: Chain<WaypointService>[]; unknown: (WaypointService & { reason: string })[]; shadowed: Shadowed[] } | undefined {
  const gateway = gatewayNameOf(labels);
  if (gateway === undefined || !isWaypointPod(labels)) return undefined;
  const serving = servicesOfWaypoint(ambientWorld(objects), ns, gateway);
  // the chains istiod builds (src/authz/chains.ts): a served service without one has its policies on none
  return chainedServices(serving.services, objects.services, objects.serviceEntries, serving.unknown);
}

/**
 * Adds to `objects` what the cluster holds of the kinds that tell which services a waypoint serves; an
 * object already there (from manifests: "what if I apply this") is kept over the cluster's.
 */
export function addWaypointServing(objects: MeshObjects, w: Omit<WaypointServingObjects, 'problems'>): void {
  const lists = [
    [objects.services, w.services],
    [objects.namespaces, w.namespaces],
    [objects.apiGateways, w.gateways],
    [objects.gatewayClasses, w.gatewayClasses],
    [objects.serviceEntries, w.serviceEntries],
  ] as [KubeObject[], KubeObject[]][];
  const key = (o: KubeObject) => `${namespaceOf(o)}/${nameOf(o)}`;
  for (const [mine, theirs] of lists) {
    const have = new Set(mine.map(key));
    mine.push(...theirs.filter((x) => !have.has(key(x))));
  }
}

export function describePod(objects: MeshObjects, pod: Pod, options: DescribeOptions): PodReport {
  const { mesh, currentNamespace: cur } = options;
  const ns = namespaceOf(pod);
  const labels = pod.metadata?.labels ?? {};
  const facts = podFacts(pod, objects.namespaces, cur);
  const warnings: string[] = [...facts.warnings];

  const selecting = servicesSelecting(pod, objects.services);
  if (selecting.length === 0) {
    warnings.push(`No Kubernetes Services select pod ${kname(pod, cur)} (see https://istio.io/latest/docs/ops/deployment/application-requirements/)`);
  }
  const mtls = effectiveMtls(objects.peerAuthentications, ns, labels, mesh.rootNamespace);
  const services = selecting.map((svc) => serviceReport(objects, svc, [pod], pod, ns, labels, mtls, options));
  for (const s of services) warnings.push(...s.warnings);
  warnings.push(...mtls.warnings);
  const authorization = authorizationFor(objects.authorizationPolicies, ns, labels, mesh.rootNamespace, waypointServicesOf(objects, ns, labels));
  warnings.push(...authorization.warnings);
  const exposures = gatewayExposures(
    services.flatMap((s) => s.virtualServices.map((v) => findVs(objects, v))).filter(unique),
    objects.gateways,
    objects.services,
    objects.pods,
    cur,
  );
  for (const e of exposures) warnings.push(...e.warnings);
  const routes = routeExposures(objects, selecting);
  for (const e of routes) warnings.push(...e.warnings);

  const ambient = podAmbientFacts(ambientWorld(objects), pod, selecting, {
    rootNamespace: mesh.rootNamespace,
    istioNamespace: options.istioNamespace ?? mesh.rootNamespace,
    ztunnelsKnown: options.ztunnelsKnown ?? objects.pods.some((p) => p.metadata?.labels?.app === 'ztunnel'),
    ...(options.ztunnelView ? { ztunnelView: options.ztunnelView } : {}),
  });

  const report: PodReport = { kind: 'Pod', pod: facts, services, mtls, authorization, exposures, warnings };
  if (routes.length) report.gatewayApiExposures = routes;
  if (ambientRelevant(ambient)) {
    report.ambient = ambient;
    warnings.push(...ambient.warnings);
  }
  if (options.envoy) {
    const envoy = confirmWithEnvoy(options.envoy, { pod, services: selecting, reports: services, authorization, mtls, currentNamespace: cur, domain: mesh.domainSuffix });
    report.envoy = envoy;
    if (envoy.version && !facts.sidecar.version) facts.sidecar.version = envoy.version;
    warnings.push(...envoy.warnings);
  }
  report.warnings = dedupe(warnings);
  return report;
}

export function describeService(objects: MeshObjects, svc: Service, options: DescribeOptions): ServiceDescribeReport {
  const { mesh, currentNamespace: cur } = options;
  const ns = namespaceOf(svc);
  const pods = podsSelectedBy(svc, objects.pods).sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  const warnings: string[] = [];
  const podFactsList = pods.map((p) => podFacts(p, objects.namespaces, cur));
  if (Object.keys(svc.spec?.selector ?? {}).length === 0) {
    warnings.push(`Service ${kname(svc, cur)} has no selector: its endpoints are managed by hand, describe cannot tell which pods serve it`);
  } else if (pods.length === 0) {
    warnings.push(`Service ${kname(svc, cur)} has no pods`);
  } else if (!podFactsList.some((f) => f.sidecar.injected || f.ambient)) {
    warnings.push(`Service ${kname(svc, cur)} has no Istio pods (${pods.length} pods in service); inject a sidecar (meshctl kube-inject, or namespace injection) and restart them`);
  }
  for (const f of podFactsList) warnings.push(...f.warnings);

  const first = pods[0];
  const firstLabels: Labels = first?.metadata?.labels ?? {};
  const firstMtls = effectiveMtls(objects.peerAuthentications, ns, firstLabels, mesh.rootNamespace);
  const service = serviceReport(objects, svc, pods, first, ns, firstLabels, firstMtls, options);
  warnings.push(...service.warnings);

  const mtlsGroups: ServiceDescribeReport['mtls'] = [];
  const authGroups: ServiceDescribeReport['authorization'] = [];
  for (const p of pods) {
    const labels = p.metadata?.labels ?? {};
    group(mtlsGroups, effectiveMtls(objects.peerAuthentications, ns, labels, mesh.rootNamespace), nameOf(p));
    group(authGroups, authorizationFor(objects.authorizationPolicies, ns, labels, mesh.rootNamespace, waypointServicesOf(objects, ns, labels)), nameOf(p));
  }
  if (pods.length === 0) {
    mtlsGroups.push({ ...effectiveMtls(objects.peerAuthentications, ns, {}, mesh.rootNamespace), pods: [] });
  }
  for (const g of mtlsGroups) warnings.push(...g.warnings);
  for (const g of authGroups) warnings.push(...g.warnings);
  if (mtlsGroups.length > 1) warnings.push(`pods of service ${kname(svc, cur)} get different inbound mTLS modes: ${mtlsGroups.map((g) => `${g.mode} (${g.pods.join(', ')})`).join('; ')}`);

  const exposures = gatewayExposures(
    service.virtualServices.map((v) => findVs(objects, v)).filter(unique),
    objects.gateways,
    objects.services,
    objects.pods,
    cur,
  );
  for (const e of exposures) warnings.push(...e.warnings);
  const routes = routeExposures(objects, [svc]);
  for (const e of routes) warnings.push(...e.warnings);
  const subsetsOf = (p: Pod) => (service.destinationRule ? matchSubsets(rulesOf(objects, service.destinationRule), [p.metadata?.labels ?? {}]).matching : []);
  const podSummaries: ServicePodSummary[] = pods.map((p, i) => {
    const f = podFactsList[i];
    const s: ServicePodSummary = { name: f.name, sidecar: f.sidecar.injected, subsets: subsetsOf(p) };
    if (f.ambient) {
      s.ambient = true;
      // no sidecar to be ready: the pod's own containers
      if (f.containers.length && f.containers.every((x) => x.ready !== undefined)) s.ready = f.containers.every((x) => x.ready);
    }
    if (f.phase) s.phase = f.phase;
    if (f.sidecar.ready !== undefined) s.ready = f.sidecar.ready;
    return s;
  });
  const report: ServiceDescribeReport = { kind: 'Service', service, pods: podSummaries, mtls: mtlsGroups, authorization: authGroups, exposures, warnings };
  if (routes.length) report.gatewayApiExposures = routes;
  const binding = waypointFor(ambientWorld(objects), svc, 'service');
  const condition = (svc.status?.conditions ?? []).find((c) => c.type === WAYPOINT_BOUND_CONDITION);
  if (binding.waypoint || binding.state === 'opt-out' || condition) {
    report.waypoint = condition ? { binding, condition } : { binding };
    warnings.push(...bindingWarnings(`traffic to service ${kname(svc, cur)}`, binding));
    if (condition) warnings.push(...boundConditionWarnings(kname(svc, cur), condition, binding));
  }
  if (options.envoy && first) {
    // the dump is of one of the pods: compare with that one when it says which
    const dumped = pods.find((p) => nameOf(p) === options.envoy?.podName) ?? first;
    const envoy = confirmWithEnvoy(options.envoy, {
      pod: dumped,
      services: [svc],
      reports: [service],
      authorization: authGroups[0],
      mtls: mtlsGroups[0],
      currentNamespace: cur,
      domain: mesh.domainSuffix,
    });
    report.envoy = envoy;
    warnings.push(...envoy.warnings);
  }
  report.warnings = dedupe(warnings);
  return report;
}

function serviceReport(
  objects: MeshObjects,
  svc: Service,
  pods: Pod[],
  pod: Pod | undefined,
  clientNs: string,
  clientLabels: Labels,
  mtls: EffectiveMtls,
  options: DescribeOptions,
): ServiceReport {
  const { mesh, currentNamespace: cur } = options;
  const ns = namespaceOf(svc);
  const host = serviceFqdn(nameOf(svc), ns, mesh.domainSuffix);
  const warnings: string[] = [];
  const ports = servicePortFacts(svc, pod);
  // a Service Istio's deployment controller made for a Gateway (a waypoint's among them): its ports are the
  // Gateway's listeners, named and given appProtocol (e.g. "hbone") by Istio, not by the user
  const generated = svc.metadata?.labels?.['gateway.networking.k8s.io/gateway-name'] !== undefined && svc.metadata?.labels?.['gateway.istio.io/managed'] !== undefined;
  for (const p of ports) {
    if (p.error) warnings.push(`service ${kname(svc, cur)} port ${p.port} ${p.error}`);
    if (!generated && p.protocol === 'auto-detect' && p.protocolSource.includes('names no protocol')) {
      warnings.push(`service ${kname(svc, cur)} port ${p.port}: ${p.protocolSource}; Istio will sniff the protocol (name it http-..., grpc-..., tcp-... or set appProtocol)`);
    }
  }
  const report: ServiceReport = { name: nameOf(svc), namespace: ns, host, ports, virtualServices: [], warnings };

  if (pod && pods.length === 1) {
    const state = endpointState(svc, pod, objects.endpoints);
    if (state) report.endpoint = state;
    const w = endpointWarning(state, svc, pod, cur);
    if (w) warnings.push(w);
  }

  const podsLabels = pods.map((p) => p.metadata?.labels ?? {});
  const lookup = lookupDestinationRules(objects.destinationRules, host, ns, clientNs, clientLabels, mesh);
  let subsets: SubsetMatch = { matching: [], nonMatching: [] };
  let firstRule: DestinationRule | undefined;
  if (lookup) {
    warnings.push(...lookup.warnings);
    firstRule = lookup.rules[0];
    subsets = matchSubsets(lookup.rules, podsLabels);
    const policyRule = lookup.rules.find((r) => r.spec?.trafficPolicy);
    const facts: DestinationRuleFacts = {
      rules: lookup.rules.map((r) => withOrigin({ name: nameOf(r), namespace: namespaceOf(r) }, r)),
      host: firstRule.spec?.host ?? '',
      resolvedHost: lookup.host,
      scope: lookup.scope,
      subsets,
      subsetPolicies: [],
    };
    const tp = summarisePolicy(policyRule?.spec?.trafficPolicy);
    if (tp) facts.trafficPolicy = tp;
    for (const r of lookup.rules) {
      for (const s of r.spec?.subsets ?? []) {
        const sp = summarisePolicy(s.trafficPolicy);
        if (sp && subsets.matching.includes(s.name ?? '') && !facts.subsetPolicies.some((x) => x.subset === s.name)) {
          facts.subsetPolicies.push({ subset: s.name ?? '', trafficPolicy: sp });
        }
      }
    }
    report.destinationRule = facts;
    if (subsets.matching.length === 0 && subsets.nonMatching.length > 0) {
      warnings.push(`POD DOES NOT MATCH ANY SUBSETS of DestinationRule ${kname(firstRule, cur)} (non-matching subsets ${subsets.nonMatching.join(',')})`);
    }
    // Client TLS (from the rule) against what the pod accepts (PeerAuthentication), port by port.
    for (const p of ports) {
      if (p.targetPort === undefined) continue;
      const client = effectiveClientTls(policyRule?.spec?.trafficPolicy, p.port);
      const server = mtlsForPort(mtls, p.targetPort);
      if (client === 'DISABLE' && server === 'STRICT') {
        warnings.push(
          `DestinationRule ${kname(policyRule!, cur)} disables TLS to ${nameOf(svc)}:${p.port} but the pod requires mTLS (STRICT) on port ${p.targetPort}: sidecar clients will be reset (503)`,
        );
      } else if (client === 'ISTIO_MUTUAL' && server === 'DISABLE') {
        warnings.push(
          `DestinationRule ${kname(policyRule!, cur)} sends Istio mTLS to ${nameOf(svc)}:${p.port} but PeerAuthentication disables mTLS on port ${p.targetPort}: requests will fail`,
        );
      }
    }
  }
  for (const dr of nearMissRules(objects.destinationRules, nameOf(svc), ns)) {
    warnings.push(`DestinationRule ${kname(dr, cur)} has host "${dr.spec?.host}", which Istio does not expand: it never matches ${host} (use "${nameOf(svc)}" or the full name)`);
  }

  const meshRoutes = meshRoutesOf(objects, svc, pods, host, mesh, cur);
  warnings.push(...duplicateHostWarnings(objects.virtualServices, host, ns, mesh, meshRoutes.candidates));
  if (meshRoutes.routes.length) {
    report.meshRoutes = meshRoutes.routes;
    warnings.push(...meshRoutes.routes.flatMap((r) => r.warnings), ...meshRoutes.precedence);
  }
  const via = meshRoutesVia(objects, svc);
  if (via.length) report.meshRoutesVia = via;
  for (const vs of virtualServicesRoutingTo(objects.virtualServices, host, mesh)) {
    const f = describeVirtualService(vs, host, subsets, firstRule, clientNs, mesh, cur);
    report.virtualServices.push(withOrigin(f, vs));
    warnings.push(...f.warnings.map((w) => `VirtualService ${kname(vs, cur)}: ${w}`));
  }
  return report;
}

/** The Gateway API routes attached to the service, and which of them and its VirtualServices sidecars use. */
function meshRoutesOf(objects: MeshObjects, svc: Service, pods: Pod[], host: string, mesh: MeshSettings, cur: string) {
  const world = ambientWorld(objects);
  const waypoint = waypointFor(world, svc, 'service');
  const nsAmbient = objects.namespaces.find((n) => nameOf(n) === namespaceOf(svc))?.metadata?.labels?.[DATAPLANE_MODE] === DATAPLANE_MODE_AMBIENT;
  // the pods decide; without pods, the namespace's label
  const ambient = pods.length > 0 ? pods.some((p) => ambientEnrollment(p, objects.namespaces).enrolled === true) : nsAmbient;
  const routes = meshRoutesFor(objects, svc, { ambient, waypoint, domainSuffix: mesh.domainSuffix }, cur);
  const candidates = routeCandidates(objects, routes, svc);
  return { routes, candidates, precedence: precedenceWarnings(objects, candidates, svc, host, mesh, waypoint.state === 'bound') };
}

function withOrigin<T extends object>(facts: T, obj: object): T & { origin?: string } {
  const origin = originOf(obj);
  return origin ? { ...facts, origin } : facts;
}

function rulesOf(objects: MeshObjects, facts: DestinationRuleFacts): DestinationRule[] {
  return facts.rules
    .map((r) => objects.destinationRules.find((d) => nameOf(d) === r.name && namespaceOf(d) === r.namespace))
    .filter((d): d is DestinationRule => d !== undefined);
}

function findVs(objects: MeshObjects, f: VirtualServiceFacts) {
  return objects.virtualServices.find((v) => nameOf(v) === f.name && namespaceOf(v) === f.namespace)!;
}

function unique<T>(v: T, i: number, a: T[]): boolean {
  return a.indexOf(v) === i;
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

function group<T extends object>(groups: (T & { pods: string[] })[], value: T, pod: string): void {
  const key = JSON.stringify(value);
  const g = groups.find(({ pods: _pods, ...rest }) => JSON.stringify(rest) === key);
  if (g) g.pods.push(pod);
  else groups.push({ ...value, pods: [pod] });
}

/** Adds what istiod says about the pod's proxy (live mode): the replica serving it and whether it is in sync. */
export function addIstiodConnection(report: PodReport, conn: { istiod: string; sync: Record<string, string> } | undefined): void {
  if (!conn) return;
  report.pod.sidecar.connectedTo = conn.istiod;
  report.pod.sidecar.sync = conn.sync;
  const stale = Object.entries(conn.sync).filter(([type, state]) => state.startsWith('STALE') || (state === 'NOT SENT' && type !== 'ECDS'));
  if (stale.length) {
    const w = `istiod ${conn.istiod} reports the proxy out of sync: ${stale.map(([t, st]) => `${t} ${st}`).join(', ')}`;
    report.pod.warnings.push(w);
    report.warnings.push(w);
  }
}
