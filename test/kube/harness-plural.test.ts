import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plural } from '../harness/apiserver.js';

test("the API-server stand-in names resources with the API server's plurals", () => {
  assert.equal(plural('AuthorizationPolicy'), 'authorizationpolicies');
  assert.equal(plural('ServiceEntry'), 'serviceentries');
  assert.equal(plural('Gateway'), 'gateways');
  assert.equal(plural('VirtualService'), 'virtualservices');
  assert.equal(plural('Sidecar'), 'sidecars');
  assert.equal(plural('EnvoyFilter'), 'envoyfilters');
});
