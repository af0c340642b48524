import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import http from 'node:http';
import { dashboardEnvoy, istiodDebug, istiodRegistry } from '../../src/commands/istiod.js';
import { proxyStatus } from '../../src/commands/proxy-status.js';
import { fixture } from '../helpers.js';
import { type FakeCluster, ISTIOD_A, ISTIOD_B, ISTIOD_CANARY, PRODUCTPAGE, REVIEWS_V2, startCluster } from '../harness/cluster.js';

describe('istiod commands in-process (client-node loaded once)', () => {
  let c: FakeCluster;
  const kube = () => ({ kubeconfig: c.kubeconfig, istioNamespace: 'istio-system', timeout: '10s' });
  before(async () => (c = await startCluster()));
  after(async () => c.close());

  test('--revision asks only that control plane; -n keeps that namespace', async () => {
    const rows = JSON.parse(await proxyStatus(undefined, { ...kube(), revision: 'canary', namespace: 'bookinfo-lab', output: 'json' })) as { name: string; istiod: string; version: string }[];
    assert.deepEqual(rows, [{
      name: 'ratings-v1-6f5c8d4b9-lab01.bookinfo-lab', cluster: 'Kubernetes', cds: 'SYNCED', lds: 'SYNCED', eds: 'SYNCED', rds: 'SYNCED', ecds: 'IGNORED',
      istiod: ISTIOD_CANARY, version: '1.25.0-alpha.0',
    }]);
    assert.ok(c.api.requests.some((q) => q.includes('labelSelector=app%3Distiod%2Cistio.io%2Frev%3Dcanary')));
    assert.ok(c.istiods.get(ISTIOD_CANARY)!.requests.includes('GET /debug/syncz?namespace=bookinfo-lab'));
  });

  test('proxy-status <pod> when istiod and the Envoy agree', async () => {
    assert.equal(await proxyStatus(`${PRODUCTPAGE}.default`, kube()),
      'Clusters Match\nListeners Match\nRoutes Match (RDS last loaded at Sat, 21 Nov 2026 10:00:01 UTC)\n');
  });

  test('proxy-status <pod> when no istiod knows the proxy, and when there is no istiod at all', async () => {
    await assert.rejects(proxyStatus(`${REVIEWS_V2}.default`, kube()),
      new RegExp(`no istiod has proxy ${REVIEWS_V2}\\.default connected \\(${ISTIOD_A}: 404 Proxy not connected to this Pilot instance\\. It may be connected to another instance\\.; ${ISTIOD_B}: 404 `));
    await assert.rejects(proxyStatus(undefined, { ...kube(), istioNamespace: 'default' }),
      /no running istiod in namespace default with label app=istiod; check -i\/--istioNamespace and --revision/);
    await assert.rejects(proxyStatus(undefined, { ...kube(), revision: 'nope' }),
      /no running istiod in namespace istio-system with label app=istiod,istio.io\/rev=nope/);
  });

  test('istiod registry merges replicas (each service once), -o yaml keeps every field', async () => {
    const yaml = await istiodRegistry({ ...kube(), output: 'yaml' });
    assert.equal((yaml.match(/^- Attributes:/gm) ?? []).length, 6);
    assert.match(yaml, /hostname: httpbin\.org/);
  });

  test('istiod debug --istiod returns that replica as sent', async () => {
    const text = await istiodDebug('configz', { ...kube(), istiod: ISTIOD_A });
    assert.match(text, /"kind": "VirtualService"/);
    await assert.rejects(istiodDebug('configz', { ...kube(), istiod: 'istiod-nope' }), /no answer from an istiod named istiod-nope/);
    await assert.rejects(istiodDebug('bad path', kube()), /not an istiod debug endpoint/);
  });
});

