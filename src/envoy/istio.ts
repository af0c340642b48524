import { isObject, str } from './json.js';
import type { Cluster, Metadata, Route } from './types.js';

/** The parts of an Istio cluster name `direction|port|subset|fqdn` (or the DNS SRV form `outbound_.9080_.v1_.host`). */
export interface IstioClusterName {
  /** `outbound`, `inbound`, `inbound-vip`, ... */
  direction: string;
  /** 0 when the port part is not a number (as istioctl shows it). */
  port: number;
  /** Empty for no subset. */
  subset: string;
  /** Empty when the name has more parts than Istio's four. */
  fqdn: string;
}

/**
 * Splits an Istio cluster name the way Istio's own ParseSubsetKey does. Returns undefined for names that
 * are not Istio's (`agent`, `prometheus_stats`, `PassthroughCluster`, ...).
 */
export function parseIstioClusterName(name: string): IstioClusterName | undefined {
  const sep = name.startsWith('outbound_.') || name.startsWith('inbound_.') ? '_.' : '|';
  const parts = name.split(sep);
  if (parts.length < 4) return undefined;
  return {
    direction: parts[0],
    port: goAtoi(parts[1]),
    subset: parts[2],
    fqdn: parts.length === 4 ? parts[3] : '',
  };
}

/** Builds `direction|port|subset|fqdn`. */
export function istioClusterName(direction: string, port: number, subset: string, fqdn: string): string {
  return `${direction}|${port}|${subset}|${fqdn}`;
}

/** Go's strconv.Atoi, returning 0 where Go returns an error. */
function goAtoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) return 0;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : 0;
}

/** An Istio resource named in `filter_metadata.istio.config` (`/apis/networking.istio.io/v1alpha3/namespaces/ns/destination-rule/name`). */
export interface IstioConfigRef {
  path: string;
  group: string;
  version: string;
  namespace: string;
  /** As in the path: `destination-rule`, `virtual-service`, `sidecar`, ... */
  kind: string;
  name: string;
}

/** The raw `filter_metadata.istio.config` string of any Envoy object's metadata. */
export function istioConfigPath(metadata: Metadata | undefined): string | undefined {
  const istio = metadata?.filter_metadata?.istio;
  return isObject(istio) ? str(istio.config) : undefined;
}

export function parseIstioConfigPath(path: string): IstioConfigRef | undefined {
  const m = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return undefined;
  return { path, group: m[1], version: m[2], namespace: m[3], kind: m[4], name: m[5] };
}

export function istioConfigRef(metadata: Metadata | undefined): IstioConfigRef | undefined {
  const path = istioConfigPath(metadata);
  return path === undefined ? undefined : parseIstioConfigPath(path);
}

/**
 * `name.namespace` of the Istio resource behind an object, as istioctl's DESTINATION RULE and VIRTUAL
 * SERVICE columns show it: empty when there is none, `<unknown>` when the metadata names something
 * that is not an Istio networking resource.
 */
export function describeIstioConfig(metadata: Metadata | undefined): string {
  const path = istioConfigPath(metadata);
  if (path === undefined) return '';
  const ref = parseIstioConfigPath(path);
  if (ref && ref.group === 'networking.istio.io') return `${ref.name}.${ref.namespace}`;
  if (path.startsWith('/apis/networking.istio.io/')) return '';
  return '<unknown>';
}

/** The DestinationRule (`name.namespace`) that shaped a cluster, if any. */
export function destinationRuleOf(cluster: Cluster): string | undefined {
  return describeIstioConfig(cluster.metadata) || undefined;
}

/** The VirtualService (`name.namespace`) a route came from, if any. */
export function virtualServiceOf(route: Route): string | undefined {
  return describeIstioConfig(route.metadata) || undefined;
}

export interface IstioService {
  host?: string;
  name?: string;
  namespace?: string;
}

/** `filter_metadata.istio.services` of a cluster: the Kubernetes services behind it. */
export function istioServicesOf(cluster: Cluster): IstioService[] {
  const istio = cluster.metadata?.filter_metadata?.istio;
  const services = isObject(istio) ? istio.services : undefined;
  return Array.isArray(services) ? (services.filter(isObject) as IstioService[]) : [];
}

/** Istio's well-known non-service clusters. */
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const INBOUND_PASSTHROUGH_CLUSTERS = ['InboundPassthroughCluster', 'InboundPassthroughClusterIpv4', 'InboundPassthroughClusterIpv6'];
