/** Host names as Istio resolves them: short names are relative to the config's namespace. */

export const DEFAULT_DOMAIN_SUFFIX = 'cluster.local';

/** `reviews` in namespace `default` → `reviews.default.svc.cluster.local`; wildcards and FQDNs stay. */
export function resolveHost(host: string, namespace: string, domain = DEFAULT_DOMAIN_SUFFIX): string {
  if (host === '' || host.startsWith('*') || host.includes('.')) {
    // `reviews.default` is not a FQDN to Istio; only bare names are expanded. Keep what the user wrote.
    return host;
  }
  return `${host}.${namespace}.svc.${domain}`;
}

export function serviceFqdn(name: string, namespace: string, domain = DEFAULT_DOMAIN_SUFFIX): string {
  return `${name}.${namespace}.svc.${domain}`;
}

/** Does a (possibly wildcard) config host cover a concrete service host? `*` covers all, `*.ns.svc.cluster.local` its suffix. */
export function hostMatches(configHost: string, serviceHost: string): boolean {
  if (configHost === serviceHost) return true;
  if (configHost === '*') return true;
  if (configHost.startsWith('*')) return serviceHost.endsWith(configHost.slice(1));
  return false;
}

/**
 * Istio's "most specific host": an exact match beats any wildcard, and a longer wildcard beats a shorter one.
 * Returns the winning config host among `candidates`, or undefined.
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
