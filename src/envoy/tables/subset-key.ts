/**
 * istioctl's subset key (cluster.go's safelyParseSubsetKey): the order of the cluster and endpoint tables.
 */
import type { ConfigDump } from '../config-dump.js';
import { parseIstioClusterName } from '../istio.js';
import { atoi } from './table.js';

export interface SubsetKey {
  direction: string;
  subset: string;
  name: string;
  port: number;
  /** istioctl's test for an Istio name: more than three `|`-separated parts. */
  istio: boolean;
}

const NO_KEY_CACHE = new Map<string, SubsetKey>();
const keyCaches = new WeakMap<ConfigDump, Map<string, SubsetKey>>();

/** Keys are shared by the cluster and endpoint tables of one dump: parse each name once. */
export function keyCache(dump: ConfigDump | undefined): Map<string, SubsetKey> {
  if (!dump) return NO_KEY_CACHE;
  let m = keyCaches.get(dump);
  if (!m) keyCaches.set(dump, (m = new Map()));
  return m;
}

/** istioctl's safelyParseSubsetKey: Istio names are split, anything else sorts by its whole name. */
export function subsetKey(name: string, cache: Map<string, SubsetKey> = NO_KEY_CACHE): SubsetKey {
  let key = cache.get(name);
  if (key) return key;
  key = { direction: '', subset: '', name, port: 0, istio: false };
  if (name.indexOf('|') >= 0) {
    const parts = name.split('|');
    if (parts.length > 3) {
      const p = name.startsWith('outbound_.') || name.startsWith('inbound_.') ? parseIstioClusterName(name) : undefined;
      key = p
        ? { direction: p.direction, subset: p.subset, name: p.fqdn, port: p.port, istio: true }
        : { direction: parts[0], subset: parts[2], name: parts.length === 4 ? parts[3] : '', port: atoiOrZero(parts[1]), istio: true };
    }
  }
  if (cache !== NO_KEY_CACHE) cache.set(name, key);
  return key;
}

/** Go's strconv.Atoi, 0 on error (how istioctl shows a port it cannot read). */
function atoiOrZero(s: string): number {
  if (s.length === 0 || s.length > 15) return atoi(s) ?? 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return atoi(s) ?? 0;
    n = n * 10 + c;
  }
  return n;
}

export function subsetKeyLess(a: SubsetKey, b: SubsetKey): boolean {
  if (a.name === b.name) {
    if (a.subset === b.subset) {
      if (a.port === b.port) return a.direction < b.direction;
      return a.port < b.port;
    }
    return a.subset < b.subset;
  }
  return a.name < b.name;
}
