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
  metadata?: { name?: string; namespace?: string };
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
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const field = (v: unknown, k: string): unknown => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined);

function candidates(services: AddressedObject[], serviceEntries: AddressedObject[]): Candidate[] {
  const out: Candidate[] = [];
  for (const s of services) {
    const name = s.metadata?.name ?? '';
    const namespace = s.metadata?.namespace ?? 'default';
    const ips = [...list(field(s.spec, 'clusterIPs')), field(s.spec, 'clusterIP')].filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
    out.push({ name, namespace, kind: 'Service', hosts: [serviceFqdn(name, namespace)], addresses: [...new Set(ips)], ports: list(field(s.spec, 'ports')).map((p) => Number(field(p, 'port'))) });
  }
  for (const se of serviceEntries) {
    const name = se.metadata?.name ?? '';
    const namespace = se.metadata?.namespace ?? 'default';
    const hosts = list(field(se.spec, 'hosts')).map((h) => String(h).toLowerCase());
    const addresses = list(field(se.spec, 'addresses')).map(String);
    out.push({ name, namespace, kind: 'ServiceEntry', hosts, addresses, ports: list(field(se.spec, 'ports')).map((p) => Number(field(p, 'number'))) });
  }
  return out;
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
 * address (a Service's cluster IPs, a ServiceEntry's addresses). Never a guess: a host that names no
 * service the waypoint serves, or more than one, or one whose use of the waypoint cannot be told, gives a
 * reason instead. With `port`, the service must have that port (istiod builds chains per service port).
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
  let hits: Candidate[] = [];
  let how = '';
  if (isIP(host)) {
    hits = all.filter((c) => hasAddress(c, host));
    how = `address ${host}`;
  } else {
    const names = searchNames(host, o.sourceNamespace);
    for (const n of names) {
      hits = all.filter((c) => c.hosts.includes(n));
      if (hits.length) {
        how = n === host.toLowerCase() ? `host ${n}` : `host ${host} as ${n}`;
        break;
      }
    }
    if (!hits.length && o.sourceNamespace === undefined && !host.includes('.')) {
      // no client namespace to complete a short name in: the served Service of that name, wherever it is
      hits = all.filter((c) => c.kind === 'Service' && c.name === host.toLowerCase() && o.served.some((s) => key(s) === key(c)));
      how = `host ${host} (the served Service of that name; no source namespace given)`;
    }
    if (!hits.length) {
      for (const n of names) {
        const wild = all.filter((c) => c.kind === 'ServiceEntry' && c.hosts.some((h) => h.startsWith('*') && hostMatches(h, n)));
        const best = mostSpecificHost(n, wild.flatMap((c) => c.hosts.filter((h) => h.startsWith('*'))));
        if (best !== undefined) {
          hits = wild.filter((c) => c.hosts.includes(best));
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
  const servedHits = hits.filter((c) => o.served.some((s) => key(s) === key(c)));
  const doubtful = hits.filter((c) => o.unknown.some((u) => key(u) === key(c)));
  if (servedHits.length > 1) return { reason: `${how} names ${servedHits.length} services this waypoint serves (${servedHits.map(serviceLabel).join(', ')}): which chain the request takes cannot be told` };
  if (servedHits.length === 0) {
    if (doubtful.length) return { reason: `${how} names ${serviceLabel(doubtful[0])}, whose use of this waypoint cannot be told: ${o.unknown.find((u) => key(u) === key(doubtful[0]))!.reason}` };
    return { reason: `${how} names ${hits.map(serviceLabel).join(', ')}, which this waypoint does not serve: a request for it does not go through this waypoint's chains` };
  }
  const svc = servedHits[0];
  if (o.port !== undefined && svc.ports.length && !svc.ports.includes(o.port)) {
    return { reason: `${serviceLabel(svc)} has no port ${o.port} (${svc.ports.join(', ')}): the waypoint builds no chain for it` };
  }
  return { service: { name: svc.name, namespace: svc.namespace, kind: svc.kind }, how, host, ports: validPorts(svc.ports) };
}
