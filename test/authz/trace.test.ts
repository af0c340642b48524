import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { SourceIdentity } from '../../src/authz/context.js';
import { buildFilters } from '../../src/authz/istio-policy.js';
import { selectPolicies } from '../../src/authz/select.js';
import { authorizationFor } from '../../src/describe/authz.js';
import type { AuthorizationPolicy } from '../../src/describe/objects.js';
import { parseConfigDump } from '../../src/envoy/index.js';
import { authorizeConnection, authorizeRequest, type AuthzConnection } from '../../src/trace/authz.js';
import { worldFromConfigDump } from '../../src/trace/dump-world.js';
import { traceRequest, type TraceRequest } from '../../src/trace/trace.js';
import { fixture } from '../helpers.js';
import { authzFixtures, HTTPBIN, policiesIn } from './fixtures.js';

const world = (name: string) => worldFromConfigDump(parseConfigDump(JSON.parse(readFileSync(fixture('authz', name), 'utf8')), name));
const HTTPBIN_DUMP = world('httpbin-config_dump.json');
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';

function trace(req: Partial<TraceRequest> & { target: string }, w = HTTPBIN_DUMP) {
  return traceRequest(w, { direction: 'inbound', srcIp: '10.244.1.20', ...req });
}
const authzSteps = (t: ReturnType<typeof trace>) => t.steps.filter((s) => s.stage === 'authz');

test('the committed authz fixtures are what the generator builds', () => {
  for (const [name, body] of authzFixtures()) assert.equal(readFileSync(fixture('authz', name), 'utf8'), body, `${name} is stale: node dist/test/authz/fixtures.js --write`);
});

test('ALLOW: the matching rule and what matched, in the policy\'s words; the trace goes on to the cluster', () => {
  const t = trace({ target: 'http://httpbin:8000/status/418', identity: { principal: SLEEP } });
  assert.deepEqual(t.result.authz, { decision: 'ALLOW', policy: 'ns[foo]-policy[httpbin]-rule[0]', authorizationPolicy: 'foo/httpbin', filter: 'envoy.filters.http.rbac', reason: 'foo/httpbin rule 0 matches: ALLOW policy allows the request' });
  const allow = authzSteps(t).at(-1)!;
  assert.deepEqual(allow.matched, [`principal ${SLEEP} is in [cluster.local/ns/foo/sa/sleep]`, 'method GET is in methods [GET, HEAD]', 'path /status/418 is in paths [/get, /status/*, /api/{*}/items]']);
  assert.equal(t.result.cluster, 'inbound|8000||');
  assert.ok(!t.result.uncertain.some((u) => /RBAC/.test(u)), t.result.uncertain.join('\n'));
});

test('"why 403?": no ALLOW matched — the nearest ALLOW rules and what each lacked; the trace stops', () => {
  const t = trace({ target: 'http://httpbin:8000/post', method: 'POST', identity: { principal: 'spiffe://cluster.local/ns/foo/sa/other' } });
  assert.equal(t.result.authz?.decision, 'DENY');
  assert.equal(t.result.authz?.policy, null);
  assert.equal(t.result.cluster, null, 'a denied request never reaches a cluster');
  const step = authzSteps(t).at(-1)!;
  assert.match(step.summary, /no ALLOW policy matches \(5 checked\): denied/);
  assert.ok(step.notes.includes('Envoy answers 403 (RBAC: access denied)'));
  const r0 = step.losers.find((l) => l.name === 'foo/httpbin rule 0')!;
  assert.match(r0.reason, /principal spiffe:\/\/cluster\.local\/ns\/foo\/sa\/other is not in \[cluster\.local\/ns\/foo\/sa\/sleep\]/);
  assert.match(r0.reason, /method POST is not in methods \[GET, HEAD\]/);
  assert.equal(step.losers[0].name, 'foo/httpbin rule 1', 'the nearest rule (fewest missing parts) first');
});

