/**
 * bug-report -A for an SRE whose RBAC is granted per namespace: a namespaced kind refused across all
 * namespaces (namespaces still listable) is listed namespace by namespace, each namespace's refusal recorded
 * as such, at most --max-namespaces of them; the bundle then answers as live for the namespaces that were
 * readable, and refuses what live refuses (the cluster-wide list, the namespace without a RoleBinding).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openBundle } from '../../src/source/bundle/reader.js';
import type { RbacDenial } from '../harness/apiserver.js';
import { type FakeCluster, PRODUCTPAGE, REVIEWS_V1, startCluster } from '../harness/cluster.js';
import { type CliResult, pool, runCli } from '../helpers.js';

const PP = `${PRODUCTPAGE}.default`;
const RV1 = `${REVIEWS_V1}.default`;

/** Pods, Services, Deployments and VirtualServices granted in each namespace by a RoleBinding, none in shop. */
const PER_NAMESPACE: RbacDenial[] = [
  ...['pods', 'services', 'deployments', 'virtualservices'].map((resource): RbacDenial => ({ verb: 'list', resource, clusterWideOnly: true })),
  { verb: 'list', resource: 'pods', namespaces: ['shop'] },
  { verb: 'get', resource: 'pods', namespaces: ['shop'] },
];

/** Commands about the readable namespaces, and the cluster-wide ones live refuses too. */
const COMMANDS: string[][] = [
  ['proxy-config', 'clusters', PP],
  ['proxy-config', 'clusters', 'deployment/reviews-v1', '-n', 'default'],
  ['proxy-config', 'endpoints', 'service/reviews', '-n', 'default'],
  ['proxy-status', '-n', 'default'],
  ['proxy-status', RV1, '-o', 'json'],
  ['describe', 'pod', PP],
  ['describe', 'service', 'reviews', '-n', 'default'],
  ['describe', 'pod', 'ledger-7d6c5b8f9-h7w2c.payments'],
  ['trace', PP, 'http://reviews:9080/'],
  ['analyze', '-n', 'default'],
  ['waypoint', 'list', '-n', 'payments', '-o', 'wide'],
  ['waypoint', 'list', '-n', 'shop'],
  ['ztunnel-config', 'workloads', '--node', 'ambient-worker'],
  ['proxy-status'],
  ['analyze', '-A'], // each kind refused across all namespaces: the context's namespace, live and from the bundle
  ['waypoint', 'list', '-A'], // the pods and Services of every namespace: refused live, refused from the bundle
];

let dir: string;
const clusters: FakeCluster[] = [];
let c: FakeCluster;
let bundle: string;
let capture: CliResult;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-per-ns-'));
  c = await startCluster({ deny: PER_NAMESPACE });
  clusters.push(c);
  bundle = path.join(dir, 'per-ns.tar.gz');
  capture = await runCli(['bug-report', '-A', '-o', bundle, '--kubeconfig', c.kubeconfig], { timeoutMs: 120_000 });
});

after(async () => {
  for (const x of clusters) await x.close();
  rmSync(dir, { recursive: true, force: true });
});

test('bug-report -A lists a kind refused cluster-wide namespace by namespace, and says so', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  // the proxies of the readable namespaces are found and collected
  assert.match(capture.stdout, /^wrote .*per-ns\.tar\.gz \([\d.]+ [KM]B\): [1-9]\d* proxies, 3 istiod, 3 ztunnel, /);
  const b = await openBundle(bundle);
  assert.ok(b.index.pods.proxies.includes(`default/${PRODUCTPAGE}`), JSON.stringify(b.index.pods.proxies));
  const namespaces = b.index.resources.find((r) => r.plural === 'namespaces' && !r.error)!.count;
  const pods = b.index.perNamespace?.find((n) => n.plural === 'pods');
  assert.deepEqual(pods, { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaces, of: namespaces, refused: ['shop'] });
  assert.deepEqual(b.index.perNamespace?.find((n) => n.plural === 'services')?.refused, []);
  assert.ok(b.index.perNamespace?.some((n) => n.plural === 'virtualservices' && n.group === 'networking.istio.io'));
  // kinds listed cluster-wide are not among them
  assert.ok(!b.index.perNamespace?.some((n) => ['endpoints', 'replicasets'].includes(n.plural)));
  // the refusals as they were: every namespace, then shop's own
  const podRecords = b.index.resources.filter((r) => r.plural === 'pods' && !r.labelSelector);
  assert.equal(podRecords.find((r) => r.scope === 'all')?.error?.type, 'forbidden');
  assert.equal(podRecords.find((r) => r.scope === 'shop')?.error?.type, 'forbidden');
  assert.equal(podRecords.find((r) => r.scope === 'default')?.error, undefined);
  assert.equal(podRecords.find((r) => r.scope === 'default')?.count, 6);
  // shop's refusal is a failure; the cluster-wide one, listed per namespace instead, is not
  assert.ok(b.index.failures.some((f) => f.what === 'list pods in namespace shop' && /forbidden \(403\)/.test(f.reason)), JSON.stringify(b.index.failures));
  assert.ok(!b.index.failures.some((f) => f.what === 'list pods'), JSON.stringify(b.index.failures));
  // the summary says it, one line per outcome
  assert.match(capture.stdout, new RegExp(`\\npods: refused across all namespaces, listed namespace by namespace: ${namespaces} of ${namespaces} namespaces \\(refused in shop\\)\\n`));
  assert.match(capture.stdout, new RegExp(`\\ndeployments\\.apps, services, virtualservices\\.networking\\.istio\\.io: refused across all namespaces, listed namespace by namespace: ${namespaces} of ${namespaces} namespaces\\n`));
});

