import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectPolicies, type Selectable } from '../../src/authz/select.js';

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
