import { MeshctlError } from '../errors.js';
import type { InputText } from '../source/file.js';
import { parseDocument } from '../source/parse.js';

/** One entry of istiod's /debug/registryz (pilot's model.Service as JSON); unknown fields are kept. */
export interface RegistryService {
  hostname: string;
  Attributes?: { ServiceRegistry?: string; Name?: string; Namespace?: string; [k: string]: unknown };
  ports?: { name?: string; port: number; protocol?: string }[] | null;
  clusterVIPs?: { Addresses?: Record<string, string[]> | null };
  defaultAddress?: string;
  /** Istio 1.11 and older: one VIP per cluster, and the service's address. */
  'cluster-vips'?: Record<string, string | string[]> | null;
  address?: string;
  MeshExternal?: boolean;
  [k: string]: unknown;
}

export function parseRegistryz(input: InputText): RegistryService[] {
  const doc = parseDocument(input);
  if (!Array.isArray(doc)) {
    throw new MeshctlError(`${input.name}: not an istiod /debug/registryz answer (expected a JSON list of services)`);
  }
  doc.forEach((s, i) => {
    if (!s || typeof s !== 'object' || typeof (s as RegistryService).hostname !== 'string') {
      throw new MeshctlError(`${input.name}: service #${i + 1} has no hostname; not a /debug/registryz answer`);
    }
  });
  return doc as RegistryService[];
}

/** Replicas share one registry; a service seen by several is listed once (first answer wins). */
export function mergeRegistries(lists: RegistryService[][]): RegistryService[] {
  const seen = new Map<string, RegistryService>();
  for (const list of lists) {
    for (const s of list) {
      const key = `${s.Attributes?.Namespace ?? ''}/${s.hostname}/${s.Attributes?.ServiceRegistry ?? ''}`;
      if (!seen.has(key)) seen.set(key, s);
    }
  }
  return [...seen.values()].sort(
    (a, b) => (a.Attributes?.Namespace ?? '').localeCompare(b.Attributes?.Namespace ?? '') || a.hostname.localeCompare(b.hostname),
  );
}

export const REGISTRY_HEADERS = ['SERVICE', 'NAMESPACE', 'ADDRESS', 'PORTS', 'REGISTRY'];

export function registryRows(services: RegistryService[]): string[][] {
  return services.map((s) => [
    s.hostname,
    s.Attributes?.Namespace || '-',
    addresses(s),
    (s.ports ?? []).map((p) => `${p.port}/${p.protocol || 'TCP'}`).join(',') || '-',
    s.Attributes?.ServiceRegistry || '-',
  ]);
}

/** Cluster VIPs (today's `clusterVIPs.Addresses` or the older `cluster-vips`), else the one address. */
function addresses(s: RegistryService): string {
  const vips = [...Object.values(s.clusterVIPs?.Addresses ?? {}), ...Object.values(s['cluster-vips'] ?? {})].flat();
  const unique = [...new Set(vips.filter((v): v is string => typeof v === 'string' && v !== ''))];
  if (unique.length > 0) return unique.join(',');
  const single = s.defaultAddress ?? s.address;
  if (typeof single === 'string' && single !== '' && single !== '0.0.0.0') return single;
  return 'None';
}
