import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthzContext } from '../../src/authz/context.js';
import { decideChain } from '../../src/authz/decide.js';
import { permissionTri, policyTri, principalTri } from '../../src/authz/engine.js';
import { authzFiltersOf } from '../../src/authz/filters.js';
import { addClaim, decodeJwt, IdentityError, jwtMetadata, parsePrincipal } from '../../src/authz/identity.js';
import { authorizationPolicyOf, foldedName, parsePolicyName } from '../../src/authz/names.js';

// Written from Envoy's rbac.proto and matchers' documented semantics.
function ctx(over: Partial<AuthzContext> = {}, headers: Record<string, string> = {}): AuthzContext {
  const h: Record<string, string> = { ':method': 'GET', ':path': '/api/v1/items?x=1', ':authority': 'httpbin.foo:8000', 'x-user': 'jason', ...headers };
  return {
    sourceIp: '10.1.2.3',
    directRemoteIp: '10.1.2.3',
    remoteIp: '198.51.100.7',
    localIp: '10.244.1.10',
    localPort: 8000,
    sni: 'outbound_.8000_._.httpbin.foo.svc.cluster.local',
    tls: true,
    peerPrincipal: 'spiffe://cluster.local/ns/foo/sa/sleep',
    filterState: { 'io.istio.peer_principal': 'spiffe://cluster.local/ns/foo/sa/sleep' },
    header: (n) => h[n.toLowerCase()],
    dynamicMetadata: jwtMetadata({ iss: 'https://issuer', sub: 'u1', aud: ['a1', 'a2'], groups: ['admins', 'dev'], nested: { team: 'blue' }, azp: 'web' }),
    routeMetadata: { filter_metadata: { 'acme.io': { tier: 'gold' } } },
    ...over,
  };
}

