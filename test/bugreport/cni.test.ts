/**
 * CNI mode in a bundle of some namespaces: the istio-cni-node pods run outside them (kube-system here,
 * as on some platforms), yet `bug-report -n default` keeps what the CNI-mode pods' rules need — the
 * agent pod of each such pod's node, found by its label as the live path finds it, and its install-cni
 * log, read once per node — so iptables, iptables trace and trace answer from the bundle as live.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openBundle } from '../../src/source/bundle/reader.js';
import type { KubeObject } from '../harness/apiserver.js';
import { type FakeCluster, ISTIO_CNI_NODE, REVIEWS_V2, startCluster } from '../harness/cluster.js';
import { type CliResult, runCli } from '../helpers.js';

const RV2 = `${REVIEWS_V2}.default`;
/** A second CNI-mode sidecar on node-1 (its frame is in fixtures/iptables/istio-cni-node.log): the node's log is still read once. */
const WEB0: KubeObject = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'default', labels: { app: 'web' } },
  spec: { nodeName: 'node-1', initContainers: [{ name: 'istio-validation' }], containers: [{ name: 'web' }, { name: 'istio-proxy' }] },
  status: { phase: 'Running', podIP: '10.244.2.30' },
};
const AGENT_LOG = `GET /api/v1/namespaces/kube-system/pods/${ISTIO_CNI_NODE}/log`;

let c: FakeCluster;
let dir: string;
let bundle: string;
let capture: CliResult;
let logReads = 0;

before(async () => {
  c = await startCluster({ iptables: true, cniNamespace: 'kube-system', extraObjects: [WEB0] });
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-bundle-cni-'));
  bundle = path.join(dir, 'default.tar.gz');
  const from = c.api.requests.length;
  capture = await runCli(['bug-report', '-n', 'default', '-o', bundle, '--kubeconfig', c.kubeconfig], { timeoutMs: 120_000 });
  logReads = c.api.requests.slice(from).filter((r) => r.startsWith(AGENT_LOG)).length;
});

after(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});

test('bug-report -n default keeps the kube-system istio-cni-node pod of the CNI-mode pods\' node and its log, read once', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  assert.equal(logReads, 1, 'one install-cni log read for node-1 (two CNI-mode pods on it)');
  const index = (await openBundle(bundle)).index;
  const logs = index.calls.filter((x) => x.call === 'logs' && x.pod === `kube-system/${ISTIO_CNI_NODE}`);
  assert.equal(logs.length, 1);
  assert.equal(logs[0].call === 'logs' && logs[0].container, 'install-cni');
  assert.ok(logs[0].member, 'the log is a member of the bundle');
  // the agent pod, as a filtered list of its namespace; node-2's agent was not needed
  const kept = index.resources.filter((r) => r.plural === 'pods' && r.scope === 'kube-system');
  assert.equal(kept.length, 1);
  assert.equal(kept[0].count, 1);
  assert.match(kept[0].filter ?? '', /istio-cni-node pods/);
  // (its one list across namespaces is of the pods labelled istio.io/use-waypoint only)
  assert.ok(!index.resources.some((r) => r.plural === 'pods' && r.scope === 'all' && !r.labelSelector), 'not a bundle of every namespace');
});

test('iptables, iptables trace and trace of the CNI-mode pod answer from a -n bundle as live', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  const commands = [
    ['iptables', RV2],
    ['iptables', 'web-0.default'],
    ['iptables', 'trace', RV2, '--dst', '10.96.0.10:53', '--proto', 'udp', '-o', 'json'],
    ['trace', RV2, 'http://reviews:9080/'],
  ];
  for (const args of commands) {
    const [live, fromBundle] = await Promise.all([runCli([...args, '--kubeconfig', c.kubeconfig]), runCli([...args, '--bundle', bundle])]);
    assert.equal(live.code, 0, `${args.join(' ')}: ${live.stderr}`);
    assert.deepEqual(fromBundle, live, `${args.join(' ')}: --bundle differs from live`);
  }
  const live = await runCli(['iptables', RV2, '--kubeconfig', c.kubeconfig]);
  assert.match(live.stdout, new RegExp(`^Rules from the istio-cni plugin's log of pod ${RV2} in kube-system/${ISTIO_CNI_NODE} `));
  // no exec fallback was needed, live or at capture
  assert.deepEqual(c.execs.filter((e) => e.startsWith(REVIEWS_V2) || e.startsWith('web-0')), []);
});

test('the kept agent pod is no list of its namespace: the bundle still says it holds no pods of kube-system', async () => {
  assert.equal(capture.code, 0, capture.stderr);
  for (const args of [['describe', 'pod', 'coredns-0.kube-system'], ['iptables', `${ISTIO_CNI_NODE}.kube-system`]]) {
    const r = await runCli([...args, '--bundle', bundle]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: bundle ${bundle} holds no pods of namespace kube-system (it holds those of default, istio-system)\n`);
  }
});
