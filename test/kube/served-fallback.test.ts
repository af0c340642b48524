import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { ClusterProvider } from '../../src/analyze/cluster.js';
import type { ResourceType } from '../../src/kube/cluster.js';
import { ForbiddenError, NotFoundError } from '../../src/kube/errors.js';
import { meshKind } from '../../src/kube/kinds.js';
import { newestServed } from '../../src/kube/served.js';
import { openBundle } from '../../src/source/bundle/reader.js';
import { runAnalyze } from '../analyze/run.js';
import type { KubeObject, RbacDenial } from '../harness/apiserver.js';
import { startCluster } from '../harness/cluster.js';
import { GATEWAY_API_V1_4, ISTIO_BEFORE_V1 } from '../harness/served.js';
import { standIns } from '../harness/stand-ins.js';
import { fixture, runCli } from '../helpers.js';

/**
 * The version fallback (src/kube/served.ts) where it meets RBAC: a refused cluster-wide list read per
 * namespace on an Istio before 1.22, a refused mesh kind in a bundle's failures; and BackendTLSPolicy
 * at v1 alone (Gateway API v1.4). test/kube/served-versions.test.ts has the plain fallback.
 */
const stand = standIns('meshctl-fallback-', { namespace: 'default' });

const BOOKINFO = readdirSync(fixture('describe', 'bookinfo')).filter((f) => f.endsWith('.yaml')).sort()
  .flatMap((f) => yaml.loadAll(readFileSync(path.join(fixture('describe', 'bookinfo'), f), 'utf8')) as KubeObject[])
  .filter((o) => o && typeof o === 'object');
const ISTIO_CONFIG = BOOKINFO.filter((o) => o.apiVersion.includes('istio.io'));
const VS_DEFAULT = BOOKINFO.filter((o) => o.kind === 'VirtualService' && o.metadata.namespace === 'default').length;
/** What a namespace-scoped user has: VirtualServices in each namespace (a RoleBinding), not across all. */
const VS_NAMESPACED_ONLY: RbacDenial[] = [{ verb: 'list', resource: 'virtualservices', clusterWideOnly: true }];

const POLICY: KubeObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'BackendTLSPolicy',
  metadata: { name: 'reviews-tls', namespace: 'default' },
  spec: {
    targetRefs: [{ group: '', kind: 'Service', name: 'reviews' }],
    validation: { hostname: 'reviews.default.svc.cluster.local', wellKnownCACertificates: 'System' },
  },
};

const paths = (requests: string[]) => requests.map((r) => r.replace(/\?.*$/, ''));

