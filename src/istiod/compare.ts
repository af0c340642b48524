import { MeshctlError } from '../errors.js';
import type { InputText } from '../source/file.js';
import { parseDocument } from '../source/parse.js';
import { unifiedDiff } from './diff.js';

/**
 * What istiod sent (its /debug/config_dump?proxyID=…) against what the Envoy holds (/config_dump):
 * dynamic clusters, listeners and route configurations, compared after dropping the fields that only
 * say when or in which push they arrived (as `istioctl proxy-status <pod>` does).
 */
export interface SectionComparison {
  section: 'Clusters' | 'Listeners' | 'Routes';
  match: boolean;
  diff: string;
  /** For routes: the newest last_updated among the Envoy's route configurations. */
  lastLoaded?: string;
}

interface Dump {
  configs?: Record<string, unknown>[];
}

const TYPE = {
  clusters: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
  listeners: 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
  routes: 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
};

function asDump(input: InputText): Dump {
  const doc = parseDocument(input) as Dump;
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.configs)) {
    throw new MeshctlError(`${input.name}: not a config dump (no "configs" list)`);
  }
  return doc;
}

function section(dump: Dump, type: string): Record<string, unknown> {
  return (dump.configs ?? []).find((c) => c['@type'] === type) ?? {};
}

type Named = { name: string; value: unknown };

function clusters(dump: Dump): Named[] {
  const list = (section(dump, TYPE.clusters).dynamic_active_clusters ?? []) as { cluster?: { name?: string } }[];
  return list.map((c) => ({ name: c.cluster?.name ?? '', value: c.cluster }));
}

function listeners(dump: Dump): Named[] {
  const list = (section(dump, TYPE.listeners).dynamic_listeners ?? []) as { name?: string; active_state?: { listener?: unknown } }[];
  return list.filter((l) => l.active_state?.listener).map((l) => ({ name: l.name ?? '', value: l.active_state!.listener }));
}

function routes(dump: Dump): Named[] {
  const list = (section(dump, TYPE.routes).dynamic_route_configs ?? []) as { route_config?: { name?: string } }[];
  return list.map((r) => ({ name: r.route_config?.name ?? '', value: r.route_config }));
}

function routesLastLoaded(dump: Dump): string | undefined {
  const list = (section(dump, TYPE.routes).dynamic_route_configs ?? []) as { last_updated?: string }[];
  const times = list.map((r) => r.last_updated).filter((t): t is string => Boolean(t)).sort();
  return times.at(-1);
}

/** Stable JSON lines: keys sorted, items sorted by name, so that order alone never shows as a change. */
function lines(items: Named[]): string[] {
  const sorted = [...items].sort((a, b) => a.name.localeCompare(b.name));
  return JSON.stringify(sorted.map((i) => sortKeys(i.value)), null, 2).split('\n');
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (k === 'last_updated' || k === 'version_info') continue;
      out[k] = sortKeys((v as Record<string, unknown>)[k]);
    }
    return out;
  }
  return v;
}

export function compareDumps(istiodInput: InputText, envoyInput: InputText): SectionComparison[] {
  const istiod = asDump(istiodInput);
  const envoy = asDump(envoyInput);
  const one = (name: SectionComparison['section'], pick: (d: Dump) => Named[]): SectionComparison => {
    const diff = unifiedDiff(lines(pick(istiod)), lines(pick(envoy)), `Istiod ${name}`, `Envoy ${name}`);
    return { section: name, match: diff === '', diff };
  };
  const result = [one('Clusters', clusters), one('Listeners', listeners), one('Routes', routes)];
  result[2].lastLoaded = routesLastLoaded(envoy);
  return result;
}

/** istioctl's wording: `Clusters Match`, a diff for a mismatch, and when RDS was last loaded. */
export function renderComparison(result: SectionComparison[]): string {
  let out = '';
  for (const r of result) {
    const when = r.section === 'Routes' && r.lastLoaded ? ` (RDS last loaded at ${rfc1123(r.lastLoaded)})` : '';
    if (!r.match) out += r.diff;
    out += `${r.section} ${r.match ? 'Match' : "Don't Match"}${when}\n`;
  }
  return out;
}

function rfc1123(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day}, ${p(d.getUTCDate())} ${mon} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}
