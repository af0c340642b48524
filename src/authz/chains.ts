import { isIP } from 'node:net';
import { inCidr, parseIp } from '../match/ip.js';
import { hostMatches, mostSpecificHost, searchNames, serviceFqdn } from '../resources/hosts.js';
import { selectPolicies, type Selectable, type ServedService, type Workload } from './select.js';

/**
 * A waypoint's filter chains. istiod builds one chain per service (and port) the waypoint serves, each with
 * its own authorization filters: those of policies attached to the waypoint's Gateway or to the
 * `istio-waypoint` GatewayClass, which every chain has, plus those attached to that one service
 * (authz.NewBuilderForService: the policy matcher is given only that service). ztunnel sends a request to
 * the chain of the service it was addressed to: by the service's address, else by `hostname:port`.
 */

/** A Service or ServiceEntry as read from manifests or the API (its spec is checked here, not trusted). */
export interface AddressedObject {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string };
  spec?: unknown;
}

export const serviceLabel = (s: ServedService) => `${s.kind ?? 'Service'} ${s.namespace}/${s.name}`;
const key = (s: ServedService) => `${s.kind ?? 'Service'}/${s.namespace}/${s.name}`;

/** The policies on one service's chain, and those on every chain (Gateway- and GatewayClass-attached). */
export function chainPolicies<T extends Selectable>(all: T[], w: Workload, service: ServedService | null): T[] {
  return selectPolicies(all, { ...w, services: service ? [service] : [] }).map((s) => s.policy);
}

/**
 * Whether every chain of the waypoint holds the same policies: none of `selected` (the policies of all its
 * chains) is attached to a Service or ServiceEntry.
 */
export function chainsAlike<T extends Selectable>(all: T[], w: Workload, selected: T[]): boolean {
  return chainPolicies(all, w, null).length === selected.length;
}

/** The chain a request takes (`host`: the name or address it was picked by; `ports`: the service's), or why none is known. */
export type ChainPick = { service: ServedService; how: string; host: string; ports: number[] } | { service?: undefined; reason: string };

interface Candidate extends ServedService {
  hosts: string[];
  addresses: string[];
  ports: number[];
  /** creationTimestamp in ms, when known */
  created?: number;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const field = (v: unknown, k: string): unknown => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined);

function candidates(services: AddressedObject[], serviceEntries: AddressedObject[]): Candidate[] {
  const out: Candidate[] = [];
  const created = (o: AddressedObject) => {
    const t = Date.parse(String(o.metadata?.creationTimestamp ?? ''));
    return Number.isNaN(t) ? {} : { created: t };
  };
  for (const s of services) {
    const name = s.metadata?.name ?? '';
    const namespace = s.metadata?.namespace ?? 'default';
    const ips = [...list(field(s.spec, 'clusterIPs')), field(s.spec, 'clusterIP')].filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
    out.push({ name, namespace, kind: 'Service', hosts: [serviceFqdn(name, namespace)], addresses: [...new Set(ips)], ports: list(field(s.spec, 'ports')).map((p) => Number(field(p, 'port'))), ...created(s) });
  }
  for (const se of serviceEntries) {
    const name = se.metadata?.name ?? '';
    const namespace = se.metadata?.namespace ?? 'default';
    const hosts = list(field(se.spec, 'hosts')).map((h) => String(h).toLowerCase());
    const addresses = list(field(se.spec, 'addresses')).map(String);
    out.push({ name, namespace, kind: 'ServiceEntry', hosts, addresses, ports: list(field(se.spec, 'ports')).map((p) => Number(field(p, 'number'))), ...created(se) });
  }
  return out;
}

/**
 * The one service istiod keeps for a hostname in a namespace, or why it cannot be told. Its push context
 * indexes services by hostname and namespace (pilot/pkg/model/push_context.go, initServiceRegistry): a
 * Kubernetes Service wins over ServiceEntries, else the oldest (creation time; the tie-break, the name, is
 * the hostname itself for a ServiceEntry, so a tie is left to the registry's order). The ambient index agrees
 * for a Service: it joins Services before ServiceEntries and keeps the first of a namespace/hostname
 * (pilot/pkg/serviceregistry/kube/controller/ambient/services.go, pkg/kube/krt/join.go).
 */
