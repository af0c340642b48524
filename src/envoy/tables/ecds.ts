/** istioctl's `proxy-config ecds` table (writer/envoy/configdump/ecds.go). */
import type { ConfigDump } from '../config-dump.js';
import { goSortStrict } from '../gosort.js';
import { isObject, str } from '../json.js';
import type { Summary } from './table.js';

/** Extension configs delivered by ECDS: name and type, ordered by type then name. */
export function ecdsSummary(dump: ConfigDump): Summary {
  const items = dump.ecds.map((e) => {
    const tc = isObject(e.filter.typed_config) ? e.filter.typed_config : {};
    return { name: e.name, type: str(tc['@type']) ?? '' };
  });
  goSortStrict(items, (a, b) => (a.type === b.type ? a.name < b.name : a.type < b.type));
  return {
    headers: ['ECDS NAME', 'TYPE'],
    rows: items.map((i) => [i.name, i.type.startsWith('type.googleapis.com/') ? i.type.slice('type.googleapis.com/'.length) : i.type]),
    padding: 5,
  };
}
