import { tryCompileRe2 } from './re2.js';
import { matchString, stringTri, unknown, type Json, type Tri, type Unknowns, type Verdict } from './string.js';

const q = (s: string) => JSON.stringify(s);

/**
 * route.v3.HeaderMatcher against a header's value (all values joined with ',', undefined when absent),
 * with Envoy's HeaderUtility::matchHeaders semantics: an absent header satisfies only `present_match:
 * false` (or an inverted `present_match: true`) unless treat_missing_header_as_empty; `present_match:
 * false` on a present header does not match; `exact_match: ""` matches any value; invert_match flips the
 * result. The one decision routes and RBAC both use (each finds the value its own way): no words, so RBAC
 * can run it over thousands of policies; undefined when it cannot be decided (a regex RE2 takes but
 * meshctl cannot reproduce), with the reason in `u`.
 */
export function headerTri(h: Json, raw: string | undefined, u: Unknowns): Tri {
  if (h == null || typeof h !== 'object') return unknown(u, 'header matcher without a name');
  const invert = h.invert_match === true;
  const kind = specifierOf(h);
  // Envoy: no specifier at all is a presence match.
  const present = kind === 'present_match' ? h.present_match === true : kind === null;
  if (raw === undefined && h.treat_missing_header_as_empty !== true) return (kind === 'present_match' || kind === null) && (invert ? present : !present);
  const v = raw ?? '';
  let r: Tri;
  switch (kind) {
    case 'exact_match':
      r = h.exact_match === '' || v === h.exact_match;
      break;
    case 'safe_regex_match': {
      const re = tryCompileRe2(String(h.safe_regex_match?.regex ?? ''));
      r = re instanceof Error ? unknown(u, re.message) : re.fullMatch(v);
      break;
    }
    case 'range_match': {
      const start = Number(h.range_match?.start ?? 0);
      const end = Number(h.range_match?.end ?? 0);
      r = /^[-+]?\d+$/.test(v) && Number(v) >= start && Number(v) < end;
      break;
    }
    case 'prefix_match':
      r = v.startsWith(h.prefix_match);
      break;
    case 'suffix_match':
      r = v.endsWith(h.suffix_match);
      break;
    case 'contains_match':
      r = v.includes(h.contains_match);
      break;
    case 'string_match':
      r = stringTri(h.string_match, v, u, `header ${h.name}`);
      break;
    default:
      r = present;
  }
  return r === undefined ? undefined : r !== invert;
}

/** Which of the oneof's fields the matcher sets (null: none, a presence match). One pass over its keys. */
function specifierOf(h: Json): string | null {
  for (const k in h) {
    switch (k) {
      case 'exact_match':
      case 'safe_regex_match':
      case 'range_match':
      case 'present_match':
      case 'prefix_match':
      case 'suffix_match':
      case 'contains_match':
      case 'string_match':
        return k;
    }
  }
  return null;
}

/** The matcher in words ("exact \"jason\"", "present", "absent"). */
function describeHeaderMatcher(h: Json): string {
  if ('exact_match' in h) return `exact ${q(h.exact_match)}`;
  if ('safe_regex_match' in h) return `regex ${q(h.safe_regex_match?.regex ?? '')}`;
  if ('range_match' in h) return `in range [${Number(h.range_match?.start ?? 0)}, ${Number(h.range_match?.end ?? 0)})`;
  if ('present_match' in h) return h.present_match === true ? 'present' : 'absent';
  if ('prefix_match' in h) return `prefix ${q(h.prefix_match)}`;
  if ('suffix_match' in h) return `suffix ${q(h.suffix_match)}`;
  if ('contains_match' in h) return `contains ${q(h.contains_match)}`;
  if ('string_match' in h) return matchString(h.string_match, '').reason;
  return 'present';
}

/** headerTri with its reason, for the trace ("header x-user exact \"jason\": \"paul\""). */
export function matchHeaderValue(h: Json, raw: string | undefined): Verdict {
  const unknowns: string[] = [];
  const tri = headerTri(h, raw, unknowns);
  const invert = h?.invert_match === true;
  const label = `header ${String(h?.name ?? '')} ${invert ? 'not ' : ''}${describeHeaderMatcher(h ?? {})}`;
  if (raw === undefined && h?.treat_missing_header_as_empty !== true) return { ok: tri === true, reason: `${label}: header absent` };
  const shown = raw === undefined ? 'absent, treated as ""' : q(raw);
  if (tri === undefined) {
    const why = unknowns.join('; ') || 'cannot be decided';
    // As before the matchers were shared: an undecidable test is taken as failed, then inverted.
    return { ok: invert, reason: `${label}: ${shown}`, uncertain: why };
  }
  return { ok: tri, reason: `${label}: ${shown}` };
}
