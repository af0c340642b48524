import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, type Kube } from '../../src/kube/client.js';
import { execInPod } from '../../src/kube/exec.js';
import { resolvePod } from '../../src/kube/pods.js';
import { getConfigMap, getNamespace, listEndpoints, listNamespaces, listServices, podLogs } from '../../src/kube/resources.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';

let c: FakeCluster;
let kube: Kube;
before(async () => {
  c = await startCluster();
  kube = await connect({ kubeconfig: c.kubeconfig, timeout: '5s' });
});
after(async () => {
  kube.close();
  await c.close();
});

test('read helpers: services, endpoints, namespaces, configmaps, logs', async () => {
  assert.deepEqual((await listServices(kube, 'default')).map((s) => s.metadata?.name).sort(), ['details', 'headless-db', 'productpage', 'ratings', 'reviews']);
  assert.ok((await listServices(kube)).some((s) => s.metadata?.name === 'istiod'));
  assert.equal((await listEndpoints(kube, 'default')).find((e) => e.metadata?.name === 'reviews')?.subsets?.[0].addresses?.length, 2);
  assert.equal((await getNamespace(kube, 'default')).metadata?.labels?.['istio-injection'], 'enabled');
  assert.deepEqual((await listNamespaces(kube, 'istio.io/rev=canary')).map((n) => n.metadata?.name), ['bookinfo-lab']);
  assert.match((await getConfigMap(kube, 'istio', 'istio-system')).data?.mesh ?? '', /trustDomain: cluster.local/);
  assert.equal(await podLogs(kube, { name: PRODUCTPAGE, namespace: 'default' }, 'istio-proxy', 1), 'line three\n');
  await assert.rejects(getConfigMap(kube, 'nope', 'istio-system'), /configmap nope not found in namespace istio-system$/);
});

test('execInPod: fixed argv, stdout and exit code from the status channel', async () => {
  const pod = await resolvePod(kube, `${PRODUCTPAGE}.default`);
  const ok = await execInPod(kube, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'server_info']);
  assert.equal(ok.exitCode, 0);
  assert.match(ok.stdout.toString(), /"state": "LIVE"/);
  const bad = await execInPod(kube, pod, 'istio-proxy', ['sh', '-c', 'echo hi']);
  assert.equal(bad.exitCode, 127);
  assert.match(bad.stderr, /executable file not found/);
  await assert.rejects(execInPod(kube, pod, 'nope', ['true']), /pod productpage-v1-7d4b8d9b7c-x2x9z\.default has no container nope \(containers: app, istio-proxy\)/);
  await assert.rejects(execInPod(kube, { name: pod.name, namespace: 'default' }, 'nope', ['true']), /answered 400 to create pods\/exec of pod productpage-v1-7d4b8d9b7c-x2x9z in namespace default/);
});
