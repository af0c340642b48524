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
 *
 * Which services get a chain is istiod's ambient index's ServiceInfos that name the waypoint
 * (pilot/pkg/serviceregistry/kube/controller/ambient/services.go): one per Kubernetes Service except
 * ExternalName ones, and one per host of a ServiceEntry (so a ServiceEntry with several hosts has one chain
 * per host, each with its policies, which name the ServiceEntry) unless one of its addresses is neither an
 * IP nor a single-IP CIDR (parseCidrOrIP, helpers.go), which leaves the whole ServiceEntry out. Each chain
 * is built per port, UDP ports left out (buildWaypointInternal, pilot/pkg/networking/core/listener_waypoint.go).
 */

/** A Service or ServiceEntry as read from manifests or the API (its spec is checked here, not trusted). */
export interface AddressedObject {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string };
  spec?: unknown;
}

/** A service, or one host's chain of a ServiceEntry with several hosts (`host` set). */
export const serviceLabel = (s: ServedService & { host?: string }) => `${s.kind ?? 'Service'} ${s.namespace}/${s.name}${s.host ? ` (host ${s.host})` : ''}`;
/** A waypoint chain: a served service, and for a ServiceEntry with several hosts the host it is built for. */
export type Chain<S extends ServedService = ServedService> = S & { host?: string };
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
export type ChainPick = { service: Chain; how: string; host: string; ports: number[]; udp: number[] } | { service?: undefined; reason: string };

interface Candidate extends ServedService {
  hosts: string[];
  addresses: string[];
  /** its ports istiod builds chains for (not UDP) */
  ports: number[];
  /** its UDP ports: istiod builds no waypoint chain for them (nor for a service without ports) */
  udp: number[];
  /** creationTimestamp in ms, when known */
  created?: number;
  /** why istiod's ambient index has no entry for it (an ExternalName Service, addresses it cannot parse) */
  unindexed?: string;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const field = (v: unknown, k: string): unknown => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined);

/**
 * Whether istiod's ambient index parses a ServiceEntry address (parseCidrOrIP,
 * pilot/pkg/serviceregistry/kube/controller/ambient/helpers.go): an IP (Go's netip.ParseAddr), or a CIDR
 * of exactly one IP (/32, /128). A wider CIDR, valid for the ServiceEntry itself, is not.
 */
