/**
 * present_match, written from Envoy's sources: a HeaderMatcher's `present_match: false` means "the header
 * is absent" (HeaderUtility::matchHeaders: an absent header matches only a false present_match, or an
 * inverted true one; a present header matches `present_`), while a ValueMatcher's `present_match: false`
 * matches nothing (matchers.cc PresentMatcher: `matcher_ && value is set`). Routes and RBAC use the same
 * matchers and must agree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthzContext } from '../../src/authz/context.js';
import { permissionTri, principalTri } from '../../src/authz/engine.js';
import { headerTri, matchHeaderValue } from '../../src/match/header.js';
import { metadataTri, valueTri } from '../../src/match/metadata.js';
import { matchHeader, matchMetadata } from '../../src/trace/matchers.js';
import type { HttpRequest } from '../../src/trace/request.js';
import { findRoute } from '../../src/trace/route.js';

function req(headers: [string, string][], metadata?: HttpRequest['metadata']): HttpRequest {
  return { authority: 'web', path: '/', method: 'GET', scheme: 'http', headers, metadata };
}

function ctx(r: HttpRequest, dynamicMetadata: Record<string, unknown> = {}): AuthzContext {
  return {
    sourceIp: '10.0.0.1',
    directRemoteIp: '10.0.0.1',
    remoteIp: '10.0.0.1',
    localIp: '10.0.0.2',
    localPort: 80,
    sni: '',
    tls: false,
    peerPrincipal: null,
    filterState: {},
    header: (n) => (n === ':method' ? r.method : n === ':path' ? r.path : n === ':authority' ? r.authority : r.headers.filter(([k]) => k === n).map(([, v]) => v).join(',') || undefined),
    dynamicMetadata,
    routeMetadata: null,
  };
}

test('HeaderMatcher present_match: true is "present", false is "absent"; invert_match flips both', () => {
  const with_ = 'v';
  assert.equal(headerTri({ name: 'x', present_match: true }, with_, null), true);
  assert.equal(headerTri({ name: 'x', present_match: true }, undefined, null), false);
  assert.equal(headerTri({ name: 'x', present_match: false }, undefined, null), true, 'false matches an absent header');
  assert.equal(headerTri({ name: 'x', present_match: false }, with_, null), false, 'false does not match a present header');
  assert.equal(headerTri({ name: 'x', present_match: true, invert_match: true }, undefined, null), true);
  assert.equal(headerTri({ name: 'x', present_match: false, invert_match: true }, undefined, null), false);
  assert.equal(headerTri({ name: 'x', present_match: false, invert_match: true }, with_, null), true);
  assert.equal(headerTri({ name: 'x' }, with_, null), true, 'no specifier: a presence match');
  assert.equal(headerTri({ name: 'x' }, undefined, null), false);
  assert.equal(headerTri({ name: 'x', string_match: { exact: '' } }, undefined, null), false, 'an absent header fails a value match');
  assert.equal(headerTri({ name: 'x', string_match: { exact: '' }, treat_missing_header_as_empty: true }, undefined, null), true);
  assert.equal(headerTri({ name: 'x', exact_match: '' }, 'anything', null), true, 'Envoy: an empty exact_match matches any value');
  assert.equal(headerTri({ name: 'x', safe_regex_match: { regex: '(a)\\1' } }, 'aa', null), undefined, 'a regex RE2 refuses is undecided');
  assert.equal(matchHeaderValue({ name: 'x', present_match: false }, undefined).reason, 'header x absent: header absent');
});

test('route and RBAC header matchers agree, request by request', () => {
  const matchers = [
    { name: 'x-user', present_match: true },
    { name: 'x-user', present_match: false },
    { name: 'x-user', present_match: false, invert_match: true },
    { name: 'x-user', present_match: true, invert_match: true },
    { name: 'x-user', string_match: { exact: 'jason' } },
    { name: 'x-user', string_match: { exact: 'jason' }, invert_match: true },
    { name: 'x-user', string_match: { prefix: '' }, treat_missing_header_as_empty: true },
    { name: 'x-user', exact_match: 'jason' },
    { name: 'x-user', prefix_match: 'ja' },
    { name: 'x-user', safe_regex_match: { regex: 'j.*' } },
    { name: 'x-user', range_match: { start: 1, end: 10 } },
    { name: 'x-user' },
  ];
  const requests = [req([]), req([['x-user', 'jason']]), req([['x-user', '5']]), req([['x-user', 'a'], ['x-user', 'b']])];
  for (const h of matchers) {
    for (const r of requests) {
      const route = matchHeader(h, r).ok;
      const rbac = permissionTri({ header: h }, ctx(r));
      assert.equal(rbac, route, `${JSON.stringify(h)} on ${JSON.stringify(r.headers)}: RBAC ${rbac}, route ${route}`);
      const routed = findRoute({ routes: [{ match: { prefix: '/', headers: [h] }, route: { cluster: 'c' } }] }, r).route !== null;
      assert.equal(routed, route);
    }
  }
});

test('ValueMatcher present_match: false matches nothing, present or absent (Envoy PresentMatcher)', () => {
  assert.equal(valueTri({ present_match: false }, undefined, null), false, 'not an "is absent" test');
  assert.equal(valueTri({ present_match: false }, 'gold', null), false);
  assert.equal(valueTri({ present_match: true }, 'gold', null), true);
  assert.equal(valueTri({ present_match: true }, null, null), true, 'a null value is a value');
  assert.equal(valueTri({ present_match: true }, undefined, null), false);
  const md = { 'envoy.lb': { canary: true } };
  const absent = { filter: 'envoy.lb', path: [{ key: 'missing' }], value: { present_match: false } };
  assert.equal(metadataTri(absent, md, null), false);
  assert.equal(metadataTri({ ...absent, invert: true }, md, null), true, 'inverted, it matches everything');
});

test('route dynamic_metadata and RBAC metadata with present_match: false agree with Envoy', () => {
  const absent = { filter: 'envoy.lb', path: [{ key: 'canary' }], value: { present_match: false } };
  const r = req([]);
  const vhost = { routes: [{ match: { prefix: '/', dynamic_metadata: [absent] }, route: { cluster: 'no-canary' } }, { match: { prefix: '/' }, route: { cluster: 'fallback' } }] };
  // Before: taken as "canary is absent", so the first route matched a request without metadata.
  assert.equal(findRoute(vhost, r).route?.route?.cluster, 'fallback');
  assert.equal(findRoute(vhost, req([], { 'envoy.lb': { canary: true } })).route?.route?.cluster, 'fallback');
  assert.match(matchMetadata(absent, undefined).reason, /present_match false \(matches nothing\)/);
  assert.equal(principalTri({ metadata: absent }, ctx(r)), false);
  assert.equal(principalTri({ metadata: { ...absent, invert: true } }, ctx(r)), true);
  assert.equal(permissionTri({ metadata: absent }, ctx(r, { 'envoy.lb': { canary: true } })), false);
});
