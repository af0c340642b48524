import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listenerAccepts, routeExposures, supportedKinds } from '../../src/describe/gateway-api.js';
import { loadMeshObjects } from '../../src/describe/load.js';
import type { ApiRoute, Listener, MeshObjects, Service } from '../../src/describe/objects.js';
import { fixture, runCli, withoutOrigin as strip } from '../helpers.js';

/** TCPRoutes and TLSRoutes: bound to listeners as istiod binds them (generateSupportedKinds), shown as HTTPRoutes are. */
const FILES = fixture('describe', 'gateway-api-l4');

const service = (objects: MeshObjects, name: string): Service => objects.services.find((s) => s.metadata?.name === name)!;
const route = (kind: string, spec: ApiRoute['spec']): ApiRoute => ({ kind, metadata: { name: 'r', namespace: 'db' }, spec });
const listener = (extra: Partial<Listener>): Listener => ({ name: 'l', port: 443, protocol: 'TLS', ...extra });
const reason = (v: ReturnType<typeof listenerAccepts>) => ('reason' in v ? v.reason : undefined);

test('route kinds per listener: TCP takes TCPRoute, TLS Passthrough TLSRoute, TLS Terminate (the default) TCPRoute', () => {
  assert.deepEqual(supportedKinds({ protocol: 'TCP' }), ['TCPRoute']);
  assert.deepEqual(supportedKinds({ protocol: 'TLS', tls: { mode: 'Passthrough' } }), ['TLSRoute']);
  assert.deepEqual(supportedKinds({ protocol: 'TLS', tls: { mode: 'Terminate' } }), ['TCPRoute']);
  assert.deepEqual(supportedKinds({ protocol: 'TLS' }), ['TCPRoute']);
  assert.deepEqual(supportedKinds({ protocol: 'UDP' }), []);

  const tls = route('TLSRoute', { hostnames: ['ledger.example.com'] });
  const pass = listener({ hostname: '*.example.com', tls: { mode: 'Passthrough' } });
  assert.deepEqual(listenerAccepts(pass, 'TLSRoute', tls, 'db', []), { hostnames: ['ledger.example.com'] });
  assert.equal(
    reason(listenerAccepts(listener({}), 'TLSRoute', tls, 'db', [])),
    'protocol TLS (tls.mode Terminate) takes only TCPRoute, no TLSRoutes (TLSRoute binds to TLS listeners of tls.mode Passthrough)',
  );
  assert.equal(
    reason(listenerAccepts(pass, 'TCPRoute', route('TCPRoute', {}), 'db', [])),
    'protocol TLS (tls.mode Passthrough) takes only TLSRoute, no TCPRoutes (TCPRoute binds to TCP listeners and TLS listeners of tls.mode Terminate)',
  );
  assert.match(reason(listenerAccepts(listener({ protocol: 'HTTP' }), 'TCPRoute', route('TCPRoute', {}), 'db', []))!, /^protocol HTTP takes only HTTPRoute, GRPCRoute, no TCPRoutes/);
  assert.match(reason(listenerAccepts(listener({ protocol: 'tcp' }), 'TCPRoute', route('TCPRoute', {}), 'db', []))!, /istiod reads protocols case-sensitively: "TCP"/);
  // a TLSRoute's hostnames are the SNI, matched against the listener's like an HTTPRoute's
  const other = listenerAccepts(pass, 'TLSRoute', route('TLSRoute', { hostnames: ['ledger.other.org'] }), 'db', []);
  assert.equal('condition' in other && other.condition, 'NoMatchingListenerHostname');
  assert.ok('hostnames' in listenerAccepts(listener({ protocol: 'TCP' }), 'TCPRoute', route('TCPRoute', {}), 'db', []));
});

