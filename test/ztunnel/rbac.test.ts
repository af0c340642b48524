import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideL4, evalPolicy, nearestAllow, policyWords, type L4Connection, type ZtunnelPolicy, type RbacMatch, type ApplicablePolicies } from '../../src/ztunnel/index.js';

/**
 * ztunnel's L4 authorization, from istio/ztunnel src/rbac.rs (matching) and the state's assert_rbac
 * (deny first, then allow if any ALLOW policy applies, default allow).
 */

const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
const conn = (o: Partial<L4Connection> = {}): L4Connection => ({ srcIdentity: SLEEP, srcIp: '10.244.1.20', dstIp: '10.244.2.12', dstPort: 9080, ...o });
const policy = (rules: RbacMatch[][][], o: Partial<ZtunnelPolicy> = {}): ZtunnelPolicy => ({ name: 'p', namespace: 'bar', scope: 'Namespace', action: 'Allow', rules, ...o });
/** A policy of one rule with one clause holding one match group. */
const one = (m: RbacMatch, o: Partial<ZtunnelPolicy> = {}) => policy([[[m]]], o);
const matches = (p: ZtunnelPolicy, c = conn()) => evalPolicy(p, c).matched;
const applicable = (ps: ZtunnelPolicy[], missing: string[] = []): ApplicablePolicies => ({
  namespace: ps.filter((p) => p.scope === 'Namespace'),
  global: ps.filter((p) => p.scope === 'Global'),
  selector: ps.filter((p) => p.scope === 'WorkloadSelector'),
  missing,
});

