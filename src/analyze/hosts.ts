import type { Resource } from '../resources/index.js';
import { hostMatches, toFqdn } from '../resources/hosts.js';
import { K, arr, num, obj, str, type Snapshot } from './snapshot.js';

export interface ServicePortInfo {
  number: number;
  name: string;
  protocol: string;
}

/** What a host resolves to: a Kubernetes Service or a ServiceEntry, with the ports it exposes. */
export interface HostTarget {
  resource: Resource;
  ports: ServicePortInfo[];
}

/**
 * Service and ServiceEntry hosts keyed by `scope/fqdn`, where scope is the namespace the host is
 * visible in (`*` for all), as istioctl's InitServiceEntryHostMap builds it. Built once per snapshot.
 */
export class HostRegistry {
  private readonly exact = new Map<string, HostTarget>();
  private readonly wildcards: { scope: string; host: string; target: HostTarget }[] = [];

  constructor(private readonly snap: Snapshot) {
    const domain = snap.clusterDomain;
    for (const se of snap.of(K.ServiceEntry)) {
      const spec = obj(se.object.spec);
      const target: HostTarget = {
        resource: se,
        ports: arr(spec.ports).map((p) => ({ number: num(obj(p).number), name: str(obj(p).name), protocol: str(obj(p).protocol) })),
      };
      const exportTo = arr(spec.exportTo).map(str);
      const scopes = exportTo.length === 0 || exportTo.includes('*') ? ['*'] : [...new Set(exportTo.map((e) => (e === '.' ? se.namespace : e)))];
      for (const h of arr(spec.hosts).map(str)) {
        for (const scope of scopes) this.add(scope, toFqdn(se.namespace, h, domain), target);
      }
    }
    for (const svc of snap.of(K.Service)) {
      const spec = obj(svc.object.spec);
      const target: HostTarget = {
        resource: svc,
        ports: arr(spec.ports).map((p) => ({ number: num(obj(p).port), name: str(obj(p).name), protocol: str(obj(p).protocol) || 'TCP' })),
      };
      const anno = svc.metadata.annotations?.['networking.istio.io/exportTo'];
      const scopes = anno ? anno.split(',').map((s) => s.trim()).map((s) => (s === '.' ? svc.namespace : s)) : ['*'];
      for (const scope of scopes) this.add(scope, toFqdn(svc.namespace, svc.name, domain), target);
    }
  }

  private add(scope: string, fqdn: string, target: HostTarget): void {
    const key = `${scope}/${fqdn}`;
    // a Service wins over a ServiceEntry for the same host, as Istio's registry merge does
    if (!this.exact.has(key) || target.resource.kind === 'Service') this.exact.set(key, target);
    if (fqdn.startsWith('*')) this.wildcards.push({ scope, host: fqdn, target });
  }

  /** Istio's GetDestinationHost: what `host`, referenced from namespace `sourceNs`, resolves to. */
  resolve(sourceNs: string, exportTo: readonly string[], host: string): HostTarget | undefined {
    const fqdn = toFqdn(sourceNs, host, this.snap.clusterDomain);
    const all = this.exact.get(`*/${fqdn}`);
    if (all) return all;
    const scopes = exportTo.length === 0 ? [sourceNs] : exportTo.map((e) => (e === '.' ? sourceNs : e));
    for (const scope of scopes) {
      const t = this.exact.get(`${scope}/${fqdn}`);
      if (t) return t;
    }
    const bare = host.startsWith('*') ? host.slice(1) : host;
    for (const w of this.wildcards) {
      if (w.scope !== '*' && w.scope !== sourceNs) continue;
      if (bare.endsWith(w.host.slice(1))) return w.target;
    }
    return undefined;
  }

  /** Any Service or ServiceEntry host matching `host` (wildcards either side), visible from sourceNs. */
  anyMatching(sourceNs: string, host: string): boolean {
    const fqdn = toFqdn(sourceNs, host, this.snap.clusterDomain);
    if (this.resolve(sourceNs, [], host)) return true;
    if (!fqdn.startsWith('*')) return false;
    for (const key of this.exact.keys()) {
      const slash = key.indexOf('/');
      const scope = key.slice(0, slash);
      if (scope !== '*' && scope !== sourceNs) continue;
      if (hostMatches(fqdn, key.slice(slash + 1))) return true;
    }
    return false;
  }
}

const registries = new WeakMap<Snapshot, HostRegistry>();

export function hostRegistry(snap: Snapshot): HostRegistry {
  let r = registries.get(snap);
  if (!r) registries.set(snap, (r = new HostRegistry(snap)));
  return r;
}
