import { isObject, type Resource } from '../../resources/index.js';
import type { Analyzer, Context } from '../analyzer.js';
import { SCHEMA_KINDS, hasSchema, validateSchema } from '../schema.js';
import { K, arr, obj, str } from '../snapshot.js';

/**
 * Checks Istio's own validation makes beyond the CRD schema (the webhook would reject these), worded
 * as Istio's validation words them. Only the checks that cannot misfire on valid config.
 */
function semanticErrors(r: Resource): { message: string; path?: (string | number)[] }[] {
  const out: { message: string; path?: (string | number)[] }[] = [];
  const spec = obj(r.object.spec);
  if (r.group === 'networking.istio.io') {
    if (r.kind === 'Gateway' && arr(spec.servers).length === 0) out.push({ message: 'gateway must have at least one server', path: ['spec'] });
    if (r.kind === 'DestinationRule' && !str(spec.host)) out.push({ message: 'host must be set', path: ['spec'] });
    if (r.kind === 'DestinationRule') {
      const seen = new Set<string>();
      arr(spec.subsets).forEach((s, i) => {
        const name = str(obj(s).name);
        if (!name) out.push({ message: 'subset name is invalid: ""', path: ['spec', 'subsets', i] });
        else if (seen.has(name)) out.push({ message: `duplicate subset names: ${name}`, path: ['spec', 'subsets', i, 'name'] });
        seen.add(name);
      });
    }
    if (r.kind === 'ServiceEntry' && arr(spec.hosts).length === 0) out.push({ message: 'service entry must have at least one host', path: ['spec'] });
    if (r.kind === 'VirtualService') {
      arr(spec.http).forEach((rule, i) => {
        const h = obj(rule);
        if (h.route === undefined && h.redirect === undefined && h.directResponse === undefined && h.delegate === undefined) {
          out.push({ message: 'HTTP route, redirect or direct_response is required', path: ['spec', 'http', i] });
        }
      });
      arr(spec.http).forEach((rule, i) =>
        arr(obj(rule).route).forEach((d, j) => {
          if (!str(obj(obj(d).destination).host)) out.push({ message: 'destination.host is required', path: ['spec', 'http', i, 'route', j] });
        }),
      );
    }
  }
  return out;
}

/** Istio's JSON-equality test for matches: the match name does not count, and unset equals empty. */
function matchKey(m: unknown): string {
  return isObject(m) ? canonicalObject(m, 'name') : '{}';
}

/**
 * A canonical text of a value: keys sorted, unset-like values (null, false, '', []) left out. Built
 * by appending to one string, as every match of every VirtualService rule goes through it.
 */
function canonical(v: unknown): string {
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      out += canonical(v[i]) ?? ''; // JSON.stringify(undefined) is undefined, which a join prints as ''
    }
    return out + ']';
  }
  if (v !== null && typeof v === 'object') return canonicalObject(v as Record<string, unknown>);
  return JSON.stringify(v);
}

/** canonical() of an object, leaving out the keys `skip` and `skip2`. */
function canonicalObject(o: Record<string, unknown>, skip?: string, skip2?: string): string {
  const keys = Object.keys(o);
  // insertion sort: matches have a handful of keys, and Array#sort allocates a work area
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    for (; j >= 0 && keys[j] > k; j--) keys[j + 1] = keys[j];
    keys[j + 1] = k;
  }
  let out = '{';
  let first = true;
  for (const k of keys) {
    if (k === skip || k === skip2) continue;
    const x = o[k];
    if (x === null || x === undefined || x === false || x === '' || (Array.isArray(x) && x.length === 0)) continue;
    if (!first) out += ',';
    out += JSON.stringify(k) + ':' + canonical(x);
    first = false;
  }
  return out + '}';
}

function routeName(rule: unknown, n: number): string {
  const name = str(obj(rule).name);
  return name ? JSON.stringify(name) : `#${n}`;
}

function matchName(m: unknown, n: number): string {
  const name = str(obj(m).name);
  return name ? JSON.stringify(name) : `#${n}`;
}

