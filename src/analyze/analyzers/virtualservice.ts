import type { Resource } from '../../resources/index.js';
import { byFullName, fullName, type Analyzer, type Context } from '../analyzer.js';
import { hostMatches, toFqdn } from '../../resources/hosts.js';
import { hostRegistry } from '../hosts.js';
import { K, arr, num, obj, selectorMatches, str, strMap, type Snapshot } from '../snapshot.js';

export interface RouteDestination {
  host: string;
  subset: string;
  port?: number;
  /** Path of the `destination` object inside the resource. */
  path: (string | number)[];
  mirror: boolean;
}

const destinationCache = new WeakMap<Resource, RouteDestination[]>();

/** Every destination a VirtualService routes (http/tcp/tls routes) or mirrors to. */
export function vsDestinations(vs: Resource): RouteDestination[] {
  let cached = destinationCache.get(vs);
  if (!cached) destinationCache.set(vs, (cached = collectDestinations(vs)));
  return cached;
}

function collectDestinations(vs: Resource): RouteDestination[] {
  const spec = obj(vs.object.spec);
  const out: RouteDestination[] = [];
  const dest = (d: unknown, path: (string | number)[], mirror: boolean) => {
    const o = obj(d);
    const port = obj(o.port).number;
    // a route entry without a destination routes to host "" (istioctl reports it as not found)
    out.push({ host: str(o.host), subset: str(o.subset), port: port === undefined ? undefined : num(port), path, mirror });
  };
  for (const kind of ['http', 'tcp', 'tls'] as const) {
    arr(spec[kind]).forEach((rule, i) => {
      arr(obj(rule).route).forEach((route, j) => dest(obj(route).destination, ['spec', kind, i, 'route', j, 'destination'], false));
    });
  }
  arr(spec.http).forEach((rule, i) => {
    const r = obj(rule);
    if (r.mirror !== undefined && r.mirror !== null) dest(r.mirror, ['spec', 'http', i, 'mirror'], true);
    arr(r.mirrors).forEach((m, j) => {
      if (obj(m).destination !== undefined) dest(obj(m).destination, ['spec', 'http', i, 'mirrors', j, 'destination'], true);
    });
  });
  return out;
}

export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'Checks the destination hosts associated with each virtual service',
  codes: ['IST0101', 'IST0112', 'IST0140'],
  analyze(ctx: Context) {
    const reg = hostRegistry(ctx.snapshot);
    const vss = ctx.snapshot.of(K.VirtualService);
    for (const vs of vss) {
      const exportTo = arr(obj(vs.object.spec).exportTo).map(str);
      for (const d of vsDestinations(vs)) {
        const target = reg.resolve(vs.namespace, exportTo, d.host);
        const at = [...d.path, d.host ? 'host' : undefined].filter((p) => p !== undefined);
        if (!target) {
          ctx.report(vs, 'IST0101', [d.mirror ? 'mirror host' : 'host', d.host], at);
          continue;
        }
        if (d.port === undefined) {
          if (target.ports.length > 1) ctx.report(vs, 'IST0112', [d.host, target.ports.map((p) => p.number)], at);
        } else if (!target.ports.some((p) => p.number === d.port)) {
          ctx.report(vs, 'IST0101', ['host:port', `${d.host}:${d.port}`], at);
        }
      }
    }
    ingressSubsets(ctx, vss);
  },
};

/**
 * istioctl's IngressRouteRulesNotAffected: a VirtualService bound to gateways routes to a host
 * without a subset while another VirtualService (for that host) splits it into subsets. Requests
 * entering through the gateway follow the gateway's VirtualService, so the subset routing of the
 * other does not apply to them.
 */
function ingressSubsets(ctx: Context, vss: readonly Resource[]): void {
  // the VirtualServices routing their own host to a subset, by that host
  const bySubsetHost = new Map<string, Resource[]>();
  for (const vs of vss) {
    const spec = obj(vs.object.spec);
    const hosts = new Set(arr(spec.hosts).map(str));
    for (const d of vsDestinations(vs)) {
      if (d.mirror || !d.subset || d.path[1] !== 'http' || !hosts.has(d.host)) continue;
      const list = bySubsetHost.get(d.host);
      if (!list) bySubsetHost.set(d.host, [vs]);
      else if (!list.includes(vs)) list.push(vs);
    }
  }
  if (bySubsetHost.size === 0) return;
  for (const vs of vss) {
    if (arr(obj(vs.object.spec).gateways).length === 0) continue;
    for (const d of vsDestinations(vs)) {
      if (d.mirror || d.subset || d.path[1] !== 'http') continue;
      for (const other of bySubsetHost.get(d.host) ?? []) {
        ctx.report(vs, 'IST0140', [fullName(other), fullName(vs)], [...d.path, 'host']);
      }
    }
  }
}

