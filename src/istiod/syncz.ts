import { MeshctlError } from '../errors.js';
import type { InputText } from '../source/file.js';
import { parseDocument } from '../source/parse.js';

/** One proxy of istiod's /debug/syncz (pilot's xds.SyncStatus). */
export interface SyncStatus {
  cluster_id?: string;
  proxy: string;
  proxy_type?: string;
  proxy_version?: string;
  istio_version?: string;
  cluster_sent?: string;
  cluster_acked?: string;
  listener_sent?: string;
  listener_acked?: string;
  route_sent?: string;
  route_acked?: string;
  endpoint_sent?: string;
  endpoint_acked?: string;
  extensionconfig_sent?: string;
  extensionconfig_acked?: string;
  /** Newer istiods: per watched type URL. A type the proxy does not watch is absent (IGNORED). */
  resources?: Record<string, { sent?: string; acked?: string; lastError?: string }>;
}

export interface ProxyStatusRow {
  name: string;
  cluster: string;
  cds: string;
  lds: string;
  eds: string;
  rds: string;
  ecds: string;
  istiod: string;
  version: string;
}

const TYPES = [
  ['cds', 'cluster', 'type.googleapis.com/envoy.config.cluster.v3.Cluster'],
  ['lds', 'listener', 'type.googleapis.com/envoy.config.listener.v3.Listener'],
  ['eds', 'endpoint', 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'],
  ['rds', 'route', 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration'],
  ['ecds', 'extensionconfig', 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig'],
] as const;

export const PROXY_STATUS_HEADERS = ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'ISTIOD', 'VERSION'];

export function parseSyncz(input: InputText): SyncStatus[] {
  const doc = parseDocument(input);
  if (!Array.isArray(doc)) throw new MeshctlError(`${input.name}: not an istiod /debug/syncz answer (expected a JSON list of proxies)`);
  doc.forEach((s, i) => {
    if (!s || typeof s !== 'object' || typeof (s as SyncStatus).proxy !== 'string') {
      throw new MeshctlError(`${input.name}: entry #${i + 1} has no "proxy"; not a /debug/syncz answer`);
    }
  });
  return doc as SyncStatus[];
}

/** istioctl's rule: nothing sent → NOT SENT; sent = acked → SYNCED; never acked → STALE (Never Acknowledged); else STALE. */
export function xdsStatus(sent: string | undefined, acked: string | undefined): string {
  if (!sent) return 'NOT SENT';
  if (sent === acked) return 'SYNCED';
  if (!acked) return 'STALE (Never Acknowledged)';
  return 'STALE';
}

export function statusRow(s: SyncStatus, istiod: string): ProxyStatusRow {
  const cell = (short: string, url: string): string => {
    if (s.resources && typeof s.resources === 'object') {
      const r = s.resources[url];
      return r ? xdsStatus(r.sent, r.acked) : 'IGNORED';
    }
    const rec = s as unknown as Record<string, string | undefined>;
    return xdsStatus(rec[`${short}_sent`], rec[`${short}_acked`]);
  };
  const [cds, lds, eds, rds, ecds] = TYPES.map(([, short, url]) => cell(short, url));
  return {
    name: s.proxy,
    cluster: s.cluster_id ?? '',
    cds, lds, eds, rds, ecds,
    istiod,
    // an old pilot reports no Istio version: fall back to the proxy's, starred as istioctl does
    version: s.istio_version || (s.proxy_version ? `${s.proxy_version}*` : ''),
  };
}

export function proxyStatusRows(answers: { istiod: string; statuses: SyncStatus[] }[]): ProxyStatusRow[] {
  return answers
    .flatMap((a) => a.statuses.map((s) => statusRow(s, a.istiod)))
    .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.name.localeCompare(b.name) || a.istiod.localeCompare(b.istiod));
}

export function rowCells(r: ProxyStatusRow): string[] {
  return [r.name, r.cluster, r.cds, r.lds, r.eds, r.rds, r.ecds, r.istiod, r.version];
}
