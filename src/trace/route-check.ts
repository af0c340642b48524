import type { Json } from './matchers.js';
import type { HttpRequest } from './request.js';
import { findRoute, findVirtualHost, routeAction } from './route.js';

/** A request in the shape of Envoy's router check tool tests (`input` of a `.golden.proto.json`). */
export interface RouteCheckInput {
  authority: string;
  path: string;
  method?: string;
  ssl?: boolean;
  internal?: boolean;
  random_value?: number;
  additional_headers?: { key: string; value: string }[];
}

/** What the check tool validates, computed by meshctl's route simulation. */
export interface RouteCheckResult {
  cluster_name: string;
  virtual_host_name: string;
  route_name: string;
  path_rewrite: string;
  host_rewrite: string;
  path_redirect: string;
  code_redirect: number;
}

export function toRequest(input: RouteCheckInput): HttpRequest {
  return {
    authority: input.authority,
    path: input.path,
    method: input.method ?? 'GET',
    scheme: input.ssl ? 'https' : 'http',
    internal: input.internal === true,
    headers: (input.additional_headers ?? []).map((h) => [h.key.toLowerCase(), h.value]),
    // The check tool uses 0 when a test gives no random value.
    random: input.random_value ?? 0,
  };
}

/** Routes one request through a RouteConfiguration the way the check tool reports it. */
export function checkRoute(rc: Json, input: RouteCheckInput): RouteCheckResult {
  const req = toRequest(input);
  const none: RouteCheckResult = {
    cluster_name: '',
    virtual_host_name: '',
    route_name: '',
    path_rewrite: '',
    host_rewrite: '',
    path_redirect: '',
    code_redirect: 0,
  };
  const vh = findVirtualHost(rc, req.authority);
  if (!vh.vhost) return none;
  const base = { ...none, virtual_host_name: vh.name ?? '' };
  const r = findRoute(vh.vhost, req);
  if (r.tlsRedirect) return { ...base, path_redirect: r.tlsRedirect, code_redirect: 301 };
  if (!r.route) return base;
  const a = routeAction(r.route, vh.vhost, req);
  return {
    ...base,
    route_name: r.name ?? '',
    cluster_name: a.cluster ?? '',
    path_rewrite: a.kind === 'route' ? (a.pathRewrite ?? req.path) : '',
    host_rewrite: a.kind === 'route' ? (a.hostRewrite ?? req.authority) : '',
    path_redirect: a.redirect?.location ?? '',
    code_redirect: a.redirect?.status ?? 0,
  };
}
