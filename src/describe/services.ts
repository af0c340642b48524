import type { Endpoints, Pod, Service, ServicePort } from './objects.js';
import { kname, namespaceOf, nameOf, selectorMatches } from './objects.js';
import { servicePortProtocol } from './protocol.js';

export interface ServicePortFacts {
  name?: string;
  port: number;
  /** IP protocol (TCP/UDP/SCTP). */
  transport: string;
  /** Istio's protocol for the port (HTTP, GRPC, TCP, auto-detect, ...). */
  protocol: string;
  protocolSource: string;
  targetPort?: number;
  /** Set when the target port cannot be resolved on the pod (a name no container port has). */
  error?: string;
}

/** Services in the pod's namespace whose (non-empty) selector matches the pod's labels, by name. */
export function servicesSelecting(pod: Pod, services: Service[]): Service[] {
  const ns = namespaceOf(pod);
  const labels = pod.metadata?.labels ?? {};
  return services
    .filter((s) => namespaceOf(s) === ns && Object.keys(s.spec?.selector ?? {}).length > 0 && selectorMatches(s.spec?.selector, labels))
    .sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
}

/** Pods a Service selects (same namespace, non-empty selector). */
export function podsSelectedBy(svc: Service, pods: Pod[]): Pod[] {
  const sel = svc.spec?.selector ?? {};
  if (Object.keys(sel).length === 0) return [];
  return pods.filter((p) => namespaceOf(p) === namespaceOf(svc) && selectorMatches(sel, p.metadata?.labels));
}

export function servicePortFacts(svc: Service, pod: Pod | undefined): ServicePortFacts[] {
  return (svc.spec?.ports ?? []).map((p) => {
    const proto = servicePortProtocol(p);
    const f: ServicePortFacts = {
      port: p.port ?? 0,
      transport: (p.protocol ?? 'TCP').toUpperCase(),
      protocol: proto.protocol,
      protocolSource: proto.source,
    };
    if (p.name) f.name = p.name;
    const target = resolveTargetPort(p, pod);
    if (typeof target === 'number') f.targetPort = target;
    else f.error = target.error;
    return f;
  });
}

/** The pod port a service port sends to: a number as is, a name looked up in the pod's container ports. */
export function resolveTargetPort(p: ServicePort, pod: Pod | undefined): number | { error: string } {
  const t = p.targetPort;
  if (t === undefined || t === '') return p.port ?? 0;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(t)) return Number(t);
  if (!pod) return { error: `targets named port "${t}"` };
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const cp of c.ports ?? []) if (cp.name === t && cp.containerPort !== undefined) return cp.containerPort;
  }
  return { error: `targets port name "${t}", which no container of pod ${nameOf(pod)} declares` };
}

export type EndpointState = 'ready' | 'not ready' | 'absent';

/** Is the pod among the service's endpoints (by pod name or IP)? Undefined when no Endpoints object is known. */
export function endpointState(svc: Service, pod: Pod, endpoints: Endpoints[]): EndpointState | undefined {
  const ep = endpoints.find((e) => nameOf(e) === nameOf(svc) && namespaceOf(e) === namespaceOf(svc));
  if (!ep) return undefined;
  const isPod = (a: { ip?: string; targetRef?: { kind?: string; name?: string } }) =>
    (a.targetRef?.kind === 'Pod' && a.targetRef.name === nameOf(pod)) || (pod.status?.podIP !== undefined && a.ip === pod.status.podIP);
  for (const s of ep.subsets ?? []) if ((s.addresses ?? []).some(isPod)) return 'ready';
  for (const s of ep.subsets ?? []) if ((s.notReadyAddresses ?? []).some(isPod)) return 'not ready';
  return 'absent';
}

export function endpointWarning(state: EndpointState | undefined, svc: Service, pod: Pod, currentNs: string): string | undefined {
  if (state === 'not ready') return `pod ${kname(pod, currentNs)} is a NOT READY endpoint of service ${kname(svc, currentNs)}: it receives no traffic through it`;
  if (state === 'absent') return `pod ${kname(pod, currentNs)} is not among the endpoints of service ${kname(svc, currentNs)} (stale Endpoints, or the pod is not ready)`;
  return undefined;
}
