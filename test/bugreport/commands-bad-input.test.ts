/**
 * Bad input for the commands that read a bundle: a pod the bundle does not hold (a bundle of some
 * namespaces, or of some pods), and a member damaged in transit. Each is one line on stderr naming what
 * is missing or which member is damaged, exit code 1, nothing on stdout.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeCluster, PRODUCTPAGE, REVIEWS_V1, startCluster } from '../harness/cluster.js';
import { type CliResult, pool, runCli } from '../helpers.js';
import { damageMember } from './util.js';

const PP = `${PRODUCTPAGE}.default`;
const RV1 = `${REVIEWS_V1}.default`;
const PP_DUMP = `pods/default/${PRODUCTPAGE}/config_dump.json`;
const PP_INIT_LOG = `pods/default/${PRODUCTPAGE}/logs/istio-init.log`;
const MESH_CONFIGMAPS = 'resources/istio-system/configmaps.json';
const FRONTEND = 'frontend-6b9f8c7d5-q9z2m.shop'; // ambient, served by ztunnel-n4xw8
const ZTUNNEL_DUMP = 'pods/istio-system/ztunnel-n4xw8/config_dump.json';
const SYNCZ = 'pods/istio-system/istiod-7c9d8b6f5-abcde/debug/syncz.json';

let c: FakeCluster;
let dir: string;
/** bug-report -n default -l app=reviews: the reviews pods' dumps only, the default namespace's objects only */
let partial: string;
let full: string;
const damaged = new Map<string, string>();
let made: CliResult[] = [];

before(async () => {
  c = await startCluster({ iptables: true });
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-bundle-bad-'));
  partial = path.join(dir, 'partial.tar.gz');
  full = path.join(dir, 'full.tar.gz');
  made = await Promise.all([
    runCli(['bug-report', '-n', 'default', '-l', 'app=reviews', '--no-include-ztunnel', '-o', partial, '--kubeconfig', c.kubeconfig], { timeoutMs: 120_000 }),
    runCli(['bug-report', '-A', '-o', full, '--kubeconfig', c.kubeconfig], { timeoutMs: 120_000 }),
  ]);
  if (made.every((m) => m.code === 0)) {
    for (const member of [PP_DUMP, PP_INIT_LOG, MESH_CONFIGMAPS, ZTUNNEL_DUMP, SYNCZ]) {
      const out = path.join(dir, `damaged-${damaged.size}.tar.gz`);
      await damageMember(full, member, out);
      damaged.set(member, out);
    }
  }
});

