import { tryCompileRe2 } from './re2.js';

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

/**
 * A matcher's decision over three values: true, false, and undefined when meshctl cannot tell (an unknown
 * matcher kind, a fact the user did not give, a regex RE2 would take but we cannot reproduce).
 */
export type Tri = boolean | undefined;

/** Why a matcher came out undefined; collected only when explaining (the fast paths do not allocate). */
export type Unknowns = string[] | null;

export function unknown(u: Unknowns, why: string): undefined {
  if (u && !u.includes(why)) u.push(why);
  return undefined;
}

/** A StringMatcher's decision alone (see matchString for the words): undefined for one we cannot run. */
export function stringTri(m: Json, value: string, u: Unknowns, what: string): Tri {
  // Fast path without explanation strings: a policy set of 10,000 rules runs this a lot.
  if (m != null && typeof m === 'object') {
    const ic = m.ignore_case === true;
    const v = ic ? value.toLowerCase() : value;
    if (typeof m.exact === 'string') return v === (ic ? m.exact.toLowerCase() : m.exact);
    if (typeof m.prefix === 'string') return v.startsWith(ic ? m.prefix.toLowerCase() : m.prefix);
    if (typeof m.suffix === 'string') return v.endsWith(ic ? m.suffix.toLowerCase() : m.suffix);
    if (typeof m.contains === 'string') return v.includes(ic ? m.contains.toLowerCase() : m.contains);
    if (m.safe_regex && typeof m.safe_regex.regex === 'string') {
      const re = tryCompileRe2(m.safe_regex.regex);
      if (!(re instanceof Error)) return re.fullMatch(value);
    }
  }
  const r = matchString(m, value);
  if (r.uncertain) return unknown(u, `${what}: ${r.reason}`);
  return r.ok;
}

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

export function verdict(ok: boolean, what: string): Verdict {
  return { ok, reason: what };
}

/** envoy.type.matcher.v3.RegexMatcher, full-match as Envoy does. */
export function regexVerdict(rm: Json, value: string): Verdict {
  const re = tryCompileRe2(String(rm?.regex ?? ''));
  if (re instanceof Error) return { ok: false, reason: re.message, uncertain: re.message };
  return { ok: re.fullMatch(value), reason: `regex ${q(re.pattern)}` };
}
