/**
 * Host names as Istio reads them in configuration (VirtualService hosts and destinations,
 * DestinationRule hosts, ServiceEntry hosts); shared by `analyze` and `describe`.
 */

export const DEFAULT_DOMAIN_SUFFIX = 'cluster.local';

/**
 * Istio's ConvertHostToFQDN: a short name (`reviews`) becomes `reviews.<namespace>.svc.<domain>`.
 * Anything with a dot (`reviews.default` too: Istio does not expand it) or a wildcard is kept as written.
 */
export function toFqdn(namespace: string, host: string, domain = DEFAULT_DOMAIN_SUFFIX): string {
  if (host.startsWith('*') || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${domain}`;
}

export function serviceFqdn(name: string, namespace: string, domain = DEFAULT_DOMAIN_SUFFIX): string {
  return `${name}.${namespace}.svc.${domain}`;
}

/**
 * Istio's host.Name.Matches: equal, or either side a wildcard covering the other (`*` covers all,
 * `*.ns.svc.cluster.local` its suffix; of two wildcards, the shorter covers the longer).
 */
export function hostMatches(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/**
 * Istio's "most specific host" for a concrete service host: an exact match beats any wildcard, and a
 * longer wildcard beats a shorter one. Returns the winning config host among `candidates`, or undefined.
 */
export function mostSpecificHost(serviceHost: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const h of candidates) {
    if (!hostMatches(h, serviceHost)) continue;
    if (h === serviceHost) return h;
    if (best === undefined || h.length > best.length) best = h;
  }
  return best;
}

/**
 * The names a pod's resolver tries for `host`, in order, as Kubernetes writes its resolv.conf (search
 * `<namespace>.svc.<domain> svc.<domain> <domain>`, `ndots:5`): a name with fewer than five dots is tried
 * with each search suffix first and then as written; one with more, as written first; one ending in `.` only
 * as written. Without the client's namespace its search entry is left out. Lower-cased: DNS names are
 * case-insensitive.
 */
export function searchNames(host: string, namespace: string | undefined, domain = DEFAULT_DOMAIN_SUFFIX): string[] {
  const h = host.toLowerCase();
  if (h.endsWith('.')) return [h.slice(0, -1)];
  const search = [...(namespace ? [`${h}.${namespace}.svc.${domain}`] : []), `${h}.svc.${domain}`, `${h}.${domain}`];
  return h.split('.').length - 1 < 5 ? [...search, h] : [h, ...search];
}
