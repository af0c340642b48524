import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostMatches, mostSpecificHost, serviceFqdn, toFqdn } from '../../src/resources/hosts.js';

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
