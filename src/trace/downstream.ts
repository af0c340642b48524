import { isIP } from 'node:net';
import type { Json } from './matchers.js';
import { cidrOf, inCidr, parseIp, type Ip } from './net.js';

/**
 * What the HTTP connection manager does to a request's headers before the router sees it
 * (Envoy's ConnectionManagerUtility::mutateRequestHeaders), as far as routing depends on it:
 * x-forwarded-proto (the scheme `require_tls` and scheme-keeping redirects use), x-forwarded-for, and
 * whether the request is internal (x-envoy-internal, which `require_tls: EXTERNAL_ONLY` reads).
 */
export interface RouterView {
  /** x-forwarded-proto as the router reads it. */
  scheme: string;
  internal: boolean;
  /** The request headers after the connection manager: x-envoy-internal, x-forwarded-for/-proto set or cleaned. */
  headers: [string, string][];
  /** How the scheme and internal-ness were decided, in the trace's words. */
  schemeHow: string;
  internalHow: string;
  notes: string[];
  uncertain: string[];
}

export interface DownstreamConnection {
  /** The client's address as this Envoy sees it (the connection's remote address). */
  remoteIp: string;
  /** Whether this Envoy terminated TLS on the connection. */
  tls: boolean;
}

/** Envoy's legacy default of internal addresses: RFC 1918, 127.0.0.1, ::1 and fd00::/8. */
const DEFAULT_INTERNAL: [string, number][] = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.1', 32],
  ['::1', 128],
  ['fd00::', 8],
];

export function routerView(hcm: Json, conn: DownstreamConnection, clientHeaders: [string, string][]): RouterView {
  const notes: string[] = [];
  const uncertain: string[] = [];
  const useRemote = hcm?.use_remote_address === true;
  const hops = Math.max(0, Number(hcm?.xff_num_trusted_hops ?? 0) || 0);
  // The connection manager drops any x-envoy-internal the client sent and decides it itself.
  if (clientHeaders.some(([k]) => k === 'x-envoy-internal')) notes.push('x-envoy-internal from the client is removed by the connection manager, which decides it itself');
  let headers = clientHeaders.filter(([k]) => k !== 'x-envoy-internal');
  const xff = headers.filter(([k]) => k === 'x-forwarded-for').flatMap(([, v]) => v.split(',').map((x) => x.trim()).filter(Boolean));
  const given = headers.find(([k]) => k === 'x-forwarded-proto')?.[1];
  const connScheme = conn.tls ? 'https' : 'http';

  let finalRemote: string | null = null;
  let trusted = false;
  let scheme = given;
  let schemeHow = given !== undefined ? `x-forwarded-proto ${given} as sent by the client` : '';
  let via: string;
  if (useRemote) {
    trusted = xff.length === 0;
    if (hops > 0) finalRemote = xffAddress(xff, hops - 1);
    finalRemote ??= conn.remoteIp;
    via = `use_remote_address: the client address ${finalRemote}${hops > 0 ? ` (xff_num_trusted_hops ${hops})` : ''}`;
    if (hcm?.skip_xff_append !== true) {
      headers = headers.filter(([k]) => k !== 'x-forwarded-for');
      headers.push(['x-forwarded-for', [...xff, conn.remoteIp].join(',')]);
    }
    if (hops === 0 || given === undefined) {
      scheme = connScheme;
      schemeHow = `x-forwarded-proto ${connScheme}: set by the connection manager (use_remote_address, ${conn.tls ? 'TLS' : 'plaintext'} connection)${given !== undefined && hops === 0 ? `; the client's ${given} is not trusted` : ''}`;
    }
  } else {
    const extensions = Array.isArray(hcm?.original_ip_detection_extensions) ? hcm.original_ip_detection_extensions : [];
    if (extensions.length) {
      uncertain.push(`original_ip_detection_extensions (${extensions.map((e: Json) => e?.name ?? '?').join(', ')}) decide the client address at run time`);
      via = 'an original IP detection extension (not simulated)';
    } else {
      // the default detection: the address hops+1 from the right of x-forwarded-for, trusted only when it is the only one
      finalRemote = xffAddress(xff, hops);
      trusted = xff.length === 1 && finalRemote !== null;
      via = xff.length === 0
        ? 'no x-forwarded-for (without use_remote_address a request without one is external)'
        : `x-forwarded-for ${xff.join(', ')}${trusted ? '' : ' (more than one address: external)'}`;
    }
  }
  if (scheme === undefined) {
    scheme = connScheme;
    schemeHow = `x-forwarded-proto ${connScheme}: set by the connection manager (${conn.tls ? 'TLS' : 'plaintext'} connection)`;
  }
  const overwrite = hcm?.scheme_header_transformation?.scheme_to_overwrite;
  if (typeof overwrite === 'string' && overwrite !== '') {
    scheme = overwrite;
    schemeHow = `x-forwarded-proto ${overwrite}: scheme_header_transformation`;
  }
  headers = headers.filter(([k]) => k !== 'x-forwarded-proto');
  headers.push(['x-forwarded-proto', scheme]);

  const addresses = internalAddresses(hcm);
  const internal = trusted && finalRemote !== null && isInternal(finalRemote, addresses.ranges);
  let internalHow: string;
  if (!trusted || finalRemote === null) internalHow = `external: ${via}`;
  else internalHow = `${internal ? 'internal' : 'external'}: ${via} ${internal ? 'is' : 'is not'} an internal address (${addresses.how})`;
  if (internal) headers.push(['x-envoy-internal', 'true']);
  return { scheme, internal, headers, schemeHow, internalHow, notes, uncertain };
}

/** The address `skip` entries from the right of x-forwarded-for (Utility::getLastAddressFromXFF), if it is an IP. */
function xffAddress(xff: string[], skip: number): string | null {
  if (xff.length <= skip) return null;
  const a = xff[xff.length - 1 - skip];
  return isIP(a) ? a : null;
}

function internalAddresses(hcm: Json): { ranges: [string, number][]; how: string } {
  const cfg = hcm?.internal_address_config;
  if (cfg && typeof cfg === 'object') {
    const ranges: [string, number][] = (Array.isArray(cfg.cidr_ranges) ? cfg.cidr_ranges : []).map((r: Json) => {
      const c = cidrOf(r);
      return [c.prefix, c.len] as [string, number];
    });
    return { ranges, how: ranges.length ? `internal_address_config ${ranges.map(([p, l]) => `${p}/${l}`).join(', ')}` : 'internal_address_config lists none' };
  }
  return { ranges: DEFAULT_INTERNAL, how: "Envoy's default: RFC 1918, loopback, fd00::/8" };
}

function isInternal(address: string, ranges: [string, number][]): boolean {
  const ip: Ip | null = parseIp(address);
  return ip !== null && ranges.some(([p, l]) => inCidr(ip, p, l));
}
