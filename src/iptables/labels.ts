/** Istio's chains, ports, ids and marks in words, for tables and traces. */

export const PORT_LABELS: Record<number, string> = {
  15001: 'outbound capture',
  15006: 'inbound capture',
  15008: 'HBONE',
  15020: 'agent',
  15021: 'health',
  15090: 'stats',
  15053: 'DNS proxy',
  15000: 'Envoy admin',
  15004: 'agent debug',
  53: 'DNS',
};

export const CHAIN_LABELS: Record<string, string> = {
  ISTIO_INBOUND: 'inbound capture',
  ISTIO_IN_REDIRECT: 'to inbound listener 15006',
  ISTIO_OUTPUT: 'outbound capture',
  ISTIO_REDIRECT: 'to outbound listener 15001',
  ISTIO_OUTPUT_DNS: 'DNS capture',
  ISTIO_DIVERT: 'established inbound, TPROXY',
  ISTIO_TPROXY: 'inbound capture, TPROXY',
  ISTIO_DROP: 'drop',
};

/** In the raw table Istio's chains of the same names only put DNS traffic in conntrack zones. */
const RAW_CHAIN_LABELS: Record<string, string> = {
  ISTIO_OUTPUT_DNS: 'DNS conntrack zones',
  ISTIO_INBOUND: 'DNS reply conntrack zones',
};

export function chainLabel(table: string, chain: string): string | undefined {
  return table === 'raw' ? RAW_CHAIN_LABELS[chain] : CHAIN_LABELS[chain];
}

export const PROXY_ID = 1337;

export const ADDRESS_LABELS: Record<string, string> = {
  '127.0.0.6/32': "Envoy's inbound passthrough source",
  '127.0.0.6': "Envoy's inbound passthrough source",
  '::6/128': "Envoy's inbound passthrough source",
  '::6': "Envoy's inbound passthrough source",
};

export function portLabel(port: number): string | undefined {
  return PORT_LABELS[port];
}

export function idLabel(id: number): string | undefined {
  return id === PROXY_ID ? 'the proxy itself' : undefined;
}

/** `15001` → `15001 (outbound capture)` when Istio gives the port a meaning. */
export function withPortLabel(port: number | string): string {
  const label = typeof port === 'number' ? portLabel(port) : portLabel(Number(port));
  return label ? `${port} (${label})` : String(port);
}
