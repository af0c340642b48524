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
      const http = arr(spec.http);
      for (let i = 0; i < http.length; i++) {
        const h = obj(http[i]);
        if (h.route === undefined && h.redirect === undefined && h.directResponse === undefined && h.delegate === undefined) {
          out.push({ message: 'HTTP route, redirect or direct_response is required', path: ['spec', 'http', i] });
        }
      }
      for (let i = 0; i < http.length; i++) {
        const routes = arr(obj(http[i]).route);
        for (let j = 0; j < routes.length; j++) {
          if (!str(obj(obj(routes[j]).destination).host)) out.push({ message: 'destination.host is required', path: ['spec', 'http', i, 'route', j] });
        }
      }
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

const RULE_KINDS = ['http', 'tcp', 'tls'] as const;

interface PrefixMatch {
  rule: number;
  prefix: string;
  /** canonical text of the rest of the match */
  rest: string;
}

/**
 * Istio's analyzeUnreachable{HTTP,TCP,TLS}Rules: rules after a catch-all, and matches repeated verbatim.
 * Plain loops, not forEach callbacks: this runs for every VirtualService.
 */
function unreachableRules(ctx: Context, vs: Resource): void {
  const spec = obj(vs.object.spec);
  for (const kind of RULE_KINDS) {
    const rules = arr(spec[kind]);
    // nothing can shadow anything with fewer than two rules
    if (rules.length < 2) continue;
    const http = kind === 'http';
    const seen = new Map<string, number>();
    let emptyAt = -1;
    const prefixes: PrefixMatch[] = [];
    for (let n = 0; n < rules.length; n++) {
      const rule = rules[n];
      const matches = arr(obj(rule).match);
      if (matches.length === 0) {
        if (emptyAt >= 0) ctx.report(vs, 'IST0130', [routeName(http ? rule : {}, n), 'only the last rule can have no matches'], ['spec', kind, n]);
        emptyAt = n;
        continue;
      }
      let dup = 0;
      let reportedAfterEmpty = false;
      for (let mn = 0; mn < matches.length; mn++) {
        const m = matches[mn];
        if (http && emptyAt >= 0) {
          if (!reportedAfterEmpty) ctx.report(vs, 'IST0130', [routeName(rule, n), 'route without matches defined before'], ['spec', kind, n]);
          reportedAfterEmpty = true;
          continue;
        }
        const key = matchKey(m);
        const prev = seen.get(key);
        if (prev !== undefined) {
          ctx.report(vs, 'IST0131', [routeName(http ? rule : {}, n), http ? matchName(m, mn) : `#${mn}`, routeName(http ? rules[prev] : {}, prev)], ['spec', kind, n, 'match', mn]);
          dup++;
          continue;
        }
        seen.set(key, n);
        if (http) prefixShadow(ctx, vs, rules, n, m, mn, prefixes);
      }
      if (dup === matches.length) ctx.report(vs, 'IST0130', [routeName(http ? rule : {}, n), 'all matches used by prior rules'], ['spec', kind, n]);
    }
  }
}

/** A prefix match shadows a later, longer prefix (or exact path) with the same other conditions. */
function prefixShadow(ctx: Context, vs: Resource, rules: unknown[], n: number, m: unknown, mn: number, prefixes: PrefixMatch[]): void {
  const uri = obj(obj(m).uri);
  // only a match on the URI alone takes part; the rest of the match is compared as text
  if (Object.keys(uri).length !== 1) return;
  const mine = str(uri.prefix) || str(uri.exact);
  const isPrefix = typeof uri.prefix === 'string';
  if (!mine && !isPrefix) return;
  const rest = isObject(m) ? canonicalObject(m, 'uri', 'name') : '{}';
  if (mine) {
    for (const p of prefixes) {
      if (p.rule < n && p.rest === rest && mine.startsWith(p.prefix)) {
        ctx.report(vs, 'IST0131', [routeName(rules[n], n), matchName(m, mn), routeName(rules[p.rule], p.rule)], ['spec', 'http', n, 'match', mn]);
        break;
      }
    }
  }
  if (isPrefix) prefixes.push({ rule: n, prefix: uri.prefix as string, rest });
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
