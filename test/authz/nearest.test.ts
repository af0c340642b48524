/**
 * "No ALLOW policy matched": the nearest ALLOW rules. A filter may hold 10,000 policies, so the search is
 * bounded — it must give exactly the ranking a full scoring would (fewest failing parts, then Envoy's
 * name order), while following a policy only as long as it can still be among the nearest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AuthzContext } from '../../src/authz/context.js';
import { decideChain } from '../../src/authz/decide.js';
import { permissionTri, principalTri } from '../../src/authz/engine.js';
import { authzFiltersOf } from '../../src/authz/filters.js';
import { policyLabel } from '../../src/authz/names.js';

const T = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';

function ctx(headers: Record<string, string>, onHeader?: () => void): AuthzContext {
  return {
    sourceIp: '10.0.0.1',
    directRemoteIp: '10.0.0.1',
    remoteIp: '10.0.0.1',
    localIp: '10.0.0.2',
    localPort: 8000,
    sni: '',
    tls: true,
    peerPrincipal: 'spiffe://cluster.local/ns/x/sa/y',
    filterState: {},
    header: (n) => {
      onHeader?.();
      return headers[n];
    },
    dynamicMetadata: {},
    routeMetadata: null,
  };
}

const hdr = (name: string, exact: string) => ({ header: { name, string_match: { exact } } });

/** An Istio-shaped rule: principals and a `when` header on one side, method and path on the other. */
function rule(principal: string, team: string, method: string, path: string) {
  return {
    principals: [{ and_ids: { ids: [{ or_ids: { ids: [{ authenticated: { principal_name: { exact: principal } } }] } }, { or_ids: { ids: [hdr('x-team', team)] } }] } }],
    permissions: [{ and_rules: { rules: [{ or_rules: { rules: [hdr(':method', method)] } }, { or_rules: { rules: [{ url_path: { path: { prefix: path } } }] } }] } }],
  };
}

function allowFilter(policies: Record<string, unknown>) {
  return authzFiltersOf([{ name: 'envoy.filters.http.rbac', typed_config: { '@type': T, rules: { action: 'ALLOW', policies } } }], 'http');
}

/** The reference: every policy scored in full, stably sorted, the first five. */
function exhaustive(policies: Record<string, { principals: unknown[]; permissions: unknown[] }>, c: AuthzContext): string[] {
  const cost = (v: boolean | undefined) => (v === false ? 2 : v === undefined ? 1 : 0);
  const side = (nodes: unknown[], tri: typeof principalTri, key: 'and_ids' | 'and_rules') => {
    let min = Infinity;
    for (const n of nodes as Record<string, Record<string, unknown[]>>[]) {
      const parts = n[key]?.ids ?? n[key]?.rules ?? [n];
      min = Math.min(min, parts.reduce((d: number, p) => d + cost(tri(p, c)), 0));
    }
    return min === Infinity ? 0 : min;
  };
  return Object.keys(policies)
    .sort()
    .map((name, i) => ({ name, i, d: side(policies[name].principals, principalTri, 'and_ids') + side(policies[name].permissions, permissionTri, 'and_rules') }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, 5)
    .map((x) => policyLabel(x.name));
}

test('the bounded search gives exactly the full ranking (random policy sets and requests)', () => {
  const value = fc.constantFrom('a', 'b', 'c');
  const ruleArb = fc.tuple(value, value, fc.constantFrom('GET', 'POST'), fc.constantFrom('/a', '/b', '/c')).map(([p, t, m, path]) => rule(`spiffe://td/ns/${p}/sa/s`, t, m, path));
  fc.assert(
    fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 30 }), value, value, fc.constantFrom('GET', 'POST'), fc.constantFrom('/a', '/b'), (rules, p, t, m, path) => {
      const policies = Object.fromEntries(rules.map((r, i) => [`ns[foo]-policy[p${String(i).padStart(2, '0')}]-rule[0]`, r]));
      const c = ctx({ ':method': m, ':path': path, 'x-team': t });
      c.peerPrincipal = `spiffe://td/ns/${p}/sa/s`;
      const r = decideChain(allowFilter(policies), c, {}).results[0];
      if (r.decision !== 'DENY') return;
      assert.deepEqual(r.nearest.map((n) => n.name), exhaustive(policies, c));
    }),
    { numRuns: 300 },
  );
});

test('a policy is followed only while it can still be among the nearest', () => {
  // Five near rules (only the principal fails), then 2,000 far ones (principal and team fail, so they can
  // never beat the five): each far rule is dropped as soon as its principal fails.
  const policies: Record<string, unknown> = {};
  for (let i = 0; i < 5; i++) policies[`ns[foo]-policy[a${i}]-rule[0]`] = rule('spiffe://td/ns/other/sa/s', 'blue', 'GET', '/');
  for (let i = 0; i < 2000; i++) policies[`ns[foo]-policy[b${String(i).padStart(4, '0')}]-rule[0]`] = rule(`spiffe://td/ns/far-${i}/sa/s`, `red-${i}`, 'GET', '/');
  let reads = 0;
  const c = ctx({ ':method': 'GET', ':path': '/x', 'x-team': 'blue' }, () => reads++);
  const r = decideChain(allowFilter(policies), c, {}).results[0];
  assert.equal(r.decision, 'DENY');
  assert.deepEqual(
    r.nearest.map((n) => n.name),
    [0, 1, 2, 3, 4].map((i) => `foo/a${i} rule 0`),
  );
  assert.match(r.nearest[0].reason, /^principal spiffe:\/\/cluster\.local\/ns\/x\/sa\/y is not in \[td\/ns\/other\/sa\/s\]$/);
  // The engine reads no header for a rule whose principal fails; a full scoring reads x-team, :method and
  // :path for every rule (6,000 reads). The bounded search drops a far rule at its failing principal.
  assert.ok(reads < 200, `${reads} header reads: the far rules were scored in full`);
});
