import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  l7Attributes,
  unenforcedTargetRefWarnings,
  ztunnelPolicies,
  ztunnelPolicyWarnings,
  type AmbientAuthorizationPolicy,
  type WaypointBinding,
} from '../../src/ambient/index.js';

const pod = { metadata: { name: 'api-0', namespace: 'shop', labels: { app: 'api' } } };

function ap(name: string, spec: AmbientAuthorizationPolicy['spec'], namespace = 'shop'): AmbientAuthorizationPolicy {
  return { kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec };
}

test('L7 attributes are those istiod cannot give ztunnel: hosts, methods, paths, request principals, remote IPs, L7 when keys', () => {
  assert.deepEqual(l7Attributes({ to: [{ operation: { methods: ['GET'], ports: ['80'] } }] }), ['methods']);
  assert.deepEqual(l7Attributes({ to: [{ operation: { paths: ['/a'], notHosts: ['x'] } }] }), ['notHosts', 'paths']);
  assert.deepEqual(l7Attributes({ from: [{ source: { requestPrincipals: ['*'], principals: ['p'] } }] }), ['requestPrincipals']);
  assert.deepEqual(l7Attributes({ from: [{ source: { remoteIpBlocks: ['1.2.3.4'], ipBlocks: ['1.2.3.4'] } }] }), ['remoteIpBlocks']);
  assert.deepEqual(l7Attributes({ when: [{ key: 'source.principal', values: ['x'] }, { key: 'request.auth.claims[iss]', values: ['y'] }] }), ['when request.auth.claims[iss]']);
  assert.deepEqual(l7Attributes({ from: [{ source: { namespaces: ['a'] } }], to: [{ operation: { ports: ['8080'] } }] }), []);
  // what files may hold instead of lists does not throw
  assert.deepEqual(l7Attributes({ to: 5, from: 'x', when: [null] } as never), []);
});

test('ztunnel enforces mesh, namespace and selecting policies without targetRefs', () => {
  const all = [
    ap('mesh', {}, 'istio-system'),
    ap('ns', {}),
    ap('sel', { selector: { matchLabels: { app: 'api' } } }),
    ap('other', { selector: { matchLabels: { app: 'web' } } }),
    ap('elsewhere', {}, 'payments'),
    ap('waypoint', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }] }),
  ];
  assert.deepEqual(ztunnelPolicies(all, pod, 'istio-system').map((p) => p.metadata?.name), ['mesh', 'ns', 'sel']);
});

test('an ALLOW with L7 rules bound by selector denies what it should allow; a DENY denies more; CUSTOM and AUDIT do nothing', () => {
  const sel = { selector: { matchLabels: { app: 'api' } } };
  const all = [
    ap('get-only', { ...sel, action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }),
    ap('no-delete', { ...sel, action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] }),
    ap('ext', { ...sel, action: 'CUSTOM', rules: [{}] }),
    ap('l4', { ...sel, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/web'] } }] }] }),
    ap('ns-wide', { action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/x'] } }] }] }),
  ];
  const w = ztunnelPolicyWarnings(all, pod, 'istio-system', []);
  assert.equal(w.length, 4, w.join('\n'));
  assert.match(w[0], /^AuthorizationPolicy get-only\.shop \(ALLOW\) uses L7 attributes \(methods\) and is bound by selector: ztunnel enforces only L4, so its rules with L7 attributes never match and the requests they should allow are denied; the pod has no waypoint/);
  assert.match(w[1], /^AuthorizationPolicy no-delete\.shop \(DENY\) .*denies every connection matching the rest of the rule/);
  assert.match(w[2], /^AuthorizationPolicy ext\.shop \(CUSTOM\) is bound by selector: ztunnel ignores CUSTOM policies/);
  assert.match(w[3], /^AuthorizationPolicy ns-wide\.shop \(ALLOW\) uses L7 attributes \(paths\) and is bound to the whole namespace/);
  // with a waypoint in the path, the advice names it
  assert.match(ztunnelPolicyWarnings(all.slice(0, 1), pod, 'istio-system', ['shop/waypoint'])[0], /the pod's waypoint \(shop\/waypoint\) enforces only policies attached with targetRefs/);
});

test('a policy targeting a Service that has no waypoint is enforced by nobody', () => {
  const svc = { metadata: { name: 'api', namespace: 'shop' } };
  const all = [
    ap('to-svc', { targetRefs: [{ kind: 'Service', group: '', name: 'api' }] }),
    ap('to-gw', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }] }),
    ap('other-ns', { targetRefs: [{ kind: 'Service', group: '', name: 'api' }] }, 'payments'),
  ];
  const none = new Map<string, WaypointBinding>([['shop/api', { state: 'none' }]]);
  assert.deepEqual(unenforcedTargetRefWarnings(all, [svc], none), [
    'AuthorizationPolicy to-svc.shop targets service api.shop, which has no waypoint: only a waypoint enforces targetRefs policies, so nothing enforces it',
  ]);
  const bound = new Map<string, WaypointBinding>([['shop/api', { state: 'bound', waypoint: 'shop/waypoint' }]]);
  assert.deepEqual(unenforcedTargetRefWarnings(all, [svc], bound), []);
  // the group as istiod compares it: 'core' is the core group too; another group is not a Service
  const groups = [
    ap('core-group', { targetRefs: [{ kind: 'Service', group: 'core', name: 'api' }] }),
    ap('no-group', { targetRefs: [{ kind: 'Service', name: 'api' }] }),
    ap('other-group', { targetRefs: [{ kind: 'Service', group: 'networking.istio.io', name: 'api' }] }),
  ];
  assert.deepEqual(unenforcedTargetRefWarnings(groups, [svc], none).map((w) => w.split(' ')[1]), ['core-group.shop', 'no-group.shop']);
});