function holderOf(all: Candidate[], namespace: string, host: string): { holder: Candidate; group: Candidate[] } | { reason: string; group: Candidate[] } {
  const group = all.filter((c) => c.namespace === namespace && c.hosts.includes(host));
  const service = group.find((c) => c.kind === 'Service');
  if (service) return { holder: service, group };
  if (group.length === 1) return { holder: group[0], group };
  const names = group.map(serviceLabel).join(', ');
  if (group.some((c) => c.created === undefined)) return { reason: `${names} all have host ${host} in namespace ${namespace}: istiod keeps the oldest, and their creationTimestamps are not all known`, group };
  const oldest = Math.min(...group.map((c) => c.created!));
  const first = group.filter((c) => c.created === oldest);
  if (first.length > 1) return { reason: `${names} all have host ${host} in namespace ${namespace}: istiod keeps the oldest, and ${first.map(serviceLabel).join(', ')} were created in the same second, which leaves it to the registry's order`, group };
  return { holder: first[0], group };
}

/** A served ServiceEntry with no chain of its own: each of its hosts is another service's in its namespace. */
export interface Shadowed {
  service: ServedService;
  by: ServedService[];
  hosts: string[];
}

/** Says that a served ServiceEntry has no chain of its own, and whose its hosts are. */
export function shadowedNote(s: Shadowed): string {
  const hosts = s.hosts.join(', ');
  return `${serviceLabel(s.service)} uses this waypoint but has no chain of its own: istiod keeps ${s.by.map(serviceLabel).join(', ')} for ${s.hosts.length > 1 ? 'its hosts' : 'its host'} ${hosts} (a Kubernetes Service over a ServiceEntry, else the oldest), so the policies attached to it are on no chain`;
}

/**
 * The served services the waypoint builds a chain for, and the ServiceEntries it does not: istiod builds
 * a waypoint's chains from the service its push context keeps for each hostname and namespace (see
 * holderOf; pilot/pkg/networking/core/waypoint.go, findWaypointResources), so a ServiceEntry whose every host
 * is kept for another one (a Kubernetes Service of that name, an older ServiceEntry) has none, and the
 * policies attached to it are on no chain. One whose holder cannot be told keeps its chain here.
 */
export function chainedServices<S extends ServedService>(served: S[], services: AddressedObject[], serviceEntries: AddressedObject[]): { services: S[]; shadowed: Shadowed[] } {
  const all = candidates(services, serviceEntries);
  const out: S[] = [];
  const shadowed: Shadowed[] = [];
  for (const s of served) {
    const c = all.find((x) => key(x) === key(s));
    const holders = (c?.kind === 'ServiceEntry' ? c.hosts : []).map((h) => holderOf(all, c!.namespace, h));
    const others = holders.map((h) => ('holder' in h && key(h.holder) !== key(s) ? h.holder : undefined));
    if (c && others.length && others.every((o) => o !== undefined)) {
      const by = others.filter((o, i) => others.findIndex((x) => key(x!) === key(o!)) === i).map((o) => ({ name: o!.name, namespace: o!.namespace, kind: o!.kind }));
      shadowed.push({ service: s, by, hosts: c.hosts });
    } else out.push(s);
  }
  return { services: out, shadowed };
}

const validPorts = (ports: number[]) => ports.filter((p) => Number.isInteger(p) && p > 0);

/**
 * How a client addresses a served service: its name (a Service's FQDN, a ServiceEntry's first host) and
 * its ports, as its Service or ServiceEntry lists them (istiod builds a chain per port).
 */
export function servedAddressing(s: ServedService, services: AddressedObject[], serviceEntries: AddressedObject[]): { host?: string; ports: number[] } {
  const c = candidates(services, serviceEntries).find((x) => key(x) === key(s));
  return { host: c?.hosts[0], ports: validPorts(c?.ports ?? []) };
}

function hasAddress(c: Candidate, ip: string): boolean {
  const parsed = parseIp(ip);
  if (!parsed) return false;
  return c.addresses.some((a) => {
    const [prefix, len] = a.split('/');
    if (!isIP(prefix)) return false;
    if (len !== undefined) return inCidr(parsed, prefix, Number(len));
    const exact = parseIp(prefix);
    return exact?.value === parsed.value && exact?.family === parsed.family;
  });
}