after(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Case {
  args: string[];
  bundle: () => string;
  expect: RegExp;
}

const damagedBy = (member: string) => () => damaged.get(member)!;
const member = (m: string) => new RegExp(`^Error: bundle .*damaged-\\d\\.tar\\.gz is damaged member ${m.replace(/\./g, '\\.')}: .+\\n$`);

const CASES: Case[] = [
  // trace
  { args: ['trace', PP, 'http://reviews:9080/'], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz has no answer to GET \/config_dump\?include_eds on port 15000 of pod productpage-v1-7d4b8d9b7c-x2x9z\.default \(bug-report did not collect this pod\)\n$/ },
  { args: ['trace', `${PRODUCTPAGE}.bookinfo-lab`, 'http://reviews:9080/'], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz holds no pods of namespace bookinfo-lab \(it holds those of default, istio-system\)\n$/ },
  { args: ['trace', RV1, 'http://reviews:9080/', '--from', 'sleep-7b8c9d6f5-g2h4j.legacy'], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz holds no pods of namespace legacy/ },
  { args: ['trace', PP, 'http://reviews:9080/'], bundle: damagedBy(PP_DUMP), expect: member(PP_DUMP) },
  { args: ['trace', PP, 'http://reviews:9080/'], bundle: damagedBy(PP_INIT_LOG), expect: member(PP_INIT_LOG) },
  // authz check
  { args: ['authz', 'check', PP], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz has no answer to GET \/config_dump on port 15000 of pod productpage-v1-7d4b8d9b7c-x2x9z\.default \(bug-report did not collect this pod\)\n$/ },
  { args: ['authz', 'check', 'sleep-7b8c9d6f5-g2h4j.legacy', '--use-kube'], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz holds no pods of namespace legacy \(it holds those of default, istio-system\)\n$/ },
  { args: ['authz', 'check', PP], bundle: damagedBy(PP_DUMP), expect: member(PP_DUMP) },
  { args: ['authz', 'check', PP, '--use-kube'], bundle: damagedBy(MESH_CONFIGMAPS), expect: member(MESH_CONFIGMAPS) },
  // describe: a pod the bundle lacks; a damaged member is never taken for a proxy that did not answer
  { args: ['describe', 'pod', FRONTEND], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz holds no pods of namespace shop \(it holds those of default, istio-system\)\n$/ },
  { args: ['describe', 'pod', PP], bundle: damagedBy(PP_DUMP), expect: member(PP_DUMP) },
  { args: ['describe', 'pod', PP], bundle: damagedBy(SYNCZ), expect: member(SYNCZ) },
  { args: ['describe', 'svc', 'productpage.default'], bundle: damagedBy(MESH_CONFIGMAPS), expect: member(MESH_CONFIGMAPS) },
  { args: ['describe', 'pod', FRONTEND], bundle: damagedBy(ZTUNNEL_DUMP), expect: member(ZTUNNEL_DUMP) },
  // ztunnel-config: the partial bundle was made with --no-include-ztunnel
  { args: ['zc', 'workloads', '--node', 'ambient-worker'], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz has no answer to GET \/config_dump on port 15000 of pod ztunnel-n4xw8\.istio-system \(bug-report did not collect this pod: it ran with --no-include-ztunnel\)\n$/ },
  { args: ['zc', 'workloads', FRONTEND], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz holds no pods of namespace shop \(it holds those of default, istio-system\)\n$/ },
  { args: ['zc', 'services', 'ztunnel-n4xw8.istio-system'], bundle: damagedBy(ZTUNNEL_DUMP), expect: member(ZTUNNEL_DUMP) },
  // report: a named pod the bundle lacks is an error (unnamed ones are left out with a warning, as live)
  { args: ['report', PP, '-o', 'never.html'], bundle: () => partial, expect: /^Error: bundle .*partial\.tar\.gz has no answer to GET \/config_dump\?include_eds on port 15000 of pod productpage-v1-7d4b8d9b7c-x2x9z\.default \(bug-report did not collect this pod\)\n$/ },
  { args: ['report', '-n', 'default', '-o', 'never.html'], bundle: damagedBy(PP_DUMP), expect: member(PP_DUMP) },
  { args: ['report', '-A', '-o', 'never.html'], bundle: damagedBy(SYNCZ), expect: member(SYNCZ) },
];

test('describe from a bundle without the pod\'s dump: the report, warning what the bundle lacks (as live, when a proxy does not answer)', async () => {
  assert.ok(made.every((m) => m.code === 0));
  const r = await runCli(['describe', 'pod', PP, '--bundle', partial]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Pod: productpage-v1-7d4b8d9b7c-x2x9z\n/);
  assert.match(r.stdout, /\nWARNING: cannot read the proxy's config dump: bundle .*partial\.tar\.gz has no answer to GET \/config_dump on port 15000 of pod productpage-v1-7d4b8d9b7c-x2x9z\.default \(bug-report did not collect this pod\)\n/);
});

test('report from a bundle without some proxies: the page, warning which pods were left out and why', async () => {
  assert.ok(made.every((m) => m.code === 0));
  const r = await runCli(['report', '-n', 'default', '-o', path.join(dir, 'partial.html'), '--bundle', partial]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^wrote .*partial\.html: 2 pods, /);
  assert.match(r.stderr, /^Warning: productpage-v1-7d4b8d9b7c-x2x9z\.default: left out: bundle .*partial\.tar\.gz has no answer to GET \/config_dump\?include_eds/m);
});

test('bundles for the bad-input cases were made', () => {
  for (const m of made) assert.equal(m.code, 0, m.stderr);
});

test('a pod the bundle lacks, or a damaged member: one line naming it, exit code 1', async () => {
  assert.ok(made.every((m) => m.code === 0));
  const results = await pool(CASES, 3, (k) => runCli([...k.args, '--bundle', k.bundle()], { cwd: dir }));
  CASES.forEach((k, i) => {
    const r = results[i];
    const what = `${k.args.join(' ')} --bundle ${path.basename(k.bundle())}`;
    assert.equal(r.code, 1, `${what}: exit ${r.code}\n${r.stderr}`);
    assert.equal(r.stdout, '', `${what}: printed ${r.stdout}`);
    assert.match(r.stderr, k.expect, what);
  });
  assert.ok(!existsSync(path.join(dir, 'never.html')), 'a failed report wrote no file');
});
