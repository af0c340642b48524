/**
 * The "done" criterion: a bundle made from the API-server stand-in round-trips — each
 * command's output from --bundle equals its live output against the stand-in (stdout, stderr and exit
 * code, errors included), for proxy-config, proxy-status, istiod, iptables (istio-init, exec and CNI), analyze, trace, authz, describe (sidecar
 * and ambient pods), ztunnel-config and waypoint; from the tar.gz
 * and from the same files unpacked into a directory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../harness/apiserver.js';
import { type FakeCluster, ISTIOD_A, PRODUCTPAGE, REVIEWS_V1, REVIEWS_V2, startCluster } from '../harness/cluster.js';
import { type CliResult, pool, runCli } from '../helpers.js';
import { unpack } from './util.js';

const PP = `${PRODUCTPAGE}.default`;
const RV1 = `${REVIEWS_V1}.default`;
const RV2 = `${REVIEWS_V2}.default`;
/** A changed policy for productpage (written to the test's directory in before()): it replaces the cluster's productpage-allow and adds a DENY. */
let POLICY_CHANGE = '';
const POLICY_CHANGE_YAML = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: productpage-allow, namespace: default }
spec:
  selector: { matchLabels: { app: productpage } }
  rules: [{ from: [{ source: { principals: [cluster.local/ns/istio-system/sa/istio-ingressgateway] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: productpage-no-debug, namespace: default }
spec:
  selector: { matchLabels: { app: productpage } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ['/debug*'] } }] }]
