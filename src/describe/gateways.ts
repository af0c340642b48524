import type { Gateway, GatewayServer, Pod, Service, VirtualService } from './objects.js';
import { kname, namespaceOf, nameOf, selectorMatches } from './objects.js';
import { gatewaysOf } from './virtual-services.js';

export interface GatewayExposure {
  /** The Gateway as `namespace/name`. */
  gateway: string;
  virtualService: string;
  /** The Service in front of the gateway pods, as `name.namespace`, when one is found. */
  gatewayService?: string;
  /** `http://1.2.3.4`, `https://lb.example.com:8443`, ... one per matching server. */
  urls: string[];
  warnings: string[];
}

/** Where each gateway-bound VirtualService routing to the workload makes it reachable from outside. */
export function gatewayExposures(
  vss: VirtualService[],
  gateways: Gateway[],
  services: Service[],
  pods: Pod[],
  currentNs: string,
): GatewayExposure[] {
  const out: GatewayExposure[] = [];
  for (const vs of vss) {
    for (const ref of gatewaysOf(vs)) {
      if (ref === 'mesh') continue;
      const [gwNs, gwName] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [namespaceOf(vs), ref];
      const exposure: GatewayExposure = { gateway: `${gwNs}/${gwName}`, virtualService: kname(vs, currentNs), urls: [], warnings: [] };
      out.push(exposure);
      const gw = gateways.find((g) => nameOf(g) === gwName && namespaceOf(g) === gwNs);
      if (!gw) {
        exposure.warnings.push(`VirtualService ${kname(vs, currentNs)} is bound to gateway ${gwNs}/${gwName}, which does not exist`);
        continue;
      }
      const svc = gatewayService(gw, services, pods);
      if (!svc) {
        exposure.warnings.push(`no Service selects the pods of gateway ${gwNs}/${gwName} (selector ${JSON.stringify(gw.spec?.selector ?? {})})`);
        continue;
      }
      exposure.gatewayService = `${nameOf(svc)}.${namespaceOf(svc)}`;
      const address = gatewayAddress(svc, gw, pods);
      const servers = (gw.spec?.servers ?? []).filter((s) => hostsIntersect(s.hosts ?? [], vs.spec?.hosts ?? [], gwNs, namespaceOf(vs)));
      if (servers.length === 0) {
        exposure.warnings.push(`gateway ${gwNs}/${gwName} has no server whose hosts match VirtualService ${kname(vs, currentNs)}'s hosts`);
        continue;
      }
      for (const server of servers) {
        const url = serverUrl(server, svc, address);
        if (url && !exposure.urls.includes(url)) exposure.urls.push(url);
      }
    }
  }
  return out;
}

/** The Service whose selector picks the gateway's pods (by the pods when known, else by the Gateway's selector). */
function gatewayService(gw: Gateway, services: Service[], pods: Pod[]): Service | undefined {
  const gwSel = gw.spec?.selector ?? {};
  const gwPods = pods.filter((p) => selectorMatches(gwSel, p.metadata?.labels));
  const candidates = services.filter((s) => {
    const sel = s.spec?.selector ?? {};
    if (Object.keys(sel).length === 0) return false;
    if (gwPods.length > 0) return gwPods.some((p) => namespaceOf(p) === namespaceOf(s) && selectorMatches(sel, p.metadata?.labels));
    // Without the gateway's pods, a Service and a Gateway select the same pods when one selector contains the other.
    return selectorMatches(sel, gwSel) || selectorMatches(gwSel, sel);
  });
  // Prefer one with an external address, then one in the Gateway's namespace.
  candidates.sort((a, b) => score(b, gw) - score(a, gw));
  return candidates[0];
}

function score(s: Service, gw: Gateway): number {
  return (externalAddress(s) ? 2 : 0) + (namespaceOf(s) === namespaceOf(gw) ? 1 : 0);
}

/** A Service's address outside the cluster: its load balancer's first IP or hostname, else its first external IP. */
export function externalAddress(s: Service): string | undefined {
  return externalAddresses(s)[0];
}

/**
 * All of a Service's addresses outside the cluster: each load balancer ingress's IP (else its hostname), of
 * both families on a dual-stack load balancer; without any, the external IPs.
 */
export function externalAddresses(s: Service): string[] {
  const ingress = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter((a): a is string => !!a);
  return ingress.length > 0 ? ingress : (s.spec?.externalIPs ?? []).filter(Boolean);
}

/** `scheme://address[:port]`: an IPv6 address in brackets, 80 for http and 443 for https left out. */
export function exposedUrl(scheme: string, address: string, port: number): string {
  const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  const isDefault = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
  return `${scheme}://${host}${isDefault ? '' : `:${port}`}`;
}

function gatewayAddress(svc: Service, gw: Gateway, pods: Pod[]): string {
  const ext = externalAddress(svc);
  if (ext) return ext;
  const pod = pods.find((p) => namespaceOf(p) === namespaceOf(svc) && selectorMatches(gw.spec?.selector, p.metadata?.labels) && p.status?.hostIP);
  return pod?.status?.hostIP ?? 'unknown';
}

function serverUrl(server: GatewayServer, svc: Service, address: string): string | undefined {
  const number = server.port?.number;
  if (number === undefined) return undefined;
  const protocol = (server.port?.protocol ?? '').toUpperCase();
  const scheme = protocol === 'HTTPS' || protocol === 'TLS' ? 'https' : protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC' ? 'http' : protocol.toLowerCase() || 'tcp';
  // The server port is the gateway pod's port; the Service port pointing at it is what clients use.
  const sp = (svc.spec?.ports ?? []).find((p) => (p.targetPort ?? p.port) === number || p.targetPort === String(number)) ??
    (svc.spec?.ports ?? []).find((p) => p.port === number);
  if (!sp?.port) return undefined;
  return exposedUrl(scheme, address, sp.port);
}

/** Do a Gateway server's hosts (`ns/host`, `*.example.com`, any namespace when no `ns/`) cover any of a VirtualService's hosts? */
export function hostsIntersect(serverHosts: string[], vsHosts: string[], gwNs: string, vsNs: string): boolean {
  for (const raw of serverHosts) {
    const [ns, host] = raw.includes('/') ? (raw.split('/', 2) as [string, string]) : ['*', raw];
    if (ns !== '*' && !(ns === '.' ? vsNs === gwNs : ns === vsNs)) continue;
    for (const v of vsHosts) if (wildcardOverlap(host, v)) return true;
  }
  return false;
}

function wildcardOverlap(a: string, b: string): boolean {
  if (a === '*' || b === '*' || a === b) return true;
  if (a.startsWith('*') && b.endsWith(a.slice(1))) return true;
  if (b.startsWith('*') && a.endsWith(b.slice(1))) return true;
  return false;
}
