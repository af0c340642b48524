import { metadataTri } from '../authz/engine.js';
import { matchHeaderValue } from '../match/header.js';
import { matchString, type Json, type Verdict } from '../match/string.js';
import { headerValue, queryParams, type HttpRequest } from './request.js';

// The string, regex and header-value matchers live in src/match (shared with src/authz).
export { matchString, regexVerdict, type Json, type Verdict } from '../match/string.js';

const q = (s: string) => JSON.stringify(s);

/** route.v3.HeaderMatcher against the request, with Envoy's handling of absent headers (src/match/header.ts). */
export function matchHeader(h: Json, req: HttpRequest): Verdict {
  return matchHeaderValue(h, headerValue(req, String(h?.name ?? '')));
}

/** route.v3.QueryParameterMatcher: the first value of the parameter, not decoded. */
export function matchQueryParam(p: Json, req: HttpRequest, params = queryParams(req.path)): Verdict {
  const name = String(p?.name ?? '');
  const value = params.get(name);
  if (p.present_match !== undefined) {
    const want = p.present_match === true;
    return { ok: (value !== undefined) === want, reason: `query ${name} ${want ? 'present' : 'absent'}: ${value === undefined ? 'absent' : q(value)}` };
  }
  if (!p.string_match) {
    return { ok: value !== undefined, reason: `query ${name} present: ${value === undefined ? 'absent' : q(value)}` };
  }
  const r = matchString(p.string_match, value ?? '');
  if (value === undefined) return { ok: false, reason: `query ${name} ${r.reason}: absent` };
  return { ok: r.ok, reason: `query ${name} ${r.reason}: ${q(value)}`, uncertain: r.uncertain };
}

const DENOMINATORS: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

/** A FractionalPercent as numerator over denominator. */
export function fraction(fp: Json): { numerator: number; denominator: number; percent: number } {
  const numerator = Number(fp?.numerator ?? 0);
  const denominator = DENOMINATORS[String(fp?.denominator ?? 'HUNDRED')] ?? 100;
  return { numerator, denominator, percent: Math.min(100, (numerator / denominator) * 100) };
}

/** Envoy's featureEnabled with a given random value: random % denominator < numerator. */
export function fractionHolds(fp: Json, random: number): boolean {
  const { numerator, denominator } = fraction(fp);
  return BigInt(random) % BigInt(denominator) < BigInt(numerator);
}

/**
 * type.matcher.v3.MetadataMatcher against the stream's dynamic metadata: decided by the one matcher the
 * RBAC simulation uses (src/authz/engine.ts, Envoy's semantics: the value at `filter` + `path`, absent when
 * any step is missing, then `invert`), explained here for the trace.
 */
export function matchMetadata(m: Json, metadata: Record<string, Record<string, unknown>> | undefined): Verdict {
  const filter = String(m?.filter ?? '');
  const path: string[] = Array.isArray(m?.path) ? m.path.map((seg: Json) => String(seg?.key ?? '')) : [];
  let value: unknown = metadata?.[filter];
  for (const key of path) value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  const unknowns: string[] = [];
  const tri = metadataTri(m, metadata ?? {}, unknowns);
  const reason = `dynamic_metadata ${[filter, ...path].join('.')} ${m?.invert === true ? 'not ' : ''}${describeValueMatcher(m?.value)}: ${value === undefined ? 'absent' : JSON.stringify(value)}`;
  if (tri === undefined) {
    const u = `${reason}: ${unknowns.join('; ') || 'cannot be decided'}`;
    return { ok: false, reason: u, uncertain: u };
  }
  return { ok: tri, reason };
}

/** A ValueMatcher in words, for the trace. */
function describeValueMatcher(vm: Json): string {
  if (vm == null || typeof vm !== 'object') return 'matches (no value matcher)';
  if ('null_match' in vm) return 'is null';
  if ('present_match' in vm) return vm.present_match === true ? 'is present' : 'is absent';
  if ('string_match' in vm) return matchString(vm.string_match, '').reason;
  if ('bool_match' in vm) return `is ${vm.bool_match === true}`;
  if ('double_match' in vm) {
    const d = vm.double_match ?? {};
    return 'range' in d ? `in [${d.range?.start}, ${d.range?.end})` : `= ${d.exact}`;
  }
  if ('list_match' in vm) return `is a list with an item that ${describeValueMatcher(vm.list_match?.one_of)}`;
  if ('or_match' in vm) return `${(Array.isArray(vm.or_match?.value_matchers) ? vm.or_match.value_matchers : []).map(describeValueMatcher).join(' or ')}`;
  return `matches ${q(Object.keys(vm).join(','))}`;
}
