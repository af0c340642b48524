/**
 * CNI mode: a pod injected for istio-cni has no istio-init; its rules come from the istio-cni plugin's
 * log in the istio-cni-node pod of its node (src/iptables/cni.ts). Frames, the JSON log form, what is
 * said when the log cannot be trusted, and the live command through the API-server stand-in.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { cniMode, cniRules, podFrame } from '../../src/iptables/cni.js';
import { parseIptables } from '../../src/iptables/parse.js';
import type { ClusterObject, ClusterSource } from '../../src/kube/cluster.js';
import { type FakeCluster, ISTIO_CNI_NODE, REVIEWS_V2, startCluster } from '../harness/cluster.js';
import { fixture, runCli } from '../helpers.js';

const LOG = readFileSync(fixture('iptables', 'istio-cni-node.log'), 'utf8');

/** A pod of namespace default (unless said) on `node`, as cniRules takes it. */
function at(name: string, node: string | undefined, namespace = 'default') {
  return { name, namespace, node };
}

/**
 * A cluster source holding one istio-cni-node pod on node-1 whose log is `log`, and the workload pods
 * `onNode` on node-1 (for the lookup of pods of the same name); counts the log reads.
 */
function fakeCluster(log: string | Error, pods: ClusterObject[] = [{ metadata: { name: 'istio-cni-node-a', namespace: 'istio-system' } }], onNode: ClusterObject[] = []): ClusterSource & { reads: number; lists: string[] } {
  const c = {
    origin: 'live', name: 'fake', namespace: 'default', istioNamespace: 'istio-system', timeoutMs: 1000, reads: 0, lists: [] as string[],
    async list(_t: unknown, o?: { labelSelector?: string; fieldSelector?: string }) {
      c.lists.push(`${o?.labelSelector ?? ''} ${o?.fieldSelector ?? ''}`);
      const byName = /^spec\.nodeName=node-1,metadata\.name=(\S+)$/.exec(o?.fieldSelector ?? '');
      if (byName && !o?.labelSelector) return onNode.filter((p) => p.metadata?.name === byName[1]);
      assert.equal(o?.labelSelector, 'k8s-app=istio-cni-node');
      return o?.fieldSelector === 'spec.nodeName=node-1' ? pods : [];
    },
    async podLogs(_p: unknown, container: string) {
      assert.equal(container, 'install-cni');
      c.reads++;
      if (log instanceof Error) throw log;
      return log;
    },
  };
  return c as unknown as ClusterSource & { reads: number; lists: string[] };
}

test('CNI mode is told by istio-validation, in the spec or in the injector status', () => {
  assert.equal(cniMode({ spec: { initContainers: [{ name: 'istio-validation' }] } }), true);
  assert.equal(cniMode({ metadata: { annotations: { 'sidecar.istio.io/status': '{"initContainers":["istio-validation"],"containers":["istio-proxy"]}' } } }), true);
  assert.equal(cniMode({ metadata: { annotations: { 'sidecar.istio.io/status': '{"initContainers":["istio-init"]}' } } }), false);
  assert.equal(cniMode({ metadata: { annotations: { 'sidecar.istio.io/status': 'not json' } } }), false);
  assert.equal(cniMode({ spec: { initContainers: [{ name: 'istio-init' }] } }), false);
});

test("a pod's frame: only its own lines, the rules parse as istio-init's, other pods' rules left out", () => {
  const f = podFrame(LOG, REVIEWS_V2);
  assert.equal(f.kind, 'found');
  if (f.kind !== 'found') return;
  assert.match(f.lines[0], /Start iptables configuration for reviews-v2/);
  assert.match(f.lines[f.lines.length - 1], /End iptables configuration for reviews-v2/);
  const rules = parseIptables(f.lines.join('\n'), 'frame');
  const nat = rules.sections.find((s) => s.family === 'ipv4')!.tables.find((t) => t.name === 'nat')!;
  const output = nat.chains.find((c) => c.name === 'OUTPUT')!;
  assert.ok(output.rules.some((r) => /--dport 53 -j REDIRECT --to-port 15053/.test(r.text)), 'the capture-all DNS rule of CNI mode');
  // web-0's frame has no ISTIO_OUTPUT; it must not leak in
  assert.ok(nat.chains.some((c) => c.name === 'ISTIO_OUTPUT'));
  assert.equal(podFrame(LOG, 'web-0').kind, 'found');
  assert.equal(podFrame(LOG, 'nope-1').kind, 'none');
});

test('the JSON log form (--log_as_json) reads the same; the last frame of a recreated sandbox holds', () => {
  const entry = (msg: string, level = 'info') => JSON.stringify({ level, time: '2026-11-16T10:00:00Z', scope: 'cni-plugin', msg });
  const frame = (rule: string) => [
    entry('============= Start iptables configuration for api-1 ============='),
    entry(`Running iptables restore with: iptables-nft-restore and the following input:\n* nat\n-N ISTIO_REDIRECT\n-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${rule}\nCOMMIT`),
    entry('============= End iptables configuration for api-1 ============='),
  ];
  const log = [...frame('15001'), entry('something else'), ...frame('15999')].join('\n');
  const f = podFrame(log, 'api-1');
  assert.equal(f.kind, 'found');
  if (f.kind === 'found') {
    assert.ok(f.lines.some((l) => l === '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15999'));
    assert.ok(!f.lines.some((l) => /15001/.test(l)));
  }
});

