import { matchHeaderValue } from '../match/header.js';
import { describeValueMatcher, metadataTri, structPath } from '../match/metadata.js';
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
 * type.matcher.v3.MetadataMatcher against the stream's dynamic metadata: decided by the one matcher RBAC
 * uses too (src/match/metadata.ts, Envoy's semantics: the value at `filter` + `path`, absent when any step
 * is missing, then `invert`), explained here for the trace.
 */
export function matchMetadata(m: Json, metadata: Record<string, Record<string, unknown>> | undefined): Verdict {
  const filter = String(m?.filter ?? '');
  const path: Json[] = Array.isArray(m?.path) ? m.path : [];
  const ns = metadata?.[filter];
  const value: unknown = ns === undefined ? undefined : structPath(ns, path);
  const unknowns: string[] = [];
  const tri = metadataTri(m, metadata ?? {}, unknowns);
  const keys = path.map((seg: Json) => String(seg?.key ?? ''));
  const reason = `dynamic_metadata ${[filter, ...keys].join('.')} ${m?.invert === true ? 'not ' : ''}${describeValueMatcher(m?.value)}: ${value === undefined ? 'absent' : JSON.stringify(value)}`;
  if (tri === undefined) {
    const u = `${reason}: ${unknowns.join('; ') || 'cannot be decided'}`;
    return { ok: false, reason: u, uncertain: u };
  }
  return { ok: tri, reason };
}
