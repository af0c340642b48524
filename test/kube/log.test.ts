import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseLevels, proxyConfigLog } from '../../src/commands/proxy-config-log.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';

describe('proxy-config log', () => {
  let c: FakeCluster;
  const kube = () => ({ kubeconfig: c.kubeconfig, istioNamespace: 'istio-system', timeout: '10s' });
  before(async () => (c = await startCluster()));
  after(async () => c.close());

  test('reads levels with POST /logging, sets all then per logger', async () => {
    const before = await proxyConfigLog(`${PRODUCTPAGE}.default`, kube());
    assert.match(before, /^active loggers:\n {2}admin: warning\n/);
    const after = JSON.parse(await proxyConfigLog(`${PRODUCTPAGE}.default`, { ...kube(), level: 'router:debug,info', output: 'json' })) as Record<string, string>;
    assert.equal(after.router, 'debug');
    assert.equal(after.admin, 'info');
    assert.deepEqual(c.envoys.get(PRODUCTPAGE)!.requests.slice(-3), ['POST /logging', 'POST /logging?level=info', 'POST /logging?router=debug']);
    await proxyConfigLog(`${PRODUCTPAGE}.default`, { ...kube(), reset: true });
    assert.equal(c.envoys.get(PRODUCTPAGE)!.requests.at(-1), 'POST /logging?level=warning');
  });

  test('-l: every ready sidecar pod with the labels, a few at a time', async () => {
    const out = await proxyConfigLog(undefined, { ...kube(), namespace: 'default', selector: 'app=reviews', level: 'upstream:error' });
    assert.match(out, /^reviews-v1-545db77b95-ksq7f\.default:\nactive loggers:\n/);
    assert.match(out, /\nreviews-v2-7bf8c9648f-mx2lp\.default:\nactive loggers:\n/);
    assert.equal((out.match(/upstream: error/g) ?? []).length, 2);
    await assert.rejects(proxyConfigLog(undefined, { ...kube(), namespace: 'default', selector: 'app=ratings' }),
      /no ready pod with an istio-proxy container matches -l app=ratings in namespace default \(1 pod matched\)/);
  });

  test('an unknown logger is named with the ones that exist', async () => {
    await assert.rejects(proxyConfigLog(`${PRODUCTPAGE}.default`, { ...kube(), level: 'nosuch:debug' }),
      /Envoy of pod productpage-v1-7d4b8d9b7c-x2x9z\.default has no logger nosuch \(loggers: admin, connection,/);
  });

  test('--level syntax and saved files', async () => {
    assert.deepEqual(parseLevels('debug,http:warn'), [{ logger: undefined, level: 'debug' }, { logger: 'http', level: 'warning' }]);
    assert.throws(() => parseLevels('loud'), /unknown level "loud"/);
    assert.throws(() => parseLevels('debug,info'), /at most one level for all loggers/);
    const saved = path.join(c.dir, 'logging.txt');
    writeFileSync(saved, 'active loggers:\n  admin: info\n  http: debug\n');
    assert.equal(await proxyConfigLog(undefined, { file: saved, output: 'yaml' }), 'admin: info\nhttp: debug\n');
    await assert.rejects(proxyConfigLog(undefined, { file: saved, level: 'debug' }), /cannot apply to a saved file/);
  });
});

test('proxy-config log through exec when port-forward is forbidden', async () => {
  const c = await startCluster({ deny: [{ verb: 'create', resource: 'pods/portforward' }] });
  try {
    const out = await proxyConfigLog(PRODUCTPAGE, { kubeconfig: c.kubeconfig, namespace: 'default', level: 'http:trace' });
    assert.match(out, /http: trace/);
    assert.deepEqual(c.execs.map((e) => e.split(': ')[1]), ['pilot-agent request POST logging', 'pilot-agent request POST logging?http=trace']);
  } finally {
    await c.close();
  }
});
