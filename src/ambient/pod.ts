import { ambientEnrollment, ztunnelForNode, type AmbientEnrollment } from './enrollment.js';
import { USE_WAYPOINT, WAYPOINT_BOUND_CONDITION } from './labels.js';
import { unenforcedTargetRefWarnings, ztunnelPolicyWarnings } from './policies.js';
import type { AmbientPod, AmbientService, AmbientWorld, Condition } from './types.js';
import { labelsOf, list, namespaceOf, nameOf } from './types.js';
import { namedWaypoint, waypointFor, type WaypointBinding } from './waypoints.js';

/**
 * What the pod's ztunnel reports about it (the workload entry of its `/config_dump`). Given by the caller
 * once a ztunnel's view is available (src/ztunnel); describe works without it.
 */
export interface ZtunnelWorkloadView {
  /** The ztunnel (`namespace/name`) or saved dump the view came from. */
  source: string;
  /** false when the ztunnel has no workload for the pod (not pushed yet, or not in its mesh). */
  known: boolean;
  /** `HBONE` when ztunnel tunnels the pod's traffic, `TCP` when it sends it as plain TCP (not captured). */
  protocol?: string;
  /** The waypoint ztunnel has for traffic to the pod, as istioctl prints it (`None` without one). */
  waypoint?: string;
  /** The waypoint ztunnel has for each of the pod's services (`name.namespace`), as istioctl prints it. */
  services?: { service: string; waypoint: string }[];
}

export interface ServiceWaypoint {
  /** The service as `name.namespace`. */
  service: string;
  binding: WaypointBinding;
  /** Istio's own `istio.io/WaypointBound` condition on the Service, when its status has one. */
  condition?: Condition;
}

/** A pod in ambient mode: enrolment, ztunnel, and the waypoints of traffic to it and to its services. */
export interface PodAmbientFacts {
  enrollment: AmbientEnrollment;
  node?: string;
  /** The ztunnel on the pod's node (`namespace/name`), when its pods were read. */
  ztunnel?: string;
  /** Whether ztunnel pods were read at all: without them, which ztunnel serves the node is not known. */
  ztunnelsRead: boolean;
  ztunnelView?: ZtunnelWorkloadView;
  /** The waypoint of traffic addressed to the pod itself (its workload waypoint). */
  workload: WaypointBinding;
  /** The waypoint of traffic to each Service selecting the pod. */
  services: ServiceWaypoint[];
  warnings: string[];
}

export interface PodAmbientOptions {
  /** The mesh's root namespace (mesh-wide policies). */
  rootNamespace: string;
  istioNamespace: string;
  /** Whether ztunnel pods were read (live, or files holding some): only then is a missing one a finding. */
  ztunnelsKnown: boolean;
  ztunnelView?: ZtunnelWorkloadView;
}

/** The ambient facts of one pod; `services` are the Services selecting it. */
export function podAmbientFacts(world: AmbientWorld, pod: AmbientPod, services: readonly AmbientService[], options: PodAmbientOptions): PodAmbientFacts {
  const enrollment = ambientEnrollment(pod, world.namespaces);
  const ns = namespaceOf(pod);
  const podName = `${nameOf(pod)}.${ns}`;
  const warnings: string[] = [];
  const facts: PodAmbientFacts = { enrollment, ztunnelsRead: options.ztunnelsKnown, workload: waypointFor(world, pod, 'workload'), services: [], warnings };
  const node = pod.spec?.nodeName;
  if (node) facts.node = node;

  const nsObj = world.namespaces.find((n) => nameOf(n) === ns);
  if (enrollment.sidecar && enrollment.namespaceAmbient) {
    const injection = labelsOf(nsObj)['istio-injection'] === 'enabled' || labelsOf(nsObj)['istio.io/rev'] ? ' and sidecar injection' : '';
    warnings.push(
      `pod ${podName} has an Istio sidecar but namespace ${ns} is in ambient mode${injection}: ambient leaves sidecar pods alone, so its sidecar, not ztunnel, carries its traffic (label the pod istio.io/dataplane-mode=none if that is meant, else turn injection off and restart it)`,
    );
  }

  if (enrollment.enrolled) {
    const running = pod.status?.phase === 'Running';
    if (enrollment.redirection === 'pending') {
      warnings.push(`istio-cni has only partly redirected pod ${podName} (ambient.istio.io/redirection: pending): ztunnel is not carrying its traffic yet`);
    } else if (running && enrollment.redirection !== 'enabled') {
      warnings.push(
        `pod ${podName} is enrolled in ambient but istio-cni has not marked it redirected (no ambient.istio.io/redirection: enabled): its traffic may bypass ztunnel (is istio-cni running on node ${node ?? '?'}, or did the pod start before the label?)`,
      );
    }
    const zt = ztunnelForNode(world.pods, node, options.istioNamespace);
    if (zt) {
      facts.ztunnel = `${namespaceOf(zt)}/${nameOf(zt)}`;
      if (zt.status?.phase && zt.status.phase !== 'Running') warnings.push(`ztunnel ${facts.ztunnel} on node ${node} is not Running (${zt.status.phase}): the pod's traffic is not carried`);
    } else if (options.ztunnelsKnown && node) {
      warnings.push(`no ztunnel runs on node ${node}: the traffic of ambient pod ${podName} is not carried (is the ztunnel DaemonSet scheduled there?)`);
    }
    if (options.ztunnelView) {
      const v = options.ztunnelView;
      facts.ztunnelView = v;
      if (!v.known) warnings.push(`ztunnel ${v.source} has no workload for pod ${podName}: istiod has not pushed it (yet), so ztunnel does not carry its traffic`);
      else if (v.protocol !== 'HBONE') warnings.push(`ztunnel ${v.source} has pod ${podName} with protocol ${v.protocol}, not HBONE: it does not tunnel the pod's traffic`);
    }
  } else if (labelsOf(pod)[USE_WAYPOINT] !== undefined && labelsOf(pod)[USE_WAYPOINT] !== 'none' && enrollment.enrolled === false) {
    warnings.push(`pod ${podName} has ${USE_WAYPOINT}=${labelsOf(pod)[USE_WAYPOINT]} but is not in ambient mode (${enrollment.reason}): only ambient traffic goes through waypoints`);
  }

  warnings.push(...bindingWarnings(`traffic to pod ${podName}`, facts.workload));
  const bindings = new Map<string, WaypointBinding>();
  for (const svc of services) {
    const binding = waypointFor(world, svc, 'service');
    bindings.set(`${namespaceOf(svc)}/${nameOf(svc)}`, binding);
    const sw: ServiceWaypoint = { service: `${nameOf(svc)}.${namespaceOf(svc)}`, binding };
    const condition = list(svc.status?.conditions).find((c) => c.type === WAYPOINT_BOUND_CONDITION);
    if (condition) sw.condition = condition;
    facts.services.push(sw);
    warnings.push(...bindingWarnings(`traffic to service ${sw.service}`, binding));
    if (condition) warnings.push(...boundConditionWarnings(sw.service, condition, binding));
  }

  if (enrollment.enrolled && facts.ztunnelView?.known) warnings.push(...ztunnelDisagreements(facts, podName));

  if (enrollment.enrolled) {
    const through = [facts.workload, ...facts.services.map((s) => s.binding)].filter((b) => b.state === 'bound').map((b) => b.waypoint!);
    warnings.push(...ztunnelPolicyWarnings(world.authorizationPolicies, pod, options.rootNamespace, [...new Set(through)]));
    warnings.push(...unenforcedTargetRefWarnings(world.authorizationPolicies, services, bindings));
  }
  facts.warnings = [...new Set(warnings)];
  return facts;
}

