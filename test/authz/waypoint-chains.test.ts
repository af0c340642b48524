import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import yaml from 'js-yaml';
import type { KubeObject } from '../harness/apiserver.js';
import { startAmbientCluster, type AmbientCluster } from '../harness/ambient.js';
import { fixture, runCli } from '../helpers.js';

/**
 * The chains istiod does and does not build a waypoint (fixtures/authz/waypoint-chains over fixtures/ambient,
 * namespace shop served by shop/waypoint): one per host of a ServiceEntry with several hosts, none for a
 * UDP port, none for a ServiceEntry whose addresses its ambient index cannot parse, none for an ExternalName
 * Service alone, and for an ExternalName Service with a ServiceEntry of its hostname the Service's chain.
 * The same from --files and --use-kube.
 */

const WAYPOINT_POD = 'waypoint-6d8f9b7c5-wp001.shop';
const CHAINS = fixture('authz', 'waypoint-chains');
const FILES = ['--files', fixture('ambient'), CHAINS];
const WEB = ['--source-namespace', 'shop', '--source-sa', 'web'];
let cluster: AmbientCluster;
let home: string;

before(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'meshctl-wp-chains-home-'));
  const extra = yaml.loadAll(readFileSync(path.join(CHAINS, 'services.yaml'), 'utf8')).filter((o) => o) as KubeObject[];
  cluster = await startAmbientCluster({ extra });
});
after(async () => {
  await cluster?.close();
  rmSync(home, { recursive: true, force: true });
});

const env = () => ({ HOME: home, KUBECONFIG: undefined });
const rows = (stdout: string) => stdout.split('\n').filter((l) => /^(ALLOW|DENY|LOG) /.test(l)).map((l) => l.split(/ +/)[1]);
type Out = {
  request: { port: number | null };
  authz: { decision: string; authorizationPolicy: string | null; reason: string };
  chain?: Record<string, string>;
  chains?: { service: string; kind: string; hostname?: string; host: string; port: number; decision: string; authorizationPolicy: string | null }[];
  notes?: string[];
};

/** The check from the manifests and from the cluster stand-in: both must say the same. */
async function check(...args: string[]): Promise<{ text: string; json: Out }> {
  const base = ['authz', 'check', WAYPOINT_POD, ...args];
  const files = await runCli([...base, ...FILES], { env: env() });
  const live = await runCli([...base, '--use-kube', '--kubeconfig', cluster.kubeconfig], { env: env() });
  assert.equal(files.code, 0, files.stderr);
  assert.equal(live.code, 0, live.stderr);
  assert.equal(live.stdout, files.stdout, `${args.join(' ')}: live and files differ`);
  const json = await runCli([...base, ...FILES, '-o', 'json'], { env: env() });
  assert.equal(json.code, 0, json.stderr);
  return { text: files.stdout, json: JSON.parse(json.stdout) as Out };
}