describe('ztunnel L4 policies: each match form', () => {
  test('namespaces and notNamespaces compare the peer identity\'s namespace (Exact, Prefix, Suffix, Presence)', () => {
    assert.equal(matches(one({ namespaces: [{ Exact: 'foo' }] })), true);
    assert.equal(matches(one({ namespaces: [{ Exact: 'bar' }] })), false);
    assert.equal(matches(one({ namespaces: [{ Exact: 'bar' }, { Prefix: 'fo' }] })), true, 'any value of the list');
    assert.equal(matches(one({ namespaces: [{ Suffix: 'oo' }] })), true);
    assert.equal(matches(one({ namespaces: [{ Presence: [] }] })), true);
    assert.equal(matches(one({ notNamespaces: [{ Exact: 'foo' }] })), false);
    assert.equal(matches(one({ notNamespaces: [{ Exact: 'bar' }] })), true);
    // positive and negative lists of the same kind must both hold
    assert.equal(matches(one({ namespaces: [{ Prefix: 'f' }], notNamespaces: [{ Exact: 'foo' }] })), false);
  });

  test('principals are compared without spiffe://; notPrincipals', () => {
    assert.equal(matches(one({ principals: [{ Exact: 'cluster.local/ns/foo/sa/sleep' }] })), true);
    assert.equal(matches(one({ principals: [{ Exact: SLEEP }] })), false, 'Istio principals never carry the spiffe:// prefix');
    assert.equal(matches(one({ principals: [{ Suffix: '/sa/sleep' }] })), true);
    assert.equal(matches(one({ principals: [{ Prefix: 'cluster.local/ns/bar/' }] })), false);
    assert.equal(matches(one({ notPrincipals: [{ Prefix: 'cluster.local/ns/foo/' }] })), false);
  });

  test('serviceAccounts and notServiceAccounts compare namespace and service account exactly', () => {
    assert.equal(matches(one({ serviceAccounts: [{ namespace: 'foo', serviceAccount: 'sleep' }] })), true);
    assert.equal(matches(one({ serviceAccounts: [{ namespace: 'bar', serviceAccount: 'sleep' }] })), false);
    assert.equal(matches(one({ notServiceAccounts: [{ namespace: 'foo', serviceAccount: 'sleep' }] })), false);
    assert.equal(matches(one({ notServiceAccounts: [{ namespace: 'foo', serviceAccount: 'other' }] })), true);
  });

  test('source and destination IPs as CIDRs (IPv4, IPv6, a bare /32), and their not-forms', () => {
    assert.equal(matches(one({ sourceIps: ['10.244.0.0/16'] })), true);
    assert.equal(matches(one({ sourceIps: ['10.244.1.20/32'] })), true);
    assert.equal(matches(one({ sourceIps: ['10.245.0.0/16'] })), false);
    assert.equal(matches(one({ notSourceIps: ['10.244.0.0/16'] })), false);
    assert.equal(matches(one({ notSourceIps: ['192.168.0.0/16'] })), true);
    assert.equal(matches(one({ sourceIps: ['fd00::/8'] }), conn({ srcIp: 'fd00:10:244:1::14' })), true);
    assert.equal(matches(one({ sourceIps: ['fd00::/8'] })), false, 'families never match each other');
    assert.equal(matches(one({ destinationIps: ['10.244.2.0/24'] })), true);
    assert.equal(matches(one({ notDestinationIps: ['10.244.2.12/32'] })), false);
  });

  test('destination ports and notDestinationPorts (the target port)', () => {
    assert.equal(matches(one({ destinationPorts: [9080, 9090] })), true);
    assert.equal(matches(one({ destinationPorts: [8080] })), false);
    assert.equal(matches(one({ notDestinationPorts: [9080] })), false);
    assert.equal(matches(one({ notDestinationPorts: [8080] })), true);
  });

  test('a match group needs every kind it names; a clause needs one group; a rule every clause; a policy one rule', () => {
    const both = one({ namespaces: [{ Exact: 'foo' }], destinationPorts: [8080] });
    assert.equal(matches(both), false, 'namespace holds, port fails');
    // from (namespace) and to (port) as two clauses of one rule
    assert.equal(matches(policy([[[{ namespaces: [{ Exact: 'foo' }] }], [{ destinationPorts: [9080] }]]])), true);
    assert.equal(matches(policy([[[{ namespaces: [{ Exact: 'foo' }] }], [{ destinationPorts: [8080] }]]])), false);
    // two groups in one clause: either
    assert.equal(matches(policy([[[{ namespaces: [{ Exact: 'bar' }] }, { destinationPorts: [9080] }]]])), true);
    // two rules: either
    assert.equal(matches(policy([[[{ namespaces: [{ Exact: 'bar' }] }]], [[{ destinationPorts: [9080] }]]])), true);
  });

  test("the edges where ztunnel differs from Envoy's RBAC: empty groups, empty clauses, empty rules", () => {
    assert.equal(matches(policy([[[{}]]])), false, 'an empty match group is skipped: never matches');
    assert.equal(matches(policy([[[{}, { namespaces: [{ Exact: 'foo' }] }]]])), true, 'skipped, the other group decides');
    assert.equal(matches(policy([[[]]])), true, 'a clause without groups holds');
    assert.equal(matches(policy([[]])), true, 'a rule without clauses matches every connection');
    assert.equal(matches(policy([])), false, 'a policy without rules matches nothing');
  });
});

describe('ztunnel L4 policies: plaintext, HBONE and unknown peers', () => {
  test('HBONE carries the peer identity; plaintext has none: identity matches fail, not-forms hold', () => {
    const plain = conn({ srcIdentity: null });
    assert.equal(matches(one({ principals: [{ Presence: [] }] }), plain), false);
    assert.equal(matches(one({ notPrincipals: [{ Presence: [] }] }), plain), true, "Istio's STRICT mTLS as a DENY policy");
    assert.equal(matches(one({ notPrincipals: [{ Presence: [] }] })), false);
    assert.equal(matches(one({ namespaces: [{ Presence: [] }] }), plain), false);
    assert.equal(matches(one({ serviceAccounts: [{ namespace: 'foo', serviceAccount: 'sleep' }] }), plain), false);
    assert.equal(matches(one({ sourceIps: ['10.244.0.0/16'] }), plain), true, 'addresses still count');
  });

  test('an unknown identity, source IP or port leaves the match undecided, never guessed', () => {
    const unknown = conn({ srcIdentity: undefined, srcIp: undefined, dstPort: undefined });
    assert.equal(matches(one({ namespaces: [{ Exact: 'foo' }] }), unknown), undefined);
    assert.equal(matches(one({ sourceIps: ['10.0.0.0/8'] }), unknown), undefined);
    assert.equal(matches(one({ destinationPorts: [9080] }), unknown), undefined);
    // a known failing part decides regardless of the unknown ones
    assert.equal(matches(one({ namespaces: [{ Exact: 'foo' }], destinationIps: ['192.168.0.0/16'] }), unknown), false);
    const r = evalPolicy(one({ namespaces: [{ Exact: 'foo' }] }), { ...unknown, hints: { identity: 'pass --source-principal' } });
    assert.match(r.why.join(), /cannot tell whether the unknown source identity is in namespaces \[foo\] \(pass --source-principal\)/);
  });
});

