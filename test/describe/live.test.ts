import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Chalk } from 'chalk';
import yaml from 'js-yaml';
import type { KubeOptions } from '../../src/kube/options.js';
import { loadLive } from '../../src/describe/live.js';
import { loadMeshObjects } from '../../src/describe/load.js';
import { defaultMeshSettings } from '../../src/describe/mesh.js';
import { emptyMeshObjects, type Pod, type Service } from '../../src/describe/objects.js';
import { renderPodReport } from '../../src/describe/render.js';
import { addIstiodConnection, describePod, describeService } from '../../src/describe/report.js';
import { startApiServer, writeKubeconfig, type ApiServer, type KubeObject } from '../harness/apiserver.js';
import { startEnvoyAdmin, type Backend } from '../harness/backends.js';
import { ISTIOD_A, PRODUCTPAGE as HARNESS_PRODUCTPAGE, startCluster } from '../harness/cluster.js';
import { fixture, isOneLineError, runCli, withoutOrigin as strip } from '../helpers.js';

/**
 * Live describe against the API-server stand-in: the objects of fixtures/describe/bookinfo served over REST
 * (core and Istio groups), productpage's Envoy admin API behind a WebSocket port-forward. Most checks run
 * in-process (client-node loads once); two go through the CLI end to end.
 */
const PRODUCTPAGE = 'productpage-v1-7d4b8d9b7c-x2x9z';
const DUMP = fixture('describe', 'dumps', 'productpage-config_dump.json');
let api: ApiServer;
let envoy: Backend;
let dir: string;
let kubeconfig: string;

function bookinfoObjects(): KubeObject[] {
  const d = fixture('describe', 'bookinfo');
  return readdirSync(d)
    .sort()
    .flatMap((f) => yaml.loadAll(readFileSync(path.join(d, f), 'utf8')) as KubeObject[])
    .filter((o) => o && typeof o === 'object');
}

const options = (kc: string, extra: Partial<KubeOptions> = {}): KubeOptions => ({ kubeconfig: kc, istioNamespace: 'istio-system', timeout: '20s', ...extra });
const plain = new Chalk({ level: 0 });

before(async () => {
  envoy = await startEnvoyAdmin({ configDump: DUMP });
  api = await startApiServer({ objects: bookinfoObjects(), backends: new Map([[`default/${PRODUCTPAGE}:15000`, envoy.port]]) });
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-describe-live-'));
  kubeconfig = await writeKubeconfig(path.join(dir, 'kubeconfig'), { server: api.url });
});

after(async () => {
  await api.close();
  await envoy.close();
  rmSync(dir, { recursive: true, force: true });
});

test('live: the objects read from the cluster give the same report as the saved files, plus the proxy', async () => {
  const live = await loadLive('pod', PRODUCTPAGE, options(kubeconfig), true);
  assert.equal(live.target.metadata?.name, PRODUCTPAGE);
  assert.ok(live.objects.destinationRules.length >= 3, 'Istio resources listed through the custom-objects API');
  assert.ok(api.requests.includes('GET /apis/networking.istio.io/v1/destinationrules?limit=500'));
  assert.ok(envoy.requests.some((p) => p.startsWith('GET /config_dump')), envoy.requests.join(','));
  assert.equal(live.envoy?.podName, PRODUCTPAGE);

  const offline = await loadMeshObjects([fixture('describe', 'bookinfo')]);
  const opts = { mesh: defaultMeshSettings(), currentNamespace: 'default' };
  const fromCluster = describePod(live.objects, live.target as Pod, opts);
  const fromFiles = describePod(offline, offline.pods.find((p) => p.metadata?.name === PRODUCTPAGE)!, opts);
  // the same facts either way (origins differ: files vs cluster, and the harness serves AuthorizationPolicies under another plural)
  assert.deepEqual(strip(fromCluster.services), strip(fromFiles.services));
  assert.deepEqual(strip(fromCluster.mtls), strip(fromFiles.mtls));
  assert.deepEqual(fromCluster.exposures, fromFiles.exposures);
  assert.deepEqual(fromCluster.pod, fromFiles.pod);
});