test('the table: the policies of the chains istiod builds; those attached to a service without one are left out, each said why', async () => {
  const { text } = await check('--method', 'GET', ...WEB);
  assert.deepEqual(rows(text).filter((r) => r !== '_anonymous_match_nothing_'), ['billing-get.shop', 'metrics-get.shop', 'partners-get.shop', 'shop-waypoint-policy.shop']);
  for (const gone of ['range-get-deny', 'syslog-deny', 'oldcrm-deny', 'billing-se-deny']) assert.doesNotMatch(text, new RegExp(`^\\S+ +${gone}`, 'm'));
  assert.match(text, /^note: ServiceEntry shop\/egress-range uses this waypoint but has no chain of its own: istiod's ambient index cannot parse its address 240\.8\.0\.0\/16 \(only an IP or a single-IP CIDR\) and leaves it out/m);
  assert.match(text, /^note: Service shop\/syslog uses this waypoint but has no chain of its own: its ports \(514\) are all UDP, for which istiod builds no waypoint chain/m);
  assert.match(text, /^note: Service shop\/oldcrm uses this waypoint but has no chain of its own: it is an ExternalName Service, which istiod's ambient index leaves out/m);
  assert.match(text, /^note: ServiceEntry shop\/billing-se uses this waypoint but has no chain of its own: istiod keeps Service shop\/billing for its host billing\.shop\.svc\.cluster\.local/m);
  // describe lists the same policies, with the per-host chains named
  const described = await runCli(['describe', 'pod', WAYPOINT_POD, '--files', fixture('ambient'), '--files', CHAINS], { env: env() });
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /ALLOW partners-get\.shop \(targetRef, 1 rule, on the chain of ServiceEntry shop\/partners \(host a\.partners\.example\.com\), ServiceEntry shop\/partners \(host b\.partners\.example\.com\)\)/);
  assert.doesNotMatch(described.stdout, /range-get-deny|syslog-deny|oldcrm-deny|billing-se-deny/);
  assert.match(described.stdout, /WARNING: ServiceEntry shop\/egress-range uses this waypoint but has no chain of its own/);
});

test('a ServiceEntry with several hosts: a chain per host, picked by its host; by its address any (alike); without a host each decides', async () => {
  const byHost = await check('--method', 'GET', '--host', 'b.partners.example.com', ...WEB);
  assert.deepEqual(byHost.json.chain, { service: 'shop/partners', kind: 'ServiceEntry', host: 'b.partners.example.com', hostname: 'b.partners.example.com' });
  assert.deepEqual([byHost.json.authz.decision, byHost.json.authz.authorizationPolicy, byHost.json.request.port], ['ALLOW', 'shop/partners-get', 80]);
  assert.deepEqual(rows(byHost.text).filter((r) => r !== '_anonymous_match_nothing_'), ['partners-get.shop', 'shop-waypoint-policy.shop']);
  assert.match(byHost.text, /note: evaluated the waypoint's chain for ServiceEntry shop\/partners \(host b\.partners\.example\.com\) /);
  // its UDP port is not a chain's: the port picked is 80, and the note says why 5353 is not
  assert.match(byHost.text, /note: port 80: the first of ServiceEntry shop\/partners \(host b\.partners\.example\.com\)'s ports \(80; UDP 5353 has no chain\)/);
  const byAddress = await check('--method', 'POST', '--host', '240.7.0.1', ...WEB);
  assert.deepEqual(byAddress.json.chain, { service: 'shop/partners', kind: 'ServiceEntry', host: '240.7.0.1' });
  assert.equal(byAddress.json.authz.decision, 'DENY');
  assert.match(byAddress.text, /address 240\.7\.0\.1 \(an address of each of its hosts a\.partners\.example\.com, b\.partners\.example\.com: one chain per host, all with the same policies and ports\)/);
  // no host: every chain, one per host of partners among them, each with its hostname
  const none = await check('--method', 'POST', ...WEB);
  assert.deepEqual(
    none.json.chains?.map((c) => [c.service, c.hostname ?? '-', c.port, c.decision]),
    [
      ['shop/metrics', '-', 9090, 'DENY'],
      ['shop/web', '-', 8080, 'DENY'],
      ['shop/billing', '-', 80, 'DENY'],
      ['shop/partners', 'a.partners.example.com', 80, 'DENY'],
      ['shop/partners', 'b.partners.example.com', 80, 'DENY'],
    ],
  );
  assert.equal(none.json.authz.decision, 'DENY');
  assert.match(none.text, /no --host: decided on each of the waypoint's 5 service chains, which all give DENY \(.*ServiceEntry shop\/partners \(host a\.partners\.example\.com\): DENY; ServiceEntry shop\/partners \(host b\.partners\.example\.com\): DENY\)/);
});

test('UDP ports have no chain: a UDP-only Service, a UDP port of a Service with others', async () => {
  const syslog = await check('--host', 'syslog.shop', ...WEB);
  assert.equal(syslog.json.authz.decision, 'UNDECIDED');
  assert.match(syslog.json.authz.reason, /^Service shop\/syslog has only UDP ports \(514\): istiod builds no waypoint chain for UDP ports, so this waypoint has no chain for it$/);
  const statsd = await check('--host', 'metrics.shop:8125', ...WEB);
  assert.equal(statsd.json.authz.decision, 'UNDECIDED');
  assert.match(statsd.json.authz.reason, /^port 8125 of Service shop\/metrics is UDP: istiod builds no waypoint chain for UDP ports$/);
  const metrics = await check('--method', 'GET', '--host', 'metrics.shop', ...WEB);
  assert.deepEqual([metrics.json.request.port, metrics.json.authz.decision, metrics.json.authz.authorizationPolicy], [9090, 'ALLOW', 'shop/metrics-get']);
  assert.match(metrics.text, /note: port 9090: the first of Service shop\/metrics's ports \(9090; UDP 8125 has no chain\)/);
});

test('a ServiceEntry whose address istiod cannot parse, an ExternalName Service: no chain, UNDECIDED with the reason', async () => {
  for (const host of ['range.example.com', '240.8.1.1']) {
    const r = await check('--method', 'GET', '--host', host, ...WEB);
    assert.equal(r.json.authz.decision, 'UNDECIDED', host);
    assert.match(r.json.authz.reason, /names ServiceEntry shop\/egress-range \(istiod's ambient index cannot parse its address 240\.8\.0\.0\/16 .*\): ztunnel gets no entry for it and the waypoint no chain/, host);
    assert.equal(r.json.chain, undefined);
  }
  const crm = await check('--host', 'oldcrm.shop', ...WEB);
  assert.equal(crm.json.authz.decision, 'UNDECIDED');
  assert.match(crm.json.authz.reason, /names Service shop\/oldcrm \(it is an ExternalName Service, which istiod's ambient index leaves out\): ztunnel gets no entry for it and the waypoint no chain/);
});

test("an ExternalName Service and a ServiceEntry for its hostname: the chain is the Service's; by name UNDECIDED, by the ServiceEntry's address no chain", async () => {
  const byName = await check('--method', 'GET', '--host', 'billing.shop', ...WEB);
  assert.equal(byName.json.authz.decision, 'UNDECIDED');
  assert.match(byName.json.authz.reason, /ztunnel has the entry of ServiceEntry shop\/billing-se \(address 240\.9\.0\.1, port 8443\), since Service shop\/billing has none \(it is an ExternalName Service, .*\), but the waypoint builds the chain for host billing\.shop\.svc\.cluster\.local from Service shop\/billing, which istiod keeps for it: its ports \(80\) and policies, without the ServiceEntry's addresses, so only host:port matches it; whether a request reaches that chain is not established$/);
  // the chain is matched by the Service's addresses or host:port (listener_waypoint.go), the request carries 240.9.0.1
  const byAddress = await check('--method', 'GET', '--host', '240.9.0.1', ...WEB);
  assert.equal(byAddress.json.authz.decision, 'UNDECIDED');
  assert.match(byAddress.json.authz.reason, /and sends the request to this waypoint, but the waypoint builds the chain for host billing\.shop\.svc\.cluster\.local from Service shop\/billing, .* or billing\.shop\.svc\.cluster\.local:port, not 240\.9\.0\.1: the request reaches no chain of this waypoint$/);
  assert.equal(byAddress.json.chain, undefined);
  // the chain itself is the waypoint's: the table holds billing-get, not billing-se-deny (see the first test);
  // without a host it decides with the others, at the Service's port
  const none = await check('--method', 'GET', ...WEB);
  const billing = none.json.chains?.find((c) => c.service === 'shop/billing');
  assert.deepEqual([billing?.kind, billing?.port, billing?.decision, billing?.authorizationPolicy], ['Service', 80, 'ALLOW', 'shop/billing-get']);
});

test('no host, chains that decide differently: the Request line and -o json say each chain was checked at its own port and host', async () => {
  const { text, json } = await check('--method', 'GET', ...WEB);
  assert.equal(json.authz.decision, 'UNDECIDED');
  const checked = json.chains?.map((c) => `${c.kind} ${c.service}${c.hostname ? ` (host ${c.hostname})` : ''} at ${c.host}:${c.port}`);
  assert.deepEqual(checked, [
    'Service shop/metrics at metrics.shop.svc.cluster.local:9090',
    'Service shop/web at web.shop.svc.cluster.local:8080',
    'Service shop/billing at billing.shop.svc.cluster.local:80',
    'ServiceEntry shop/partners (host a.partners.example.com) at a.partners.example.com:80',
    'ServiceEntry shop/partners (host b.partners.example.com) at b.partners.example.com:80',
  ]);
  // not the waypoint pod's own port (15020) nor its name: no one port or host was checked
  assert.deepEqual([json.request.port, (json.request as { host?: unknown }).host], [null, null]);
  const line = text.split('\n').find((l) => l.startsWith('Request: '));
  assert.equal(line, `Request: GET / to each of the waypoint's 5 service chains at its service's port (${checked!.join('; ')}) from spiffe://cluster.local/ns/shop/sa/web over mTLS`);
  // a port given: the chains of the services that have it (istiod builds a chain per service port), each at it
  const at80 = await check('--method', 'GET', '--port', '80', ...WEB);
  assert.equal(at80.json.request.port, 80);
  assert.deepEqual(at80.json.chains?.map((c) => `${c.service}${c.hostname ? ` ${c.hostname}` : ''}:${c.port}`), ['shop/billing:80', 'shop/partners a.partners.example.com:80', 'shop/partners b.partners.example.com:80']);
  assert.match(at80.text, /^Request: GET \/ to each of the waypoint's 3 service chains at port 80 \(Service shop\/billing at billing\.shop\.svc\.cluster\.local:80; /m);
  assert.match(at80.text, /no --host: port 80 is not a port of Service shop\/metrics, Service shop\/web, so no chain of theirs takes the request/);
  // a port no service has: no chain takes it
  const at81 = await check('--method', 'GET', '--port', '81', ...WEB);
  assert.equal(at81.json.authz.decision, 'UNDECIDED');
  assert.match(at81.json.authz.reason ?? '', /^no service of this waypoint has port 81 \(Service shop\/metrics, Service shop\/web, Service shop\/billing, ServiceEntry shop\/partners \(host a\.partners\.example\.com\), ServiceEntry shop\/partners \(host b\.partners\.example\.com\)\): istiod builds a chain per service port, so the request reaches no chain$/);
});