export const destinationRuleAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'Checks the destination rules associated with each virtual service',
  codes: ['IST0101'],
  analyze(ctx: Context) {
    const domain = ctx.snapshot.clusterDomain;
    const subsets = new Set<string>();
    const wildcard: { host: string; subset: string }[] = [];
    for (const dr of ctx.snapshot.of(K.DestinationRule)) {
      const spec = obj(dr.object.spec);
      const host = toFqdn(dr.namespace, str(spec.host), domain);
      for (const s of arr(spec.subsets)) {
        const name = str(obj(s).name);
        subsets.add(`${host}|${name}`);
        if (host.startsWith('*')) wildcard.push({ host, subset: name });
      }
    }
    for (const vs of ctx.snapshot.of(K.VirtualService)) {
      for (const d of vsDestinations(vs)) {
        if (!d.subset) continue;
        const host = toFqdn(vs.namespace, d.host, domain);
        if (subsets.has(`${host}|${d.subset}`)) continue;
        if (wildcard.some((w) => w.subset === d.subset && hostMatches(w.host, host))) continue;
        ctx.report(vs, 'IST0101', [d.mirror ? 'mirror+subset in destinationrule' : 'host+subset in destinationrule', `${d.host}+${d.subset}`], [...d.path, 'subset']);
      }
    }
  },
};

function isInternalGateway(ref: string): boolean {
  const name = ref.includes('/') ? ref.slice(ref.indexOf('/') + 1) : ref;
  return name.includes('~istio-autogenerated-k8s-gateway~') || name.includes('-istio-autogenerated-k8s-gateway-');
}

/** A VirtualService's gateway reference as namespace and name: `ns/name`, `name`, or legacy `name.ns.svc.<domain>`. */
export function gatewayRef(ref: string, vsNamespace: string): { namespace: string; name: string } {
  const slash = ref.indexOf('/');
  if (slash >= 0) return { namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
  const dot = ref.indexOf('.');
  if (dot > 0) {
    const parts = ref.split('.');
    return { namespace: parts[1], name: parts[0] };
  }
  return { namespace: vsNamespace, name: ref };
}

function gatewayHostsFor(gw: Resource, vsNamespace: string): string[] {
  const out: string[] = [];
  for (const server of arr(obj(gw.object.spec).servers)) {
    for (const h of arr(obj(server).hosts).map(str)) {
      const slash = h.indexOf('/');
      if (slash < 0) {
        out.push(h);
        continue;
      }
      const ns = h.slice(0, slash);
      const host = h.slice(slash + 1);
      if (ns === '*' || ns === vsNamespace || (ns === '.' && gw.namespace === vsNamespace)) out.push(host);
    }
  }
  return out;
}

export const gatewayAnalyzer: Analyzer = {
  name: 'virtualservice.GatewayAnalyzer',
  description: 'Checks the gateways associated with each virtual service',
  codes: ['IST0101', 'IST0132', 'IST0165'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    for (const vs of snap.of(K.VirtualService)) {
      const spec = obj(vs.object.spec);
      const vsHosts = arr(spec.hosts).map(str);
      arr(spec.gateways).map(str).forEach((ref, i) => {
        if (ref === 'mesh') return;
        const at = ['spec', 'gateways', i];
        if (isInternalGateway(ref)) {
          ctx.report(vs, 'IST0165', [fullName(vs), ref], at);
          return;
        }
        const { namespace, name } = gatewayRef(ref, vs.namespace);
        const istioGw = snap.get(K.Gateway, namespace, name);
        const k8sGw = istioGw ? undefined : snap.get(K.K8sGateway, namespace, name);
        let matched: boolean;
        if (!istioGw && !k8sGw) {
          // no gateway, so none of the hosts is in it either: istioctl reports both
          ctx.report(vs, 'IST0101', ['gateway', ref], at);
          matched = false;
        } else if (istioGw) {
          const gwHosts = gatewayHostsFor(istioGw, vs.namespace);
          matched = gwHosts.some((g) => vsHosts.some((h) => hostMatches(g, h)));
        } else {
          const listeners = arr(obj(k8sGw!.object.spec).listeners).map(obj);
          matched = listeners.some((l) => !str(l.hostname)) || listeners.some((l) => vsHosts.some((h) => hostMatches(str(l.hostname), h)));
        }
        if (!matched) ctx.report(vs, 'IST0132', [vsHosts, fullName(vs), `${namespace}/${name}`], at);
      });
    }
  },
};

export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'Checks if multiple virtual services associated with the mesh gateway have conflicting hosts',
  codes: ['IST0109'],
  analyze(ctx: Context) {
    const domain = ctx.snapshot.clusterDomain;
    // mesh VirtualServices by `scope/fqdn`, scope being where the host is visible (`*`: everywhere)
    const byHost = new Map<string, Resource[]>();
    const vss = [...ctx.snapshot.of(K.VirtualService)].sort(byFullName);
    for (const vs of vss) {
      const spec = obj(vs.object.spec);
      const gateways = arr(spec.gateways).map(str);
      if (gateways.length > 0 && !gateways.includes('mesh')) continue;
      const exportTo = arr(spec.exportTo).map(str);
      const scopes = exportTo.length === 0 || exportTo.includes('*') ? ['*'] : [...new Set(exportTo.map((e) => (e === '.' ? vs.namespace : e)))];
      for (const scope of scopes) {
        for (const h of new Set(arr(spec.hosts).map(str))) {
          const key = `${scope}/${toFqdn(vs.namespace, h, domain)}`;
          const list = byHost.get(key);
          if (list) list.push(vs);
          else byHost.set(key, [vs]);
        }
      }
    }
    // hosts exported everywhere, for the namespace-scoped ones they are visible beside
    const everywhere = [...byHost].filter(([key]) => key.startsWith('*/')).map(([key, list]) => ({ host: key.slice(2), list }));
    const everywhereWild = everywhere.filter((e) => e.host.startsWith('*'));
    const matchingEverywhere = (host: string) =>
      host.startsWith('*') ? everywhere.filter((e) => hostMatches(host, e.host)) : [...(byHost.has(`*/${host}`) ? [{ host, list: byHost.get(`*/${host}`)! }] : []), ...everywhereWild.filter((e) => hostMatches(host, e.host))];
    const reported = new Set<Resource>();
    for (const [key, own] of byHost) {
      let list = own;
      if (!key.startsWith('*/')) {
        // a host kept to some namespaces still clashes there with one exported to all (wildcards included)
        const host = key.slice(key.indexOf('/') + 1);
        const shared = matchingEverywhere(host).flatMap((e) => e.list);
        if (shared.length > 0) list = [...new Set([...own, ...shared])];
      }
      if (list.length < 2) continue;
      const names = list.map(fullName).join(',');
      // each VirtualService once, under the first host it clashes on
      for (const vs of list) {
        if (reported.has(vs)) continue;
        reported.add(vs);
        ctx.report(vs, 'IST0109', [names, key], ['metadata', 'name']);
      }
    }
  },
};