test('live describe service: the pods, and the first meshed pod\'s proxy', async () => {
  const live = await loadLive('service', 'reviews.default', options(kubeconfig), true);
  assert.equal(live.target.metadata?.name, 'reviews');
  assert.equal(live.envoy, undefined, 'the reviews pods have no admin backend in this cluster: a warning, no dump');
  assert.ok(live.warnings.some((w) => /cannot read the proxy's config dump/.test(w)), live.warnings.join('\n'));
  const report = describeService(live.objects, live.target as Service, { mesh: defaultMeshSettings(), currentNamespace: 'default' });
  assert.deepEqual(report.pods.map((p) => p.subsets.join()), ['v1', 'v2', 'v3']);
});

test('live CLI: describe pod end to end, and a missing pod as one line', async () => {
  const [r, missing] = await Promise.all([
    runCli(['describe', 'pod', PRODUCTPAGE, '--kubeconfig', kubeconfig]),
    runCli(['describe', 'pod', 'nope', '--kubeconfig', kubeconfig]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Pod: productpage-v1-7d4b8d9b7c-x2x9z\n/);
  assert.match(r.stdout, /\nDestinationRule: productpage for "productpage"\n   Matching subsets: v1\n   Traffic Policy TLS Mode: ISTIO_MUTUAL\n/);
  assert.match(r.stdout, /\nExposed on Ingress Gateway http:\/\/1\.2\.3\.4\n/);
  assert.match(r.stdout, /productpage:9080: cluster outbound\|9080\|\|productpage\.default\.svc\.cluster\.local, DestinationRule productpage\.default, subsets v1\n/);
  assert.match(r.stdout, /WARNING: cannot ask istiod which replica serves the proxy: no running istiod/);
  assert.equal(missing.code, 1);
  assert.ok(isOneLineError(missing.stderr), missing.stderr);
  assert.match(missing.stderr, /pod nope not found in namespace default/);
});

test('live on the harness cluster: the istiod replica serving the proxy and its sync state', async () => {
  const cluster = await startCluster();
  try {
    const live = await loadLive('pod', HARNESS_PRODUCTPAGE, options(cluster.kubeconfig), true);
    assert.equal(live.istiod?.istiod, ISTIOD_A);
    assert.equal(live.istiod?.sync.CDS, 'SYNCED');
    const report = describePod(live.objects, live.target as Pod, { mesh: defaultMeshSettings(), currentNamespace: 'default', envoy: live.envoy });
    addIstiodConnection(report, live.istiod);
    assert.equal(report.pod.sidecar.connectedTo, ISTIOD_A);
    assert.match(renderPodReport(report, plain, 'default'), new RegExp(`\\n   Connected to: ${ISTIOD_A} \\(CDS SYNCED, LDS SYNCED`));
    assert.match(report.envoy?.node ?? '', /productpage-v1-7d4b8d9b7c-x2x9z\.default/);
  } finally {
    await cluster.close();
  }
});

test('live: a forbidden list and an unreachable proxy are warnings; a missing service is an error', async () => {
  const cluster = await startCluster({
    deny: [
      { verb: 'list', resource: 'destinationrules' },
      { verb: 'create', resource: 'pods/portforward' },
      { verb: 'create', resource: 'pods/exec' },
    ],
  });
  try {
    const live = await loadLive('pod', HARNESS_PRODUCTPAGE, options(cluster.kubeconfig), true);
    assert.ok(live.warnings.some((w) => /^cannot list destinationrules\.networking\.istio\.io: .*forbidden/i.test(w)), live.warnings.join('\n'));
    assert.ok(live.warnings.some((w) => /^cannot read the proxy's config dump: /.test(w)), live.warnings.join('\n'));
    assert.equal(live.envoy, undefined);
    await assert.rejects(loadLive('service', 'nope', options(cluster.kubeconfig, { namespace: 'default' }), false), /nope/);
  } finally {
    await cluster.close();
  }
});

test('stale sync state from istiod is a warning on the pod', () => {
  const report = describePod({ ...emptyObjects() }, { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'istio-proxy' }] } }, {
    mesh: defaultMeshSettings(),
    currentNamespace: 'default',
  });
  addIstiodConnection(report, { istiod: 'istiod-x', sync: { CDS: 'SYNCED', LDS: 'STALE', EDS: 'SYNCED', RDS: 'NOT SENT', ECDS: 'NOT SENT' } });
  assert.ok(report.warnings.includes('istiod istiod-x reports the proxy out of sync: LDS STALE, RDS NOT SENT'), report.warnings.join('\n'));
});

function emptyObjects() {
  return emptyMeshObjects();
}
