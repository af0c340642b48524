/** The request a trace simulates, as Envoy's router sees it after the connection manager. */
export interface HttpRequest {
  /** :authority (Host) exactly as sent, port included when given. */
  authority: string;
  /** :path with query string. */
  path: string;
  method: string;
  /** :scheme / x-forwarded-proto: what a redirect keeps when it does not change the scheme. */
  scheme: string;
  /** Extra request headers, names lower-cased, in order (a repeated name is joined with ','). */
  headers: [string, string][];
  /** x-envoy-internal: true (the request came from inside the mesh/network). */
  internal?: boolean;
  /** Envoy's per-request random value (--random): decides runtime fractions and weighted clusters. */
  random?: number;
  /**
   * The stream's dynamic metadata when the router runs (set by earlier filters), by filter name:
   * `{ 'envoy.lb': { canary: true } }`. Absent: the request carries none.
   */
  metadata?: DynamicMetadata;
}

/** Dynamic metadata by filter namespace, each a JSON object (protobuf Struct). */
export type DynamicMetadata = Record<string, Record<string, unknown>>;

/** A header's value as Envoy's matchers read it: all values joined with ',', undefined when absent. */
export function headerValue(req: HttpRequest, name: string): string | undefined {
  const key = name.toLowerCase();
  switch (key) {
    case ':authority':
      return req.authority;
    case ':path':
      return req.path;
    case ':method':
      return req.method;
    case ':scheme':
      return req.scheme;
    case 'x-forwarded-proto':
      if (!req.headers.some(([k]) => k === key)) return req.scheme;
      break;
    case 'x-envoy-internal':
      if (req.internal && !req.headers.some(([k]) => k === key)) return 'true';
      break;
  }
  const values = req.headers.filter(([k]) => k === key).map(([, v]) => v);
  return values.length ? values.join(',') : undefined;
}

/**
 * A header's first value, as Envoy reads a header that names a cluster or a host (`cluster_header`,
 * `host_rewrite_header`): pseudo-headers (`:authority`, `:path`, `:method`, `:scheme`) come from the request.
 */
export function firstHeaderValue(req: HttpRequest, name: string): string | undefined {
  const key = name.toLowerCase();
  if (key.startsWith(':') || key === 'x-forwarded-proto' || key === 'x-envoy-internal') return headerValue(req, key);
  return req.headers.find(([k]) => k === key)?.[1];
}

/** The path without query string and fragment (Envoy's PathUtil::removeQueryAndFragment). */
export function pathOnly(path: string): string {
  const q = path.search(/[?#]/);
  return q === -1 ? path : path.slice(0, q);
}

/** Query parameters in order (first value wins for matching), not percent-decoded, as Envoy parses them. */
export function queryParams(path: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = path.indexOf('?');
  if (q === -1) return out;
  let query = path.slice(q + 1);
  const hash = query.indexOf('#');
  if (hash !== -1) query = query.slice(0, hash);
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

/** Index of the ':' starting a port in a host, or -1 (Envoy's HeaderUtility::getPortStart). */
export function portStart(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon === -1) return -1;
  const v6End = host.lastIndexOf(']');
  if (v6End !== -1 && v6End > colon) return -1;
  const port = host.slice(colon + 1);
  if (!/^\d+$/.test(port) || Number(port) > 0xffffffff) return -1;
  return colon;
}