export function ambientParsesAddress(a: string): boolean {
  const slash = a.indexOf('/');
  if (slash === -1) return isIP(a) !== 0;
  const [ip, bits] = [a.slice(0, slash), a.slice(slash + 1)];
  // netip.ParsePrefix: no zone, decimal bits without leading zeros
  if (ip.includes('%') || !/^(0|[1-9][0-9]*)$/.test(bits)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(bits) === (family === 4 ? 32 : 128);
}

/** Ports as istiod converts them: `udp` those whose protocol is UDP (a Service's `protocol: UDP`, a ServiceEntry's in any case). */
function splitPorts(ports: unknown[], number: string, udp: (protocol: string) => boolean): { ports: number[]; udp: number[] } {
  const all = ports.map((p) => ({ n: Number(field(p, number)), udp: udp(String(field(p, 'protocol') ?? '')) }));
  return { ports: all.filter((p) => !p.udp).map((p) => p.n), udp: all.filter((p) => p.udp).map((p) => p.n) };
}

/** Candidates by kind/namespace/name, the first of a key kept (as a search of the list would find it). */
function indexByKey(all: Candidate[]): Map<string, Candidate> {
  const byKey = new Map<string, Candidate>();
  for (const c of all) if (!byKey.has(key(c))) byKey.set(key(c), c);
  return byKey;
}

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
    // the ambient index skips ExternalName Services (serviceServiceBuilder); the push context keeps them
    const external = field(s.spec, 'type') === 'ExternalName' ? { unindexed: `it is an ExternalName Service, which istiod's ambient index leaves out` } : {};
    out.push({ name, namespace, kind: 'Service', hosts: [serviceFqdn(name, namespace)], addresses: [...new Set(ips)], ...splitPorts(list(field(s.spec, 'ports')), 'port', (p) => p === 'UDP'), ...created(s), ...external });
  }
  for (const se of serviceEntries) {
    const name = se.metadata?.name ?? '';
    const namespace = se.metadata?.namespace ?? 'default';
    const hosts = list(field(se.spec, 'hosts')).map((h) => String(h).toLowerCase());
    const addresses = list(field(se.spec, 'addresses')).map(String);
    // one address the ambient index cannot parse drops the whole ServiceEntry (constructServiceEntries)
    const bad = addresses.filter((a) => !ambientParsesAddress(a));
    const unparsed = bad.length ? { unindexed: `istiod's ambient index cannot parse its address${bad.length > 1 ? 'es' : ''} ${bad.join(', ')} (only an IP or a single-IP CIDR) and leaves it out` } : {};
    out.push({ name, namespace, kind: 'ServiceEntry', hosts, addresses, ...splitPorts(list(field(se.spec, 'ports')), 'number', (p) => p.toLowerCase() === 'udp'), ...created(se), ...unparsed });
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

/**
 * A served service with no chain of its own: a ServiceEntry each of whose hosts is another service's in its
 * namespace (`by`), or one istiod's ambient index leaves out (`unindexed`: an ExternalName Service, a
 * ServiceEntry with an address it cannot parse), or one with no ports but UDP ones (`udp`, maybe empty).
 */
export interface Shadowed {
  service: ServedService;
  by: ServedService[];
  hosts: string[];
  unindexed?: string;
  udp?: number[];
}

/** Says that a served service has no chain of its own, and why. */
export function shadowedNote(s: Shadowed): string {
  const hosts = s.hosts.join(', ');
  const head = `${serviceLabel(s.service)} uses this waypoint but has no chain of its own`;
  if (s.unindexed) return `${head}: ${s.unindexed} (no entry for ztunnel, no chain on the waypoint), so the policies attached to it are on no chain`;
  if (s.udp?.length) return `${head}: its ports (${s.udp.join(', ')}) are all UDP, for which istiod builds no waypoint chain, so the policies attached to it are on no chain`;
  if (s.udp) return `${head}: it has no ports, and istiod builds a waypoint chain per port, so the policies attached to it are on no chain`;
  return `${head}: istiod keeps ${s.by.map(serviceLabel).join(', ')} for ${s.hosts.length > 1 ? 'its hosts' : 'its host'} ${hosts} (a Kubernetes Service over a ServiceEntry, else the oldest), so the policies attached to it are on no chain`;
}

/**
 * The waypoint's chains, and the served services without one. istiod builds a chain for each hostname of a
 * ServiceInfo of its ambient index that names the waypoint (ambient/services.go: one per Service, none for an
 * ExternalName one, one per ServiceEntry host, none for a ServiceEntry whose addresses it cannot parse), from
 * the service its push context keeps for that hostname and namespace (see holderOf;
 * pilot/pkg/networking/core/waypoint.go, findWaypointResources), with that service's non-UDP ports. So a
 * ServiceEntry whose every host is kept for another service has none, and the policies attached to it are on
 * no chain; where the service kept has no entry of its own (an ExternalName Service for the ServiceEntry's
 * hostname), the chain is that service's. A ServiceEntry with several hosts has a chain per host (`host`).
 * One whose holder cannot be told keeps its chain here. `unknown` (services whose use of the waypoint cannot
 * be told) comes back without those that could have no chain of their own anyway.
 */
export function chainedServices<S extends ServedService, U extends ServedService = S & { reason: string }>(
  served: S[],
  services: AddressedObject[],
  serviceEntries: AddressedObject[],
  unknown: U[] = [],
): { services: Chain<S>[]; shadowed: Shadowed[]; unknown: U[] } {
  const all = candidates(services, serviceEntries);
  const byKey = indexByKey(all);
  // a service whose use of the waypoint is in doubt matters only if it could have a chain of its own
  const chainless = (u: U) => {
    const c = byKey.get(key(u));
    return c !== undefined && (c.unindexed !== undefined || !c.ports.length);
  };
  const out: Chain<S>[] = [];
  const shadowed: Shadowed[] = [];
  const label = (c: Candidate) => ({ name: c.name, namespace: c.namespace, kind: c.kind });
  const add = (chain: Chain<S>) => {
    if (!out.some((x) => key(x) === key(chain) && x.host === chain.host)) out.push(chain);
  };
  for (const s of served) {
    const c = byKey.get(key(s));
    if (!c) {
      out.push(s);
      continue;
    }
    if (c.unindexed) {
      shadowed.push({ service: s, by: [], hosts: c.hosts, unindexed: c.unindexed });
      continue;
    }
    const holders = c.hosts.map((h) => ({ h, kept: c.kind === 'ServiceEntry' ? holderOf(all, c.namespace, h) : undefined }));
    const by: ServedService[] = [];
    const own: string[] = [];
    for (const { h, kept } of holders) {
      const holder = kept && 'holder' in kept ? kept.holder : undefined;
      if (!holder || key(holder) === key(s)) own.push(h);
      else {
        if (!by.some((b) => key(b) === key(holder))) by.push(label(holder));
        // a holder without an entry of its own (ExternalName): ztunnel has this one's, the chain is the holder's
        if (holder.unindexed && holder.ports.length) add({ ...label(holder), ...(holder.hosts.length > 1 ? { host: h } : {}) } as Chain<S>);
      }
    }
    if (!own.length) shadowed.push({ service: s, by, hosts: c.hosts });
    else if (!c.ports.length) shadowed.push({ service: s, by: [], hosts: c.hosts, udp: c.udp });
    else for (const h of own) add(c.hosts.length > 1 ? { ...s, host: h } : s);
  }
  // an ExternalName Service that uses the waypoint has the chain a ServiceEntry of its hostname gives it, if any
  return { services: out, shadowed: shadowed.filter((x) => !(x.unindexed && out.some((o) => key(o) === key(x.service)))), unknown: unknown.filter((u) => !chainless(u)) };
}

const validPorts = (ports: number[]) => ports.filter((p) => Number.isInteger(p) && p > 0);

/**
 * How a client addresses a served service's chain: its name (a Service's FQDN, the chain's ServiceEntry host,
 * else its first) and its ports, as its Service or ServiceEntry lists them (istiod builds a chain per port;
 * `udp`: the UDP ones, which have none). The services are read once, for every chain asked about.
 */
export function servedAddressing(services: AddressedObject[], serviceEntries: AddressedObject[]): (s: Chain) => { host?: string; ports: number[]; udp: number[] } {
  const byKey = indexByKey(candidates(services, serviceEntries));
  return (s) => {
    const c = byKey.get(key(s));
    return { host: s.host ?? c?.hosts[0], ports: validPorts(c?.ports ?? []), udp: validPorts(c?.udp ?? []) };
  };
}

/**
 * The Kubernetes Service (not ExternalName) of `namespace` with hostname `host`, if any. istiod's ambient index
 * keys its entries by namespace and hostname and joins Services before ServiceEntries, keeping the first
 * (pilot/pkg/serviceregistry/kube/controller/ambient/services.go ServicesCollection; ServiceInfo.ResourceName,
 * pilot/pkg/model; pkg/kube/krt/join.go): such a Service's entry is ztunnel's, a ServiceEntry's for that host is
 * dropped, with its addresses.
 */
function indexedServiceFor(all: Candidate[], namespace: string, host: string): Candidate | undefined {
  return all.find((x) => x.kind === 'Service' && !x.unindexed && x.namespace === namespace && x.hosts.includes(host));
}

/**
 * Why a ServiceEntry address whose every host is a Service's reaches no chain: ztunnel has no entry with it
 * (passthrough, no waypoint), and the waypoint's chain for the hostname, built from the Service
 * (push_context.go initServiceRegistry), is matched by the Service's addresses or `host:port`, not by it
 * (buildWaypointInternal, listener_waypoint.go; ztunnel's CONNECT target is the address the client used).
 */
function droppedAddress(ip: string, dropped: { c: Candidate; host: string; by: Candidate }[]): string {
  const said = dropped.map((d) => `${serviceLabel(d.c)} for host ${d.host}, which ${serviceLabel(d.by)} has (addresses ${d.by.addresses.join(', ') || 'none'})`);
  return (
    `address ${ip} is the address of ${said.join('; ')}: istiod's ambient index keeps the Kubernetes Service's entry for a namespace and hostname and drops the ServiceEntry's, ` +
    `so ztunnel knows no service at ${ip} and sends the request to no waypoint; and the waypoint chain for the hostname, built from the Service, is matched by the Service's own addresses or hostname:port, not ${ip}: ` +
    `the request reaches no chain of this waypoint`
  );
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
 * address (a Service's cluster IPs, a ServiceEntry's addresses under those of its hosts no Service of its
 * namespace has: the ambient index drops its entry for the others, see indexedServiceFor). Where services share the hostname in a
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
    // ztunnel knows an address only from the entries istiod's ambient index keeps: a ServiceEntry's entry for
    // a host that an indexed Service of its namespace has is dropped (see indexedServiceFor)
    const dropped: { c: Candidate; host: string; by: Candidate }[] = [];
    hits = all
      .filter((c) => hasAddress(c, host))
      .flatMap((c) => c.hosts.map((h) => ({ c, host: h })))
      .filter((x) => {
        const by = x.c.kind === 'ServiceEntry' ? indexedServiceFor(all, x.c.namespace, x.host) : undefined;
        if (by) dropped.push({ ...x, by });
        return !by;
      });
    how = `address ${host}`;
    if (!hits.length && dropped.length) return { reason: droppedAddress(host, dropped) };
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
      // what ztunnel may be given for the hostname: the ambient index's entries (none for an ExternalName Service
      // or a ServiceEntry whose addresses it cannot parse), a Service's over a ServiceEntry's; only their waypoints count
      const entries = kept.group.filter((m) => !m.unindexed);
      const service = entries.find((m) => m.kind === 'Service');
      const members = service ? [service] : entries;
      const states = members.map((m) => (served(m) ? 'served' : doubt(m) !== undefined ? 'unknown' : 'not'));
      const state = !members.length ? 'none' : states.every((x) => x === states[0]) ? states[0] : states.includes('unknown') ? 'unknown' : 'mixed';
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
    const none = slots.find((x) => x.state === 'none');
    if (none) return { reason: `${how} names ${none.group.map((c) => `${serviceLabel(c)} (${c.unindexed})`).join(', ')}: ztunnel gets no entry for it and the waypoint no chain, so a request for it does not go through this waypoint's chains` };
    const hidden = slots.find((x) => x.holder && x.group.some((c) => c !== x.holder && !c.unindexed && served(c)));
    if (hidden) {
      const se = hidden.group.filter((c) => c !== hidden.holder && !c.unindexed && served(c));
      // the index keeps the Service's entry, so this waypoint is given no chain for the host (indexedServiceFor)
      return { reason: `${how} names ${se.map(serviceLabel).join(', ')}, which uses this waypoint, but ${serviceLabel(hidden.holder!)} has the same host in namespace ${hidden.namespace} and istiod keeps the Kubernetes Service for it (its push context, and the one entry its ambient index gives ztunnel; the ServiceEntry's is dropped); that Service does not use this waypoint, so this waypoint has no chain for host ${hidden.host}: the request reaches no chain of this waypoint` };
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
  const udp = validPorts(svc.udp);
  // an ExternalName Service kept for a served ServiceEntry's hostname: istiod builds the hostname's chain from
  // the Service (its ports, its policies, its addresses: none), while ztunnel has the ServiceEntry's entry
  if (svc.unindexed) {
    const se = slot.group.filter((c) => c.kind === 'ServiceEntry' && !c.unindexed && served(c));
    const seSaid = se.map((c) => `${serviceLabel(c)} (${c.addresses.length ? `address ${c.addresses.join(', ')}` : 'no address'}, port ${[...c.ports, ...c.udp].join(', ') || 'none'})`).join(', ');
    if (!svc.ports.length) return { reason: `${how}: ${serviceLabel(svc)} has no ports (other than UDP), so istiod builds no chain for the hostname` };
    // by address: ztunnel's CONNECT target is the address, which the Service's chain does not match
    if (isIP(host)) {
      return {
        reason: `${how}: ztunnel has the entry of ${seSaid}, since ${serviceLabel(svc)} has none (${svc.unindexed}), and sends the request to this waypoint, but the waypoint builds the chain for host ${slot.host} from ${serviceLabel(svc)}, which istiod keeps for it, and matches it by that Service's addresses (an ExternalName Service has no cluster IP) or ${slot.host}:port, not ${host}: the request reaches no chain of this waypoint`,
      };
    }
    return {
      reason: `${how}: ztunnel has the entry of ${seSaid}, since ${serviceLabel(svc)} has none (${svc.unindexed}), but the waypoint builds the chain for host ${slot.host} from ${serviceLabel(svc)}, which istiod keeps for it: its ports (${svc.ports.join(', ')}) and policies, without the ServiceEntry's addresses, so only host:port matches it; whether a request reaches that chain is not established`,
    };
  }
  // istiod builds a chain per port, none for a UDP one (buildWaypointInternal)
  if (!svc.ports.length && udp.length) return { reason: `${serviceLabel(svc)} has only UDP ports (${udp.join(', ')}): istiod builds no waypoint chain for UDP ports, so this waypoint has no chain for it` };
  if (!svc.ports.length) return { reason: `${serviceLabel(svc)} has no ports: istiod builds a waypoint chain per port, so this waypoint has no chain for it` };
  if (o.port !== undefined && udp.includes(o.port) && !svc.ports.includes(o.port)) return { reason: `port ${o.port} of ${serviceLabel(svc)} is UDP: istiod builds no waypoint chain for UDP ports` };
  if (o.port !== undefined && !svc.ports.includes(o.port)) {
    return { reason: `${serviceLabel(svc)} has no port ${o.port} (${svc.ports.join(', ')}${udp.length ? `; UDP ${udp.join(', ')} has no chain` : ''}): the waypoint builds no chain for it` };
  }
  // a ServiceEntry with several hosts has a chain per host, all alike: by name the host's, by address any
  let chainHost: { host?: string } = {};
  if (svc.kind === 'ServiceEntry' && svc.hosts.length > 1) {
    // by address, only its hosts the ambient index keeps its entry for (not a Service's) have it
    const own = isIP(host) ? hits.filter((x) => key(x.c) === key(svc)).map((x) => x.host) : [slot.host];
    if (own.length === 1) chainHost = { host: own[0] };
    if (isIP(host)) how += own.length > 1 ? ` (an address of each of its hosts ${own.join(', ')}: one chain per host, all with the same policies and ports)` : ` (its chain for host ${own[0]})`;
  }
  return { service: { name: svc.name, namespace: svc.namespace, kind: svc.kind, ...chainHost }, how, host, ports: validPorts(svc.ports), udp };
}
