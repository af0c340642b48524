import type { ServicePort } from './objects.js';

/** Protocols Istio recognises in a port name prefix (`http-web`) or appProtocol, case-insensitively. */
const KNOWN: Record<string, string> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};

/** Ports where sniffing would break the application, so Istio assumes TCP when nothing names a protocol. */
const WELL_KNOWN_TCP = new Set([25, 53, 3306, 27017]);

export interface PortProtocol {
  /** HTTP, HTTP2, GRPC, TCP, ... or `auto-detect` when Istio will sniff the protocol. */
  protocol: string;
  /** What decided it, in words: `appProtocol "grpc"`, `name "http-web"`, `well-known port 3306`, ... */
  source: string;
  /** True when a name or appProtocol was given but names no protocol Istio knows. */
  unrecognised?: boolean;
}

/** The protocol Istio gives a Service port: appProtocol first, then the name's prefix, else auto-detect. */
export function servicePortProtocol(port: ServicePort): PortProtocol {
  if ((port.protocol ?? 'TCP').toUpperCase() === 'UDP') return { protocol: 'UDP', source: 'protocol UDP' };
  if ((port.protocol ?? 'TCP').toUpperCase() === 'SCTP') return { protocol: 'SCTP', source: 'protocol SCTP' };
  if (port.appProtocol) {
    const special: Record<string, string> = { 'kubernetes.io/h2c': 'HTTP2', 'kubernetes.io/ws': 'HTTP', 'kubernetes.io/wss': 'HTTPS' };
    const p = special[port.appProtocol] ?? parseProtocolName(port.appProtocol);
    if (p) return { protocol: p, source: `appProtocol "${port.appProtocol}"` };
    return fallback(port, `appProtocol "${port.appProtocol}"`);
  }
  if (port.name) {
    const p = parseProtocolName(port.name);
    if (p) return { protocol: p, source: `name "${port.name}"` };
    return fallback(port, `name "${port.name}"`);
  }
  return fallback(port, undefined);
}

function fallback(port: ServicePort, given: string | undefined): PortProtocol {
  if (port.port !== undefined && WELL_KNOWN_TCP.has(port.port)) {
    return { protocol: 'TCP', source: `well-known port ${port.port}`, unrecognised: given !== undefined };
  }
  if (given) return { protocol: 'auto-detect', source: `${given} names no protocol`, unrecognised: true };
  return { protocol: 'auto-detect', source: 'no name or appProtocol' };
}

/** `http`, `http-web`, `GRPC-Web-x`, `tcp-db` → the protocol; undefined when the prefix names none. */
export function parseProtocolName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower.startsWith('grpc-web')) return KNOWN['grpc-web'];
  const dash = lower.indexOf('-');
  const prefix = dash >= 0 ? lower.slice(0, dash) : lower;
  return KNOWN[prefix];
}

/** True for protocols whose traffic Envoy handles with an HTTP connection manager. */
export function isHttpProtocol(protocol: string): boolean {
  return ['HTTP', 'HTTP2', 'GRPC', 'GRPC-Web', 'HTTP_PROXY'].includes(protocol);
}
