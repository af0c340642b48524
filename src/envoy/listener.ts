import { isObject, num, str } from './json.js';
import type { Address, FilterChain, HttpConnectionManager, LbEndpoint, Listener, NetworkFilter, TcpProxy } from './types.js';

export const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
export const TCP_PROXY_FILTER = 'envoy.filters.network.tcp_proxy';

/** `filter_chains` plus `default_filter_chain` (last), the chains Envoy can pick from. */
export function filterChainsOf(listener: Listener): FilterChain[] {
  const chains = Array.isArray(listener.filter_chains) ? listener.filter_chains.filter(isObject) : [];
  if (isObject(listener.default_filter_chain)) return [...chains, listener.default_filter_chain];
  return chains;
}

export function networkFilters(chain: FilterChain): NetworkFilter[] {
  return Array.isArray(chain.filters) ? chain.filters.filter(isObject) : [];
}

/** The HTTP connection manager config of a chain, if it has one. */
export function httpConnectionManager(chain: FilterChain): HttpConnectionManager | undefined {
  for (const f of networkFilters(chain)) {
    if (f.name === HCM_FILTER && isObject(f.typed_config)) return f.typed_config as HttpConnectionManager;
  }
  return undefined;
}

/** The TCP proxy config of a chain, if it has one. */
export function tcpProxy(chain: FilterChain): TcpProxy | undefined {
  for (const f of networkFilters(chain)) {
    if (f.name === TCP_PROXY_FILTER && isObject(f.typed_config)) return f.typed_config as TcpProxy;
  }
  return undefined;
}

/** The RDS route config name an HTTP chain uses (`9080`, `inbound|9080||`, ...). */
export function rdsRouteName(chain: FilterChain): string | undefined {
  return str(httpConnectionManager(chain)?.rds?.route_config_name);
}

/** The listener's main address: socket address, pipe path, or empty (internal listeners). */
export function listenerAddress(listener: Listener): string {
  return addressHost(listener.address);
}

/** All addresses, main first (`additional_addresses` after). */
export function listenerAddresses(listener: Listener): string[] {
  const out = [listenerAddress(listener)];
  if (Array.isArray(listener.additional_addresses)) {
    for (const a of listener.additional_addresses) out.push(isObject(a) ? addressHost(a.address) : '');
  }
  return out;
}

export function listenerPort(listener: Listener): number {
  return num(listener.address?.socket_address?.port_value) ?? 0;
}

/** Host part of an address: socket IP, pipe path, or empty. */
export function addressHost(address: Address | undefined): string {
  if (!isObject(address)) return '';
  if (isObject(address.socket_address)) return str(address.socket_address.address) ?? '';
  if (isObject(address.pipe)) return str(address.pipe.path) ?? '';
  return '';
}

export function addressPort(address: Address | undefined): number {
  return num(address?.socket_address?.port_value) ?? 0;
}

/**
 * An address as one string: `10.0.0.1:9080`, a pipe path, `envoy://listener/endpoint_id` for an
 * internal address, `unknown` otherwise (istioctl's spelling for endpoints).
 */
export function addressString(address: Address | undefined): string {
  if (isObject(address)) {
    if (isObject(address.socket_address)) {
      return `${str(address.socket_address.address) ?? ''}:${num(address.socket_address.port_value) ?? 0}`;
    }
    if (isObject(address.pipe)) return str(address.pipe.path) ?? '';
    const internal = address.envoy_internal_address;
    if (isObject(internal) && internal.server_listener_name !== undefined) {
      return `envoy://${str(internal.server_listener_name) ?? ''}/${str(internal.endpoint_id) ?? ''}`;
    }
  }
  return 'unknown';
}

/** Every address of an LB endpoint (main, then additional ones) in addressString form. */
export function endpointAddresses(ep: LbEndpoint): string[] {
  const e = ep.endpoint;
  const out = [addressString(isObject(e) ? e.address : undefined)];
  if (isObject(e) && Array.isArray(e.additional_addresses)) {
    for (const a of e.additional_addresses) out.push(addressString(isObject(a) ? a.address : undefined));
  }
  return out;
}
