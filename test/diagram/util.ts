import { readFileSync } from 'node:fs';
import type { TrafficGraph } from '../../src/diagram/model.js';
import { parseConfigDump } from '../../src/envoy/index.js';
import { worldFromConfigDump } from '../../src/trace/dump-world.js';
import { traceRequest, type TraceRequest } from '../../src/trace/trace.js';
import { fixture } from '../helpers.js';

export const BOOKINFO = fixture('bookinfo', 'productpage-config_dump.json');

export function traceOf(dumpText: string, req: TraceRequest) {
  const world = worldFromConfigDump(parseConfigDump(JSON.parse(dumpText), 'dump.json'));
  return traceRequest(world, req);
}

/** The on-path edges, followed from the request: the ids in order. */
export function pathOf(g: TrafficGraph): string[] {
  const next = new Map(g.edges.filter((e) => e.onPath).map((e) => [e.from, e.to]));
  const out = ['request:trace'];
  while (next.has(out.at(-1)!)) out.push(next.get(out.at(-1)!)!);
  return out;
}

/** A dump whose object names try to break out of DOT strings, Mermaid labels and HTML. */
export function hostileDump(): { text: string; cluster: string; routeConfig: string } {
  const cluster = 'outbound|9080|v2|rev"iews\\N\n</script><script>alert(1)</script>|-->x;#quot;';
  const routeConfig = '9080"];evil[label="x';
  let text = readFileSync(BOOKINFO, 'utf8');
  text = text.split('outbound|9080|v2|reviews.default.svc.cluster.local').join(JSON.stringify(cluster).slice(1, -1));
  text = text.split('"9080"').join(JSON.stringify(routeConfig));
  return { text, cluster, routeConfig };
}