/**
 * Where what the ztunnel holds differs from what the labels say (a waypoint on one side only, or another
 * one): configuration changed since, not pushed yet, or objects that were not read.
 */
function ztunnelDisagreements(f: PodAmbientFacts, podName: string): string[] {
  const v = f.ztunnelView!;
  const out: string[] = [];
  const compare = (what: string, b: WaypointBinding, zt: string | undefined) => {
    if (zt === undefined || b.state === 'unknown') return;
    const ours = b.state === 'bound' ? b.waypoint!.split('/')[1] : undefined;
    const theirs = zt === 'None' ? undefined : zt;
    if (ours === theirs) return;
    out.push(
      `ztunnel ${v.source} sends ${what} ${theirs ? `through waypoint ${theirs}` : 'to no waypoint'}, but the labels read give ${ours ? `waypoint ${b.waypoint}` : 'none'} (changed since, not pushed yet, or not every object was read)`,
    );
  };
  compare(`traffic to pod ${podName}`, f.workload, v.waypoint);
  for (const s of f.services) compare(`traffic to service ${s.service}`, s.binding, v.services?.find((x) => x.service === s.service)?.waypoint);
  return out;
}

/** The mistakes a binding shows: a label naming a waypoint istiod will not use, or a waypoint not programmed. */
export function bindingWarnings(what: string, b: WaypointBinding): string[] {
  const label = b.source === 'namespace' ? `its namespace's ${USE_WAYPOINT} label` : `its ${USE_WAYPOINT} label`;
  if (b.state === 'problem') {
    return [`${what}: ${label} names ${namedWaypoint(b)}: no waypoint handles it`];
  }
  if (b.state !== 'bound' || !b.facts) return [];
  const out: string[] = [];
  if (b.message) out.push(`${what} goes through Gateway ${b.waypoint}, which ${b.message}`);
  const programmed = [...b.facts.conditions].reverse().find((c) => c.type === 'Programmed');
  if (programmed && programmed.status !== 'True') {
    out.push(`${what} goes through waypoint ${b.waypoint}, which is not programmed (Programmed ${programmed.status}${programmed.reason ? `, ${programmed.reason}` : ''})${programmed.message ? `: ${programmed.message}` : ''}`);
  }
  return out;
}

/** Istio's own verdict on a Service's waypoint (its `istio.io/WaypointBound` condition), when it is False. */
export function boundConditionWarnings(service: string, c: Condition, computed: WaypointBinding): string[] {
  // when the labels already show the problem, Istio's condition only repeats it
  if (c.status !== 'False' || computed.state === 'problem') return [];
  return [`Istio reports service ${service} not bound to its waypoint (${WAYPOINT_BOUND_CONDITION} False${c.reason ? `, ${c.reason}` : ''})${c.message ? `: ${c.message}` : ''}`];
}

/** Whether ambient is worth a block in a report: enrolled, ambient-labelled, or any waypoint label in play. */
export function ambientRelevant(f: PodAmbientFacts): boolean {
  return (
    f.enrollment.enrolled === true ||
    f.enrollment.namespaceAmbient === true ||
    f.enrollment.waypointInstance !== undefined ||
    f.workload.waypoint !== undefined ||
    f.services.some((s) => s.binding.waypoint !== undefined || s.condition !== undefined) ||
    f.warnings.length > 0
  );
}
