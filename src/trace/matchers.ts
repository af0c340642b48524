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