`;

/** Commands as a user runs them, without the cluster flags (added per mode). */
const COMMANDS: string[][] = [
  ...['clusters', 'listeners', 'routes', 'endpoints', 'secret', 'bootstrap', 'ecds'].map((k) => ['proxy-config', k, PP]),
  ['proxy-config', 'all', PP, '-o', 'json'],
  ['proxy-config', 'all', PP, '--with-headers'],
  ['proxy-config', 'routes', RV1, '--name', '9080', '-o', 'yaml'],
  ['proxy-config', 'clusters', 'deployment/reviews-v1', '-n', 'default', '--fqdn', 'reviews.default.svc.cluster.local'],
  ['proxy-config', 'endpoints', 'service/reviews', '-n', 'default'],
  ['proxy-config', 'clusters', 'reviews-v1-545db77b95-pending.default'], // Pending: refused the same way
  ['proxy-config', 'clusters', 'productpage.default'], // a prefix: "did you mean"
  ['proxy-config', 'clusters', 'nope.default'], // 404
  ['proxy-config', 'clusters', 'details-v1-5f4d584748-nosdc.default'], // no sidecar
  ['proxy-config', 'clusters', 'ratings-v1-6f5c8d4b9-q8w2e.default'], // port-forward refused at capture
  ['proxy-status'],
  ['proxy-status', '-n', 'default'],
  ['proxy-status', '--revision', 'canary'],
  ['proxy-status', '-o', 'json'],
  ['proxy-status', PP],
  ['proxy-status', RV1, '-o', 'json'],
  ['proxy-status', `${REVIEWS_V1.replace('v1', 'v2').replace('545db77b95-ksq7f', '7bf8c9648f-mx2lp')}.default`], // no istiod has it
  ['istiod', 'registry'],
  ['istiod', 'registry', '-n', 'default', '-o', 'yaml'],
  ['istiod', 'debug', 'syncz'],
  ['istiod', 'debug', 'configz', '-o', 'yaml'],
  ['istiod', 'debug', 'endpointz', '--istiod', ISTIOD_A],
  ['istiod', 'debug', 'adsz', '--revision', 'canary'],
  ['iptables', PP],
  ['iptables', RV1, '-o', 'json'],
  ['iptables', 'trace', PP, '--dst', '10.96.0.20:8080'],
  ['iptables', 'trace', RV1, '--dst', '10.244.1.5:9080', '--direction', 'inbound', '-o', 'json'],
  ['iptables', 'ratings-v1-6f5c8d4b9-q8w2e.default'], // no rules anywhere: the same list of what was tried
  ['iptables', RV2], // CNI mode: the rules from the istio-cni-node pod's log
  ['iptables', 'trace', RV2, '--dst', '10.96.0.10:53', '--proto', 'udp', '-o', 'json'],
  ['analyze'], // the context's namespace
  ['analyze', '-A'],
  ['analyze', '-A', '-o', 'json'],
  ['analyze', '-n', 'istio-system', '--partial'],
  ['analyze', '-A', '--analyzer', 'injection.Analyzer', '--analyzer', 'webhook.Analyzer'],
  ['analyze', '-k', 'fixtures/analyze/cases/IST0101-vs-host.bad.yaml'], // files over the cluster
  ['analyze', '--failure-threshold', 'Info', '-n', 'bookinfo-lab'],
  ['trace', PP, 'http://reviews:9080/'], // rules from the istio-init log
  ['trace', PP, 'http://reviews:9080/api/v1', '-H', 'end-user: jason', '-o', 'json'],
  ['trace', RV1, 'http://reviews:9080/', '--direction', 'inbound', '--from', PP], // rules by exec; the client pod from the cluster
  ['trace', RV2, 'http://reviews:9080/'], // rules from the istio-cni-node log (CNI mode)
  ['trace', 'deployment/reviews-v1', 'reviews:9080', '-n', 'default', '-o', 'dot'],
  ['trace', 'ratings-v1-6f5c8d4b9-q8w2e.default', 'http://reviews:9080/'], // port-forward refused at capture
  ['trace', 'details-v1-5f4d584748-nosdc.default', 'http://reviews:9080/'], // no sidecar
  ['trace', PP, 'http://reviews:9080/', '--from', 'nope.default'], // the client pod is not there
  ['authz', 'check', PP],
  ['authz', 'check', RV1, '-o', 'yaml'],
  ['authz', 'check', PP, '--use-kube', '--path', '/admin/x', '--source-namespace', 'default', '--source-sa', 'bookinfo-productpage'],
  ['authz', 'check', PP, '--use-kube', '--method', 'POST', '--from', RV1, '-o', 'json'],
  ['authz', 'check', 'deployment/productpage-v1', '-n', 'default', '--use-kube', '--files', '@policy-change', '--path', '/debug/vars', '--source-namespace', 'default', '--source-sa', 'x'],
  ['authz', 'check', 'nope.default'],
  ['authz', 'check', 'nope.default', '--use-kube'],
  ['describe', 'pod', PP],
  ['describe', 'pod', RV1, '-o', 'json'],
  ['describe', 'service', 'reviews', '-n', 'default'],
  ['describe', 'svc', 'productpage.default', '-o', 'yaml'],
  ['describe', 'pod', 'frontend-6b9f8c7d5-q9z2m.shop'], // ambient: the ztunnel of its node
  ['describe', 'pod', 'ledger-7d6c5b8f9-h7w2c.payments', '-o', 'json'], // ambient, bound to a waypoint by its ztunnel
  ['describe', 'pod', 'ratings-v1-6f5c8d4b9-q8w2e.default'], // its proxy refused at capture: a warning
  ['describe', 'pod', 'nope.default'],
  ['describe', 'svc', 'nope', '-n', 'default'],
  ['ztunnel-config', 'workloads'],
  ['zc', 'services', '--service-namespace', 'bookinfo'],
  ['zc', 'policies', '-o', 'yaml'],
  ['zc', 'certificates', '--node', 'ambient-worker'],
  ['zc', 'connections', 'ztunnel-n4xw8.istio-system'],
  ['zc', 'all', '--with-headers', '--node', 'ambient-worker2'],
  ['zc', 'all', '-o', 'json'],
  ['zc', 'workloads', 'productpage-v1-5b8d7f9c6d-k2lxp.bookinfo'], // a workload pod: its node's ztunnel, filtered
  ['zc', 'certs'], // several ztunnels: name one
  ['zc', 'w', '--node', 'ambient-worker9'],
  ['waypoint', 'list', '-A', '-o', 'wide'], // no Gateway API Gateways here: the waypoint tables are test/ambient/bundle.test.ts
  ['waypoint', 'status', '-n', 'payments'],
];

/**
 * Istio configuration for analyze, beside the stand-in's workloads: findings of several analyzers, all
 * decided from what a bundle holds (no Secret involved: a bundle holds none, and the gateway
 * credential checks are then not judged).
 */
const ISTIO_CONFIG: KubeObject[] = [
  {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'default' },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }, { destination: { host: 'reviews.bogus' } }] }] },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'default' },
    spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v9', labels: { version: 'v9' } }] },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'public', namespace: 'default' },
    spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
  },
  {
    apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'from-lab', namespace: 'default' },
    spec: { targetRefs: [{ kind: 'Service', group: '', name: 'reviews' }], rules: [{ from: [{ source: { namespaces: ['bookinfo-labs'] } }] }] },
  },
  {
    apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'productpage-allow', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'productpage' } }, rules: [{ from: [{ source: { namespaces: ['default', 'istio-system'] } }], to: [{ operation: { methods: ['GET'] } }] }] },
  },
  {
    apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-admin', namespace: 'istio-system' },
    spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'istio-sidecar-injector' },
    webhooks: [{
      name: 'namespace.sidecar-injector.istio.io',
      clientConfig: { service: { name: 'istiod', namespace: 'istio-system', path: '/inject' } },
      namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } },
    }],
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'istio-validator-istio-system' },
    webhooks: [{ name: 'rev.validation.istio.io', clientConfig: { url: 'https://192.0.2.10:15017/validate' } }],
  },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/region': 'eu-1' } } },
  {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: 'grpcroutes.gateway.networking.k8s.io', annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.0.0' } },
    spec: { group: 'gateway.networking.k8s.io', names: { kind: 'GRPCRoute', plural: 'grpcroutes' }, scope: 'Namespaced', versions: [] },
  },
];

let c: FakeCluster;
let dir: string;
let bundle: string;
let unpacked: string;
let capture: CliResult;

before(async () => {
  c = await startCluster({ iptables: true, extraObjects: ISTIO_CONFIG });
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-roundtrip-'));
  POLICY_CHANGE = path.join(dir, 'policy-change.yaml');
  writeFileSync(POLICY_CHANGE, POLICY_CHANGE_YAML);
  bundle = path.join(dir, 'mesh.tar.gz');
  capture = await runCli(['bug-report', '-A', '-o', bundle, '--kubeconfig', c.kubeconfig], { timeoutMs: 120_000 });
  unpacked = path.join(dir, 'unpacked');
  if (capture.code === 0) await unpack(bundle, unpacked);
});

after(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});

test('bug-report against the stand-in writes one bundle and nothing else', () => {
  assert.equal(capture.code, 0, capture.stderr);
  // the Envoys of fixtures/live and of the ambient mesh: 5 sidecars and gateways, 3 waypoints
  assert.match(capture.stdout, /^wrote .*mesh\.tar\.gz \([\d.]+ [KM]B\): 8 proxies, 3 istiod, 3 ztunnel, \d+ resource lists in [\d.]+ s\n$/);
  assert.deepEqual(readdirSync(dir).filter((f) => !/\.(html|yaml)$/.test(f)).sort(), ['mesh.tar.gz', 'unpacked']);
  assert.equal(statSync(bundle).mode & 0o777, 0o600);
});

test('every command answers from --bundle as it answered live (tar.gz and unpacked directory)', async (t) => {
  assert.equal(capture.code, 0, capture.stderr);
  // every command from the tar.gz; every third one from the directory too (the same reads, another reader)
  const runs = COMMANDS.map((args) => args.map((a) => (a === '@policy-change' ? POLICY_CHANGE : a))).flatMap((args, i) => [
    { args, mode: 'live', argv: [...args, '--kubeconfig', c.kubeconfig] },
    { args, mode: 'bundle', argv: [...args, '--bundle', bundle] },
    ...(i % 3 === 0 ? [{ args, mode: 'dir', argv: [...args, '--bundle', unpacked] }] : []),
  ]);
  const results = await pool(runs, 3, (r) => runCli(r.argv));
  const live = new Map<string, CliResult>();
  runs.forEach((r, i) => r.mode === 'live' && live.set(r.args.join(' '), results[i]));
  let ok = 0;
  let failing = 0;
  runs.forEach((r, i) => {
    const what = r.args.join(' ');
    if (r.mode === 'live') return results[i].code === 0 ? ok++ : failing++;
    assert.deepEqual(results[i], live.get(what), `${what}: --bundle ${r.mode === 'dir' ? 'DIR ' : ''}differs from live`);
  });
  // the list covers both answers and refusals
  assert.ok(ok >= 25 && failing >= 6, `${ok} succeeding, ${failing} failing commands`);
  t.diagnostic(`${COMMANDS.length} commands equal live, from the tar.gz and the directory (${ok} answers, ${failing} errors)`);
});

test('analyze from the bundle sees the Istio config, webhook configurations and CRDs the cluster holds', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  const r = await runCli(['analyze', '-A', '--bundle', bundle]);
  assert.equal(r.code, 79, r.stderr);
  // a subset without pods, a Gateway API CRD too old, a validation webhook at an IP, a policy's missing namespace
  for (const code of ['IST0173', 'IST0176', 'IST0164', 'IST0101']) assert.ok(r.stdout.includes(`[${code}]`), `${code} missing:\n${r.stdout}`);
  assert.ok(!r.stderr.includes('Warning'), r.stderr);
});

test('authz check --files over a bundle: the bundle is the cluster the manifests apply to (--use-kube implied)', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  const args = ['authz', 'check', PP, '--files', POLICY_CHANGE, '--path', '/debug/x', '--source-namespace', 'default', '--source-sa', 'x'];
  const [live, fromBundle] = await Promise.all([runCli([...args, '--use-kube', '--kubeconfig', c.kubeconfig]), runCli([...args, '--bundle', bundle])]);
  assert.equal(live.code, 0, live.stderr);
  assert.deepEqual(fromBundle, live);
  assert.match(live.stdout, /Decision: DENY by default\/productpage-no-debug/);
});

test('the bundle reads without touching the cluster: the stand-in is gone', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  const before = c.api.requests.length;
  const r = await runCli(['proxy-config', 'listeners', PP, '--bundle', bundle]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ADDRESSES/);
  assert.equal(c.api.requests.length, before);
});

test('system tar reads the bundle as one tar.gz (members in order, index last)', (t) => {
  const r = spawnSync('tar', ['tzf', bundle], { encoding: 'utf8' });
  if (r.error || r.status === null) return t.skip('no tar on this machine');
  assert.equal(r.status, 0, r.stderr);
  const names = r.stdout.trim().split('\n');
  assert.equal(names[0], 'meshctl-bundle.json');
  assert.equal(names.at(-1), 'index.json');
  assert.ok(names.includes(`pods/default/${PRODUCTPAGE}/config_dump.json`));
  assert.ok(names.includes(`pods/default/${PRODUCTPAGE}/logs/istio-init.log`));
  assert.ok(names.includes('resources/default/pods.json'));
  assert.ok(!names.some((n) => /secret/i.test(n)), 'no Secret member');
});

test('report --bundle writes the page the live cluster gives (only the header names the source and time)', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  const cases = [['-A'], ['-n', 'default', '--trace', 'http://reviews:9080/'], [RV1, '--trace', 'http://reviews:9080/', '--direction', 'inbound'], ['nope.default']];
  const header = /<header>.*?<\/header>/s;
  for (const [i, args] of cases.entries()) {
    const [live, fromBundle] = await Promise.all([
      runCli(['report', ...args, '-o', path.join(dir, `live-${i}.html`), '--kubeconfig', c.kubeconfig]),
      runCli(['report', ...args, '-o', path.join(dir, `bundle-${i}.html`), '--bundle', bundle]),
    ]);
    const what = `report ${args.join(' ')}`;
    assert.equal(fromBundle.code, live.code, `${what}: ${fromBundle.stderr}`);
    assert.equal(fromBundle.stderr, live.stderr, what);
    assert.equal(fromBundle.stdout.replace(`bundle-${i}.html`, 'X'), live.stdout.replace(`live-${i}.html`, 'X'), what);
    if (live.code !== 0) {
      assert.match(live.stderr, /^Error: pod nope not found in namespace default\n$/);
      continue;
    }
    const [l, b] = [readFileSync(path.join(dir, `live-${i}.html`), 'utf8'), readFileSync(path.join(dir, `bundle-${i}.html`), 'utf8')];
    assert.match(l, /<header><h1>meshctl report<\/h1><p>Generated \S+ from cluster \(context harness\)/);
    assert.match(b, /<header><h1>meshctl report<\/h1><p>Generated \S+ from bundle .*mesh\.tar\.gz, captured \S+Z from context harness/);
    assert.equal(b.replace(header, ''), l.replace(header, ''), `${what}: the page differs`);
    assert.match(l, /<svg/);
  }
});

test('ztunnel-config log is live only: with --bundle it says so', async () => {
  const r = await runCli(['zc', 'log', '--bundle', bundle]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Error: ztunnel-config log is live only: .*drop --bundle\n$/);
});

test('--bundle refuses --kubeconfig/--context and -f with one line', async () => {
  const a = await runCli(['proxy-config', 'clusters', PP, '--bundle', bundle, '--kubeconfig', c.kubeconfig]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /^Error: --bundle reads a captured cluster instead of a live one: drop --kubeconfig and --context\n$/);
  const b = await runCli(['proxy-config', 'clusters', '--bundle', bundle, '-f', 'x.json']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /give either --bundle \(with a pod\) or --file, not both/);
  const d = await runCli(['istiod', 'registry', '--bundle', bundle, '-f', 'x.json']);
  assert.equal(d.code, 2);
});