test('what cannot be trusted is said: interleaved frames, an error inside, no restore input, no agent, a refused log', async () => {
  const start = (p: string) => `2026-11-16T10:00:00Z\tinfo\tcni-plugin\t============= Start iptables configuration for ${p} =============`;
  const end = (p: string) => `2026-11-16T10:00:01Z\tinfo\tcni-plugin\t============= End iptables configuration for ${p} =============`;
  const interleaved = [start('a-1'), start('b-1'), end('a-1'), end('b-1')].join('\n');
  await assert.rejects(cniRules(fakeCluster(interleaved), at('a-1', 'node-1')), /interleaved with b-1's/);
  await assert.rejects(cniRules(fakeCluster(LOG), at('orders-v1-6d9f7c5b4-r8k2p', 'node-1')), /logged an error while setting up orders-v1-6d9f7c5b4-r8k2p .*: Command error: xtables resource problem/);
  await assert.rejects(cniRules(fakeCluster([start('a-1'), end('a-1')].join('\n')), at('a-1', 'node-1')), /without any iptables-restore input/);
  await assert.rejects(cniRules(fakeCluster(LOG), at(REVIEWS_V2, 'node-9')), /no istio-cni-node pod \(label k8s-app=istio-cni-node\) on node node-9/);
  await assert.rejects(cniRules(fakeCluster(LOG), at(REVIEWS_V2, undefined)), /not scheduled on a node/);
  await assert.rejects(cniRules(fakeCluster(new Error('pods "istio-cni-node-a" is forbidden: cannot get pods/log')), at(REVIEWS_V2, 'node-1')), /the install-cni log of istio-system\/istio-cni-node-a: pods "istio-cni-node-a" is forbidden/);
  await assert.rejects(cniRules(fakeCluster(LOG), at('gone-1', 'node-1')), /has no "Start iptables configuration for gone-1" \(the agent restarted/);
});

test("the node's log is read once for all its pods", async () => {
  const c = fakeCluster(LOG);
  const a = await cniRules(c, at(REVIEWS_V2, 'node-1'));
  const b = await cniRules(c, at('web-0', 'node-1'));
  assert.equal(c.reads, 1);
  assert.equal(a.agent, 'istio-system/istio-cni-node-a');
  assert.notEqual(a.text, b.text);
});

/** One plugin run as the agent prints it: at debug level the per-pod logger's `Setting up redirect` (labelled pod=ns/name) comes just before the frame. */
function run(name: string, port: number, opts: { namespace?: string; json?: boolean } = {}): string[] {
  const lines: [string, string, Record<string, string>?][] = [
    ...(opts.namespace ? [['debug', 'Setting up redirect', { pod: `${opts.namespace}/${name}` }] as [string, string, Record<string, string>]] : []),
    ['info', `============= Start iptables configuration for ${name} =============`],
    ['info', `Running iptables restore with: iptables-nft-restore and the following input:\n* nat\n-N ISTIO_REDIRECT\n-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${port}\nCOMMIT`],
    ['info', `============= End iptables configuration for ${name} =============`],
  ];
  return lines.map(([level, msg, labels]) => opts.json
    ? JSON.stringify({ level, time: '2026-11-16T10:00:00Z', scope: 'cni-plugin', msg, ...labels })
    : `2026-11-16T10:00:00Z\t${level}\tcni-plugin\t${msg}${labels ? `\t${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
}
const onNode1 = (...namespaces: string[]) => namespaces.map((namespace) => ({ metadata: { name: 'web-1', namespace }, spec: { nodeName: 'node-1' } }));
const port = (r: { text: string }) => /--to-ports (\d+)/.exec(r.text)?.[1];

test('two pods of the same name in two namespaces on one node: each gets its own frame where the log names the namespace (plain and JSON)', async () => {
  for (const json of [false, true]) {
    // shop's web-1 set up last: matched by name alone, default's web-1 would get shop's rules
    const log = [...run('web-1', 15001, { namespace: 'default', json }), ...run('web-0', 15002, { json }), ...run('web-1', 15999, { namespace: 'shop', json })].join('\n');
    const c = fakeCluster(log, undefined, onNode1('default', 'shop'));
    assert.equal(port(await cniRules(c, at('web-1', 'node-1', 'default'))), '15001', `json=${json}`);
    assert.equal(port(await cniRules(c, at('web-1', 'node-1', 'shop'))), '15999', `json=${json}`);
    // a labelled frame needs no lookup of the node's pods
    assert.ok(!c.lists.some((l) => l.includes('metadata.name')), c.lists.join('; '));
    await assert.rejects(cniRules(c, at('web-1', 'node-1', 'other')), /has no "Start iptables configuration for web-1" of namespace other \(only of default, shop\)/);
    const f = podFrame(log, 'web-1', 'default');
    assert.equal(f.kind === 'found' && f.namespace, 'default');
  }
  // a label of another pod between the labelled line and the frame: the frame's namespace is not known
  const mixed = [run('web-1', 1, { namespace: 'shop' })[0], '2026-11-16T10:00:00Z\tinfo\tcni-plugin\texcluded due to inject-disabled annotation\tpod=default/db-0', ...run('web-1', 15001).slice(0)].join('\n');
  const m = podFrame(mixed, 'web-1', 'default');
  assert.equal(m.kind, 'found');
  assert.equal(m.kind === 'found' ? m.namespace : 'x', undefined);
});

test('the agent re-adds the plugin entry\'s fields as labels in no fixed order: pod= is found among others', () => {
  const frame = run('web-1', 15001).join('\n');
  for (const labels of ['containerID=4f2a pod=shop/web-1 netns=/var/run/netns/cni-1', 'pod=shop/web-1 containerID=4f2a', 'netns=/var/run/netns/cni-1\tpod=shop/web-1']) {
    const log = `2026-11-16T10:00:00Z\tdebug\tcni-plugin\tSetting up redirect\t${labels}\n${frame}`;
    const f = podFrame(log, 'web-1', 'shop');
    assert.equal(f.kind === 'found' && f.namespace, 'shop', labels);
  }
  // a value that merely ends in pod=…, or a message that mentions it, is no label
  const f = podFrame(`2026-11-16T10:00:00Z\tdebug\tcni-plugin\tSetting up redirect\tnote=xpod=shop/web-1\n${frame}`, 'web-1');
  assert.equal(f.kind === 'found' ? f.namespace : 'x', undefined);
});

test('a frame without its namespace (info level) is refused as uncertain when a pod of that name runs in another namespace on the node', async () => {
  const log = [...run('web-1', 15001), ...run('web-1', 15999)].join('\n');
  await assert.rejects(cniRules(fakeCluster(log, undefined, onNode1('default', 'shop')), at('web-1', 'node-1', 'default')), /^MeshctlError: uncertain: the install-cni log of istio-system\/istio-cni-node-a names web-1 without its namespace, and node node-1 also runs a pod web-1 in namespace shop: its frame may hold the other pod's rules$/);
  await assert.rejects(cniRules(fakeCluster(log, undefined, onNode1('default', 'shop')), at('web-1', 'node-1', 'shop')), /also runs a pod web-1 in namespace default/);
  // the only web-1 of the node: its last frame
  const c = fakeCluster(log, undefined, onNode1('default'));
  assert.equal(port(await cniRules(c, at('web-1', 'node-1', 'default'))), '15999');
  assert.ok(c.lists.includes(' spec.nodeName=node-1,metadata.name=web-1'), c.lists.join('; '));
  // the node's pods cannot be listed: not guessed
  const refused = fakeCluster(log);
  refused.list = async (_t, o) => {
    if (o?.labelSelector) return [{ metadata: { name: 'istio-cni-node-a', namespace: 'istio-system' } }];
    throw new Error('pods is forbidden: cannot list pods at the cluster scope');
  };
  await assert.rejects(cniRules(refused, at('web-1', 'node-1')), /names web-1 without its namespace, and the pods of node node-1 cannot be listed .*: pods is forbidden/);
});

test('native nftables mode: the frame says nftables, and meshctl says it reads iptables only', async () => {
  const log = ['2026-11-16T10:00:00Z\tinfo\tcni-plugin\t============= Start nftables configuration for web-1 =============', '2026-11-16T10:00:00Z\tinfo\tcni-plugin\t============= End nftables configuration for web-1 ============='].join('\n');
  await assert.rejects(cniRules(fakeCluster(log), at('web-1', 'node-1')), /programmed nftables, not iptables, for web-1 \(native nftables mode\)/);
});

let cluster: FakeCluster;
before(async () => {
  cluster = await startCluster({ iptables: true });
});
after(async () => {
  await cluster.close();
});

test('live: iptables and iptables trace of a CNI-mode pod read the istio-cni-node log, without exec into the pod', async () => {
  const pod = `${REVIEWS_V2}.default`;
  const r = await runCli(['iptables', pod, '--kubeconfig', cluster.kubeconfig]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Rules from the istio-cni plugin's log of pod ${pod} in istio-system/${ISTIO_CNI_NODE} \\(istio-iptables format\\)`));
  assert.match(r.stdout, /--dport 53 .*REDIRECT/);
  const t = await runCli(['iptables', 'trace', pod, '--dst', '10.96.0.10:53', '--proto', 'udp', '--kubeconfig', cluster.kubeconfig]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /15053/);
  assert.deepEqual(cluster.execs.filter((e) => e.startsWith(REVIEWS_V2)), []);
});
