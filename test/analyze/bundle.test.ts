import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type ApiServer, type KubeObject, startApiServer, writeKubeconfig } from '../harness/apiserver.js';
import { runCli } from '../helpers.js';
import { ingressObjects, pem } from './objects.js';
import { runAnalyze } from './run.js';

// analyze --bundle: a bug-report bundle is the cluster. Bundles hold no Secrets, so the gateway
// credential checks treat them as unknown there (no false IST0101/IST0161), while the live cluster,
// whose secrets are read, reports both.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshctl-analyze-bundle-'));

const objects: KubeObject[] = [
  // the expired one: IST0161 live
  ...ingressObjects('expired-cert'),
  {
    apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'public', namespace: 'default' },
    spec: {
      selector: { istio: 'ingressgateway' },
      servers: [
        { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', credentialName: 'expired-cert' } },
        { port: { number: 443, name: 'https-b', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'missing-cert' } },
      ],
    },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'broken', namespace: 'default' },
    spec: { hosts: ['broken'], http: [{ route: [{ destination: { host: 'nowhere' } }] }] },
  },
];

let api: ApiServer;
let kubeconfig: string;
let bundle: string;
before(async () => {
  api = await startApiServer({ objects });
  kubeconfig = await writeKubeconfig(path.join(tmp, 'kubeconfig'), { server: api.url, namespace: 'default' });
  bundle = path.join(tmp, 'mesh.tar.gz');
  const r = await runCli(['bug-report', '-A', '-o', bundle, '--kubeconfig', kubeconfig], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await api.close();
  rmSync(tmp, { recursive: true, force: true });
});

const credential = (l: string) => /IST0161|credentialName/.test(l);

test('live, the secrets are read: a missing credential (IST0101) and an expired one (IST0161)', async () => {
  const r = await runAnalyze([], { kubeconfig, timeout: '5s', allNamespaces: true });
  assert.deepEqual(r.lines.filter(credential), [
    'Error [IST0101] (Gateway default/public) Referenced credentialName not found: "missing-cert"',
    'Error [IST0161] (Gateway default/public) The credential referenced by the Gateway public in namespace istio-system is invalid, which can cause the traffic not to work as expected.',
  ]);
});

test('--bundle: the same cluster as captured, credentials not judged (a bundle holds no Secrets), nothing else lost', async () => {
  const live = await runAnalyze([], { kubeconfig, timeout: '5s', allNamespaces: true });
  const r = await runAnalyze([], { bundle, allNamespaces: true });
  assert.deepEqual(r.lines.filter(credential), []);
  assert.deepEqual(r.lines, live.lines.filter((l) => !credential(l)));
  assert.ok(r.lines.includes('Error [IST0101] (VirtualService default/broken) Referenced host not found: "nowhere"'), r.stdout);
  assert.equal(r.stderr.includes('Warning'), false, r.stderr);
  assert.equal(r.code, 79);
  // the bundle is read whole: the default namespace is the one recorded at capture
  const ns = await runAnalyze([], { bundle });
  assert.ok(ns.lines.every((l) => l.includes(' default/')), ns.stdout);
});

test('--bundle with files: the files lay over the bundle, and secrets given in files are judged again', async () => {
  const file = path.join(tmp, 'secret.yaml');
  writeFileSync(file, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: expired-cert\n  namespace: istio-system\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${pem('expired-cert.pem')}\n  tls.key: ${pem('expired-key.pem')}\n`);
  const r = await runAnalyze([file], { bundle, allNamespaces: true });
  assert.deepEqual(r.lines.filter(credential), [
    'Error [IST0101] (Gateway default/public) Referenced credentialName not found: "missing-cert"',
    'Error [IST0161] (Gateway default/public) The credential referenced by the Gateway public in namespace istio-system is invalid, which can cause the traffic not to work as expected.',
  ]);
});

test('--bundle refuses --kubeconfig and --use-kube=false with one line, and names a bundle that is not there', async () => {
  const a = await runAnalyze([], { bundle, kubeconfig });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /^--bundle reads a captured cluster instead of a live one: drop --kubeconfig and --context$/);
  const b = await runAnalyze(['x.yaml'], { bundle, useKube: false });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--bundle is the cluster to analyze/);
  const c = await runCli(['analyze', '--bundle', path.join(tmp, 'nope.tar.gz')]);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /^Error: .*nope\.tar\.gz/);
  assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr);
});

test('a bundle without some kinds (an older bug-report): one warning naming them, the rest analyzed', async () => {
  const { writeBundle } = await import('../bugreport/make.js');
  const old = path.join(tmp, 'old.tar.gz');
  await writeBundle(old);
  const r = await runAnalyze([], { bundle: old, allNamespaces: true });
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('Warning'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /^Warning: the bundle holds no .*namespaces.*services.*virtualservices\.networking\.istio\.io.* \(its bug-report did not collect them\); the checks that need them are skipped$/);
  assert.ok(!warnings[0].includes('secrets'), 'Secrets are never in a bundle: not worth a warning');
  assert.equal(r.code, 0);
  // the namespace recorded at capture is the one reported on
  const ns = await runAnalyze([], { bundle: old });
  assert.match(ns.stderr, /No validation issues found when analyzing namespace: shop\./);
});