test('permission leaves: header (pseudo-headers), url_path without query, uri_template, ports, destination IP, SNI', () => {
  const c = ctx();
  assert.equal(permissionTri({ header: { name: ':method', string_match: { exact: 'GET' } } }, c), true);
  assert.equal(permissionTri({ header: { name: ':authority', string_match: { prefix: 'HTTPBIN', ignore_case: true } } }, c), true);
  assert.equal(permissionTri({ header: { name: ':path', string_match: { suffix: 'x=1' } } }, c), true, 'the :path header keeps its query');
  assert.equal(permissionTri({ url_path: { path: { exact: '/api/v1/items' } } }, c), true, 'url_path drops the query string');
  assert.equal(permissionTri({ url_path: { path: { safe_regex: { regex: '/api/v[0-9]+/.*' } } } }, c), true);
  assert.equal(permissionTri({ url_path: { path: { contains: 'v2' } } }, c), false);
  const tpl = (t: string) => ({ uri_template: { name: 'uri-template', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig', path_template: t } } });
  assert.equal(permissionTri(tpl('/api/*/items'), c), true);
  assert.equal(permissionTri(tpl('/api/**'), c), true);
  assert.equal(permissionTri(tpl('/*/items'), c), false);
  assert.equal(permissionTri({ destination_port: 8000 }, c), true);
  assert.equal(permissionTri({ destination_port: 9000 }, c), false);
  assert.equal(permissionTri({ destination_port_range: { start: 8000, end: 8001 } }, c), true);
  assert.equal(permissionTri({ destination_port_range: { start: 7000, end: 8000 } }, c), false, 'the end is exclusive');
  assert.equal(permissionTri({ destination_ip: { address_prefix: '10.244.0.0', prefix_len: 16 } }, c), true);
  assert.equal(permissionTri({ destination_ip: { address_prefix: '10.245.0.0', prefix_len: 16 } }, c), false);
  assert.equal(permissionTri({ requested_server_name: { suffix: '.svc.cluster.local' } }, c), true);
  assert.equal(permissionTri({ requested_server_name: { safe_regex: { regex: '.+' } } }, ctx({ sni: '' })), false, 'no SNI is the empty string');
});

test('permission combinations: and_rules, or_rules, not_rule, any; header invert and absent header', () => {
  const c = ctx();
  const get = { header: { name: ':method', string_match: { exact: 'GET' } } };
  const post = { header: { name: ':method', string_match: { exact: 'POST' } } };
  assert.equal(permissionTri({ and_rules: { rules: [get, { any: true }] } }, c), true);
  assert.equal(permissionTri({ and_rules: { rules: [get, post] } }, c), false);
  assert.equal(permissionTri({ or_rules: { rules: [post, get] } }, c), true);
  assert.equal(permissionTri({ not_rule: post }, c), true);
  assert.equal(permissionTri({ not_rule: { any: true } }, c), false);
  assert.equal(permissionTri({ header: { name: 'x-absent', present_match: true } }, c), false);
  assert.equal(permissionTri({ header: { name: 'x-absent', present_match: false } }, c), true);
  assert.equal(permissionTri({ header: { name: 'x-user', string_match: { exact: 'jason' }, invert_match: true } }, c), false);
  assert.equal(permissionTri({ header: { name: 'x-user', safe_regex_match: { regex: '^jason$|^jason,.*|.*,jason,.*|.*,jason$' } } }, c), true);
  // a network filter has no headers: header and path matchers never match
  const tcp = ctx({ header: null });
  assert.equal(permissionTri(get, tcp), false);
  assert.equal(permissionTri({ url_path: { path: { prefix: '/' } } }, tcp), false);
});

test('principal leaves: authenticated (plaintext has none), source/direct/remote IP, header, filter_state', () => {
  const c = ctx();
  const sleep = { authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/foo/sa/sleep' } } };
  assert.equal(principalTri(sleep, c), true);
  assert.equal(principalTri({ authenticated: { principal_name: { safe_regex: { regex: '.*/ns/bar/.*' } } } }, c), false);
  assert.equal(principalTri({ authenticated: {} }, c), true, 'authenticated without a name: any TLS peer');
  assert.equal(principalTri({ authenticated: {} }, ctx({ tls: false, peerPrincipal: null })), false, 'plaintext is never authenticated');
  assert.equal(principalTri(sleep, ctx({ tls: false, peerPrincipal: null })), false);
  assert.equal(principalTri(sleep, ctx({ peerPrincipal: undefined })), undefined, 'an unknown principal is undecided, not guessed');
  assert.equal(principalTri({ direct_remote_ip: { address_prefix: '10.1.0.0', prefix_len: 16 } }, c), true);
  assert.equal(principalTri({ source_ip: { address_prefix: '10.1.2.3' } }, c), true, 'prefix_len defaults to the full address');
  assert.equal(principalTri({ remote_ip: { address_prefix: '198.51.100.0', prefix_len: 24 } }, c), true);
  assert.equal(principalTri({ remote_ip: { address_prefix: '10.1.0.0', prefix_len: 16 } }, c), false, 'remote_ip is the x-forwarded-for client, not the peer');
  assert.equal(principalTri({ direct_remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } }, ctx({ directRemoteIp: undefined })), undefined);
  assert.equal(principalTri({ header: { name: 'x-user', string_match: { prefix: 'ja' } } }, c), true);
  assert.equal(principalTri({ filter_state: { key: 'io.istio.peer_principal', string_match: { suffix: '/sa/sleep' } } }, c), true);
  assert.equal(principalTri({ filter_state: { key: 'io.istio.unknown', string_match: { exact: 'x' } } }, c), undefined);
  assert.equal(principalTri({ and_ids: { ids: [sleep, { not_id: { any: true } }] } }, c), false);
  assert.equal(principalTri({ or_ids: { ids: [{ not_id: { any: true } }, sleep] } }, c), true);
});

test('metadata: jwt_authn payload and istio_authn, list_match, or_match, invert; sourced_metadata ROUTE', () => {
  const c = ctx();
  const jwt = (path: string[], value: unknown) => ({ metadata: { filter: 'envoy.filters.http.jwt_authn', path: path.map((key) => ({ key })), value } });
  assert.equal(principalTri(jwt(['payload', 'iss'], { string_match: { exact: 'https://issuer' } }), c), true);
  assert.equal(principalTri(jwt(['payload', 'groups'], { list_match: { one_of: { string_match: { exact: 'admins' } } } }), c), true);
  assert.equal(principalTri(jwt(['payload', 'groups'], { string_match: { exact: 'admins' } }), c), false, 'a list is not a string');
  assert.equal(principalTri(jwt(['payload', 'nested', 'team'], { or_match: { value_matchers: [{ string_match: { exact: 'red' } }, { string_match: { exact: 'blue' } }] } }), c), true);
  assert.equal(principalTri(jwt(['payload', 'missing'], { present_match: true }), c), false);
  assert.equal(principalTri({ metadata: { filter: 'istio_authn', path: [{ key: 'request.auth.principal' }], value: { string_match: { exact: 'https://issuer/u1' } } } }, c), true);
  assert.equal(principalTri({ metadata: { filter: 'istio_authn', path: [{ key: 'request.auth.claims' }, { key: 'groups' }], value: { list_match: { one_of: { string_match: { exact: 'dev' } } } } } }, c), true);
  assert.equal(principalTri({ metadata: { filter: 'istio_authn', path: [{ key: 'request.auth.principal' }], value: { string_match: { exact: 'x' } }, invert: true } }, c), true);
  assert.equal(permissionTri({ sourced_metadata: { metadata_source: 'ROUTE', metadata_matcher: { filter: 'acme.io', path: [{ key: 'tier' }], value: { string_match: { exact: 'gold' } } } } }, c), true);
  assert.equal(permissionTri({ sourced_metadata: { metadata_source: 'ROUTE', metadata_matcher: { filter: 'acme.io', path: [{ key: 'tier' }], value: { string_match: { exact: 'gold' } } } } }, ctx({ routeMetadata: null })), false, 'no route: no route metadata');
  assert.equal(principalTri(jwt(['payload', 'iss'], { string_match: { exact: 'https://issuer' } }), ctx({ dynamicMetadata: {} })), false, 'no token: no metadata');
});

test('unknown matcher kinds and unrunnable regexes are undecided; Kleene logic keeps them out when they cannot matter', () => {
  const c = ctx();
  const odd = { quantum: { entangled: true } };
  const u: string[] = [];
  assert.equal(principalTri(odd, c, u), undefined);
  assert.match(u.join(), /principal matcher "quantum" is not known to meshctl/);
  assert.equal(principalTri({ or_ids: { ids: [odd, { any: true }] } }, c), true, 'an or with a true branch is true');
  assert.equal(principalTri({ and_ids: { ids: [odd, { not_id: { any: true } }] } }, c), false, 'an and with a false branch is false');
  assert.equal(principalTri({ not_id: odd }, c), undefined);
  assert.equal(permissionTri({ url_path: { path: { safe_regex: { regex: '(a)\\1' } } } }, c), undefined, 'RE2 has no backreferences');
  assert.equal(policyTri({ permissions: [{ any: true }], principals: [{ any: true }], condition: { call_expr: {} } }, c), undefined, 'CEL conditions are not evaluated');
  assert.equal(policyTri({ permissions: [{ any: true }], principals: [{ not_id: { any: true } }], condition: {} }, c), false);
});

const rbac = (name: string, rules: unknown, extra: Record<string, unknown> = {}) => ({ name, typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC', ...(rules ? { rules } : {}), ...extra } });
const anyPolicy = { permissions: [{ any: true }], principals: [{ any: true }] };
const never = { permissions: [{ not_rule: { any: true } }], principals: [{ not_id: { any: true } }] };

test('filters: ALLOW needs a match, DENY denies on a match, LOG never blocks, empty policies decided by the action; DENY before ALLOW ends the request', () => {
  const c = () => ctx();
  const run = (...fs: unknown[]) => decideChain(authzFiltersOf(fs, 'http'), c(), {});
  assert.equal(run(rbac('a', { action: 'ALLOW', policies: { 'ns[foo]-policy[p]-rule[0]': anyPolicy } })).verdict.decision, 'ALLOW');
  assert.equal(run(rbac('a', { action: 'ALLOW', policies: {} })).verdict.decision, 'DENY', 'an empty ALLOW denies all');
  assert.equal(run(rbac('a', { action: 'DENY', policies: {} })).verdict.decision, 'ALLOW', 'an empty DENY denies nothing');
  assert.equal(run(rbac('a', { action: 'LOG', policies: { p: anyPolicy } })).verdict.decision, 'ALLOW');
  const both = run(rbac('deny', { action: 'DENY', policies: { 'ns[foo]-policy[d]-rule[0]': anyPolicy } }), rbac('allow', { action: 'ALLOW', policies: { 'ns[foo]-policy[a]-rule[0]': anyPolicy } }));
  assert.equal(both.verdict.decision, 'DENY');
  assert.equal(both.verdict.authorizationPolicy, 'foo/d');
  assert.deepEqual(both.notReached, ['allow'], 'the first denial ends the request');
  // Envoy tries policies in name order: the first match is the effective policy
  const order = run(rbac('a', { action: 'ALLOW', policies: { 'ns[foo]-policy[zz]-rule[0]': anyPolicy, 'ns[foo]-policy[aa]-rule[1]': anyPolicy } }));
  assert.equal(order.verdict.policy, 'ns[foo]-policy[aa]-rule[1]');
  // allow-nothing (an ALLOW policy without rules) denies, with the nearest ALLOW rule reported
  const nothing = run(rbac('a', { action: 'ALLOW', policies: { 'ns[foo]-policy[allow-nothing]-rule[0]': never } }));
  assert.equal(nothing.verdict.decision, 'DENY');
  assert.equal(nothing.results[0].nearest[0].name, 'foo/allow-nothing rule 0');
});

test('dry-run shadow rules are reported, never enforced; CUSTOM asks ext_authz only when its shadow policy matched', () => {
  const dry = decideChain(authzFiltersOf([rbac('a', null, { shadow_rules: { action: 'DENY', policies: { 'ns[foo]-policy[dry]-rule[0]': anyPolicy } }, shadow_rules_stat_prefix: 'istio_dry_run_deny_' })], 'http'), ctx(), {});
  assert.equal(dry.verdict.decision, 'ALLOW');
  assert.equal(dry.results[0].shadow?.result, 'denied');
  assert.match(dry.results[0].shadow!.reason, /dry-run: foo\/dry rule 0 matches \(DENY\): the shadow engine would have denied it/);
  const custom = (policy: unknown) => [
    rbac('envoy.filters.http.rbac', null, { shadow_rules: { action: 'DENY', policies: { 'istio-ext-authz-opa-ns[foo]-policy[ext]-rule[0]': policy } }, shadow_rules_stat_prefix: 'istio_ext_authz_' }),
    {
      name: 'envoy.filters.http.ext_authz',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
        filter_enabled_metadata: { filter: 'envoy.filters.http.rbac', path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }], value: { string_match: { prefix: 'istio-ext-authz' } } },
      },
    },
  ];
  assert.equal(decideChain(authzFiltersOf(custom(never), 'http'), ctx(), {}).verdict.decision, 'ALLOW', 'the CUSTOM policy does not match: not asked');
  const asked = decideChain(authzFiltersOf(custom(anyPolicy), 'http'), ctx(), {});
  assert.equal(asked.verdict.decision, 'UNDECIDED');
  assert.equal(asked.verdict.authorizationPolicy, 'foo/ext');
  assert.equal(decideChain(authzFiltersOf(custom(anyPolicy), 'http'), ctx(), { extAuthz: 'deny' }).verdict.decision, 'DENY');
  assert.equal(decideChain(authzFiltersOf(custom(anyPolicy), 'http'), ctx(), { extAuthz: 'allow' }).verdict.decision, 'ALLOW');
});

test('Istio policy names fold as istioctl folds them', () => {
  assert.deepEqual(parsePolicyName('ns[foo]-policy[httpbin]-rule[0]'), { namespace: 'foo', name: 'httpbin', rule: 0 });
  assert.equal(foldedName('istio-ext-authz-opa-ns[foo]-policy[ext]-rule[2]'), 'ext.foo');
  assert.equal(authorizationPolicyOf('ns[foo]-policy[httpbin]-rule[3]'), 'foo/httpbin');
  assert.equal(foldedName('my-own-policy'), 'my-own-policy');
  assert.equal(authorizationPolicyOf('my-own-policy'), null);
});

test('identity input: principals, JWTs (never echoed) and claims', () => {
  assert.equal(parsePrincipal('cluster.local/ns/foo/sa/sleep'), 'spiffe://cluster.local/ns/foo/sa/sleep');
  assert.throws(() => parsePrincipal('not a principal'), IdentityError);
  assert.throws(() => parsePrincipal('spiffe://'), /not a SPIFFE ID/);
  const payload = Buffer.from(JSON.stringify({ iss: 'i', sub: 's', groups: ['a'] })).toString('base64url');
  assert.deepEqual(decodeJwt(`eyJhbGciOiJub25lIn0.${payload}.sig`), { iss: 'i', sub: 's', groups: ['a'] });
  const secret = 'eyJhbGciOiJub25lIn0.bm90LWpzb24.c2VjcmV0';
  assert.throws(() => decodeJwt(secret), (e: Error) => /not base64url-encoded JSON/.test(e.message) && !e.message.includes(secret));
  assert.throws(() => decodeJwt('abc'), /is not a JWT/);
  const claims = addClaim(addClaim({}, 'groups=admins'), 'groups=dev');
  assert.deepEqual(claims, { groups: ['admins', 'dev'] });
  assert.deepEqual(addClaim({}, 'nested={"team":"blue"}'), { nested: { team: 'blue' } });
  assert.throws(() => addClaim({}, 'novalue'), /not key=value/);
});

test('every string matcher form, with and without ignore_case; safe_regex ignores ignore_case, as Envoy documents', () => {
  const c = ctx({}, { 'x-env': 'Prod-EU-1' });
  const h = (string_match: Record<string, unknown>) => permissionTri({ header: { name: 'x-env', string_match } }, c);
  const forms: [Record<string, unknown>, boolean, boolean][] = [
    // matcher, without ignore_case, with ignore_case
    [{ exact: 'prod-eu-1' }, false, true],
    [{ exact: 'Prod-EU-1' }, true, true],
    [{ prefix: 'PROD-' }, false, true],
    [{ suffix: '-eu-1' }, false, true],
    [{ contains: 'eu' }, false, true],
    [{ contains: 'EU' }, true, true],
    [{ exact: 'prod' }, false, false],
  ];
  for (const [m, plain, folded] of forms) {
    assert.equal(h(m), plain, JSON.stringify(m));
    assert.equal(h({ ...m, ignore_case: true }), folded, `${JSON.stringify(m)} ignore_case`);
  }
  assert.equal(h({ safe_regex: { regex: 'Prod-[A-Z]+-\\d' } }), true);
  assert.equal(h({ safe_regex: { regex: 'prod-.*' }, ignore_case: true }), false, 'ignore_case has no effect on safe_regex');
  assert.equal(h({ safe_regex: { regex: 'Prod' } }), false, 'safe_regex matches the whole value');
  // the same forms on the principal side
  const p = (principal_name: Record<string, unknown>) => principalTri({ authenticated: { principal_name } }, c);
  assert.equal(p({ suffix: '/SA/SLEEP', ignore_case: true }), true);
  assert.equal(p({ suffix: '/SA/SLEEP' }), false);
  assert.equal(p({ contains: '/ns/foo/' }), true);
  assert.equal(p({ prefix: 'SPIFFE://', ignore_case: true }), true);
});

test('sourced_metadata: DYNAMIC (the default) reads the dynamic metadata, on both sides; an unknown source is undecided', () => {
  const c = ctx();
  const iss = { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'iss' }], value: { string_match: { exact: 'https://issuer' } } };
  const other = { ...iss, value: { string_match: { exact: 'https://other' } } };
  assert.equal(permissionTri({ sourced_metadata: { metadata_matcher: iss } }, c), true, 'no metadata_source: DYNAMIC');
  assert.equal(permissionTri({ sourced_metadata: { metadata_source: 'DYNAMIC', metadata_matcher: other } }, c), false);
  assert.equal(principalTri({ sourced_metadata: { metadata_source: 'DYNAMIC', metadata_matcher: iss } }, c), true);
  assert.equal(principalTri({ sourced_metadata: { metadata_source: 'ROUTE', metadata_matcher: { filter: 'acme.io', path: [{ key: 'tier' }], value: { string_match: { exact: 'silver' } } } } }, c), false);
  const u: string[] = [];
  assert.equal(permissionTri({ sourced_metadata: { metadata_source: 'CLUSTER', metadata_matcher: iss } }, c, u), undefined);
  assert.match(u.join(), /sourced_metadata source CLUSTER is not known to meshctl/);
});
