import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AmbientWorld } from '../../src/ambient/index.js';
import { matchWaypoint, waypointView } from '../../src/commands/trace-ambient.js';
import type { ZtunnelWorkload } from '../../src/ztunnel/index.js';

/** A waypoint's dump reduced to what says who it is: the bootstrap's node metadata. */
function view(file: string, pod: string, labels: Record<string, string>, ip: string) {
  const dump = {
    configs: [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
        bootstrap: { node: { id: `waypoint~${ip}~${pod}.bookinfo~bookinfo.svc.cluster.local`, metadata: { NAME: pod, NAMESPACE: 'bookinfo', LABELS: labels, INSTANCE_IPS: ip } } },
      },
    ],
  };
  return waypointView(dump, file);
}

// the instance ztunnel chose: a replica whose own dump was not given
const inst = { name: 'reviews-waypoint-7c9f-zzzzz', namespace: 'bookinfo', workloadIps: ['10.0.0.99'] } as ZtunnelWorkload;
const gw = { name: 'reviews-waypoint', namespace: 'bookinfo' };

function world(annotations?: Record<string, string>): AmbientWorld {
  return {
    namespaces: [],
    pods: [],
    services: [],
    authorizationPolicies: [],
    gatewayClasses: [],
    gateways: [{ kind: 'Gateway', metadata: { name: 'reviews-waypoint', namespace: 'bookinfo', ...(annotations ? { annotations } : {}) }, spec: { gatewayClassName: 'istio-waypoint' } }],
  };
}

test('waypoint replicas: the gateway label of either Istio release names the waypoint, whatever the pod is called', () => {
  const older = view('old.json', 'rw-5d8f-abcde', { 'istio.io/gateway-name': 'reviews-waypoint' }, '10.0.0.9');
  assert.equal(older.gateway, 'reviews-waypoint', 'istio.io/gateway-name, the label of older releases');
  const r = matchWaypoint([older], inst, gw);
  assert.ok('view' in r && r.view === older);
  assert.doesNotMatch(r.note ?? '', /pod name/, 'matched by label, not by name');

  const newer = view('new.json', 'x-1', { 'gateway.networking.k8s.io/gateway-name': 'reviews-waypoint', 'istio.io/gateway-name': 'other' }, '10.0.0.8');
  assert.equal(newer.gateway, 'reviews-waypoint', 'gateway.networking.k8s.io/gateway-name first');

  // a dump labelled for another gateway is not taken because its pod name looks right
  const other = view('other.json', 'reviews-waypoint-5d8f-abcde', { 'gateway.networking.k8s.io/gateway-name': 'reviews-waypoint-v2' }, '10.0.0.7');
  const none = matchWaypoint([other], inst, gw);
  assert.ok('missing' in none && /none of the --waypoint-file dumps is of waypoint bookinfo\/reviews-waypoint/.test(none.missing));
});

test('waypoint replicas without a gateway label: the pod name of the Deployment Istio names for the Gateway (name-override)', () => {
  const overridden = view('rw.json', 'rw-5d8f-abcde', {}, '10.0.0.9');
  const byOverride = matchWaypoint([overridden], inst, gw, world({ 'gateway.istio.io/name-override': 'rw' }));
  assert.ok('view' in byOverride && byOverride.view === overridden, JSON.stringify(byOverride));
  assert.match(byOverride.note ?? '', /matched by the pod name of Deployment rw, as Istio names it/);

  // with the override, pods named after the Gateway are not its Deployment's
  const bare = view('bare.json', 'reviews-waypoint-5d8f-abcde', {}, '10.0.0.9');
  assert.ok('missing' in matchWaypoint([bare], inst, gw, world({ 'gateway.istio.io/name-override': 'rw' })));
  const plain = matchWaypoint([bare], inst, gw, world());
  assert.ok('view' in plain && plain.view === bare, 'a waypoint without override: its own name, no class suffix');

  // without the Gateway, the name is the waypoint's own, and said uncertain
  const guessed = matchWaypoint([bare], inst, gw);
  assert.ok('view' in guessed);
  assert.match(guessed.note ?? '', /uncertain: the Gateway is not among the resources/);
});
