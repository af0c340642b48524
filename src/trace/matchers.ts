import { tryCompileRe2 } from './re2.js';
import { headerValue, queryParams, type HttpRequest } from './request.js';

/** Raw Envoy JSON: config objects are read field by field, never trusted to be complete. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** One condition's verdict and a human reason ("header x-user: exact \"jason\" vs \"paul\""). */
export interface Verdict {
  ok: boolean;
  reason: string;
  /** Set when the verdict could not be decided offline and was assumed. */
  uncertain?: string;
}

const q = (s: string) => JSON.stringify(s);

/** envoy.type.matcher.v3.StringMatcher: exact/prefix/suffix/contains/safe_regex, with ignore_case. */
export function matchString(m: Json, value: string): Verdict {
  const ic = m?.ignore_case === true;
  const v = ic ? value.toLowerCase() : value;
  const norm = (s: unknown) => (ic ? String(s).toLowerCase() : String(s));
  const tag = ic ? ' (ignore case)' : '';
  if (m == null) return { ok: true, reason: 'any value' };
  if ('exact' in m) return verdict(v === norm(m.exact), `exact ${q(m.exact)}${tag}`);
  if ('prefix' in m) return verdict(v.startsWith(norm(m.prefix)), `prefix ${q(m.prefix)}${tag}`);
  if ('suffix' in m) return verdict(v.endsWith(norm(m.suffix)), `suffix ${q(m.suffix)}${tag}`);
  if ('contains' in m) return verdict(v.includes(norm(m.contains)), `contains ${q(m.contains)}${tag}`);
  if ('safe_regex' in m) return regexVerdict(m.safe_regex, value);
  return { ok: false, reason: `unsupported string matcher ${q(Object.keys(m).join(','))}`, uncertain: 'unknown string matcher' };
}

function verdict(ok: boolean, what: string): Verdict {
  return { ok, reason: what };
}

/** envoy.type.matcher.v3.RegexMatcher, full-match as Envoy does. */
export function regexVerdict(rm: Json, value: string): Verdict {
  const re = tryCompileRe2(String(rm?.regex ?? ''));
  if (re instanceof Error) return { ok: false, reason: re.message, uncertain: re.message };
  return { ok: re.fullMatch(value), reason: `regex ${q(re.pattern)}` };
}

