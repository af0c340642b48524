import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, test } from 'node:test';
import { buildFilters, type AuthorizationPolicyDoc, type RuleDoc } from '../../src/authz/istio-policy.js';
import { authorizeConnection } from '../../src/trace/authz.js';
import { decideL4, type RbacMatch, type StringMatch, type ZtunnelPolicy } from '../../src/ztunnel/index.js';

/**
 * The same AuthorizationPolicies decided two ways: as istiod translates them for ztunnel (the ambient
 * controller's handleRule: one clause per `to` list, per `from` list and per `when`; ALLOW rules with HTTP
 * attributes dropped) and decided by src/ztunnel/rbac.ts, and as istiod translates them into a sidecar's
 * network RBAC filters (src/authz/istio-policy.ts) decided by src/authz. On L4 policies they agree; the
 * one place they part is written down below.
 */

function stringMatch(v: string): StringMatch {
  if (v === '*') return { Presence: [] };
  if (v.startsWith('*')) return { Suffix: v.slice(1) };
  if (v.endsWith('*')) return { Prefix: v.slice(0, -1) };
  return { Exact: v };
}
const ips = (vs: string[] = []) => vs.filter(Boolean).map((v) => (v.includes('/') ? v : `${v}/${isIP(v) === 6 ? 128 : 32}`));
const ports = (vs: string[] = []) => vs.map(Number).filter((p) => Number.isInteger(p) && p <= 65535);
const sas = (vs: string[] = [], ns: string) => vs.map((v) => (v.includes('/') ? { namespace: v.split('/')[0], serviceAccount: v.split('/')[1] } : { namespace: ns, serviceAccount: v }));
const clean = (m: Record<string, unknown[]>): RbacMatch => Object.fromEntries(Object.entries(m).filter(([, v]) => v.length)) as RbacMatch;
const HTTP_TO = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];
const HTTP_FROM = ['remoteIpBlocks', 'notRemoteIpBlocks', 'requestPrincipals', 'notRequestPrincipals'];
const L4_WHEN = ['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port'];

/** istiod's conversion of an AuthorizationPolicy for ztunnel (pilot/.../ambient/authorization.go), test-only. */
function forZtunnel(ap: AuthorizationPolicyDoc): ZtunnelPolicy {
  const ns = ap.metadata!.namespace!;
  const action = ap.spec?.action === 'DENY' ? 'Deny' : 'Allow';
  const rules: RbacMatch[][][] = [];
  for (const rule of (ap.spec?.rules ?? []) as RuleDoc[]) {
    let l7 = false;
    const clauses: RbacMatch[][] = [];
    const to = (rule.to ?? []).map((t) => {
      const o = t.operation ?? {};
      if (HTTP_TO.some((k) => (o[k] ?? []).length)) l7 = true;
      return clean({ destinationPorts: ports(o.ports), notDestinationPorts: ports(o.notPorts) });
    });
    const from = (rule.from ?? []).map((f) => {
      const s = f.source ?? {};
      if (HTTP_FROM.some((k) => (s[k] ?? []).length)) l7 = true;
      return clean({
        sourceIps: ips(s.ipBlocks),
        notSourceIps: ips(s.notIpBlocks),
        namespaces: (s.namespaces ?? []).map(stringMatch),
        notNamespaces: (s.notNamespaces ?? []).map(stringMatch),
        serviceAccounts: sas(s.serviceAccounts, ns),
        notServiceAccounts: sas(s.notServiceAccounts, ns),
        principals: (s.principals ?? []).map(stringMatch),
        notPrincipals: (s.notPrincipals ?? []).map(stringMatch),
      });
    });
    if (to.length) clauses.push(to);
    if (from.length) clauses.push(from);
    for (const w of rule.when ?? []) {
      if (!L4_WHEN.includes(w.key)) l7 = true;
      const pick = <T>(key: string, f: (v: string[]) => T[], neg: boolean): T[] => (w.key === key ? f((neg ? w.notValues : w.values) ?? []) : []);
      const m = (s: (v: string[]) => StringMatch[]) => s;
      clauses.push([
        clean({
          namespaces: pick('source.namespace', m((v) => v.map(stringMatch)), false),
          principals: pick('source.principal', m((v) => v.map(stringMatch)), false),
          sourceIps: pick('source.ip', ips, false),
          destinationPorts: pick('destination.port', ports, false),
          destinationIps: pick('destination.ip', ips, false),
          notNamespaces: pick('source.namespace', m((v) => v.map(stringMatch)), true),
          notPrincipals: pick('source.principal', m((v) => v.map(stringMatch)), true),
          notSourceIps: pick('source.ip', ips, true),
          notDestinationPorts: pick('destination.port', ports, true),
          notDestinationIps: pick('destination.ip', ips, true),
        }),
      ]);
    }
    if (action === 'Allow' && l7) continue;
    rules.push(clauses);
  }
  return { name: ap.metadata!.name!, namespace: ns, scope: 'Namespace', action, rules, dryRun: false };
}

const ap = (name: string, action: 'ALLOW' | 'DENY', rules: RuleDoc[]): AuthorizationPolicyDoc => ({ metadata: { name, namespace: 'bar' }, spec: { action, rules } });

