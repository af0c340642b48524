import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeIstioConfig,
  destinationRuleOf,
  goSortSlice,
  istioConfigRef,
  istioServicesOf,
  parseIstioClusterName,
  redactSecrets,
  REDACTED,
  virtualServiceOf,
} from '../../src/envoy/index.js';

test('Istio cluster names split into direction, port, subset and FQDN', () => {
  assert.deepEqual(parseIstioClusterName('outbound|9080|v1|reviews.default.svc.cluster.local'), {
    direction: 'outbound',
    port: 9080,
    subset: 'v1',
    fqdn: 'reviews.default.svc.cluster.local',
  });
  assert.deepEqual(parseIstioClusterName('inbound|9080||'), { direction: 'inbound', port: 9080, subset: '', fqdn: '' });
  assert.deepEqual(parseIstioClusterName('outbound_.9080_.v2_.reviews.default.svc.cluster.local'), {
    direction: 'outbound',
    port: 9080,
    subset: 'v2',
    fqdn: 'reviews.default.svc.cluster.local',
  });
  assert.equal(parseIstioClusterName('PassthroughCluster'), undefined);
  assert.equal(parseIstioClusterName('a|b|c'), undefined);
  assert.equal(parseIstioClusterName('outbound|x|y|z')?.port, 0);
  assert.equal(parseIstioClusterName('a|1|b|c|d')?.fqdn, '');
});

test('DestinationRule and VirtualService names come from filter_metadata.istio.config', () => {
  const md = (config: string) => ({ filter_metadata: { istio: { config } } });
  const dr = md('/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews');
  assert.equal(destinationRuleOf({ metadata: dr }), 'reviews.default');
  assert.equal(virtualServiceOf({ metadata: md('/apis/networking.istio.io/v1alpha3/namespaces/bookinfo/virtual-service/reviews-vs') }), 'reviews-vs.bookinfo');
  assert.equal(destinationRuleOf({}), undefined);
  assert.equal(describeIstioConfig(md('/somewhere/else')), '<unknown>');
  assert.deepEqual(istioConfigRef(dr), {
    path: '/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews',
    group: 'networking.istio.io',
    version: 'v1alpha3',
    namespace: 'default',
    kind: 'destination-rule',
    name: 'reviews',
  });
  const svc = { metadata: { filter_metadata: { istio: { services: [{ host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }] } } } };
  assert.equal(istioServicesOf(svc)[0].name, 'reviews');
});

test('redaction is copy-on-write and removes keys wherever they are', () => {
  const clean = { a: { b: [1, 'x', { c: true }] } };
  assert.equal(redactSecrets(clean), clean, 'nothing to redact: same object back');
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n';
  const dirty = {
    keep: { big: 1 },
    secret: { tls_certificate: { certificate_chain: { inline_bytes: 'Y2VydA==' }, private_key: { inline_bytes: 'a2V5', filename: '/etc/key' } } },
    lua: { inline_code: `local k = [[${pem}]] -- oops` },
  };
  const out = redactSecrets(dirty) as typeof dirty;
  assert.notEqual(out, dirty);
  assert.equal(out.keep, dirty.keep, 'untouched branches are shared');
  assert.deepEqual(out.secret.tls_certificate.private_key, { inline_bytes: REDACTED, filename: '/etc/key' });
  assert.equal(out.secret.tls_certificate.certificate_chain.inline_bytes, 'Y2VydA==');
  assert.equal(out.lua.inline_code.includes('MIIEvQ'), false);
  assert.equal(dirty.secret.tls_certificate.private_key.inline_bytes, 'a2V5', 'input not modified');
  const b64 = Buffer.from(pem).toString('base64');
  assert.equal((redactSecrets({ x: { inline_bytes: b64 } }) as { x: { inline_bytes: string } }).x.inline_bytes, REDACTED);
});

test('goSortSlice sorts, and keeps insertion-sort order of ties for short slices like Go', () => {
  const items = [3, 1, 2, 1, 3].map((v, i) => ({ v, i }));
  goSortSlice(items, (a, b) => a.v < b.v);
  assert.deepEqual(items.map((x) => `${x.v}${x.i}`), ['11', '13', '22', '30', '34']);
  // larger inputs: correctly sorted whatever the tie order
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (const n of [13, 50, 51, 200, 1000]) {
    const xs = Array.from({ length: n }, () => rand() % 37);
    const sorted = [...xs].sort((a, b) => a - b);
    assert.deepEqual(goSortSlice(xs, (a, b) => a < b), sorted);
  }
  // reverse-sorted and all-equal inputs take the other branches
  const rev = Array.from({ length: 300 }, (_, i) => 300 - i);
  assert.deepEqual(goSortSlice(rev, (a, b) => a < b), Array.from({ length: 300 }, (_, i) => i + 1));
  const same = Array.from({ length: 100 }, (_, i) => ({ k: 1, i }));
  goSortSlice(same, (a, b) => a.k < b.k);
  assert.equal(new Set(same.map((x) => x.i)).size, 100);
});