/** route.v3.HeaderMatcher, with Envoy's handling of absent headers, invert_match and treat_missing_header_as_empty. */
export function matchHeader(h: Json, req: HttpRequest): Verdict {
  const name = String(h?.name ?? '');
  const raw = headerValue(req, name);
  const invert = h.invert_match === true;
  const inv = invert ? 'not ' : '';
  let kind: 'present' | 'other' = 'other';
  let present = true;
  let describe: string;
  let test: (v: string) => Verdict;
  if ('exact_match' in h) {
    describe = `exact ${q(h.exact_match)}`;
    test = (v) => verdict(h.exact_match === '' || v === h.exact_match, describe);
  } else if ('safe_regex_match' in h) {
    describe = `regex ${q(h.safe_regex_match?.regex ?? '')}`;
    test = (v) => regexVerdict(h.safe_regex_match, v);
  } else if ('range_match' in h) {
    const start = Number(h.range_match?.start ?? 0);
    const end = Number(h.range_match?.end ?? 0);
    describe = `in range [${start}, ${end})`;
    test = (v) => verdict(/^[-+]?\d+$/.test(v) && Number(v) >= start && Number(v) < end, describe);
  } else if ('present_match' in h) {
    kind = 'present';
    present = h.present_match === true;
    describe = present ? 'present' : 'absent';
    test = () => verdict(present, describe);
  } else if ('prefix_match' in h) {
    describe = `prefix ${q(h.prefix_match)}`;
    test = (v) => verdict(v.startsWith(h.prefix_match), describe);
  } else if ('suffix_match' in h) {
    describe = `suffix ${q(h.suffix_match)}`;
    test = (v) => verdict(v.endsWith(h.suffix_match), describe);
  } else if ('contains_match' in h) {
    describe = `contains ${q(h.contains_match)}`;
    test = (v) => verdict(v.includes(h.contains_match), describe);
  } else if ('string_match' in h) {
    describe = matchString(h.string_match, '').reason;
    test = (v) => matchString(h.string_match, v);
  } else {
    kind = 'present';
    describe = 'present';
    test = () => verdict(true, describe);
  }
  const label = `header ${name} ${inv}${describe}`;
  if (raw === undefined && h.treat_missing_header_as_empty !== true) {
    // Envoy: an absent header only satisfies "present_match: false", or an inverted "present_match: true".
    const ok = kind === 'present' && (invert ? present : !present);
    return { ok, reason: `${label}: header absent` };
  }
  const value = raw ?? '';
  const r = test(value);
  const ok = r.ok !== invert;
  const shown = raw === undefined ? 'absent, treated as ""' : q(value);
  return { ok, reason: `${label}: ${shown}`, uncertain: r.uncertain };
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
 * type.matcher.v3.MetadataMatcher against the stream's dynamic metadata, as Envoy evaluates it: the value
 * at `filter` + `path` (absent when any step is missing) checked by the ValueMatcher, then `invert`.
 */
export function matchMetadata(m: Json, metadata: Record<string, Record<string, unknown>> | undefined): Verdict {
  const filter = String(m?.filter ?? '');
  const path = Array.isArray(m?.path) ? m.path.map((seg: Json) => String(seg?.key ?? '')) : [];
  const where = [filter, ...path].join('.');
  let value: unknown = metadata?.[filter];
  for (const key of path) value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  if (path.length === 0) value = undefined; // a matcher needs at least one key
  const r = matchValue(m?.value, value);
  const invert = m?.invert === true;
  const ok = r.ok !== invert;
  const shown = value === undefined ? 'absent' : JSON.stringify(value);
  return { ok, reason: `dynamic_metadata ${where} ${invert ? 'not ' : ''}${r.reason}: ${shown}`, uncertain: r.uncertain };
}

/** type.matcher.v3.ValueMatcher on a protobuf Value (undefined: not set). */
function matchValue(vm: Json, value: unknown): Verdict {
  if (vm == null) return { ok: false, reason: 'no value matcher' };
  if ('null_match' in vm) return verdict(value === null, 'is null');
  if ('double_match' in vm) {
    const d = vm.double_match ?? {};
    const n = typeof value === 'number' ? value : undefined;
    if (d.range) {
      const start = Number(d.range.start ?? 0);
      const end = Number(d.range.end ?? 0);
      return verdict(n !== undefined && start <= n && n < end, `in [${start}, ${end})`);
    }
    return verdict(n !== undefined && n === Number(d.exact), `= ${d.exact}`);
  }
  if ('string_match' in vm) {
    if (typeof value !== 'string') return { ok: false, reason: matchString(vm.string_match, '').reason };
    return matchString(vm.string_match, value);
  }
  if ('bool_match' in vm) return verdict(typeof value === 'boolean' && value === (vm.bool_match === true), `is ${vm.bool_match === true}`);
  if ('present_match' in vm) return verdict(vm.present_match === true && value !== undefined, vm.present_match === true ? 'present' : 'present_match false (never matches)');
  if ('list_match' in vm) {
    const inner = vm.list_match?.one_of;
    const list = Array.isArray(value) ? value : undefined;
    const hits = list?.map((v) => matchValue(inner, v)) ?? [];
    return { ok: hits.some((h) => h.ok), reason: `list with one of ${matchValue(inner, undefined).reason}`, uncertain: hits.find((h) => h.uncertain)?.uncertain };
  }
  if ('or_match' in vm) {
    const ms: Json[] = Array.isArray(vm.or_match?.value_matchers) ? vm.or_match.value_matchers : [];
    const rs = ms.map((x) => matchValue(x, value));
    return { ok: rs.some((r) => r.ok), reason: `one of (${rs.map((r) => r.reason).join(' | ')})`, uncertain: rs.find((r) => r.uncertain)?.uncertain };
  }
  const u = `unknown value matcher ${q(Object.keys(vm).join(','))}`;
  return { ok: false, reason: u, uncertain: u };
}
