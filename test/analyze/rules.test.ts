import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { secretProblem } from '../../src/analyze/analyzers/gateway.js';
import { parseSemver, semverString } from '../../src/analyze/analyzers/k8sgateway.js';
import { namespaceMatches } from '../../src/analyze/analyzers/workloads.js';
import { toResource, type Resource } from '../../src/resources/index.js';
import { fixture } from '../helpers.js';

// The small rules istioctl's analyzers apply, checked piece by piece (the case fixtures check them in use).

test('Gateway API bundle versions read as the semver library reads them', () => {
  assert.equal(semverString(parseSemver('v1.0.0')!), '1.0.0');
  assert.equal(semverString(parseSemver('1.1')!), '1.1.0');
  assert.equal(semverString(parseSemver('v1.5.0-rc.1')!), '1.5.0-rc.1');
  assert.equal(semverString(parseSemver('v1.2.3+build.7')!), '1.2.3+build.7');
  assert.equal(parseSemver('latest'), undefined);
  assert.equal(parseSemver('1.2.3.4'), undefined);
});

test('AuthorizationPolicy source namespaces: *, prefix*, *suffix, or the name in any case', () => {
  assert.ok(namespaceMatches('shop', '*'));
  assert.ok(namespaceMatches('shop-canary', 'shop-*'));
  assert.ok(namespaceMatches('shop-canary', '*-canary'));
  assert.ok(namespaceMatches('shop', 'SHOP'));
  assert.ok(!namespaceMatches('shop', 'shop-*'));
  assert.ok(!namespaceMatches('myshop', 'shop'));
});

function secret(data: Record<string, string>, stringData?: Record<string, string>): Resource {
  const r = toResource({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'istio-system' }, data, ...(stringData ? { stringData } : {}) });
  assert.ok(typeof r !== 'string');
  return r;
}
const b64 = (file: string) => readFileSync(fixture('analyze', 'certs', file)).toString('base64');

test('gateway credentials: a key pair whose certificate is valid at the time of the check', () => {
  const valid = secret({ 'tls.crt': b64('valid-cert.pem'), 'tls.key': b64('valid-key.pem') });
  assert.equal(secretProblem(valid), undefined);
  // the validity window, checked at chosen times
  assert.equal(secretProblem(valid, Date.UTC(1999, 0, 1)), 'certificate not yet valid');
  const expired = secret({ 'tls.crt': b64('expired-cert.pem'), 'tls.key': b64('expired-key.pem') });
  assert.equal(secretProblem(expired, Date.UTC(2000, 5, 1)), undefined);
  assert.equal(secretProblem(expired), 'certificate expired');
  // stringData wins over data for the same key, as the API server merges them
  assert.equal(secretProblem(secret({ 'tls.crt': b64('expired-cert.pem'), 'tls.key': 'eA==' }, { 'tls.crt': readFileSync(fixture('analyze', 'certs', 'valid-cert.pem'), 'utf8') })), undefined);
  // cert/key first, then tls.crt/tls.key; an empty value is no value
  assert.equal(secretProblem(secret({ cert: b64('valid-cert.pem'), key: '' })), 'missing certificate or key');
  assert.equal(secretProblem(secret({ cert: b64('valid-cert.pem'), key: '', 'tls.crt': b64('valid-cert.pem'), 'tls.key': 'eA==' })), undefined);
  assert.equal(secretProblem(secret({ 'tls.crt': Buffer.from('no pem here').toString('base64'), 'tls.key': 'eA==' })), 'no PEM block');
});
