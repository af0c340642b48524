import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostMatches, mostSpecificHost, searchNames, serviceFqdn, toFqdn } from '../../src/resources/hosts.js';

const HOST = 'reviews.bookinfo.svc.cluster.local';

test('toFqdn: only bare names expand, in the config namespace, as Istio ConvertHostToFQDN does', () => {
  assert.equal(toFqdn('bookinfo', 'reviews'), HOST);
  assert.equal(toFqdn('bookinfo', 'reviews', 'corp.example'), 'reviews.bookinfo.svc.corp.example');
  assert.equal(toFqdn('x', 'reviews.bookinfo'), 'reviews.bookinfo');
  assert.equal(toFqdn('x', '*.bookinfo.svc.cluster.local'), '*.bookinfo.svc.cluster.local');
  assert.equal(toFqdn('x', '*'), '*');
  // an empty host is expanded too: it then matches nothing, as in Istio
  assert.equal(toFqdn('x', ''), '.x.svc.cluster.local');
  assert.equal(serviceFqdn('reviews', 'bookinfo'), HOST);
});

test('hostMatches: exact, or a wildcard on either side covering the other', () => {
  assert.ok(hostMatches(HOST, HOST));
  assert.ok(hostMatches('*', HOST));
  assert.ok(hostMatches(HOST, '*'));
  assert.ok(hostMatches('*.svc.cluster.local', HOST));
  assert.ok(hostMatches(HOST, '*.bookinfo.svc.cluster.local'));
  assert.ok(!hostMatches('*.other.svc.cluster.local', HOST));
  assert.ok(!hostMatches('ratings.bookinfo.svc.cluster.local', HOST));
  // two wildcards: the shorter covers the longer, whichever side it is on
  assert.ok(hostMatches('*.cluster.local', '*.bookinfo.svc.cluster.local'));
  assert.ok(hostMatches('*.bookinfo.svc.cluster.local', '*.cluster.local'));
  assert.ok(!hostMatches('*.bookinfo.svc.cluster.local', '*.other.svc.cluster.local'));
});

test('mostSpecificHost: exact beats any wildcard, a longer wildcard a shorter one', () => {
  assert.equal(mostSpecificHost(HOST, ['*', '*.svc.cluster.local', '*.bookinfo.svc.cluster.local']), '*.bookinfo.svc.cluster.local');
  assert.equal(mostSpecificHost(HOST, ['*', HOST]), HOST);
  assert.equal(mostSpecificHost(HOST, ['ratings.bookinfo.svc.cluster.local']), undefined);
});

test("searchNames: the names a pod's resolver tries, in resolv.conf's order (search list first below ndots:5)", () => {
  assert.deepEqual(searchNames('reviews', 'bookinfo'), [HOST, 'reviews.svc.cluster.local', 'reviews.cluster.local', 'reviews']);
  assert.deepEqual(searchNames('Reviews.Bookinfo', 'shop'), ['reviews.bookinfo.shop.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local', 'reviews.bookinfo.cluster.local', 'reviews.bookinfo']);
  assert.deepEqual(searchNames('reviews.bookinfo.svc', undefined), ['reviews.bookinfo.svc.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local', 'reviews.bookinfo.svc']);
  // absolute: only as written; five dots or more: as written first
  assert.deepEqual(searchNames(`${HOST}.`, 'shop'), [HOST]);
  assert.deepEqual(searchNames('a.b.c.d.e.f', undefined), ['a.b.c.d.e.f', 'a.b.c.d.e.f.svc.cluster.local', 'a.b.c.d.e.f.cluster.local']);
});
