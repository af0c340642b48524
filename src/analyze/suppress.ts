import { UsageError } from '../errors.js';
import type { Diagnostic } from './analyzer.js';

export interface Suppression {
  code: RegExp;
  resource: RegExp;
  text: string;
}

export const SUPPRESS_ANNOTATION = 'galley.istio.io/analyze-suppress';

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * Parses `-S` values as istioctl takes them: `CODE=Kind name`, e.g. `IST0102=Namespace foo` or
 * `IST0103=Pod default/*`; `*` is a wildcard on either side. The name may be written `ns/name` or
 * istioctl's older `name.ns`.
 */
export function parseSuppressions(values: readonly string[]): Suppression[] {
  return values.map((text) => {
    const eq = text.indexOf('=');
    const code = eq < 0 ? '' : text.slice(0, eq).trim();
    const resource = eq < 0 ? '' : text.slice(eq + 1).trim();
    if (!code || !resource || !/^[A-Za-z0-9*]+$/.test(code) || !/^\S+\s+\S+$/.test(resource)) {
      throw new UsageError(`invalid --suppress "${text}": expected CODE=Kind name, e.g. "IST0102=Namespace default" or "IST0103=Pod default/*"`);
    }
    return { code: glob(code.toUpperCase()), resource: glob(resource.replace(/\s+/, ' ')), text };
  });
}

/** Names a finding's resource can be referred to by in a suppression. */
function resourceNames(d: Diagnostic): string[] {
  const r = d.resource;
  if (!r) return [];
  if (!r.namespace) return [`${r.kind} ${r.name}`];
  return [`${r.kind} ${r.namespace}/${r.name}`, `${r.kind} ${r.name}.${r.namespace}`];
}

/** Drops findings matched by a `-S` suppression or by the resource's own suppress annotation. */
export function applySuppressions(ds: readonly Diagnostic[], suppressions: readonly Suppression[]): Diagnostic[] {
  return ds.filter((d) => {
    const anno = d.resource?.metadata.annotations?.[SUPPRESS_ANNOTATION];
    if (typeof anno === 'string') {
      const codes = anno.split(',').map((c) => c.trim().toUpperCase());
      if (codes.includes('*') || codes.includes(d.type.code)) return false;
    }
    const names = resourceNames(d);
    return !suppressions.some((s) => s.code.test(d.type.code) && names.some((n) => s.resource.test(n)));
  });
}
