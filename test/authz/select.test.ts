import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { selectPolicies, type Selectable } from '../../src/authz/select.js';
import { fixture, runCli } from '../helpers.js';

/**
 * Which AuthorizationPolicies a proxy gets, as istiod attaches them (pilot's WorkloadPolicyMatcher
 * ShouldAttachPolicy): selector and namespace for sidecars; targetRefs for Gateway API gateways (and their
 * selector as a fallback); targetRefs only for waypoints.
 */

const ap = (name: string, namespace: string, spec: Selectable['spec'] = {}) => ({ metadata: { name, namespace }, spec });
const ALL = [
  ap('mesh-wide', 'istio-system'),
  ap('root-selector', 'istio-system', { selector: { matchLabels: { app: 'web' } } }),
  ap('ns-wide', 'shop'),
  ap('selects-web', 'shop', { selector: { matchLabels: { app: 'web' } } }),
  ap('selects-other', 'shop', { selector: { matchLabels: { app: 'db' } } }),
  ap('other-ns', 'bank'),
  ap('to-gateway', 'shop', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' }] }),
  ap('to-gateway-legacy', 'shop', { targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' } }),
  ap('to-gateway-other-ns-ref', 'shop', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', namespace: 'bank' }] }),
  ap('to-waypoint', 'shop', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }] }),
  ap('to-waypoint-class', 'istio-system', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }] }),
  ap('to-istio-class', 'istio-system', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio' }] }),
  ap('to-waypoint-class-not-root', 'shop', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }] }),
];
const names = (labels: Record<string, string>, namespace = 'shop') => selectPolicies(ALL, { namespace, labels, rootNamespace: 'istio-system' }).map((s) => `${s.policy.metadata.name}:${s.scope}`);

test('a sidecar: mesh-wide, its namespace, selectors (a root-namespace selector across namespaces); never targetRefs', () => {
  assert.deepEqual(names({ app: 'web' }), ['mesh-wide:mesh', 'root-selector:workload', 'ns-wide:namespace', 'selects-web:workload']);
  assert.deepEqual(names({ app: 'web' }, 'bank'), ['mesh-wide:mesh', 'root-selector:workload', 'other-ns:namespace']);
});

test('a Gateway API gateway: its targetRefs (Gateway in its namespace, the ref naming no other namespace), and selectors as a fallback', () => {
  const gw = { 'gateway.networking.k8s.io/gateway-name': 'edge', 'gateway.networking.k8s.io/gateway-class-name': 'istio', app: 'web' };
  assert.deepEqual(names(gw), ['mesh-wide:mesh', 'root-selector:workload', 'ns-wide:namespace', 'selects-web:workload', 'to-gateway:targetRef', 'to-gateway-legacy:targetRef']);
});

test('a waypoint: only targetRefs (its Gateway, or the istio-waypoint GatewayClass from the root namespace); selector and namespace policies are ztunnel\'s', () => {
  const wp = { 'gateway.networking.k8s.io/gateway-name': 'waypoint', 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint', 'gateway.istio.io/managed': 'istio.io-mesh-controller' };
  assert.deepEqual(names(wp), ['to-waypoint:targetRef', 'to-waypoint-class:targetRef']);
  // older waypoints carry only the managed-by label and the gateway name
  assert.deepEqual(names({ 'gateway.networking.k8s.io/gateway-name': 'waypoint', 'gateway.istio.io/managed': 'istio.io-mesh-controller' }), ['to-waypoint:targetRef', 'to-waypoint-class:targetRef']);
});

test("a waypoint takes the policies attached to the Services it serves, from each Service's namespace", () => {
  const wp = { 'gateway.networking.k8s.io/gateway-name': 'shared', 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint' };
  const svcRef = (name: string) => ({ targetRefs: [{ group: '', kind: 'Service', name }] });
  const policies = [ap('to-fraud', 'payments', svcRef('fraud')), ap('to-fraud-elsewhere', 'shop', svcRef('fraud')), ap('to-ledger', 'payments', svcRef('ledger')), ap('payments-wide', 'payments')];
  const pick = (services?: { name: string; namespace: string }[]) =>
    selectPolicies(policies, { namespace: 'mesh-waypoints', labels: wp, rootNamespace: 'istio-system', services }).map((s) => s.policy.metadata.name);
  assert.deepEqual(pick([{ name: 'fraud', namespace: 'payments' }]), ['to-fraud']);
  assert.deepEqual(pick(), [], 'without the services it serves, none');
  // a sidecar never takes a Service targetRef
  assert.deepEqual(selectPolicies(policies, { namespace: 'payments', labels: { app: 'fraud' }, rootNamespace: 'istio-system', services: [{ name: 'fraud', namespace: 'payments' }] }).map((s) => s.policy.metadata.name), ['payments-wide']);
});

test('authz check --files and describe pod on a waypoint: its Gateway and Service targetRefs, not the namespace policies', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshctl-select-'));
  try {
    for (const f of readdirSync(fixture('ambient'))) copyFileSync(path.join(fixture('ambient'), f), path.join(dir, f));
    const svcRef = (name: string, target: string) => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: shop\nspec:\n  targetRefs:\n  - {group: "", kind: Service, name: ${target}}\n  rules:\n  - to:\n    - operation: {methods: [GET]}\n`;
    writeFileSync(path.join(dir, 'extra.yaml'), [svcRef('web-readers', 'web'), svcRef('cart-readers', 'cart'), 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: shop-wide\n  namespace: shop\nspec:\n  rules:\n  - {}\n'].join('---\n'));
    const check = await runCli(['authz', 'check', 'waypoint-6d8f9b7c5-wp001.shop', '--files', dir]);
    assert.equal(check.code, 0, check.stderr);
    const rows = check.stdout.split('\n').filter((l) => /^(ALLOW|DENY) /.test(l)).map((l) => l.split(/ +/)[1]);
    assert.deepEqual(rows, ['_anonymous_match_nothing_', 'shop-waypoint-policy.shop', 'web-readers.shop']);
    const described = await runCli(['describe', 'pod', 'waypoint-6d8f9b7c5-wp001', '-n', 'shop', '--files', dir]);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /AuthorizationPolicies: 2 ALLOW, 0 DENY.*\n +ALLOW shop-waypoint-policy\.shop \(targetRef, 1 rule\)\n +ALLOW web-readers\.shop \(targetRef, 1 rule, on the chain of Service shop\/web\)\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
