import { isIP } from 'node:net';
import { waypointFor } from '../ambient/index.js';
import { chainForHost, type ChainPick, type Shadowed } from '../authz/chains.js';
import type { ServedService } from '../authz/select.js';
import { UsageError } from '../errors.js';
import { namespaceOf, nameOf, type KubeObject, type MeshObjects, type Pod } from '../describe/objects.js';
import { ambientWorld } from '../describe/report.js';

/** A DNS name as a Service or ServiceEntry host is written: labels of letters, digits, `-` and `_`, an optional `*.` first, an optional final dot. */
const HOST_NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i;

/** The pod a request to its own IP reaches through a waypoint's direct-access chain. */
export interface DirectChain {
  pod: Pod;
  ip: string;
  how: string;
  /** its container ports (the request's port when none is given) */
  ports: number[];
}

export interface WaypointRequest {
  objects: MeshObjects;
  /** `services`: those with a chain of their own; `shadowed`: the served ServiceEntries without one */
  served: { services: ServedService[]; unknown: (ServedService & { reason: string })[]; shadowed?: Shadowed[] };
  /** the waypoint, `namespace/name` */
  gateway: string;
  /** the client's principal: a relative host name is completed in its namespace */
  principal?: string;
  port?: number;
  /** the pods of the host's IP read from the cluster, or why they could not be */
  podsAtIp: Pod[];
  podsProblem?: string;
}

/**
 * Which of a waypoint's chains a request for `host` (as given; `bare`: without its port and brackets) takes:
 * a served service's (src/authz/chains.ts), or, for the IP of a pod the waypoint serves for its own traffic,
 * istiod's direct-access chain; otherwise the reason none is known. A malformed host is a usage error.
 */
export function pickWaypointChain(host: string, bare: string, w: WaypointRequest): { pick: ChainPick; direct?: DirectChain } {
  if (!bare) throw new UsageError('--host (or a Host header) is empty');
  // on a waypoint the host names the service (or pod) whose chain is decided: a malformed one is a mistake
  if (!isIP(bare) && !HOST_NAME.test(bare)) throw new UsageError(`--host (or a Host header) ${JSON.stringify(host)}: not a host name or IP address, with an optional :port`);
  const sourceNamespace = /\/ns\/([^/]+)\/sa\//.exec(w.principal ?? '')?.[1];
  const { objects, served } = w;
  const pick = chainForHost(bare, {
    served: [...served.services, ...(served.shadowed ?? []).map((x) => x.service)],
    unknown: served.unknown,
    services: objects.services,
    serviceEntries: objects.serviceEntries,
    ...(sourceNamespace ? { sourceNamespace } : {}),
    ...(w.port !== undefined ? { port: w.port } : {}),
  });
  if (pick.service || !isIP(bare)) return { pick };
  return directChain(bare, pick.reason, w);
}

/** An address no served service has: the pods with that IP, and whether this waypoint serves one of them for its own traffic. */
function directChain(ip: string, noService: string, w: WaypointRequest): { pick: ChainPick; direct?: DirectChain } {
  const key = (x: KubeObject) => `${namespaceOf(x)}/${nameOf(x)}`;
  const hasIp = (p: Pod) => p.status?.podIP === ip || ((p.status as { podIPs?: { ip?: string }[] } | undefined)?.podIPs ?? []).some((a) => a.ip === ip);
  const atIp = [...w.objects.pods.filter(hasIp), ...w.podsAtIp];
  const pods = atIp.filter((p, i) => atIp.findIndex((q) => key(q) === key(p)) === i);
  const world = ambientWorld(w.objects);
  const bindings = pods.map((p) => ({ p, b: waypointFor(world, p, 'workload') }));
  const bound = bindings.filter(({ b }) => b.state === 'bound' && b.waypoint === w.gateway);
  if (bound.length === 1) {
    const pod = bound[0].p;
    const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []).map((x) => Number(x.containerPort)).filter((x) => Number.isInteger(x) && x > 0);
    const direct = { pod, ip, how: `address ${ip}, pod ${key(pod)} (bound to this waypoint for its own traffic)`, ports };
    return { pick: { reason: `${ip} takes the direct-access chain` }, direct };
  }
  if (bound.length > 1) return { pick: { reason: `${ip} is the address of ${bound.length} pods bound to this waypoint (${bound.map(({ p }) => key(p)).join(', ')}): which one cannot be told` } };
  if (bindings.length) {
    const said = bindings.map(({ p, b }) => {
      const who = `pod ${key(p)}`;
      if (b.state === 'unknown') return `${who}, whose waypoint cannot be told (${b.message ?? 'not known'})`;
      if (b.waypoint === w.gateway) return `${who}, which names this waypoint but does not use it for its own traffic (the waypoint ${b.message ?? b.reason ?? 'refuses it'})`;
      if (b.state === 'bound') return `${who}, which uses waypoint ${b.waypoint} for its own traffic`;
      return `${who}, which uses no waypoint for its own traffic`;
    });
    const unsure = bindings.some(({ b }) => b.state === 'unknown');
    return { pick: { reason: `${ip} is the address of ${said.join('; ')}: ${unsure ? 'whether a chain of this waypoint takes the request cannot be told' : 'a request to it does not go through this waypoint'}` } };
  }
  if (w.podsProblem) return { pick: { reason: `${noService}; whether it is the address of a pod this waypoint serves cannot be told (${w.podsProblem})` } };
  return { pick: { reason: noService } };
}