test('--files: TCPRoutes and TLSRoutes with their gateways, tcp:// and tls:// addresses, refusals and missing grants', async () => {
  const objects = await loadMeshObjects([FILES]);
  assert.equal(objects.tcpRoutes.length, 3);
  assert.equal(objects.tlsRoutes.length, 2);
  const edge = [{ gateway: 'istio-ingress/edge', addresses: ['203.0.113.9'] }];
  assert.deepEqual(strip(routeExposures(objects, [service(objects, 'postgres')])), [
    {
      kind: 'TCPRoute',
      route: 'apps/postgres-from-apps',
      gateways: edge,
      urls: [],
      warnings: [
        'TCPRoute apps/postgres-from-apps: backendRef to service postgres.db port 5432 is in another namespace and no ReferenceGrant in db permits TCPRoute from apps (ResolvedRefs RefNotPermitted): the gateway refuses it',
      ],
    },
    { kind: 'TCPRoute', route: 'db/postgres', gateways: edge, urls: [{ gateway: 'istio-ingress/edge', listener: 'pg', url: 'tcp://203.0.113.9:5432' }], warnings: [] },
    {
      kind: 'TCPRoute',
      route: 'db/postgres-tls',
      gateways: edge,
      urls: [{ gateway: 'istio-ingress/edge', listener: 'terminate', url: 'tls://203.0.113.9:9443', hostname: 'db.example.com' }],
      warnings: [],
    },
  ]);
  assert.deepEqual(strip(routeExposures(objects, [service(objects, 'ledger')])), [
    {
      kind: 'TLSRoute',
      route: 'db/ledger',
      gateways: edge,
      urls: [{ gateway: 'istio-ingress/edge', listener: 'passthrough', url: 'tls://203.0.113.9:443', hostname: 'ledger.example.com' }],
      warnings: [],
    },
    {
      kind: 'TLSRoute',
      route: 'db/ledger-terminated',
      gateways: edge,
      urls: [],
      warnings: [
        'TLSRoute db/ledger-terminated is not accepted by gateway istio-ingress/edge (Accepted False, NotAllowedByListeners): listener terminate: protocol TLS (tls.mode Terminate) takes only TCPRoute, no TLSRoutes (TLSRoute binds to TLS listeners of tls.mode Passthrough)',
      ],
    },
  ]);

  // a ReferenceGrant from TCPRoutes lets the cross-namespace backend through
  objects.referenceGrants[0].spec!.from!.push({ group: 'gateway.networking.k8s.io', kind: 'TCPRoute', namespace: 'apps' });
  const granted = routeExposures(objects, [service(objects, 'postgres')])[0];
  assert.deepEqual(granted.warnings, []);
  assert.deepEqual(granted.urls.map((u) => u.url), ['tcp://203.0.113.9:5432']);

  // a Service backendRef without a port: istiod's InvalidDestination, nothing exposed
  delete objects.tlsRoutes[0].spec!.rules![0].backendRefs![0].port;
  const noPort = routeExposures(objects, [service(objects, 'ledger')])[0];
  assert.deepEqual(noPort.urls, []);
  assert.deepEqual(noPort.warnings, [
    'TLSRoute db/ledger: backendRef to service ledger.db has no port: istiod requires one for a Service (ResolvedRefs False, InvalidDestination: port is required in backendRef)',
  ]);
});

test('CLI describe service --files: TCPRoute and TLSRoute lines, the SNI of TLS, JSON in the HTTPRoute structure', async () => {
  const r = await runCli(['describe', 'service', 'postgres', '-n', 'db', '--files', FILES]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nExposed on Gateway API gateway istio-ingress\/edge tcp:\/\/203\.0\.113\.9:5432 via TCPRoute db\/postgres\nTCPRoute: db\/postgres via Gateway istio-ingress\/edge\n/);
  assert.match(r.stdout, /\nExposed on Gateway API gateway istio-ingress\/edge tls:\/\/203\.0\.113\.9:9443 \(SNI db\.example\.com\) via TCPRoute db\/postgres-tls\n/);
  assert.match(r.stdout, /\nWARNING: TCPRoute apps\/postgres-from-apps: backendRef to service postgres\.db port 5432 is in another namespace and no ReferenceGrant in db permits TCPRoute from apps/);

  const l = await runCli(['describe', 'service', 'ledger', '-n', 'db', '--files', FILES]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /\nExposed on Gateway API gateway istio-ingress\/edge tls:\/\/203\.0\.113\.9:443 \(SNI ledger\.example\.com\) via TLSRoute db\/ledger\nTLSRoute: db\/ledger via Gateway istio-ingress\/edge\n/);
  assert.match(l.stdout, /\nWARNING: TLSRoute db\/ledger-terminated is not accepted by gateway istio-ingress\/edge \(Accepted False, NotAllowedByListeners\): listener terminate: protocol TLS \(tls\.mode Terminate\) takes only TCPRoute/);

  const json = await runCli(['describe', 'service', 'ledger', '-n', 'db', '--files', FILES, '-o', 'json']);
  assert.equal(json.code, 0, json.stderr);
  const exposures = (JSON.parse(json.stdout) as { gatewayApiExposures: { kind: string; route: string; urls: { url: string; hostname?: string }[] }[] }).gatewayApiExposures;
  assert.deepEqual(
    exposures.map((e) => [e.kind, e.route, e.urls.map((u) => `${u.url} ${u.hostname}`)]),
    [['TLSRoute', 'db/ledger', ['tls://203.0.113.9:443 ledger.example.com']], ['TLSRoute', 'db/ledger-terminated', []]],
  );
});