test('newestServed: newest first, on to the next at a 404 only; none served is said with the last 404', async () => {
  const kind = meshKind('networking.istio.io', 'virtualservices');
  const asked: string[] = [];
  const notFound = (t: ResourceType) => new NotFoundError(`no ${t.plural} at ${t.version}`, { verb: 'list', resource: t.plural });
  const got = await newestServed(kind, async (t) => {
    asked.push(t.version);
    if (t.version === 'v1') throw notFound(t);
    return `items at ${t.version}`;
  });
  assert.deepEqual(asked, ['v1', 'v1beta1']);
  assert.ok(got.served);
  assert.equal(got.value, 'items at v1beta1');
  assert.deepEqual(got.type, { group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices', kind: 'VirtualService', namespaced: true });

  const none = await newestServed(kind, async (t) => Promise.reject(notFound(t)));
  assert.equal(none.served, false);
  assert.equal(!none.served && none.notFound.message, 'no virtualservices at v1alpha3');

  // a refusal is the caller's: thrown as it came, no older version asked
  asked.length = 0;
  const refused = new ForbiddenError('forbidden (403)', { verb: 'list', resource: 'virtualservices' });
  await assert.rejects(newestServed(kind, async (t) => (asked.push(t.version), Promise.reject(refused))), (err) => err === refused);
  assert.deepEqual(asked, ['v1']);
});

test('analyze on an Istio before 1.22, VirtualServices listable per namespace only: v1 is 403 then 404, v1beta1 is read in the namespace', async () => {
  const start = (deny: RbacDenial[]) => stand.start(BOOKINFO, { served: ISTIO_BEFORE_V1, deny });
  const open = await start([]);
  const restricted = await start(VS_NAMESPACED_ONLY);
  const want = await runAnalyze([], { kubeconfig: open.kubeconfig, timeout: '5s' });
  const got = await runAnalyze([], { kubeconfig: restricted.kubeconfig, timeout: '5s' });
  assert.equal(got.code, want.code, got.stderr);
  assert.equal(got.stderr, want.stderr);
  assert.deepEqual(got.lines, want.lines);
  assert.ok(got.lines.some((l) => /VirtualService/.test(l)), got.stdout);
  const asked = paths(restricted.api.requests).filter((r) => r.includes('virtualservices'));
  assert.deepEqual(asked, [
    'GET /apis/networking.istio.io/v1/virtualservices',
    'GET /apis/networking.istio.io/v1/namespaces/default/virtualservices',
    'GET /apis/networking.istio.io/v1beta1/virtualservices',
    'GET /apis/networking.istio.io/v1beta1/namespaces/default/virtualservices',
  ]);

  // the provider read them, at v1beta1
  const provider = new ClusterProvider({ kubeconfig: restricted.kubeconfig, timeout: '5s' });
  const { resources } = await provider.load();
  const vs = resources.filter((r) => r.kind === 'VirtualService');
  assert.equal(vs.length, VS_DEFAULT);
  assert.ok(vs.every((r) => r.version === 'v1beta1'));
  assert.deepEqual(provider.skipped, []);
});

test('bug-report on an Istio before 1.22, VirtualServices listable per namespace only: each namespace at v1beta1', async () => {
  const c = await startCluster({ served: ISTIO_BEFORE_V1, deny: VS_NAMESPACED_ONLY, extraObjects: ISTIO_CONFIG });
  stand.closeAfter(() => c.close());
  const out = path.join(stand.dir(), 'namespaced.tar.gz');
  const r = await runCli(['bug-report', '-n', 'default', '-o', out, '--kubeconfig', c.kubeconfig, '--no-include-istiod'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const b = await openBundle(out);
  const recs = b.index.resources.filter((x) => x.plural === 'virtualservices');
  assert.deepEqual(recs.map((x) => [x.scope, x.version, x.count, x.error?.type]).sort(), [
    ['default', 'v1beta1', VS_DEFAULT, undefined],
    ['istio-system', 'v1beta1', 0, undefined],
  ]);
  assert.deepEqual(b.index.failures.filter((f) => /virtualservices/.test(f.what)), []);
  // read back: describe finds them
  const d = await runCli(['describe', 'service', 'reviews', '-n', 'default', '--bundle', out]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /VirtualService/);
});

test('bug-report -A with VirtualServices refused: a failure like any refused list, the bundle is not complete', async () => {
  const c = await startCluster({ deny: [{ verb: 'list', resource: 'virtualservices' }], extraObjects: ISTIO_CONFIG });
  stand.closeAfter(() => c.close());
  const out = path.join(stand.dir(), 'refused.tar.gz');
  const r = await runCli(['bug-report', '-A', '-o', out, '--kubeconfig', c.kubeconfig, '--no-include-istiod'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const b = await openBundle(out);
  // refused across all namespaces, then (namespaces may be listed) in each namespace: each refusal a failure
  const failure = b.index.failures.find((f) => f.what === 'list virtualservices.networking.istio.io in namespace default');
  assert.ok(failure, JSON.stringify(b.index.failures));
  assert.match(failure.reason, /forbidden \(403\).*list virtualservices/);
  assert.equal(b.index.complete, false);
  assert.match(r.stderr, /^warning: \d+ failures?/m);
  const rec = b.index.resources.filter((x) => x.plural === 'virtualservices');
  const namespaces = b.index.resources.find((x) => x.plural === 'namespaces')!.count;
  assert.deepEqual(rec.map((x) => x.error?.type), Array(namespaces + 1).fill('forbidden'));
  assert.deepEqual(rec.map((x) => x.scope).slice(0, 2), ['all', 'istio-system']);
  // at v1 alone: a refusal is not a version missing
  const asked = paths(c.api.requests).filter((q) => q.includes('virtualservices'));
  assert.equal(asked[0], 'GET /apis/networking.istio.io/v1/virtualservices');
  assert.equal(asked.length, namespaces + 1);
  assert.ok(asked.every((q) => q.startsWith('GET /apis/networking.istio.io/v1/')), asked.join('\n'));
  // and the bundle answers with the same refusal
  const d = await runCli(['describe', 'service', 'reviews', '-n', 'default', '--bundle', out]);
  assert.match(d.stderr + d.stdout, /cannot list virtualservices\.networking\.istio\.io: forbidden \(403\)/);
});

test('Gateway API v1.4 serves BackendTLSPolicy at v1 alone: bug-report and analyze read it there', async () => {
  const c = await startCluster({ served: GATEWAY_API_V1_4, extraObjects: [POLICY] });
  stand.closeAfter(() => c.close());
  const out = path.join(stand.dir(), 'gwapi-1.4.tar.gz');
  const r = await runCli(['bug-report', '-n', 'default', '-o', out, '--kubeconfig', c.kubeconfig, '--no-include-istiod'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const b = await openBundle(out);
  const rec = b.index.resources.find((x) => x.plural === 'backendtlspolicies')!;
  assert.equal(rec.version, 'v1');
  assert.equal(rec.count, 1);
  assert.equal(rec.error, undefined);
  const items = (JSON.parse((await b.readText(Object.values(rec.members)[0])).text) as { items: KubeObject[] }).items;
  assert.deepEqual(items.map((o) => [o.apiVersion, o.metadata.name]), [['gateway.networking.k8s.io/v1', 'reviews-tls']]);
  // v1 answered: the alpha versions were never asked
  assert.deepEqual(paths(c.api.requests).filter((q) => q.includes('backendtlspolicies') && !q.includes('customresourcedefinitions')), [
    'GET /apis/gateway.networking.k8s.io/v1/backendtlspolicies',
  ]);

  for (const options of [{ kubeconfig: c.kubeconfig, timeout: '5s' }, { bundle: out }]) {
    const { resources } = await new ClusterProvider(options).load();
    const policies = resources.filter((x) => x.kind === 'BackendTLSPolicy');
    assert.deepEqual(policies.map((x) => [x.version, x.namespace, x.name]), [['v1', 'default', 'reviews-tls']], JSON.stringify(options));
  }
});
