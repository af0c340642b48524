import type { Resource } from '../../resources/index.js';
import { fullName, type Analyzer, type Context } from '../analyzer.js';
import { K, arr, num, obj, str } from '../snapshot.js';

export const protocolAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.Analyzer',
  description: 'Checks the validity of ServiceEntry',
  codes: ['IST0134'],
  analyze(ctx: Context) {
    // addresses allocated mesh-wide (DNS capture with auto-allocation in the mesh config): none needed
    if (ctx.snapshot.dnsAutoAllocate) return;
    for (const se of ctx.snapshot.of(K.ServiceEntry)) {
      const spec = obj(se.object.spec);
      if (arr(spec.addresses).length > 0) continue;
      // istiod's IP auto-allocation controller writes the addresses it gave into the status
      if (arr(obj(se.object.status).addresses).length > 0) continue;
      arr(spec.ports).forEach((p, i) => {
        const proto = str(obj(p).protocol).toUpperCase();
        if (proto === '' || proto === 'TCP') ctx.report(se, 'IST0134', [], ['spec', 'ports', i]);
      });
    }
  },
};

interface ProtocolEntry {
  protocol: string;
  se: Resource;
}

/** The namespaces a ServiceEntry is visible in (`*` for all), as its exportTo says. */
function exportScopes(se: Resource): string[] {
  const exportTo = arr(obj(se.object.spec).exportTo).map(str);
  if (exportTo.length === 0 || exportTo.includes('*')) return ['*'];
  return [...new Set(exportTo.map((e) => (e === '.' ? se.namespace : e)))];
}

export const conflictingServiceEntryProtocolAnalyzer: Analyzer = {
  name: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
  description: 'Checks if multiple ServiceEntries define the same host and port with different protocols',
  codes: ['IST0177'],
  analyze(ctx: Context) {
    const entries = ctx.snapshot.of(K.ServiceEntry);
    if (entries.length < 2) return;
    // host and port as written, in each namespace the entry is visible from
    const index = new Map<string, { scope: string; host: string; port: number; list: ProtocolEntry[] }>();
    for (const se of entries) {
      const spec = obj(se.object.spec);
      const ports = arr(spec.ports);
      for (const scope of exportScopes(se)) {
        for (const h of arr(spec.hosts)) {
          const host = str(h);
          for (const p of ports) {
            const port = num(obj(p).number);
            const key = `${scope}\n${host}\n${port}`;
            let e = index.get(key);
            if (!e) index.set(key, (e = { scope, host, port, list: [] }));
            e.list.push({ protocol: str(obj(p).protocol), se });
          }
        }
      }
    }
    const reported = new Set<Resource>();
    for (const { scope, host, port, list } of index.values()) {
      // entries exported everywhere are visible in this scope too
      const all = scope === '*' ? list : [...list, ...(index.get(`*\n${host}\n${port}`)?.list ?? [])];
      const protocols = new Set(all.map((e) => e.protocol.toUpperCase()));
      if (protocols.size < 2) continue;
      const names = [...new Set(all.map((e) => fullName(e.se)))].sort().join(', ');
      const protos = [...protocols].sort().join(', ');
      for (const { se } of all) {
        if (reported.has(se)) continue;
        reported.add(se);
        ctx.report(se, 'IST0177', [names, host, port, protos], ['metadata', 'name']);
      }
    }
  },
};
