import { filterConfig } from '../envoy/typed-config.js';
import type { Json } from '../match/string.js';
import { ANONYMOUS, byteOrder, foldedName, parsePolicyName } from './names.js';
import { ruleWords, type RuleWords } from './words.js';

/** One row of `authz check`: an AuthorizationPolicy as the proxy enforces it. */
export interface CheckRow {
  action: string;
  /** `name.namespace` as istioctl prints it, or `_anonymous_match_nothing_`. */
  name: string;
  rules: number;
}

/** A policy with its rules in words (`authz check -o json|yaml`). */
export interface CheckPolicy extends CheckRow {
  authorizationPolicy: string | null;
  /** Enforced (`rules`) or reported only (`shadow_rules`: dry-run, CUSTOM triggers). */
  mode: 'enforced' | 'dry-run' | 'custom';
  where: string[];
  ruleDetails: ({ index: number; policy: string } & RuleWords)[];
}

const ACTION_ORDER = ['DENY', 'ALLOW', 'LOG'];

/** Every RBAC filter config of a listener list (network filters and HCM http_filters), with where it sits. */
export function rbacConfigs(listeners: Json[]): { config: Json; where: string }[] {
  const out: { config: Json; where: string }[] = [];
  for (const l of listeners) {
    const lname = String(l?.name ?? '?');
    const chains = [...(Array.isArray(l?.filter_chains) ? l.filter_chains : []), ...(l?.default_filter_chain ? [l.default_filter_chain] : [])];
    chains.forEach((fc: Json, i: number) => {
      const where = `${lname} ${fc?.name ?? `#${i}`}`;
      for (const f of Array.isArray(fc?.filters) ? fc.filters : []) {
        const { type, config } = filterConfig(f);
        if (/\.rbac\.v3\.RBAC$/.test(type)) out.push({ config, where });
        else if (/HttpConnectionManager$/.test(type)) {
          for (const hf of Array.isArray(config.http_filters) ? config.http_filters : []) {
            const h = filterConfig(hf);
            if (/\.rbac\.v3\.RBAC$/.test(h.type)) out.push({ config: h.config, where });
          }
        }
      }
    });
  }
  return out;
}

/**
 * istioctl's `x authz check`: per action, the policies of every RBAC filter folded to their
 * AuthorizationPolicy, counting distinct rules; a filter without policies is `_anonymous_match_nothing_`
 * (rule 0) under its action (ALLOW when it has no rules at all). Rows: DENY, ALLOW, then LOG (AUDIT), names
 * in byte order. Shadow rules are not rows, as in istioctl; they are in the detailed view.
 */
export function checkPolicies(configs: { config: Json; where: string }[]): CheckPolicy[] {
  const byKey = new Map<string, CheckPolicy & { ruleSet: Set<string> }>();
  const add = (action: string, name: string, rule: string, mode: CheckPolicy['mode'], where: string, raw: string | null, policy: Json) => {
    const key = `${mode}\u0000${action}\u0000${name}`;
    let e = byKey.get(key);
    if (!e) {
      const ref = raw ? parsePolicyName(raw) : null;
      e = { action, name, rules: 0, authorizationPolicy: ref ? `${ref.namespace}/${ref.name}` : null, mode, where: [], ruleDetails: [], ruleSet: new Set() };
      byKey.set(key, e);
    }
    if (!e.where.includes(where)) e.where.push(where);
    if (!e.ruleSet.has(rule)) {
      e.ruleSet.add(rule);
      e.rules = e.ruleSet.size;
      if (raw !== null) e.ruleDetails.push({ index: Number(rule), policy: raw, ...ruleWords(policy) });
    }
  };
  for (const { config, where } of configs) {
    const rules = config.rules;
    const action = String(rules?.action ?? 'ALLOW');
    const names = Object.keys(rules?.policies ?? {});
    for (const n of names) add(action, foldedName(n), String(parsePolicyName(n)?.rule ?? n), 'enforced', where, n, rules.policies[n]);
    if (!names.length) add(action, ANONYMOUS, '0', 'enforced', where, null, null);
    const shadow = config.shadow_rules;
    const mode = /istio_ext_authz/.test(String(config.shadow_rules_stat_prefix ?? '')) ? 'custom' : 'dry-run';
    for (const n of Object.keys(shadow?.policies ?? {})) add(String(shadow.action ?? 'ALLOW'), foldedName(n), String(parsePolicyName(n)?.rule ?? n), mode, where, n, shadow.policies[n]);
  }
  const list = [...byKey.values()].map(({ ruleSet: _r, ...rest }) => ({ ...rest, ruleDetails: rest.ruleDetails.sort((a, b) => a.index - b.index) }));
  const rank = (a: string) => (ACTION_ORDER.includes(a) ? ACTION_ORDER.indexOf(a) : ACTION_ORDER.length);
  const modeRank = { enforced: 0, 'dry-run': 1, custom: 2 };
  return list.sort((a, b) => modeRank[a.mode] - modeRank[b.mode] || rank(a.action) - rank(b.action) || byteOrder(a.name, b.name));
}

/** The table rows: enforced policies only, as istioctl prints them. */
export function checkRows(policies: CheckPolicy[]): CheckRow[] {
  return policies.filter((p) => p.mode === 'enforced').map(({ action, name, rules }) => ({ action, name, rules }));
}