test('DENY before ALLOW: deny-admin ends the request although httpbin would allow it; later filters are not reached', () => {
  const t = trace({ target: 'http://httpbin:8000/admin/users', identity: { principal: SLEEP } });
  assert.equal(t.result.authz?.decision, 'DENY');
  assert.equal(t.result.authz?.authorizationPolicy, 'foo/deny-admin');
  const steps = authzSteps(t);
  assert.ok(steps.at(-1)!.notes.some((n) => /^not reached: envoy\.filters\.http\.rbac/.test(n)));
  assert.ok(steps.at(-1)!.matched.includes('path /admin/users is in paths [/admin*]'));
  assert.ok(steps.at(-1)!.matched.includes('method GET is not in notMethods [OPTIONS]'));
});

test('plaintext requests have no principal (PERMISSIVE chain), whatever --source-principal says', () => {
  const t = trace({ target: 'http://httpbin:8000/get', plaintext: true, identity: { principal: SLEEP } });
  assert.equal(t.result.filterChain?.startsWith('0.0.0.0_8000'), true);
  assert.equal(t.result.authz?.decision, 'DENY');
  assert.ok(authzSteps(t)[0].notes.some((n) => /not TLS terminated here: no peer certificate, so no principal/.test(n)));
});

test('an unknown principal leaves the verdict UNDECIDED with the reason; ip blocks decide once --src is known', () => {
  const t = trace({ target: 'http://httpbin:8000/get' });
  assert.equal(t.result.authz?.decision, 'UNDECIDED');
  assert.ok(t.result.uncertain.some((u) => /cannot tell whether the unknown source principal is in \[cluster\.local\/ns\/foo\/sa\/sleep\] \(pass --source-principal/.test(u)), t.result.uncertain.join('\n'));
  const header = trace({ target: 'http://httpbin:8000/anything', headers: [['x-token', 's3cr3t']], identity: { principal: 'spiffe://cluster.local/ns/x/sa/y' } });
  assert.equal(header.result.authz?.authorizationPolicy, 'foo/httpbin', 'rule 3: header and source.ip');
  assert.equal(header.result.authz?.policy, 'ns[foo]-policy[httpbin]-rule[3]');
  const outside = trace({ target: 'http://httpbin:8000/anything', srcIp: '192.168.0.1', headers: [['x-token', 's3cr3t']], identity: { principal: 'spiffe://cluster.local/ns/x/sa/y' } });
  assert.equal(outside.result.authz?.decision, 'DENY');
});

test('JWT claims: requestPrincipals and request.auth.claims through jwt_authn metadata; a foreign issuer is rejected before RBAC', () => {
  const id = (claims: SourceIdentity['claims']): SourceIdentity => ({ principal: 'spiffe://cluster.local/ns/x/sa/y', claims });
  const ok = trace({ target: 'http://httpbin:8000/anything', identity: id({ iss: 'https://issuer.example.com', sub: 'user-1', groups: ['admins'] }) });
  assert.equal(ok.result.authz?.policy, 'ns[foo]-policy[httpbin]-rule[2]');
  const wrongGroup = trace({ target: 'http://httpbin:8000/anything', identity: id({ iss: 'https://issuer.example.com', sub: 'user-1', groups: 'dev' }) });
  assert.equal(wrongGroup.result.authz?.decision, 'DENY');
  const foreign = trace({ target: 'http://httpbin:8000/anything', identity: id({ iss: 'https://evil.example.com', sub: 'user-1', groups: ['admins'] }) });
  assert.ok(authzSteps(foreign)[0].notes.some((n) => /not among jwt_authn's providers/.test(n)));
});

test('AUDIT logs and allows; dry-run is reported in the step, never decides', () => {
  const t = trace({ target: 'http://httpbin:8000/delete', method: 'DELETE', identity: { principal: 'spiffe://cluster.local/ns/bar/sa/client' } });
  const steps = authzSteps(t);
  assert.ok(steps.some((s) => /RBAC LOG: ALLOW — foo\/audit-delete rule 0 matches/.test(s.summary)));
  assert.ok(steps.some((s) => s.notes.some((n) => /dry-run: foo\/dry-run-deny-bar rule 0 matches \(DENY\): the shadow engine would have denied it/.test(n))));
  assert.equal(t.result.authz?.decision, 'ALLOW', 'namespace bar is allowed on port 8000 by httpbin rule 1; the dry-run DENY does not block');
  assert.equal(t.result.authz?.authorizationPolicy, 'foo/httpbin');
});

test('CUSTOM: the external authorizer is asked only for its paths, and decides only with --ext-authz', () => {
  const id = { principal: SLEEP };
  const asked = trace({ target: 'http://httpbin:8000/status/503', identity: id });
  assert.equal(asked.result.authz?.decision, 'UNDECIDED');
  assert.equal(asked.result.authz?.authorizationPolicy, 'foo/ext-check');
  assert.equal(trace({ target: 'http://httpbin:8000/status/503', identity: { ...id, extAuthz: 'deny' } }).result.authz?.decision, 'DENY');
  assert.equal(trace({ target: 'http://httpbin:8000/status/503', identity: { ...id, extAuthz: 'allow' } }).result.authz?.decision, 'ALLOW');
  const notAsked = trace({ target: 'http://httpbin:8000/get', identity: id });
  assert.ok(authzSteps(notAsked).some((s) => /not asked/.test(s.summary)));
});

test('TCP: network RBAC decides the connection; Istio widens DENY/AUDIT/CUSTOM rules with HTTP fields to every connection', () => {
  const t = trace({ target: 'tcp://httpbin:9000', identity: { principal: SLEEP, extAuthz: 'allow' } });
  assert.equal(t.result.authz?.decision, 'DENY');
  assert.equal(t.result.authz?.authorizationPolicy, 'foo/deny-admin', 'its paths are HTTP-only: dropped on TCP, so the DENY rule matches everything');
  assert.equal(t.result.authz?.filter, 'envoy.filters.network.rbac');
  assert.ok(authzSteps(t).at(-1)!.notes.includes('Envoy closes the connection'));
});

test('allow-nothing and deny-all; no policies at all allows', () => {
  const nothing = trace({ target: 'http://httpbin:8000/get', identity: { principal: SLEEP } }, world('allow-nothing-config_dump.json'));
  assert.equal(nothing.result.authz?.decision, 'DENY');
  assert.match(authzSteps(nothing)[0].losers[0].reason, /matches no request \(an AuthorizationPolicy without rules\)/);
  const all = trace({ target: 'http://httpbin:8000/get', identity: { principal: SLEEP } }, world('deny-all-config_dump.json'));
  assert.equal(all.result.authz?.authorizationPolicy, 'foo/deny-all');
  const none = trace({ target: 'http://httpbin:8000/get' }, world('no-policies-config_dump.json'));
  assert.equal(none.result.authz?.decision, 'ALLOW');
  assert.equal(none.result.authz?.filter, null);
});

test('an unknown matcher kind in a dump makes the decision UNDECIDED with the reason, never a silent allow', () => {
  const t = trace({ target: 'http://httpbin:8000/get', identity: { principal: SLEEP } }, world('unknown-matcher-config_dump.json'));
  assert.equal(t.result.authz?.decision, 'UNDECIDED');
  assert.ok(t.result.uncertain.some((u) => /principal matcher "quantum_identity" is not known to meshctl/.test(u)), t.result.uncertain.join('\n'));
});

// --- the YAML path (authz check --files) and the dump path (trace) must agree on the same policies
const REQUESTS: { name: string; path?: string; method?: string; port?: number; principal?: string; plaintext?: boolean; headers?: [string, string][]; src?: string; claims?: Record<string, unknown>; tcp?: boolean; ext?: 'allow' | 'deny' }[] = [
  { name: 'sleep GET /get', path: '/get', principal: SLEEP },
  { name: 'sleep POST /post', path: '/post', method: 'POST', principal: SLEEP },
  { name: 'sleep /admin', path: '/admin', principal: SLEEP },
  { name: 'sleep OPTIONS /admin', path: '/admin', method: 'OPTIONS', principal: SLEEP },
  { name: 'bar namespace', path: '/x', principal: 'spiffe://cluster.local/ns/bar/sa/b' },
  { name: 'plaintext', path: '/get', principal: SLEEP, plaintext: true },
  { name: 'header and ip', path: '/x', principal: 'spiffe://cluster.local/ns/q/sa/q', headers: [['x-token', 's3cr3t']] },
  { name: 'remote ip denied', path: '/get', principal: SLEEP, headers: [['x-forwarded-for', '203.0.113.9']] },
  { name: 'jwt admins', path: '/x', principal: 'spiffe://cluster.local/ns/q/sa/q', claims: { iss: 'https://issuer.example.com', sub: 'user-1', groups: ['admins'] } },
  { name: 'custom denied', path: '/status/500', principal: SLEEP, ext: 'deny' },
  { name: 'custom allowed', path: '/status/500', principal: SLEEP, ext: 'allow' },
  { name: 'template path', path: '/api/v2/items', principal: SLEEP },
  { name: 'tcp sleep', port: 9000, principal: SLEEP, tcp: true, ext: 'allow' },
  { name: 'unknown principal', path: '/get' },
];

test('authz check --files (YAML through Istio\'s builder) and the dump-based trace give the same verdicts', () => {
  const policies = policiesIn(fixture('authz', 'manifests'));
  const built = buildFilters(selectPolicies(policies, { namespace: 'foo', labels: HTTPBIN.labels, rootNamespace: 'istio-system' }).map((s) => s.policy));
  for (const r of REQUESTS) {
    const port = r.port ?? 8000;
    const identity: SourceIdentity = { ...(r.principal ? { principal: r.principal } : {}), ...(r.claims ? { claims: r.claims } : {}), ...(r.ext ? { extAuthz: r.ext } : {}) };
    const t = trace({ target: r.tcp ? `tcp://httpbin:${port}` : `http://httpbin:${port}${r.path}`, method: r.method, plaintext: r.plaintext, headers: r.headers, identity });
    const conn: AuthzConnection = { srcIp: '10.244.1.20', srcKnown: true, dstIp: HTTPBIN.ip, dstPort: port, sni: '', tlsTerminated: !r.plaintext, clientCertRequired: !r.plaintext };
    const jwt = [{ name: 'envoy.filters.http.jwt_authn', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', providers: {} } }];
    const y = r.tcp
      ? authorizeConnection(built.network, conn, identity)
      : authorizeRequest({ http_filters: [...jwt, ...built.http] }, { authority: `httpbin:${port}`, path: r.path!, method: r.method ?? 'GET', scheme: r.plaintext ? 'http' : 'https', headers: r.headers ?? [], internal: true }, null, null, conn, identity);
    assert.ok(y, r.name);
    assert.equal(y.verdict.decision, t.result.authz?.decision, `${r.name}: ${y.verdict.reason} vs ${t.result.authz?.reason}`);
    assert.equal(y.verdict.policy, t.result.authz?.policy, r.name);
  }
});

test('describe pod\'s AuthorizationPolicies section and the trace agree: the same policies, and the default for unmatched requests', () => {
  const facts = authorizationFor(policiesIn(fixture('authz', 'manifests')) as unknown as AuthorizationPolicy[], 'foo', HTTPBIN.labels, 'istio-system');
  const described = facts.policies.filter((p) => p.rules > 0).map((p) => `${p.namespace}/${p.name}`).sort();
  // every policy the trace can name, from every RBAC filter of the HTTP and TCP chains
  const seen = new Set<string>();
  for (const r of REQUESTS) {
    const t = trace({ target: r.tcp ? 'tcp://httpbin:9000' : `http://httpbin:8000${r.path}`, method: r.method, headers: r.headers, identity: { principal: r.principal ?? SLEEP, extAuthz: 'allow' } });
    for (const s of authzSteps(t)) {
      const d = s.data as { authorizationPolicy: string | null; shadow: { authorizationPolicy: string | null } | null };
      if (d.authorizationPolicy) seen.add(d.authorizationPolicy);
      if (d.shadow?.authorizationPolicy) seen.add(d.shadow.authorizationPolicy);
      for (const l of s.losers) seen.add(l.name.replace(/ rule \d+.*$/, ''));
    }
  }
  assert.deepEqual([...seen].sort(), described);
  assert.equal(facts.defaultDecision, 'deny');
  const unmatched = trace({ target: 'http://httpbin:8000/nothing-allows-this', identity: { principal: 'spiffe://cluster.local/ns/q/sa/q' } });
  assert.equal(unmatched.result.authz?.decision, 'DENY', 'describe says requests matching no ALLOW policy are denied');
});