/** Workloads a Gateway's selector picks, across all namespaces (a gateway selects pods anywhere). */
export function gatewayWorkloads(snap: Snapshot, gw: Resource) {
  const selector = strMap(obj(gw.object.spec).selector);
  return snap.workloadsMatching(selector).filter((w) => w.resource.kind !== 'WorkloadEntry');
}

export const jwtClaimRouteAnalyzer: Analyzer = {
  name: 'virtualservice.JWTClaimRouteAnalyzer',
  description: 'Checks the VirtualService using JWT claim based routing has corresponding RequestAuthentication',
  codes: ['IST0149'],
  analyze(ctx: Context) {
    const snap = ctx.snapshot;
    // RequestAuthentication selectors by namespace (an absent selector selects every pod)
    const raSelectors = new Map<string, Record<string, string>[]>();
    for (const ra of snap.of(K.RequestAuthentication)) {
      const sel = strMap(obj(obj(ra.object.spec).selector).matchLabels);
      const list = raSelectors.get(ra.namespace);
      if (list) list.push(sel);
      else raSelectors.set(ra.namespace, [sel]);
    }
    for (const vs of snap.of(K.VirtualService)) {
      const claim = jwtClaimKey(vs);
      if (!claim) continue;
      for (const ref of arr(obj(vs.object.spec).gateways).map(str)) {
        if (ref === 'mesh') continue;
        const { namespace, name } = gatewayRef(ref, vs.namespace);
        const gw = snap.get(K.Gateway, namespace, name);
        // a missing gateway is virtualservice.GatewayAnalyzer's finding
        if (!gw) continue;
        for (const w of gatewayWorkloads(snap, gw)) {
          // istiod validates JWTs on a gateway pod with the RequestAuthentications of istio-system and of the pod's namespace
          const selectors = [...(raSelectors.get('istio-system') ?? []), ...(w.namespace === 'istio-system' ? [] : (raSelectors.get(w.namespace) ?? []))];
          if (selectors.some((sel) => selectorMatches(sel, w.labels))) continue;
          ctx.report(vs, 'IST0149', [claim.key, `${namespace}/${name}`, w.resource.name], claim.path);
        }
      }
    }
  },
};

/** The first `@request.auth.claims.*` header a VirtualService's HTTP routes match on, and where it is. */
function jwtClaimKey(vs: Resource): { key: string; path: (string | number)[] } | undefined {
  const rules = arr(obj(vs.object.spec).http);
  for (let i = 0; i < rules.length; i++) {
    const matches = arr(obj(rules[i]).match);
    for (let j = 0; j < matches.length; j++) {
      for (const field of ['headers', 'withoutHeaders']) {
        for (const key of Object.keys(obj(obj(matches[j])[field]))) {
          if (key.startsWith('@request.auth.claims')) return { key, path: ['spec', 'http', i, 'match', j, field, key] };
        }
      }
    }
  }
  return undefined;
}