describe('ztunnel L4 policies: match fields meshctl does not know (a newer or forked ztunnel)', () => {
  // ztunnel serialises its own RbacMatch: a field in the dump is one that version checks. Ignoring it would
  // widen the group (a DENY that matches more, an ALLOW that allows more), so it leaves the group open.
  const odd = { sourcePorts: [1234] } as unknown as RbacMatch;
  test('an unknown field with a value makes its group undecided, with the field named', () => {
    const r = evalPolicy(one({ namespaces: [{ Exact: 'foo' }], ...odd }), conn());
    assert.equal(r.matched, undefined);
    assert.match(r.why.join(), /match field sourcePorts \[1234\] is not known to meshctl/);
    assert.equal(matches(one(odd)), undefined, 'a group of unknown fields only is not empty');
    assert.equal(matches(one({ namespaces: [{ Exact: 'bar' }], ...odd })), false, 'a known failing part still decides');
    assert.equal(matches(one({ namespaces: [{ Exact: 'foo' }], sourcePorts: [] } as unknown as RbacMatch)), true, 'an empty list is no constraint, as ztunnel skips empty lists');
  });
  test('a DENY with an unknown field is never a silent allow; the words show the field', () => {
    const deny = one({ namespaces: [{ Exact: 'foo' }], ...odd }, { name: 'deny-odd', action: 'Deny' });
    const v = decideL4(applicable([deny]), conn());
    assert.equal(v.decision, 'UNDECIDED');
    assert.ok(v.uncertain.some((u) => /sourcePorts/.test(u)), v.uncertain.join('\n'));
    assert.deepEqual(policyWords(deny), [[['namespaces [foo] and sourcePorts [1234] (not known to meshctl)']]]);
  });
});

describe('ztunnel L4 policies: an action meshctl does not know', () => {
  const allowFoo = one({ namespaces: [{ Exact: 'foo' }] }, { name: 'allow-foo' });
  const odd = (rules: RbacMatch[][][]) => policy(rules, { name: 'odd', action: 'Audit' });
  test('is neither ALLOW nor DENY: the verdict is open, naming it, unless a DENY matches or it cannot matter', () => {
    const v = decideL4(applicable([odd([[[{ namespaces: [{ Exact: 'foo' }] }]]])]), conn());
    assert.equal(v.decision, 'UNDECIDED');
    assert.match(v.reason, /bar\/odd has action Audit, which meshctl does not know/);
    const denyFoo = one({ namespaces: [{ Exact: 'foo' }] }, { name: 'deny-foo', action: 'Deny' });
    assert.equal(decideL4(applicable([odd([[[{ namespaces: [{ Exact: 'foo' }] }]]]), denyFoo]), conn()).decision, 'DENY', 'a matching DENY decides first');
    // it does not match, and an ALLOW matches: whatever the action, the connection is allowed
    assert.equal(decideL4(applicable([odd([[[{ namespaces: [{ Exact: 'bar' }] }]]]), allowFoo]), conn()).decision, 'ALLOW');
    // it does not match and nothing else applies: an ALLOW-like action would deny, any other allow
    assert.equal(decideL4(applicable([odd([[[{ namespaces: [{ Exact: 'bar' }] }]]])]), conn()).decision, 'UNDECIDED');
    assert.equal(decideL4(applicable([odd([[[{ namespaces: [{ Exact: 'foo' }] }]]]), { ...odd([]), dryRun: true, name: 'dry' }]), conn()).decision, 'UNDECIDED');
  });
});

