import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixture, isOneLineError, runCli } from '../helpers.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';

const DUMP = fixture('authz', 'httpbin-config_dump.json');
const MANIFESTS = fixture('authz', 'manifests');
/** httpbin's policies as `authz check` prints them (fixtures/authz/manifests). */
const HTTPBIN_TABLE = [
  'ACTION   AuthorizationPolicy         RULES',
  'DENY     deny-admin.foo              1',
  'DENY     deny-remote.istio-system    1',
  'ALLOW    _anonymous_match_nothing_   1',
  'ALLOW    httpbin.foo                 4',
  'ALLOW    tcp-clients.foo             1',
  'LOG      audit-delete.foo            1',
];

test("authz check -f: istioctl's table, rows DENY, ALLOW, LOG, names in byte order, rules counted per policy", async () => {
  const r = await runCli(['authz', 'check', '-f', DUMP]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 7), HTTPBIN_TABLE);
});

test('authz check -o yaml: each policy with its rules in words', async () => {
  const r = await runCli(['authz', 'check', '-f', DUMP, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { policies: { name: string; mode: string; ruleDetails: { index: number; from: unknown[]; to: unknown[]; when: unknown[] }[] }[] };
  const httpbin = j.policies.find((p) => p.name === 'httpbin.foo' && p.mode === 'enforced')!;
  assert.deepEqual(httpbin.ruleDetails[0].from, [{ source: { principals: ['cluster.local/ns/foo/sa/sleep'] } }]);
  assert.deepEqual(httpbin.ruleDetails[0].to, [{ operation: { methods: ['GET', 'HEAD'], paths: ['/get', '/status/*', '/api/{*}/items'] } }]);
  assert.deepEqual(httpbin.ruleDetails[2].when, [{ key: 'request.auth.claims[groups]', values: ['admins'] }]);
  assert.deepEqual(httpbin.ruleDetails[3].when, [{ key: 'request.headers[x-token]', values: ['s3cr3t'] }]);
  assert.deepEqual(httpbin.ruleDetails[3].from, [{ source: { ipBlocks: ['10.244.0.0/16'] } }]);
  assert.ok(j.policies.some((p) => p.name === 'dry-run-deny-bar.foo' && p.mode === 'dry-run'));
});

test('authz check <pod> --files: the verdict and why, before anything is deployed', async () => {
  const r = await runCli(['authz', 'check', 'httpbin.foo', '--files', MANIFESTS, '--path', '/admin/x', '--port', '8000', '--source-namespace', 'foo', '--source-sa', 'sleep']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ALLOW\s+httpbin\.foo\s+4$/m);
  assert.match(r.stdout, /Decision: DENY by foo\/deny-admin \(envoy\.filters\.http\.rbac\)/);
  const ok = await runCli(['authz', 'check', 'httpbin.foo', '--files', MANIFESTS, '--path', '/get', '--src', '10.244.1.20', '--source-principal', 'cluster.local/ns/foo/sa/sleep', '-o', 'json']);
  assert.equal((JSON.parse(ok.stdout) as { authz: { decision: string; authorizationPolicy: string } }).authz.authorizationPolicy, 'foo/httpbin');
});

test('trace -o json: the authz object and one authz step per RBAC filter', async () => {
  const r = await runCli(['trace', '-f', DUMP, 'http://httpbin:8000/post', '--method', 'POST', '--direction', 'inbound', '--src', '10.244.1.20', '--source-principal', 'spiffe://cluster.local/ns/foo/sa/sleep', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { steps: { stage: string }[]; result: { authz: Record<string, unknown> } };
  assert.deepEqual(Object.keys(j.result.authz), ['decision', 'policy', 'authorizationPolicy', 'filter', 'reason']);
  assert.equal(j.result.authz.decision, 'DENY');
  assert.equal(j.steps.filter((s) => s.stage === 'authz').length, 5);
});

test('bad input: malformed JWT, bad principal, conflicting identity flags — one clear line, exit 2, the token never echoed', async () => {
  const token = 'eyJhbGciOiJub25lIn0.bm90LWpzb24.c2VjcmV0LXNpZw';
  const bad = [
    [['--jwt', token], /--jwt: the payload \(second part\) is not base64url-encoded JSON/],
    [['--jwt', 'garbage'], /--jwt is not a JWT/],
    [['--source-principal', 'not a principal'], /--source-principal "not a principal" is not a SPIFFE ID/],
    [['--source-namespace', 'foo'], /--source-namespace and --source-sa go together/],
    [['--source-principal', 'spiffe://td/ns/a/sa/b', '--source-namespace', 'a', '--source-sa', 'b'], /give one of --source-principal/],
    [['--jwt-claim', 'nokey'], /--jwt-claim "nokey" is not key=value/],
  ] as const;
  for (const [flags, msg] of bad) {
    const r = await runCli(['trace', '-f', DUMP, 'http://httpbin:8000/', '--direction', 'inbound', ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.ok(isOneLineError(r.stderr), r.stderr);
    assert.match(r.stderr, msg);
    assert.ok(!r.stderr.includes(token) && !r.stdout.includes(token), 'the token is never printed');
  }
  const z = await runCli(['authz', 'check', '-f', DUMP, '--ztunnel']);
  assert.equal(z.code, 2);
  assert.ok(isOneLineError(z.stderr), z.stderr);
});

test('a valid --jwt decides request.auth.* and is never printed back, in any output format or command', async () => {
  const payload = Buffer.from(JSON.stringify({ iss: 'https://issuer.example.com', sub: 'user-1', groups: ['admins'] })).toString('base64url');
  const token = `eyJhbGciOiJub25lIn0.${payload}.c2lnbmF0dXJlLXNlY3JldA`;
  const runs: string[][] = [
    ...['short', 'json', 'yaml', 'dot'].map((o) => ['trace', '-f', DUMP, 'http://httpbin:8000/anything', '--direction', 'inbound', '--src', '10.244.1.20', '--source-principal', 'spiffe://cluster.local/ns/q/sa/q', '--jwt', token, '-o', o]),
    ...['short', 'json'].map((o) => ['authz', 'check', 'httpbin.foo', '--files', MANIFESTS, '--path', '/anything', '--port', '8000', '--src', '10.244.1.20', '--source-principal', 'spiffe://cluster.local/ns/q/sa/q', '--jwt', token, '-o', o]),
  ];
  for (const args of runs) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    for (const part of [token, payload, 'c2lnbmF0dXJlLXNlY3JldA']) assert.ok(!r.stdout.includes(part) && !r.stderr.includes(part), `${args.at(-1)}: part of the token printed`);
    if (args.includes('json')) {
      const j = JSON.parse(r.stdout) as { authz?: { authorizationPolicy: string }; result?: { authz: { authorizationPolicy: string; policy: string } } };
      assert.equal((j.result?.authz ?? j.authz)?.authorizationPolicy, 'foo/httpbin', 'the claims decided: httpbin rule 2 (requestPrincipals, groups)');
    }
  }
});

test('CLI flags reach the decision: --ext-authz allow|deny on trace and authz check --files, --jwt-claim (repeatable), --source-namespace/--source-sa', async () => {
  const trace = ['trace', '-f', DUMP, 'http://httpbin:8000/status/503', '--direction', 'inbound', '--src', '10.244.1.20', '--source-namespace', 'foo', '--source-sa', 'sleep', '-o', 'json'];
  const decision = async (args: string[]) => {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    const j = JSON.parse(r.stdout) as { authz?: { decision: string; policy: string | null }; result?: { authz: { decision: string; policy: string | null } } };
    return (j.result?.authz ?? j.authz)!;
  };
  assert.equal((await decision(trace)).decision, 'UNDECIDED', 'CUSTOM without --ext-authz');
  assert.equal((await decision([...trace, '--ext-authz', 'allow'])).decision, 'ALLOW');
  assert.equal((await decision([...trace, '--ext-authz', 'deny'])).decision, 'DENY');
  const files = ['authz', 'check', 'httpbin.foo', '--files', MANIFESTS, '--path', '/status/503', '--port', '8000', '--src', '10.244.1.20', '--source-namespace', 'foo', '--source-sa', 'sleep', '-o', 'json'];
  assert.equal((await decision([...files, '--ext-authz', 'deny'])).decision, 'DENY');
  assert.equal((await decision([...files, '--ext-authz', 'allow'])).decision, 'ALLOW');
  const claims = ['trace', '-f', DUMP, 'http://httpbin:8000/anything', '--direction', 'inbound', '--src', '10.244.1.20', '--source-principal', 'spiffe://cluster.local/ns/q/sa/q', '-o', 'json', '--jwt-claim', 'iss=https://issuer.example.com', '--jwt-claim', 'sub=user-1'];
  assert.equal((await decision([...claims, '--jwt-claim', 'groups=admins'])).policy, 'ns[foo]-policy[httpbin]-rule[2]');
  assert.equal((await decision([...claims, '--jwt-claim', 'groups=dev'])).decision, 'DENY');
  const bad = await runCli([...trace, '--ext-authz', 'maybe']);
  assert.equal(bad.code, 2);
  assert.ok(isOneLineError(bad.stderr), bad.stderr);
});

test("authz check -f on a waypoint's config dump: the waypoint's policies, istioctl's table", async () => {
  const r = await runCli(['authz', 'check', '-f', fixture('ztunnel', 'waypoint-bookinfo-waypoint-config_dump.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, ['ACTION   AuthorizationPolicy          RULES', 'DENY     details-read-only.bookinfo   1', 'ALLOW    ratings-reviewers.bookinfo   1', ''].join('\n'));
});

test('authz check -f on an ingress gateway: the RBAC filters of its listeners, the same table', async () => {
  // A gateway (router) dump made from the sidecar's: its HTTP filters on the gateway's 0.0.0.0_8080 listener.
  const d = JSON.parse(readFileSync(DUMP, 'utf8'));
  d.configs[0].bootstrap.node.id = 'router~10.244.0.7~istio-ingressgateway-5d9c7b8f6-q2w3e.istio-system~istio-system.svc.cluster.local';
  const inbound = d.configs[2].dynamic_listeners[1].active_state.listener;
  const hcm = inbound.filter_chains.find((fc: { filters: { name: string }[] }) => fc.filters[0].name === 'envoy.filters.network.http_connection_manager').filters[0];
  d.configs[2].dynamic_listeners = [{ name: '0.0.0.0_8080', active_state: { listener: { name: '0.0.0.0_8080', address: { socket_address: { address: '0.0.0.0', port_value: 8080 } }, filter_chains: [{ filters: [hcm] }] } } }];
  const dir = mkdtempSync(path.join(tmpdir(), 'meshctl-authz-gw-'));
  try {
    const file = path.join(dir, 'gateway-config_dump.json');
    writeFileSync(file, JSON.stringify(d));
    const r = await runCli(['authz', 'check', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').slice(0, 7), HTTPBIN_TABLE, 'the same policies as on the sidecar');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('authz check on a ztunnel dump: a policy action meshctl does not know is shown as written and leaves the verdict open', async () => {
  const d = JSON.parse(readFileSync(fixture('ztunnel', 'ztunnel-worker-config_dump.json'), 'utf8')) as { policies: { name: string; action: string }[] };
  d.policies.find((p) => p.name === 'ratings-allow-reviews')!.action = 'Audit';
  const dir = mkdtempSync(path.join(tmpdir(), 'meshctl-authz-zt-'));
  try {
    const file = path.join(dir, 'ztunnel-config_dump.json');
    writeFileSync(file, JSON.stringify(d));
    const r = await runCli(['authz', 'check', '-f', file, 'ratings-v1-6c9b8d7f5-w7p4n.bookinfo', '--port', '9080', '--source-namespace', 'bookinfo', '--source-sa', 'bookinfo-reviews']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^AUDIT +ratings-allow-reviews\.bookinfo +1$/m);
    assert.match(r.stdout, /^Decision: UNDECIDED .*ratings-allow-reviews has action Audit, which meshctl does not know/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('live: authz check <pod> through the API-server stand-in', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster()));
  after(async () => c.close());
  test("the pod's /config_dump is read through a port-forward (no RBAC filters: the header only)", async () => {
    const r = await runCli(['authz', 'check', `${PRODUCTPAGE}.default`, '--kubeconfig', c.kubeconfig]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ACTION   AuthorizationPolicy   RULES\n');
  });
  test('a missing pod is one clear line', async () => {
    const r = await runCli(['authz', 'check', 'nope.default', '--kubeconfig', c.kubeconfig]);
    assert.equal(r.code, 1);
    assert.ok(isOneLineError(r.stderr), r.stderr);
  });
});