test('a bundle listed namespace by namespace answers as live, refusals included', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  const runs = COMMANDS.flatMap((args) => [
    { args, argv: [...args, '--kubeconfig', c.kubeconfig] },
    { args, argv: [...args, '--bundle', bundle] },
  ]);
  const results = await pool(runs, 3, (r) => runCli(r.argv));
  let ok = 0;
  for (let i = 0; i < runs.length; i += 2) {
    const what = runs[i].args.join(' ');
    assert.deepEqual(results[i + 1], results[i], `${what}: --bundle differs from live`);
    if (results[i].code === 0) ok++;
  }
  assert.ok(ok >= COMMANDS.length - 2, `only ${ok} of ${COMMANDS.length} commands succeeded`);
  // the cluster-wide list is refused from the bundle in the words it was refused live
  const all = results[runs.length - 1];
  assert.match(all.stderr, /^Warning: cannot list pods: forbidden \(403\): .* \(cluster-wide\)$/m);
});

test('a namespace that refused its own list is said as refused there, not as a namespace bug-report did not list', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  const r = await runCli(['describe', 'pod', 'frontend-6b9f8c7d5-q9z2m.shop', '--bundle', bundle]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /forbidden \(403\): .*"list" on resource "pods" in namespace shop/);
  assert.doesNotMatch(r.stderr, /holds no pods|every namespace/);
});

test('--max-namespaces caps the namespaces listed one by one; the bundle and the summary say so', async () => {
  const out = path.join(dir, 'capped.tar.gz');
  const r = await runCli(['bug-report', '-A', '-o', out, '--kubeconfig', c.kubeconfig, '--max-namespaces', '2', '--no-include-ztunnel'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const b = await openBundle(out);
  const pods = b.index.perNamespace?.find((n) => n.plural === 'pods');
  assert.ok(pods && pods.of > 2, JSON.stringify(pods));
  const cut = `only the first 2 of ${pods.of} namespaces were listed (--max-namespaces 2)`;
  assert.deepEqual(pods, { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaces: 2, of: pods.of, refused: [], cut });
  // the Istio namespace first (istiod and ztunnel are found there), then by name
  const listed = b.index.resources.filter((r) => r.plural === 'pods' && r.scope !== 'all' && !r.labelSelector).map((r) => r.scope);
  assert.deepEqual(listed, ['istio-system', 'bookinfo']);
  assert.equal(b.index.complete, false);
  assert.ok(b.index.failures.some((f) => f.what === 'list pods namespace by namespace (refused across all namespaces)' && f.reason === cut));
  assert.match(r.stdout, new RegExp(`\\npods, deployments\\.apps, services, virtualservices\\.networking\\.istio\\.io: refused across all namespaces, listed namespace by namespace: 2 of ${pods.of} namespaces; ${cut.replace(/[()]/g, '\\$&')}\\n`));
  assert.match(r.stderr, /warning: \d+ failures?/);
  // a namespace past the cap: the bundle says the kind was refused across all namespaces, and why not there
  const pc = await runCli(['proxy-config', 'clusters', PP, '--bundle', out]);
  assert.notEqual(pc.code, 0);
  assert.match(pc.stderr, new RegExp(`holds no pods of namespace default: at capture the list of every namespace was refused \\(forbidden \\(403\\).*\\), and namespace by namespace only the first 2 of ${pods.of} namespaces were listed`));
  const bad = await runCli(['bug-report', '-A', '-o', path.join(dir, 'x.tar.gz'), '--kubeconfig', c.kubeconfig, '--max-namespaces', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^Error: --max-namespaces: "0" is not a whole number of at least 1\n$/);
});

test('namespaces refused too: the cluster-wide refusal is recorded as before, nothing is listed per namespace', async () => {
  const denied = await startCluster({ deny: [{ verb: 'list', resource: 'namespaces' }, ...PER_NAMESPACE] });
  clusters.push(denied);
  const out = path.join(dir, 'no-ns.tar.gz');
  const r = await runCli(['bug-report', '-A', '-o', out, '--kubeconfig', denied.kubeconfig], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /namespace by namespace/);
  const b = await openBundle(out);
  assert.equal(b.index.perNamespace, undefined);
  const podRecords = b.index.resources.filter((x) => x.plural === 'pods');
  assert.deepEqual(podRecords.map((x) => [x.scope, x.error?.type]), [['all', 'forbidden']]);
  assert.ok(b.index.failures.some((f) => f.what === 'list pods'), JSON.stringify(b.index.failures));
  assert.match(r.stdout, /: 0 proxies, 0 istiod, 0 ztunnel, /);
});
