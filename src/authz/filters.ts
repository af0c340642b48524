import { filterConfig } from '../envoy/typed-config.js';
import type { Json } from '../match/string.js';

/** An RBAC filter (envoy.filters.http.rbac / envoy.filters.network.rbac) as the chain holds it. */
export interface RbacFilter {
  type: 'rbac';
  /** The filter's instance name in the chain (per-route configuration is keyed by it). */
  name: string;
  kind: 'http' | 'network';
  /** `rules` (enforced), null when the filter only has shadow rules. */
  rules: Json | null;
  /** `shadow_rules` (Istio's dry-run, and CUSTOM's trigger): evaluated and reported, never enforced. */
  shadowRules: Json | null;
  shadowPrefix: string;
  /** The filter uses the unified matcher API (`matcher` / `shadow_matcher`), which meshctl does not run. */
  matcherApi: boolean;
  /** Where the configuration came from when a route or virtual host overrides it. */
  override?: string;
  /** Disabled for the chosen route (RBACPerRoute without rbac, or FilterConfig disabled). */
  disabled?: string;
}

/** An ext_authz filter (Istio's CUSTOM action): the external service decides at run time. */
export interface ExtAuthzFilter {
  type: 'ext_authz';
  name: string;
  kind: 'http' | 'network';
  /** `filter_enabled_metadata`: Istio asks the service only when the CUSTOM policies' shadow rules matched. */
  enabledMetadata: Json | null;
  /** The authorization service (cluster or URI), for the explanation. */
  service: string | null;
  disabled?: string;
}

export type AuthzFilter = RbacFilter | ExtAuthzFilter;

/** The authorization filters of a chain's network filters, or of a connection manager's http_filters, in order. */
export function authzFiltersOf(filters: Json[], kind: 'http' | 'network'): AuthzFilter[] {
  const out: AuthzFilter[] = [];
  for (const f of filters) {
    const { type, config } = filterConfig(f);
    const name = String(f?.name ?? type);
    if (/\.rbac\.v3\.RBAC$/.test(type) || (!type && /\.rbac$/.test(name))) out.push(rbacFilter(name, kind, config));
    else if (/ext_authz\.v3\.ExtAuthz$/.test(type) || (!type && /ext_authz$/.test(name))) {
      const svc = config.grpc_service?.envoy_grpc?.cluster_name ?? config.grpc_service?.google_grpc?.target_uri ?? config.http_service?.server_uri?.uri ?? config.http_service?.server_uri?.cluster ?? null;
      out.push({ type: 'ext_authz', name, kind, enabledMetadata: config.filter_enabled_metadata ?? null, service: svc === null ? null : String(svc) });
    }
  }
  return out;
}

function rbacFilter(name: string, kind: 'http' | 'network', c: Json): RbacFilter {
  return {
    type: 'rbac',
    name,
    kind,
    rules: c.rules ?? null,
    shadowRules: c.shadow_rules ?? null,
    shadowPrefix: String(c.shadow_rules_stat_prefix ?? ''),
    matcherApi: c.matcher !== undefined || c.shadow_matcher !== undefined,
  };
}

/**
 * The configuration an HTTP authorization filter has for the chosen route: typed_per_filter_config on the
 * route, else its virtual host (the most specific wins, as in Envoy). RBACPerRoute without `rbac` and
 * FilterConfig `disabled` turn the filter off for the route.
 */
export function forRoute(f: AuthzFilter, route: Json | null, vhost: Json | null): AuthzFilter {
  for (const [where, obj] of [
    ['route', route],
    ['virtual host', vhost],
  ] as const) {
    const pfc = obj?.typed_per_filter_config?.[f.name];
    if (pfc === undefined) continue;
    let cfg = pfc;
    let type = String(cfg?.['@type'] ?? '');
    if (/FilterConfig$/.test(type)) {
      if (cfg.disabled === true) return { ...f, disabled: `disabled on the ${where} (typed_per_filter_config)` };
      cfg = cfg.config ?? {};
      type = String(cfg?.['@type'] ?? '');
    }
    if (f.type === 'rbac') {
      const inner = cfg.rbac;
      if (inner === undefined) return { ...f, disabled: `disabled on the ${where} (RBACPerRoute without rbac)` };
      return { ...rbacFilter(f.name, f.kind, inner), override: `the ${where}'s typed_per_filter_config` };
    }
    if (cfg.disabled === true) return { ...f, disabled: `disabled on the ${where} (ExtAuthzPerRoute)` };
    return f;
  }
  return f;
}
