import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { clusterAuthzObjects } from '../../src/authz/cluster.js';
import { loadLive } from '../../src/describe/live.js';
import type { Service } from '../../src/describe/objects.js';
import { describeService } from '../../src/describe/report.js';
import { defaultMeshSettings } from '../../src/describe/mesh.js';
import { openBundle } from '../../src/source/bundle/reader.js';
import { runAnalyze } from '../analyze/run.js';
import type { ApiServer, ApiServerOptions, KubeObject } from '../harness/apiserver.js';
import { startCluster } from '../harness/cluster.js';
import { GATEWAY_API, ISTIO_BEFORE_V1, notInstalled } from '../harness/served.js';
import { standIns } from '../harness/stand-ins.js';
import { fixture, runCli } from '../helpers.js';

/**
 * Version fallback against a stand-in that serves each kind at some versions only, as a real API server
 * does (test/harness/served.ts): an Istio before 1.22 (no v1), a cluster without the Gateway API CRDs
 * (an older Gateway API: test/describe/gateway-api-live.test.ts, test/ambient/live.test.ts). meshctl asks
 * the newest version first and falls back on 404.
 */
const stand = standIns('meshctl-served-', { namespace: 'default' });

const load = (d: string): KubeObject[] =>
  readdirSync(d).filter((f) => f.endsWith('.yaml')).sort()
    .flatMap((f) => yaml.loadAll(readFileSync(path.join(d, f), 'utf8')) as KubeObject[])
    .filter((o) => o && typeof o === 'object');
const BOOKINFO = load(fixture('describe', 'bookinfo'));
const GATEWAY_OBJECTS = load(fixture('describe', 'gateway-api'));

const server = (objects: KubeObject[], extra: Partial<ApiServerOptions> = {}) => stand.start(objects, extra);