/** Istio's analyzeUnreachable{HTTP,TCP,TLS}Rules: rules after a catch-all, and matches repeated verbatim. */
function unreachableRules(ctx: Context, vs: Resource): void {
  const spec = obj(vs.object.spec);
  for (const kind of ['http', 'tcp', 'tls'] as const) {
    const rules = arr(spec[kind]);
    // nothing can shadow anything with fewer than two rules
    if (rules.length < 2) continue;
    const seen = new Map<string, number>();
    let emptyAt = -1;
    const prefixes: { rule: number; prefix: string; rest: string }[] = [];
    rules.forEach((rule, n) => {
      const matches = arr(obj(rule).match);
      const at = ['spec', kind, n];
      if (matches.length === 0) {
        if (emptyAt >= 0) ctx.report(vs, 'IST0130', [routeName(kind === 'http' ? rule : {}, n), 'only the last rule can have no matches'], at);
        emptyAt = n;
        return;
      }
      let dup = 0;
      let reportedAfterEmpty = false;
      matches.forEach((m, mn) => {
        if (kind === 'http' && emptyAt >= 0) {
          if (!reportedAfterEmpty) ctx.report(vs, 'IST0130', [routeName(rule, n), 'route without matches defined before'], at);
          reportedAfterEmpty = true;
          return;
        }
        const key = matchKey(m);
        const prev = seen.get(key);
        if (prev !== undefined) {
          ctx.report(vs, 'IST0131', [routeName(kind === 'http' ? rule : {}, n), kind === 'http' ? matchName(m, mn) : `#${mn}`, routeName(kind === 'http' ? rules[prev] : {}, prev)], [...at, 'match', mn]);
          dup++;
          return;
        }
        seen.set(key, n);
        if (kind !== 'http') return;
        // a prefix match shadows a later, longer prefix (or exact path) with the same other conditions
        const uri = obj(obj(m).uri);
        // only a match on the URI alone takes part; the rest of the match is compared as text
        if (Object.keys(uri).length !== 1) return;
        const mine = str(uri.prefix) || str(uri.exact);
        const isPrefix = typeof uri.prefix === 'string';
        if (!mine && !isPrefix) return;
        const rest = isObject(m) ? canonicalObject(m, 'uri', 'name') : '{}';
        if (mine) {
          const shadow = prefixes.find((p) => p.rule < n && p.rest === rest && mine.startsWith(p.prefix));
          if (shadow) ctx.report(vs, 'IST0131', [routeName(rule, n), matchName(m, mn), routeName(rules[shadow.rule], shadow.rule)], [...at, 'match', mn]);
        }
        if (isPrefix) prefixes.push({ rule: n, prefix: uri.prefix as string, rest });
      });
      if (dup === matches.length) ctx.report(vs, 'IST0130', [routeName(kind === 'http' ? rule : {}, n), 'all matches used by prior rules'], at);
    });
  }
}

function validationAnalyzer(kindName: string): Analyzer {
  const kinds = SCHEMA_KINDS.filter((k) => k.endsWith(`/${kindName}`));
  return {
    name: `schema.ValidationAnalyzer.${kindName}`,
    description: `Runs schema validation as an analyzer on '${kindName}' resources`,
    codes: kindName === 'VirtualService' ? ['IST0106', 'IST0130', 'IST0131'] : ['IST0106'],
    analyze(ctx: Context) {
      for (const gk of kinds) {
        for (const r of ctx.snapshot.of(gk)) {
          if (!hasSchema(r)) continue;
          const problems = validateSchema(r);
          for (const p of problems) {
            const field = p.slice(0, p.indexOf(':'));
            ctx.report(r, 'IST0106', [p], fieldPath(field));
          }
          for (const e of semanticErrors(r)) ctx.report(r, 'IST0106', [e.message], e.path);
          if (problems.length === 0 && gk === K.VirtualService) unreachableRules(ctx, r);
        }
      }
    },
  };
}

/** `spec.http[0].route` → ['spec', 'http', 0, 'route'] for locating the line. */
function fieldPath(p: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

export const schemaAnalyzers: Analyzer[] = [...new Set(SCHEMA_KINDS.map((k) => k.slice(k.lastIndexOf('/') + 1)))].sort().map(validationAnalyzer);
