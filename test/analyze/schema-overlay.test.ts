import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schemaVersions, specSchema } from '../../src/analyze/schema.js';
import { OVERLAY, patchProblem, withOverlay } from '../../src/analyze/schema-overlay.js';

// The overlay of fields current Istio added (src/analyze/schema-overlay.ts) must apply where it says,
// only add (never replace what the package defines), and leave the shared packaged schemas untouched.

test('every overlay patch applies to every packaged version of its kinds, and adds only what the package lacks', () => {
  const versions = schemaVersions();
  let applied = 0;
  for (const patch of OVERLAY) {
    for (const gk of patch.kinds) {
      const [group, kind] = gk.split('/');
      const ofKind = versions.filter((v) => v.group === group && v.kind === kind);
      assert.ok(ofKind.length > 0, `${gk}: no packaged schema`);
      for (const v of ofKind) {
        const packaged = specSchema(v.group, v.version, v.kind, true);
        assert.ok(packaged, `${gk} ${v.version}`);
        assert.equal(patchProblem(packaged, patch), undefined, `${gk} ${v.version}`);
        applied++;
      }
    }
  }
  assert.ok(applied > 40, `${applied} patches applied`);
});

test('the overlay adds fields and enum values without touching the packaged schema it starts from', () => {
  const packaged = specSchema('security.istio.io', 'v1', 'AuthorizationPolicy', true)!;
  const before = JSON.stringify(packaged);
  const merged = withOverlay('security.istio.io/AuthorizationPolicy', packaged);
  assert.equal(JSON.stringify(packaged), before);
  assert.ok(merged.properties?.targetRefs && merged.properties.targetRef && merged.properties.rules);
  const source = merged.properties!.rules.items!.properties!.from.items!.properties!.source;
  assert.deepEqual(Object.keys(source.properties!).filter((k) => /ServiceAccounts|serviceAccounts/.test(k)).sort(), ['notServiceAccounts', 'serviceAccounts']);
  // an untouched sibling is shared, not copied
  assert.equal(merged.properties!.selector, packaged.properties!.selector);

  const gw = specSchema('networking.istio.io', 'v1', 'Gateway')!;
  const mode = gw.properties!.servers.items!.properties!.tls.properties!.mode;
  assert.deepEqual(mode.enum, ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']);
  assert.equal(withOverlay('networking.istio.io/ServiceEntry', packaged), packaged, 'kinds without patches keep the packaged schema');
});

test('patchProblem names a path that does not resolve and a field that is already packaged', () => {
  const packaged = specSchema('security.istio.io', 'v1', 'AuthorizationPolicy', true)!;
  assert.match(patchProblem(packaged, { kinds: [], at: 'rules[].nowhere', add: { x: {} }, since: '' }) ?? '', /no such node/);
  assert.match(patchProblem(packaged, { kinds: [], at: '', add: { selector: {} }, since: '' }) ?? '', /already packaged/);
  assert.match(patchProblem(packaged, { kinds: [], at: 'action', enumValues: ['DENY'], since: '' }) ?? '', /already packaged/);
});

test('Gateway API: every route kind and version analyze reads gets rules[].name, and the TLSRoute versions share one schema', () => {
  const g = 'gateway.networking.k8s.io';
  for (const [version, kind] of [['v1', 'HTTPRoute'], ['v1beta1', 'HTTPRoute'], ['v1alpha2', 'HTTPRoute'], ['v1', 'GRPCRoute'], ['v1alpha2', 'GRPCRoute'],
    ['v1', 'TLSRoute'], ['v1alpha3', 'TLSRoute'], ['v1alpha2', 'TLSRoute'], ['v1alpha2', 'TCPRoute'], ['v1', 'TCPRoute'], ['v1alpha2', 'UDPRoute']]) {
    const rule = specSchema(g, version, kind)?.properties?.rules?.items;
    assert.ok(rule?.properties?.name, `${kind} ${version}: rules[].name`);
    assert.equal(specSchema(g, version, kind, true)?.properties?.rules?.items?.properties?.name, undefined, `${kind} ${version}: rules[].name is packaged now; trim the overlay`);
  }
  const http = specSchema(g, 'v1', 'HTTPRoute')!.properties!.rules.items!;
  assert.deepEqual(http.properties!.filters.items!.properties!.type.enum, ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS', 'ExternalAuth']);
  assert.ok(http.properties!.backendRefs.items!.properties!.filters.items!.properties!.cors, 'backendRef filters are HTTPRouteFilters too');
  // GRPCRoute has session persistence but no retry stanza
  const grpc = specSchema(g, 'v1', 'GRPCRoute')!.properties!.rules.items!;
  assert.ok(grpc.properties!.sessionPersistence);
  assert.equal(grpc.properties!.retry, undefined);
  assert.equal(specSchema(g, 'v2', 'TLSRoute'), undefined, 'versions Gateway API does not serve are not checked');
});

test('Gateway API fields removed in v1.4 (Gateway backendTLS, listener tls.frontendValidation) stay unknown, as in the CRDs istioctl validates with', () => {
  const g = 'gateway.networking.k8s.io';
  for (const version of ['v1', 'v1beta1']) {
    const spec = specSchema(g, version, 'Gateway')!;
    assert.ok(spec.properties?.tls?.properties?.backend && spec.properties.tls.properties.frontend, `${version}: spec.tls, where v1.4 moved them`);
    assert.equal(spec.properties?.backendTLS, undefined, `${version}: spec.backendTLS`);
    const listenerTls = spec.properties!.listeners.items!.properties!.tls;
    assert.ok(listenerTls?.properties?.certificateRefs, `${version}: listeners[].tls`);
    assert.equal(listenerTls.properties.frontendValidation, undefined, `${version}: listeners[].tls.frontendValidation`);
  }
});
