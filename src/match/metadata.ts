import { matchString, stringTri, unknown, type Json, type Tri, type Unknowns } from './string.js';

const q = (s: string) => JSON.stringify(s);
const list = (x: Json): Json[] => (Array.isArray(x) ? x : []);

function anyOf(items: Json[], f: (x: Json) => Tri): Tri {
  let open = false;
  for (const x of items) {
    const v = f(x);
    if (v === true) return true;
    if (v === undefined) open = true;
  }
  return open ? undefined : false;
}

/** Walks a Struct by keys; undefined when a key is missing (Envoy: a Value with no kind set). */
export function structPath(root: Json, path: Json[]): Json {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = cur[String(seg?.key ?? '')];
    if (cur === undefined) return undefined;
  }
  return cur;
}

/**
 * envoy.type.matcher.v3.ValueMatcher over a JSON value (Struct values: null, number, string, bool, list,
 * struct; undefined for an absent one), as Envoy's matchers.cc decides it. `present_match: true` matches
 * any value that is set; `present_match: false` matches nothing at all — Envoy's PresentMatcher returns
 * `matcher_ && value is set`, so it is not an "is absent" test (unlike a HeaderMatcher's present_match).
 * Shared by route `dynamic_metadata` matches and RBAC `metadata` / `sourced_metadata`.
 */
export function valueTri(vm: Json, v: Json, u: Unknowns): Tri {
  if (vm == null || typeof vm !== 'object') return unknown(u, 'value matcher without a pattern');
  if ('null_match' in vm) return v === null;
  if ('present_match' in vm) return vm.present_match === true && v !== undefined;
  if (v === undefined) return false;
  if ('string_match' in vm) return typeof v === 'string' ? stringTri(vm.string_match, v, u, 'metadata value') : false;
  if ('bool_match' in vm) return typeof v === 'boolean' && v === vm.bool_match;
  if ('double_match' in vm) {
    if (typeof v !== 'number') return false;
    const d = vm.double_match ?? {};
    if ('exact' in d) return v === Number(d.exact);
    if ('range' in d) return v >= Number(d.range?.start ?? -Infinity) && v < Number(d.range?.end ?? Infinity);
    return unknown(u, 'double matcher without exact or range');
  }
  if ('list_match' in vm) {
    if (!Array.isArray(v)) return false;
    const one = vm.list_match?.one_of;
    if (one === undefined) return unknown(u, 'list matcher without one_of');
    return anyOf(v, (item) => valueTri(one, item, u));
  }
  if ('or_match' in vm) return anyOf(list(vm.or_match?.value_matchers), (m) => valueTri(m, v, u));
  return unknown(u, `value matcher ${q(Object.keys(vm).join(','))} is not known to meshctl`);
}

/** envoy.type.matcher.v3.MetadataMatcher over a metadata root (filter namespace → Struct): the value, then `invert`. */
export function metadataTri(mm: Json, root: Json, u: Unknowns): Tri {
  const ns = root?.[String(mm?.filter ?? '')];
  const v = ns === undefined ? undefined : structPath(ns, list(mm?.path));
  const r = valueTri(mm?.value, v, u);
  return r === undefined ? undefined : mm?.invert === true ? !r : r;
}

/** A ValueMatcher in words, for the trace. */
export function describeValueMatcher(vm: Json): string {
  if (vm == null || typeof vm !== 'object') return 'matches (no value matcher)';
  if ('null_match' in vm) return 'is null';
  if ('present_match' in vm) return vm.present_match === true ? 'is present' : 'present_match false (matches nothing)';
  if ('string_match' in vm) return matchString(vm.string_match, '').reason;
  if ('bool_match' in vm) return `is ${vm.bool_match === true}`;
  if ('double_match' in vm) {
    const d = vm.double_match ?? {};
    return 'range' in d ? `in [${d.range?.start}, ${d.range?.end})` : `= ${d.exact}`;
  }
  if ('list_match' in vm) return `is a list with an item that ${describeValueMatcher(vm.list_match?.one_of)}`;
  if ('or_match' in vm) return list(vm.or_match?.value_matchers).map(describeValueMatcher).join(' or ');
  return `matches ${q(Object.keys(vm).join(','))}`;
}
