import { matchString, regexVerdict, verdict, type Json, type Verdict } from './string.js';

const q = (s: string) => JSON.stringify(s);

/**
 * route.v3.HeaderMatcher against a header's value (all values joined with ',', undefined when absent),
 * with Envoy's handling of absent headers, invert_match and treat_missing_header_as_empty. Routes and
 * RBAC use the same matcher; each finds the value its own way.
 */
export function matchHeaderValue(h: Json, raw: string | undefined): Verdict {
  const name = String(h?.name ?? '');
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