const POLICY_SETS: { name: string; aps: AuthorizationPolicyDoc[] }[] = [
  { name: 'allow by namespace', aps: [ap('a', 'ALLOW', [{ from: [{ source: { namespaces: ['foo'] } }] }])] },
  { name: 'allow by principal prefix or port', aps: [ap('a', 'ALLOW', [{ from: [{ source: { principals: ['cluster.local/ns/foo/*'] } }] }, { to: [{ operation: { ports: ['9090'] } }] }])] },
  { name: 'allow by service account and port', aps: [ap('a', 'ALLOW', [{ from: [{ source: { serviceAccounts: ['foo/sleep'] } }], to: [{ operation: { ports: ['9080'] } }] }])] },
  { name: 'deny outside the pod network', aps: [ap('d', 'DENY', [{ from: [{ source: { notIpBlocks: ['10.244.0.0/16'] } }] }])] },
  { name: 'deny plaintext (STRICT)', aps: [ap('d', 'DENY', [{ from: [{ source: { notPrincipals: ['*'] } }] }])] },
  { name: 'deny a namespace, allow the rest of the mesh', aps: [ap('d', 'DENY', [{ from: [{ source: { namespaces: ['blocked'] } }] }]), ap('a', 'ALLOW', [{ from: [{ source: { principals: ['*'] } }] }])] },
  { name: 'when conditions', aps: [ap('a', 'ALLOW', [{ when: [{ key: 'source.namespace', values: ['foo', 'bar'] }, { key: 'destination.port', notValues: ['15020'] }] }])] },
  { name: 'notNamespaces and notPorts', aps: [ap('a', 'ALLOW', [{ from: [{ source: { notNamespaces: ['blocked'] } }], to: [{ operation: { notPorts: ['15020'] } }] }])] },
  { name: 'allow-nothing (a rule-less ALLOW)', aps: [ap('a', 'ALLOW', [])] },
  { name: 'allow with an HTTP rule (dropped) next to an L4 rule', aps: [ap('a', 'ALLOW', [{ to: [{ operation: { methods: ['GET'] } }] }, { from: [{ source: { namespaces: ['foo'] } }] }])] },
  { name: 'an empty rule allows all', aps: [ap('a', 'ALLOW', [{}])] },
];

const CONNECTIONS = [
  { name: 'foo/sleep over HBONE, pod network, 9080', principal: 'spiffe://cluster.local/ns/foo/sa/sleep', ip: '10.244.1.20', port: 9080 },
  { name: 'foo/other on 9090', principal: 'spiffe://cluster.local/ns/foo/sa/other', ip: '10.244.1.21', port: 9090 },
  { name: 'blocked/x', principal: 'spiffe://cluster.local/ns/blocked/sa/x', ip: '10.244.2.5', port: 9080 },
  { name: 'bar/app on 15020', principal: 'spiffe://cluster.local/ns/bar/sa/app', ip: '10.244.2.6', port: 15020 },
  { name: 'plaintext from outside', principal: null, ip: '192.168.7.7', port: 9080 },
  { name: 'plaintext from the pod network', principal: null, ip: '10.244.3.3', port: 9080 },
];

describe('ztunnel and Envoy agree on L4 AuthorizationPolicies', () => {
  for (const set of POLICY_SETS) {
    test(set.name, () => {
      const zt = set.aps.map(forZtunnel);
      const built = buildFilters(set.aps);
      for (const c of CONNECTIONS) {
        const z = decideL4({ namespace: zt, global: [], selector: [], missing: [] }, { srcIdentity: c.principal, srcIp: c.ip, dstIp: '10.244.9.9', dstPort: c.port });
        const e = authorizeConnection(built.network, { srcIp: c.ip, srcKnown: true, dstIp: '10.244.9.9', dstPort: c.port, sni: '', tlsTerminated: c.principal !== null, clientCertRequired: c.principal !== null }, c.principal ? { principal: c.principal } : {});
        const envoy = e?.verdict.decision ?? 'ALLOW';
        assert.equal(z.decision, envoy, `${c.name}: ztunnel ${z.decision} (${z.reason}), Envoy ${envoy} (${e?.verdict.reason})`);
      }
    });
  }

  test('where they part: a DENY rule whose `to` has only HTTP fields', () => {
    // Istio warns the rule "is enforced without the HTTP rules", meaning more is denied. A sidecar's TCP
    // chain does so (the rule loses its methods and matches everything), but for ztunnel the `to` becomes
    // an empty match group, which rbac.rs skips: the clause never holds and the DENY never matches.
    const aps = [ap('d', 'DENY', [{ to: [{ operation: { methods: ['DELETE'] } }] }])];
    const c = CONNECTIONS[0];
    const z = decideL4({ namespace: aps.map(forZtunnel), global: [], selector: [], missing: [] }, { srcIdentity: c.principal, srcIp: c.ip, dstIp: '10.244.9.9', dstPort: c.port });
    const e = authorizeConnection(buildFilters(aps).network, { srcIp: c.ip, srcKnown: true, dstIp: '10.244.9.9', dstPort: c.port, sni: '', tlsTerminated: true, clientCertRequired: true }, { principal: c.principal! });
    assert.equal(z.decision, 'ALLOW');
    assert.equal(e?.verdict.decision, 'DENY');
  });
});