describe('ztunnel L4 policies: the decision (assert_rbac)', () => {
  const denyFoo = one({ namespaces: [{ Exact: 'foo' }] }, { name: 'deny-foo', action: 'Deny' });
  const allowFoo = one({ namespaces: [{ Exact: 'foo' }] }, { name: 'allow-foo' });
  const allowBar = one({ namespaces: [{ Exact: 'bar' }] }, { name: 'allow-bar' });

  test('no policy: allowed by default', () => {
    const v = decideL4(applicable([]), conn());
    assert.equal(v.decision, 'ALLOW');
    assert.equal(v.policy, null);
    assert.match(v.reason, /ztunnel allows by default/);
  });

  test('DENY before ALLOW: a matching DENY wins over a matching ALLOW', () => {
    const v = decideL4(applicable([allowFoo, denyFoo]), conn());
    assert.equal(v.decision, 'DENY');
    assert.equal(v.policy, 'bar/deny-foo');
    assert.match(v.reason, /bar\/deny-foo rule 0 matches: the DENY policy denies/);
  });

  test('only DENY policies that do not match: allowed', () => {
    const v = decideL4(applicable([denyFoo]), conn({ srcIdentity: 'spiffe://cluster.local/ns/bar/sa/x' }));
    assert.equal(v.decision, 'ALLOW');
    assert.match(v.reason, /no DENY policy matches \(1 checked\) and no ALLOW policy applies/);
  });

  test('ALLOW policies exist: allowed iff one matches, else denied with the nearest rules', () => {
    const ok = decideL4(applicable([allowBar, allowFoo]), conn());
    assert.equal(ok.decision, 'ALLOW');
    assert.equal(ok.policy, 'bar/allow-foo');
    const no = decideL4(applicable([allowBar]), conn());
    assert.equal(no.decision, 'DENY');
    assert.equal(no.policy, null);
    assert.match(no.reason, /no ALLOW policy matches \(1 checked\)/);
    assert.deepEqual(nearestAllow(no), [{ name: 'bar/allow-bar rule 0', reason: 'source namespace foo is not in namespaces [bar]' }]);
  });

  test('an ALLOW policy without rules (allow-nothing) denies everything', () => {
    const v = decideL4(applicable([policy([], { name: 'allow-nothing' })]), conn());
    assert.equal(v.decision, 'DENY');
  });

  test('undecided: an open DENY keeps the verdict open, unless no ALLOW can match anyway', () => {
    const unknown = conn({ srcIdentity: undefined });
    assert.equal(decideL4(applicable([denyFoo]), unknown).decision, 'UNDECIDED');
    const denied = decideL4(applicable([denyFoo, one({ destinationPorts: [1] }, { name: 'allow-port-1' })]), unknown);
    assert.equal(denied.decision, 'DENY', 'the ALLOW side denies whatever the DENY policy says');
    assert.deepEqual(denied.uncertain, []);
    const open = decideL4(applicable([allowFoo]), unknown);
    assert.equal(open.decision, 'UNDECIDED');
    assert.match(open.uncertain.join(), /cannot tell whether the unknown source identity is in namespaces \[foo\]/);
  });

  test('dry-run policies are reported, never enforced', () => {
    const dryDeny = { ...denyFoo, name: 'dry-deny', dryRun: true };
    const v = decideL4(applicable([dryDeny]), conn());
    assert.equal(v.decision, 'ALLOW');
    assert.deepEqual(v.dryRunNotes, ['dry-run: bar/dry-deny rule 0 matches: the DENY policy would deny the connection if enforced']);
    const dryAllow = { ...allowBar, name: 'dry-allow', dryRun: true };
    const w = decideL4(applicable([dryAllow]), conn());
    assert.equal(w.decision, 'ALLOW', 'a dry-run ALLOW does not make the workload deny-by-default');
    assert.match(w.dryRunNotes.join(), /enforcing them would deny the connection/);
  });

  test('policies named by the workload but missing from the dump are skipped and reported', () => {
    const v = decideL4(applicable([], ['bar/gone']), conn());
    assert.equal(v.decision, 'ALLOW');
    assert.deepEqual(v.missing, ['bar/gone']);
  });

  test('words for a policy: rules → clauses → match groups', () => {
    const p = policy([[[{ namespaces: [{ Exact: 'bookinfo' }] }, { principals: [{ Prefix: 'cluster.local/ns/istio-system/' }] }], [{ notDestinationPorts: [15020] }]]]);
    assert.deepEqual(policyWords(p), [[['namespaces [bookinfo]', 'principals [cluster.local/ns/istio-system/*]'], ['notPorts [15020]']]]);
  });
});