describe('saved answers (-f)', () => {
  test('proxy-status from several syncz files; a pod from two saved dumps', async () => {
    const yaml = await proxyStatus(undefined, { file: [fixture('live', 'istiod-a-syncz.json'), fixture('live', 'istiod-b-syncz.json')], output: 'yaml' });
    assert.match(yaml, /istiod: istiod-b-syncz/);
    const diff = await proxyStatus('reviews-v1-545db77b95-ksq7f.default', {
      file: [fixture('live', 'productpage-config_dump.json')],
      istiodFile: fixture('live', 'istiod-config_dump-reviews.json'),
    });
    assert.match(diff, /^\+\+\+ Envoy Clusters$/m);
    assert.match(diff, /Clusters Don't Match/);
  });

  test('wrong files are named with what is wrong', async () => {
    await assert.rejects(istiodRegistry({ file: [fixture('live', 'istiod-a-syncz.json')] }), /istiod-a-syncz\.json: service #1 has no hostname; not a \/debug\/registryz answer/);
    await assert.rejects(proxyStatus(undefined, { file: [fixture('live', 'istiod-registryz.json')] }), /istiod-registryz\.json: entry #1 has no "proxy"/);
    await assert.rejects(proxyStatus(undefined, { file: [fixture('live', 'cluster.json')] }), /cluster\.json: not an istiod \/debug\/syncz answer/);
    await assert.rejects(proxyStatus('x.default', { file: [fixture('live', 'istiod-registryz.json')], istiodFile: fixture('live', 'istiod-config_dump-reviews.json') }), /istiod-registryz\.json: not a config dump/);
  });
});

test('dashboard envoy -f serves a saved dump locally until stopped', async () => {
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  const lines: string[] = [];
  const running = dashboardEnvoy(undefined, { file: fixture('live', 'productpage-config_dump.json'), until, out: (l) => lines.push(l) });
  while (lines.length === 0) await new Promise((r) => setTimeout(r, 10));
  const url = /^http:\/\/localhost:(\d+)/.exec(lines[0])!;
  const body = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: Number(url[1]), path: '/config_dump', agent: false }, (res) => {
      let b = '';
      res.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => resolve(b));
    }).on('error', reject);
  });
  assert.match(body, /BootstrapConfigDump/);
  stop();
  await running;
});

test('dashboard envoy: a forbidden port-forward fails at once, before any URL is printed', async () => {
  const c = await startCluster({ deny: [{ verb: 'create', resource: 'pods/portforward' }] });
  try {
    const lines: string[] = [];
    await assert.rejects(dashboardEnvoy(`${PRODUCTPAGE}.default`, { kubeconfig: c.kubeconfig, out: (l) => lines.push(l), until: new Promise(() => undefined) }),
      /forbidden \(403\): .*may not create pods\/portforward of pod productpage-v1-7d4b8d9b7c-x2x9z in namespace default: RBAC needs verb "create" on resource "pods\/portforward"/);
    assert.deepEqual(lines, []);
  } finally {
    await c.close();
  }
});

test('istiod registry reads the registryz of older istiods (address, cluster-vips) as well as today\'s', async () => {
  const table = await istiodRegistry({ file: [fixture('live', 'istiod-registryz-1.11.json')] });
  const address = (host: string) => table.split('\n').find((l) => l.startsWith(`${host} `))?.split(/\s{2,}/)[2];
  assert.equal(address('productpage.default.svc.cluster.local'), '10.96.10.11');
  // one VIP per cluster of a multi-cluster mesh
  assert.equal(address('reviews.default.svc.cluster.local'), '10.96.10.12,10.112.4.7');
  // no cluster-vips: the address alone
  assert.equal(address('ratings.default.svc.cluster.local'), '10.96.10.13');
  assert.equal(address('httpbin.org'), 'None');
  const today = await istiodRegistry({ file: [fixture('live', 'istiod-registryz.json')], namespace: 'default' });
  assert.match(today, /^productpage\.default\.svc\.cluster\.local\s+default\s+10\.96\.10\.11\s/m);
});