/** A raw GET as client-node makes it: status and JSON body. */
async function get(api: ApiServer, p: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(api.url + p, { headers: { Authorization: 'Bearer harness-token', Accept: 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The requests made since `from`, without their query. */
const paths = (api: ApiServer, from = 0) => api.requests.slice(from).map((r) => r.replace(/\?.*$/, ''));

test('the stand-in: an unserved version and a CRD not installed are the real 404; objects come back in the version asked', async () => {
  const { api } = await server(BOOKINFO, { served: { ...ISTIO_BEFORE_V1, ...notInstalled(GATEWAY_API) } });
  const notFound = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 };
  for (const p of [
    '/apis/networking.istio.io/v1/virtualservices', // Istio before 1.22: no v1
    '/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews',
    '/apis/networking.istio.io/v1beta1/envoyfilters', // EnvoyFilter is v1alpha3 alone
    '/apis/networking.istio.io/v1alpha3/nosuchthings', // a resource the group does not have
    '/apis/gateway.networking.k8s.io/v1/gateways', // CRD not installed
    '/apis/apps/v1beta1/deployments', // a built-in group at a version long gone
  ]) {
    const r = await get(api, p);
    assert.equal(r.status, 404, p);
    assert.deepEqual(r.body, notFound, p);
  }
  // the fixtures are written as v1: served as v1beta1 and v1alpha3 all the same, list and get
  for (const version of ['v1beta1', 'v1alpha3']) {
    const list = await get(api, `/apis/networking.istio.io/${version}/namespaces/default/virtualservices`);
    assert.equal(list.status, 200);
    assert.equal(list.body.apiVersion, `networking.istio.io/${version}`);
    const items = list.body.items as KubeObject[];
    assert.equal(items.length, BOOKINFO.filter((o) => o.kind === 'VirtualService' && o.metadata.namespace === 'default').length);
    assert.ok(items.length > 0 && items.every((o) => o.apiVersion === `networking.istio.io/${version}`), JSON.stringify(items.map((o) => o.apiVersion)));
    const one = await get(api, `/apis/networking.istio.io/${version}/namespaces/default/virtualservices/${items[0].metadata.name}`);
    assert.equal(one.body.apiVersion, `networking.istio.io/${version}`);
  }
  // the defaults: a current Istio serves v1 too, and the Gateway API is there
  const current = await server(BOOKINFO);
  assert.equal((await get(current.api, '/apis/networking.istio.io/v1/virtualservices')).status, 200);
  assert.equal((await get(current.api, '/apis/gateway.networking.k8s.io/v1/httproutes')).status, 200);
  assert.equal((await get(current.api, '/apis/gateway.networking.k8s.io/v1alpha2/grpcroutes')).status, 404, 'GRPCRoute v1alpha2 is gone since Gateway API v1.2');
});

test('describe on an Istio before 1.22: the Istio resources are listed at v1beta1, the report is the one of a current Istio', async () => {
  const old = await server(BOOKINFO, { served: ISTIO_BEFORE_V1 });
  const current = await server(BOOKINFO);
  const a = await loadLive('service', 'reviews.default', old.options, false);
  const b = await loadLive('service', 'reviews.default', current.options, false);
  assert.deepEqual(a.warnings, []);
  for (const list of ['virtualServices', 'destinationRules', 'gateways', 'peerAuthentications', 'authorizationPolicies'] as const) {
    assert.equal(a.objects[list].length, b.objects[list].length, list);
    assert.ok(a.objects[list].length > 0, list);
  }
  assert.ok(a.objects.virtualServices.every((o) => o.apiVersion === 'networking.istio.io/v1beta1'));
  assert.ok(a.objects.authorizationPolicies.every((o) => o.apiVersion === 'security.istio.io/v1beta1'));
  const requests = paths(old.api);
  for (const [group, plural] of [['networking.istio.io', 'virtualservices'], ['security.istio.io', 'authorizationpolicies']]) {
    const first = requests.indexOf(`GET /apis/${group}/v1/${plural}`);
    const then = requests.indexOf(`GET /apis/${group}/v1beta1/${plural}`);
    assert.ok(first >= 0 && then > first, `v1 then v1beta1 for ${plural}:\n${requests.join('\n')}`);
  }
  assert.ok(!requests.includes('GET /apis/networking.istio.io/v1alpha3/virtualservices'), 'v1beta1 answered: no older version asked');
  const opts = { mesh: defaultMeshSettings(), currentNamespace: 'default' };
  const strip = (r: object) => JSON.parse(JSON.stringify(r, (k, v) => (k === 'origin' || k === 'apiVersion' ? undefined : v)));
  assert.deepEqual(strip(describeService(a.objects, a.target as Service, opts)), strip(describeService(b.objects, b.target as Service, opts)));
});

test('authz: AuthorizationPolicies of an Istio before 1.22 are read at v1beta1', async () => {
  const old = await server(BOOKINFO, { served: ISTIO_BEFORE_V1 });
  const pod = BOOKINFO.find((o) => o.kind === 'Pod' && o.metadata.namespace === 'default')!;
  const got = await clusterAuthzObjects(`${pod.metadata.name}.default`, old.options);
  assert.equal(got.authorizationPolicies.length, BOOKINFO.filter((o) => o.kind === 'AuthorizationPolicy').length);
  assert.ok(got.authorizationPolicies.every((o) => o.apiVersion === 'security.istio.io/v1beta1'));
  assert.deepEqual(paths(old.api).filter((r) => r.includes('authorizationpolicies')), [
    'GET /apis/security.istio.io/v1/authorizationpolicies',
    'GET /apis/security.istio.io/v1beta1/authorizationpolicies',
  ]);
});

test('analyze on an Istio before 1.22 and without the Gateway API: the same findings, each kind at the version served', async () => {
  const analyze = async (served: ApiServerOptions['served']) => {
    const s = await server(BOOKINFO, { served });
    return { ...(await runAnalyze([], { kubeconfig: s.options.kubeconfig, timeout: '5s', allNamespaces: true })), requests: paths(s.api) };
  };
  const current = await analyze(undefined);
  const old = await analyze({ ...ISTIO_BEFORE_V1, ...notInstalled(GATEWAY_API) });
  assert.equal(old.code, current.code, old.stderr);
  assert.equal(old.stderr, current.stderr);
  assert.deepEqual(old.lines, current.lines);
  assert.ok(old.lines.some((l) => l.includes('VirtualService')), old.stdout);
  for (const p of [
    'GET /apis/networking.istio.io/v1beta1/virtualservices', 'GET /apis/networking.istio.io/v1alpha3/envoyfilters',
    'GET /apis/security.istio.io/v1beta1/authorizationpolicies', 'GET /apis/telemetry.istio.io/v1alpha1/telemetries',
    // no Gateway API: every version asked, each a 404
    'GET /apis/gateway.networking.k8s.io/v1/httproutes', 'GET /apis/gateway.networking.k8s.io/v1beta1/httproutes',
  ]) {
    assert.ok(old.requests.includes(p), `${p} not in\n${old.requests.join('\n')}`);
  }
  assert.ok(current.requests.includes('GET /apis/networking.istio.io/v1/virtualservices'));
  assert.ok(!current.requests.includes('GET /apis/networking.istio.io/v1beta1/virtualservices'), 'a current Istio answers at v1');
});

test('describe on a cluster without the Gateway API CRDs: no Gateway API section, nothing on stderr', async () => {
  const none = await server(GATEWAY_OBJECTS, { served: notInstalled(GATEWAY_API) });
  const r = await runCli(['describe', 'service', 'web', '-n', 'shop', '--kubeconfig', none.options.kubeconfig!]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.doesNotMatch(r.stdout, /Gateway API|gateway\.networking/);
  // every version of each kind was asked, each a 404
  for (const v of ['v1', 'v1beta1']) assert.ok(paths(none.api).includes(`GET /apis/gateway.networking.k8s.io/${v}/httproutes`), paths(none.api).join('\n'));
  // with the CRDs, the same service is exposed on the gateway (the test can fail)
  const withCrds = await server(GATEWAY_OBJECTS);
  const w = await runCli(['describe', 'service', 'web', '-n', 'shop', '--kubeconfig', withCrds.options.kubeconfig!]);
  assert.match(w.stdout, /Exposed on Gateway API gateway/);
});

test('bug-report on an Istio before 1.22: the bundle records each kind at the version the cluster served', async () => {
  const c = await startCluster({ served: ISTIO_BEFORE_V1, extraObjects: BOOKINFO.filter((o) => o.apiVersion.includes('istio.io')) });
  stand.closeAfter(() => c.close());
  const out = path.join(stand.dir(), 'old-istio.tar.gz');
  const r = await runCli(['bug-report', '-n', 'default', '-o', out, '--kubeconfig', c.kubeconfig, '--no-include-istiod'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const b = await openBundle(out);
  const rec = (plural: string) => b.index.resources.find((x) => x.plural === plural && x.error === undefined)!;
  assert.equal(rec('virtualservices').version, 'v1beta1');
  assert.equal(rec('virtualservices').count, BOOKINFO.filter((o) => o.kind === 'VirtualService').length);
  assert.equal(rec('authorizationpolicies').version, 'v1beta1');
  assert.equal(rec('envoyfilters').version, 'v1alpha3');
  const member = Object.values(rec('virtualservices').members)[0];
  const items = (JSON.parse((await b.readText(member)).text) as { items: KubeObject[] }).items;
  assert.ok(items.every((o) => o.apiVersion === 'networking.istio.io/v1beta1'), JSON.stringify(items.map((o) => o.apiVersion)));
  // the bundle reads back as the cluster did: describe finds the VirtualServices
  const d = await runCli(['describe', 'service', 'reviews', '-n', 'default', '--bundle', out]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /VirtualService/);
});