/**
 * Which of the waypoint's service chains a request for `host` (no port, no brackets) takes: the Service or
 * ServiceEntry the host names, as the client's resolver would complete it (`name`, `name.ns`, `name.ns.svc`,
 * the FQDN; a relative name in `sourceNamespace`, or without one the served Service of that name), a
 * ServiceEntry host (exact, else the most specific `*.` wildcard covering it, as Istio matches hosts), or an
 * address (a Service's cluster IPs, a ServiceEntry's addresses). Where services share the hostname in a
 * namespace, the chain is the one istiod keeps (holderOf: the Kubernetes Service, else the oldest
 * ServiceEntry). Never a guess: a host that names no service the waypoint serves, or more than one (the same
 * hostname served from two namespaces too: istiod keeps either), or one whose use of the waypoint cannot be
 * told, gives a reason instead. `served`: every service that uses the waypoint, with or without a chain of
 * its own. With `port`, the service must have that port (istiod builds chains per service port).
 */
export function chainForHost(
  host: string,
  o: {
    served: ServedService[];
    unknown: (ServedService & { reason: string })[];
    services: AddressedObject[];
    serviceEntries: AddressedObject[];
    sourceNamespace?: string;
    port?: number;
  },
): ChainPick {
  const all = candidates(o.services, o.serviceEntries);
  // each service the host names, with the hostname it is named by (istiod keys services by hostname)
  let hits: { c: Candidate; host: string }[] = [];
  let how = '';
  if (isIP(host)) {
    hits = all.filter((c) => hasAddress(c, host)).flatMap((c) => c.hosts.map((h) => ({ c, host: h })));
    how = `address ${host}`;
  } else {
    const names = searchNames(host, o.sourceNamespace);
    for (const n of names) {
      hits = all.filter((c) => c.hosts.includes(n)).map((c) => ({ c, host: n }));
      if (hits.length) {
        how = n === host.toLowerCase() ? `host ${n}` : `host ${host} as ${n}`;
        break;
      }
    }
    if (!hits.length && o.sourceNamespace === undefined && !host.includes('.')) {
      // no client namespace to complete a short name in: the served Service of that name, wherever it is
      hits = all.filter((c) => c.kind === 'Service' && c.name === host.toLowerCase() && o.served.some((s) => key(s) === key(c))).map((c) => ({ c, host: c.hosts[0] }));
      how = `host ${host} (the served Service of that name; no source namespace given)`;
    }
    if (!hits.length) {
      for (const n of names) {
        const wild = all.filter((c) => c.kind === 'ServiceEntry' && c.hosts.some((h) => h.startsWith('*') && hostMatches(h, n)));
        const best = mostSpecificHost(n, wild.flatMap((c) => c.hosts.filter((h) => h.startsWith('*'))));
        if (best !== undefined) {
          hits = wild.filter((c) => c.hosts.includes(best)).map((c) => ({ c, host: best }));
          how = `host ${n} (ServiceEntry host ${best})`;
          break;
        }
      }
    }
  }
  if (!hits.length) {
    // a relative name is completed in the client's namespace first, as its resolver does: say so
    const relative = !isIP(host) && !host.endsWith('.') && o.sourceNamespace !== undefined;
    return { reason: `${host} names no Service or ServiceEntry this waypoint serves (nor any other known one${relative ? `; resolved as a client in namespace ${o.sourceNamespace} would: ${searchNames(host, o.sourceNamespace).join(', ')}` : ''}): no chain of the waypoint is known to take it` };
  }
  const served = (c: Candidate) => o.served.some((s) => key(s) === key(c));
  const doubt = (c: Candidate) => o.unknown.find((u) => key(u) === key(c))?.reason;
  // one slot per namespace and hostname, as istiod keeps one service for each (holderOf)
  const slots = hits
    .filter((x, i) => hits.findIndex((y) => y.c.namespace === x.c.namespace && y.host === x.host) === i)
    .map(({ c, host: h }) => {
      const kept = holderOf(all, c.namespace, h);
      const holder = 'holder' in kept ? kept.holder : undefined;
      // the ambient index gives ztunnel a Service's entry over a ServiceEntry's: only the Service's waypoint counts
      const members = holder?.kind === 'Service' ? [holder] : kept.group;
      const states = members.map((m) => (served(m) ? 'served' : doubt(m) !== undefined ? 'unknown' : 'not'));
      const state = states.every((x) => x === states[0]) ? states[0] : states.includes('unknown') ? 'unknown' : 'mixed';
      const unsure = members.find((m) => doubt(m) !== undefined);
      return { namespace: c.namespace, host: h, holder, group: kept.group, state, unsure, why: 'reason' in kept ? kept.reason : unsure ? `${serviceLabel(unsure)}: ${doubt(unsure)}` : '' };
    });
  const label = (x: (typeof slots)[number]) => (x.holder ? serviceLabel(x.holder) : x.group.map(serviceLabel).join(' or '));
  // an address names each host of a ServiceEntry: one service, whichever host it is taken by
  const onThis = slots.filter((x, i) => x.state === 'served' && !(x.holder && slots.findIndex((y) => y.state === 'served' && y.holder && key(y.holder) === key(x.holder!)) !== i));
  if (onThis.length > 1) {
    const sameHost = onThis.every((x) => x.host === onThis[0].host);
    // istiod's findWaypointResources (pilot/pkg/networking/core/waypoint.go) keeps one service per hostname,
    // the last of ServicesForWaypoint's unsorted list: istiod itself leaves it open
    const why = sameHost
      ? `, all with host ${onThis[0].host}: istiod builds a waypoint one chain per hostname, for whichever of them comes last in an unsorted list (findWaypointResources), so which one is not determined`
      : ': which chain the request takes cannot be told';
    return { reason: `${how} names ${onThis.length} services this waypoint serves (${onThis.map(label).join(', ')})${why}` };
  }
  if (onThis.length === 0) {
    const unsure = slots.find((x) => x.unsure)?.unsure;
    if (unsure) return { reason: `${how} names ${serviceLabel(unsure)}, whose use of this waypoint cannot be told: ${doubt(unsure)}` };
    const mixed = slots.find((x) => x.state === 'mixed');
    if (mixed) return { reason: `${how} names ${label(mixed)}, which share host ${mixed.host} in namespace ${mixed.namespace} and do not all use this waypoint: istiod keeps one entry per namespace and hostname for ztunnel, and which one is not established` };
    const hidden = slots.find((x) => x.holder && x.group.some((c) => c !== x.holder && served(c)));
    if (hidden) {
      const se = hidden.group.filter((c) => c !== hidden.holder && served(c));
      return { reason: `${how} names ${se.map(serviceLabel).join(', ')}, which uses this waypoint, but ${serviceLabel(hidden.holder!)} has the same host in namespace ${hidden.namespace} and istiod keeps the Kubernetes Service for it (its push context, and the entry its ambient index gives ztunnel); that Service does not use this waypoint: whether a request for the host reaches a chain of this waypoint is not established` };
    }
    return { reason: `${how} names ${[...new Set(slots.flatMap((x) => x.group).map(serviceLabel))].join(', ')}, which this waypoint does not serve: a request for it does not go through this waypoint's chains` };
  }
  const slot = onThis[0];
  if (!slot.holder) return { reason: `${how}: ${slot.why}: which one's chain the request takes is not determined` };
  // the same hostname in another namespace, whose use of this waypoint is in doubt, could take the one chain instead
  const rival = slots.find((x) => x !== slot && x.host === slot.host && (x.state === 'unknown' || x.state === 'mixed'));
  if (rival) return { reason: `${how} names ${serviceLabel(slot.holder)} and ${label(rival)} (namespace ${rival.namespace}), whose use of this waypoint cannot be told${rival.why ? ` (${rival.why})` : ''}: if it uses it, istiod builds one chain for the hostname and which one is not determined` };
  const svc = slot.holder;
  const over = slot.group.filter((c) => c !== svc && hits.some((x) => x.c === c));
  if (over.length) how += `: ${serviceLabel(svc)}, which istiod keeps for that host over ${over.map(serviceLabel).join(', ')} of the same namespace`;
  if (o.port !== undefined && svc.ports.length && !svc.ports.includes(o.port)) {
    return { reason: `${serviceLabel(svc)} has no port ${o.port} (${svc.ports.join(', ')}): the waypoint builds no chain for it` };
  }
  return { service: { name: svc.name, namespace: svc.namespace, kind: svc.kind }, how, host, ports: validPorts(svc.ports) };
}
