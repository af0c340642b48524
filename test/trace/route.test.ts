import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePath } from '../../src/trace/filters.js';
import type { HttpRequest } from '../../src/trace/request.js';
import { findRoute, findVirtualHost, routeAction } from '../../src/trace/route.js';

const req = (over: Partial<HttpRequest> = {}): HttpRequest => ({ authority: 'reviews', path: '/', method: 'GET', scheme: 'http', headers: [], ...over });
const vh = (name: string, domains: string[], routes: unknown[] = [{ match: { prefix: '/' }, route: { cluster: name } }]) => ({ name, domains, routes });

test('exact domain beats a wildcard, and the wildcard is named as the loser', () => {
  const rc = { virtual_hosts: [vh('wild', ['*.svc.cluster.local']), vh('exact', ['reviews.default.svc.cluster.local']), vh('any', ['*'])] };
  const c = findVirtualHost(rc, 'reviews.default.svc.cluster.local');
  assert.equal(c.name, 'exact');
  assert.equal(c.how, 'exact');
  assert.deepEqual(c.losers, [
    { name: 'wild', reason: 'domain *.svc.cluster.local also matches (suffix wildcard) but loses on precedence' },
    { name: 'any', reason: 'domain * also matches (catch-all) but loses on precedence' },
  ]);
  const w = findVirtualHost(rc, 'ratings.default.svc.cluster.local');
  assert.equal(w.name, 'wild');
  assert.equal(w.domain, '*.svc.cluster.local');
});

test('a host that differs only in the port is reported as the near miss', () => {
  const rc = { virtual_hosts: [vh('reviews', ['reviews:9080'])] };
  const c = findVirtualHost(rc, 'reviews:8080');
  assert.equal(c.vhost, null);
  assert.deepEqual(c.losers, [{ name: 'reviews', reason: 'domain reviews:9080 differs only in the port from host reviews:8080' }]);
  const stripped = findVirtualHost({ virtual_hosts: [vh('reviews', ['reviews'])] }, 'reviews:9080', { stripMatchingHostPort: true, listenerPort: 9080 });
  assert.equal(stripped.name, 'reviews');
  assert.match(stripped.hostNote ?? '', /strip_matching_host_port/);
  const dot = findVirtualHost({ virtual_hosts: [vh('ex', ['example.com:80'])] }, 'example.com.:80', { stripTrailingHostDot: true });
  assert.equal(dot.name, 'ex');
});

test('header invert_match: the route, and the reason it lost', () => {
  const v = vh('r', ['reviews'], [
    { name: 'not-test', match: { prefix: '/', headers: [{ name: 'x-env', string_match: { exact: 'test' }, invert_match: true }] }, route: { cluster: 'prod' } },
    { name: 'rest', match: { prefix: '/' }, route: { cluster: 'test' } },
  ]);
  const prod = findRoute(v, req({ headers: [['x-env', 'prod']] }));
  assert.equal(prod.name, 'not-test');
  assert.deepEqual(prod.evaluated[0].checks.map((c) => c.reason), ['prefix / matches path "/"', 'header x-env not exact "test": "prod"']);
  const test_ = findRoute(v, req({ headers: [['x-env', 'test']] }));
  assert.equal(test_.name, 'rest');
  assert.equal(test_.evaluated[0].reason, 'header x-env not exact "test": "test"');
});

test('regex route: full match, and RE2-only syntax refused honestly', () => {
  const v = vh('r', ['reviews'], [
    { name: 'lookahead', match: { safe_regex: { regex: '/(?=x).*' } }, route: { cluster: 'bad' } },
    { name: 'ids', match: { safe_regex: { regex: '/reviews/\\d+' } }, route: { cluster: 'ids' } },
  ]);
  const r = findRoute(v, req({ path: '/reviews/12?x' }));
  assert.equal(r.name, 'ids');
  assert.match(r.evaluated[0].reason, /lookahead\/lookbehind assertions are not supported by RE2/);
  assert.match(r.evaluated[1].reason, /regex "\/reviews\/\\\\d\+" matches path "\/reviews\/12" \(full match\)/);
  assert.ok(r.uncertain.some((u) => /lookahead/.test(u)));
});

test('weighted clusters: every candidate with its weight and random range; --random picks', () => {
  const route = { match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'v1', weight: 75 }, { name: 'v2', weight: 25 }] } } };
  const none = routeAction(route, {}, req());
  assert.equal(none.cluster, null);
  assert.deepEqual(none.weightedClusters?.map((w) => [w.name, w.weight, w.percent, w.range]), [['v1', 75, 75, [0, 75]], ['v2', 25, 25, [75, 100]]]);
  const picked = routeAction(route, {}, req({ random: 175 }));
  assert.equal(picked.cluster, 'v2');
  assert.match(picked.notes[0], /random 175 \(--random\) % total weight 100 = 75: in \[75, 100\) of v2/);
});

test('runtime fraction without --random: shown as probabilistic, with the route taken otherwise', () => {
  const v = vh('r', ['reviews'], [
    { name: 'canary', match: { prefix: '/', runtime_fraction: { default_value: { numerator: 5 }, runtime_key: 'canary' } }, route: { cluster: 'canary' } },
    { name: 'stable', match: { prefix: '/' }, route: { cluster: 'stable' } },
  ]);
  const r = findRoute(v, req());
  assert.equal(r.name, 'canary');
  assert.equal(r.evaluated[0].probability, 5);
  assert.ok(r.uncertain.some((u) => /route 0 \(canary\) matches 5% of requests/.test(u)));
  assert.ok(r.uncertain.some((u) => /otherwise \(95% of requests\) route 1 \(stable\) would be taken/.test(u)));
  assert.equal(findRoute(v, req({ random: 7 })).name, 'stable');
});

test('connection manager path normalisation before routing', () => {
  assert.equal(normalizePath('/a/./b/../c?x=/../y', true, false), '/a/c?x=/../y');
  assert.equal(normalizePath('/a//b///c', false, true), '/a/b/c');
  assert.equal(normalizePath('/%61pi/%2F', true, false), '/api/%2F');
  assert.equal(normalizePath('/a/b', false, false), '/a/b');
});
