import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakeCluster, startCluster } from '../harness/cluster.js';
import { isOneLineError, runCli } from '../helpers.js';

/**
 * ztunnel-config against the API-server stand-in: ztunnel pods on three nodes, each serving its own
 * dump on port 15000, reached through port-forward (or exec of curl when port-forward is forbidden).
 */
const CP = 'ztunnel-7kq2p';
const W1 = 'ztunnel-n4xw8';
const W2 = 'ztunnel-r9c5t';
const PRODUCTPAGE = 'productpage-v1-5b8d7f9c6d-k2lxp';

describe('ztunnel-config live', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster()));
  after(async () => c.close());

  const zc = (args: string[]) => runCli(['zc', ...args, '--kubeconfig', c.kubeconfig, '--timeout', '10s']);
  const asked = () => Object.fromEntries([...c.ztunnels].map(([pod, b]) => [pod, b.requests.length]));
  const delta = (before: Record<string, number>) => Object.fromEntries(Object.entries(asked()).map(([pod, n]) => [pod, n - before[pod]]));

  test('a ztunnel pod by name (namespace: the Istio one), --node, and any ztunnel when the view is the same everywhere', async () => {
    let b = asked();
    let r = await zc(['certs', W2]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bookinfo-details +Leaf +Available/);
    assert.deepEqual(delta(b), { [CP]: 0, [W1]: 0, [W2]: 1 });
    assert.equal(c.ztunnels.get(W2)!.requests.at(-1), 'GET /config_dump');

    b = asked();
    r = await zc(['certs', '--node', 'ambient-worker']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /shop\/sa\/cart +NA +Initializing +false/);
    assert.deepEqual(delta(b), { [CP]: 0, [W1]: 1, [W2]: 0 });

    r = await zc(['svc']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^bookinfo +reviews +10\.96\.74\.131 +reviews-waypoint +2\/2$/m);
  });

  test('a workload pod: the ztunnel on its node, the view filtered to that workload', async () => {
    const b = asked();
    let r = await zc(['workloads', `${PRODUCTPAGE}.bookinfo`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n').slice(1), [`bookinfo  ${PRODUCTPAGE} 10.244.1.12 ambient-worker None     HBONE`]);
    assert.deepEqual(delta(b), { [CP]: 0, [W1]: 1, [W2]: 0 });
    r = await zc(['cons', PRODUCTPAGE, '-n', 'bookinfo', '--direction', 'outbound']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trimEnd().split('\n').slice(1);
    assert.equal(rows.length, 2);
    assert.ok(rows.every((l) => l.startsWith(`${PRODUCTPAGE}.bookinfo Outbound`)), rows.join('\n'));
    // a pod on the other node: that node's ztunnel
    r = await zc(['w', 'details-v1-7f9d6c8b5-qx8mz.bookinfo', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { node: string }[]).map((w) => w.node), ['ambient-worker2']);
  });

  test('views that differ per ztunnel need a pod or --node when there are several', async () => {
    for (const view of ['certificates', 'connections']) {
      const r = await zc([view]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(isOneLineError(r.stderr), r.stderr);
      assert.match(r.stderr, new RegExp(`ztunnel-config ${view} differs per ztunnel: name a ztunnel pod or --node \\(3 ztunnels: ${CP}, ${W1}, ${W2}\\)`));
    }
  });

  test('mistakes are one line: no ztunnel on the node, no such pod, a pod on no node, a wrong admin port', async () => {
    const cases: [string[], RegExp][] = [
      [['w', '--node', 'ambient-worker9'], /no ztunnel pod on node ambient-worker9 \(ztunnels run on: ambient-control-plane, ambient-worker, ambient-worker2\)/],
      [['w', 'nope.bookinfo'], /pod nope not found in namespace bookinfo/],
      [['w', 'deployment/productpage-v1.bookinfo'], /name a pod/],
      [['w', W1, '--proxy-admin-port', '15999'], /ztunnel-n4xw8\.istio-system/],
      [['w', '-i', 'other-system'], /no ztunnel DaemonSet in namespace other-system/],
    ];
    for (const [args, pattern] of cases) {
      const r = await zc(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.ok(isOneLineError(r.stderr), `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
    }
  });

  test('log: every ztunnel, one, --node; --level in istioctl\'s and ztunnel\'s forms; --reset', async () => {
    let r = await zc(['log']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...r.stdout.matchAll(/^(ztunnel-\w+)\.istio-system:$/gm)].map((m) => m[1]), [CP, W1, W2]);
    assert.equal(r.stdout.match(/^current log level is hickory_server::server=off,info$/gm)?.length, 3);

    r = await zc(['log', W1, '--level', 'access:debug,warning']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${W1}.istio-system:\ncurrent log level is hickory_server::server=off,access=debug,warn\n\n`);
    assert.equal(c.ztunnels.get(W1)!.requests.at(-1), 'POST /logging?level=access%3Ddebug%2Cwarn');

    r = await zc(['log', '--node', 'ambient-worker', '-o', 'json']);
    assert.deepEqual(JSON.parse(r.stdout), { [`${W1}.istio-system`]: 'hickory_server::server=off,access=debug,warn' });
    r = await zc(['log', W1, '--reset']);
    assert.match(r.stdout, /current log level is hickory_server::server=off,info\n/);
    assert.equal(c.ztunnels.get(W1)!.requests.at(-1), 'POST /logging?reset');

    r = await zc(['log', W1, '--level', 'loud']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--level: unknown level "loud"/);
    r = await zc(['log', `${PRODUCTPAGE}.bookinfo`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`pod ${PRODUCTPAGE}\\.bookinfo is not a ztunnel; the ztunnel serving it is ${W1}\\.istio-system`));
  });
});

describe('ztunnel-config live where port-forward is forbidden', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster({ deny: [{ verb: 'create', resource: 'pods/portforward' }] })));
  after(async () => c.close());

  test('falls back to exec of curl in the ztunnel container, with a fixed argument vector', async () => {
    const r = await runCli(['zc', 'pol', '--node', 'ambient-worker2', '--kubeconfig', c.kubeconfig]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^payments +ledger-deny-outside +Deny +WorkloadSelector$/m);
    assert.deepEqual(c.execArgv.at(-1), { pod: W2, container: 'istio-proxy', argv: ['curl', '-sS', '--fail', '-X', 'GET', 'http://localhost:15000/config_dump'] });
    const l = await runCli(['zc', 'log', W2, '--level', 'debug', '--kubeconfig', c.kubeconfig]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /current log level is hickory_server::server=off,debug/);
  });
});

describe('ztunnel-config live where neither port-forward nor exec is allowed', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster({ deny: [{ verb: 'create', resource: 'pods/portforward' }, { verb: 'create', resource: 'pods/exec' }] })));
  after(async () => c.close());

  test('one line naming both RBAC permissions', async () => {
    const r = await runCli(['zc', 'w', W1, '--kubeconfig', c.kubeconfig]);
    assert.equal(r.code, 1);
    assert.ok(isOneLineError(r.stderr), r.stderr);
    assert.match(r.stderr, new RegExp(`forbidden \\(403\\): may neither port-forward to nor exec in pod ${W1}\\.istio-system`));
  });
});

describe('ztunnel-config live: a ztunnel answering garbage', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster({ ztunnelGarble: 'html' })));
  after(async () => c.close());

  test('one line naming the pod and what came back', async () => {
    const r = await runCli(['zc', 'all', W1, '--kubeconfig', c.kubeconfig]);
    assert.equal(r.code, 1);
    assert.ok(isOneLineError(r.stderr), r.stderr);
    assert.match(r.stderr, new RegExp(`${W1}\\.istio-system:/config_dump: an HTML page \\("502 Bad Gateway"\\), not JSON or YAML`));
  });
});
