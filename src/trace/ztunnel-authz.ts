import type { AuthzVerdict } from '../authz/decide.js';
import { decideL4, nearestAllow, type L4Connection, type L4Verdict } from '../ztunnel/rbac.js';
import type { ApplicablePolicies } from '../ztunnel/model.js';
import type { AuthzStep } from './authz.js';

/** The name the trace gives ztunnel's L4 authorization where Envoy steps name their RBAC filter. */
export const ZTUNNEL_AUTHZ = 'ztunnel L4 authorization';

/** ztunnel's decision for a connection to a workload, as a trace step (stage `authz`) and the result's verdict. */
export function ztunnelAuthz(applicable: ApplicablePolicies, conn: L4Connection): { step: AuthzStep; verdict: AuthzVerdict; l4: L4Verdict } {
  const l4 = decideL4(applicable, conn);
  const counted = l4.deny.length + l4.allow.length;
  const deciding = [...l4.deny, ...l4.allow].find((o) => o.key === l4.policy && o.matched === true);
  const notes: string[] = [];
  if (counted) notes.push(`policies checked: ${[...l4.deny, ...l4.allow].map((o) => `${o.action} ${o.key} (${o.scope})`).join(', ')}`);
  notes.push(...l4.dryRunNotes);
  for (const m of l4.missing) notes.push(`the workload names policy ${m}, which this ztunnel does not have: skipped, as ztunnel does`);
  const denyMatches = l4.deny.filter((o) => o.matched === true);
  if (denyMatches.length > 1) notes.push(`${denyMatches.length} DENY policies match (${denyMatches.map((o) => o.key).join(', ')}); ztunnel names the first in its (unordered) set`);
  if (l4.decision === 'DENY') notes.push(conn.srcIdentity === null ? 'ztunnel closes the plaintext connection' : 'ztunnel refuses the HBONE CONNECT (401): the client sees its connection reset');
  const step: AuthzStep = {
    stage: 'authz',
    chosen: ZTUNNEL_AUTHZ,
    summary: `L4 policy: ${l4.decision} — ${l4.reason}`,
    matched: deciding ? deciding.why.map((w) => `${deciding.key} rule ${deciding.rule}: ${w}`) : [],
    losers: l4.decision === 'DENY' && !l4.policy ? nearestAllow(l4) : [],
    notes,
    uncertain: l4.uncertain,
    data: { kind: 'ztunnel', decision: l4.decision, policy: l4.policy, authorizationPolicy: l4.policy, policies: counted, dryRun: l4.dryRun.map((o) => ({ policy: o.key, action: o.action, matched: o.matched ?? null })) },
  };
  const verdict: AuthzVerdict = { decision: l4.decision, policy: l4.policy, authorizationPolicy: l4.policy, filter: 'ztunnel', reason: l4.reason };
  return { step, verdict, l4 };
}
