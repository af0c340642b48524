import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openLiveAdmin } from '../../src/kube/admin-source.js';
import { writeKubeconfig } from '../harness/apiserver.js';
import { type FakeCluster, PRODUCTPAGE, startCluster } from '../harness/cluster.js';

const opts = (c: FakeCluster, extra: Record<string, unknown> = {}) => ({
  kubeconfig: c.kubeconfig,
  istioNamespace: 'istio-system',
  timeout: '5s',
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    const v = await p;
    if (v && typeof v === 'object' && 'close' in v) await (v as { close(): Promise<void> }).close();
  } catch (err) {
    const message = (err as Error).message;
    assert.ok(!message.includes('\n'), `one line: ${message}`);
    return message;
  }
  assert.fail('expected a failure');
}

async function getDump(c: FakeCluster, ref: string, extra: Record<string, unknown> = {}): Promise<string> {
  const admin = await openLiveAdmin(ref, opts(c, extra));
  try {
    return (await admin.get('/config_dump')).text;
  } finally {
    await admin.close();
  }
}

describe('API errors become one clear line', () => {
  let c: FakeCluster;
  before(async () => (c = await startCluster()));
  after(async () => c.close());

  test('404 names the pod and namespace; a prefix suggests the pod', async () => {
    assert.equal(await failure(getDump(c, 'nosuch-pod.default')), 'pod nosuch-pod not found in namespace default');
    assert.match(await failure(getDump(c, 'productpage-v1.default')), new RegExp(`did you mean ${PRODUCTPAGE}\\?`));
    assert.match(await failure(getDump(c, 'reviews')), /ambiguous as a prefix of 3 pods .*deployment\/reviews/);
    assert.match(await failure(getDump(c, 'deployment/nope')), /^deployment nope not found in namespace default$/);
  });

  test('no running, ready pod; pending pod; pod without a sidecar', async () => {
    assert.match(await failure(getDump(c, 'deploy/ratings-v1')), /deployment\/ratings-v1 in namespace default has no running, ready pod \(1 pod: ratings-v1-6f5c8d4b9-q8w2e Running but not ready\)/);
    assert.match(await failure(getDump(c, 'reviews-v1-545db77b95-pending')), /is Pending, not Running/);
    assert.match(await failure(getDump(c, 'details-v1-5f4d584748-nosdc')), /has no istio-proxy container \(containers: details\)/);
  });

  test('unknown kinds and malformed references are usage errors', async () => {
    assert.match(await failure(getDump(c, 'cronjob/x')), /unsupported resource kind "cronjob"/);
    assert.match(await failure(getDump(c, 'x.')), /malformed pod reference/);
  });
});

describe('RBAC', () => {
  test('403 on get pods names the verb and resource', async () => {
    const c = await startCluster({ deny: [{ verb: 'get', resource: 'pods' }] });
    try {
      const m = await failure(getDump(c, PRODUCTPAGE));
      assert.match(m, /^forbidden \(403\): user "system:serviceaccount:default:meshctl" may not get pod /);
      assert.match(m, /RBAC needs verb "get" on resource "pods" in namespace default/);
    } finally {
      await c.close();
    }
  });

  test('port-forward forbidden: falls back to exec of pilot-agent request', async () => {
    const c = await startCluster({ deny: [{ verb: 'create', resource: 'pods/portforward' }] });
    try {
      const admin = await openLiveAdmin(PRODUCTPAGE, opts(c));
      try {
        const dump = await admin.get('/config_dump?include_eds');
        assert.match(dump.text, /EndpointsConfigDump/);
        assert.equal(admin.via, 'exec');
        await admin.get('/server_info');
      } finally {
        await admin.close();
      }
      assert.deepEqual(c.execs, [
        `${PRODUCTPAGE} istio-proxy: pilot-agent request GET config_dump?include_eds`,
        `${PRODUCTPAGE} istio-proxy: pilot-agent request GET server_info`,
      ]);
      assert.ok(c.api.requests.some((r) => r.includes('/exec?') && r.includes('command=pilot-agent&command=request&command=GET')));
    } finally {
      await c.close();
    }
  });

  test('both forbidden: one line naming both missing permissions', async () => {
    const c = await startCluster({ deny: [{ verb: 'create', resource: 'pods/portforward' }, { verb: 'create', resource: 'pods/exec' }] });
    try {
      const m = await failure(getDump(c, PRODUCTPAGE));
      assert.match(m, /"create" on resource "pods\/portforward".*"create" on resource "pods\/exec"/);
      assert.match(m, /^forbidden \(403\): may neither port-forward to nor exec in pod productpage-v1-7d4b8d9b7c-x2x9z\.default: /);
    } finally {
      await c.close();
    }
  });

  test('401 says the credentials were refused', async () => {
    const c = await startCluster({ token: 'another-token' });
    try {
      assert.match(await failure(getDump(c, PRODUCTPAGE)), /^unauthorized \(401\): the API server at http:\/\/127\.0\.0\.1:\d+ did not accept the credentials of context "harness"/);
    } finally {
      await c.close();
    }
  });
});

describe('transport failures', () => {
  test('connection refused names the server', async () => {
    const port = await freePort();
    const c = await startCluster();
    try {
      const file = await writeKubeconfig(path.join(c.dir, 'refused'), { server: `http://127.0.0.1:${port}` });
      const m = await failure(getDump(c, PRODUCTPAGE, { kubeconfig: file }));
      assert.equal(m, `cannot reach the API server at http://127.0.0.1:${port}: connection refused (context "harness")`);
    } finally {
      await c.close();
    }
  });

  test('a server that is not a Kubernetes API server', async () => {
    const c = await startCluster();
    try {
      const notApi = c.envoys.get(PRODUCTPAGE)!.port;
      const file = await writeKubeconfig(path.join(c.dir, 'not-api'), { server: `http://127.0.0.1:${notApi}` });
      const m = await failure(getDump(c, PRODUCTPAGE, { kubeconfig: file }));
      assert.equal(m, `http://127.0.0.1:${notApi} answered 404 to get pod ${PRODUCTPAGE} in namespace default without a Kubernetes Status: is it a Kubernetes API server?`);
    } finally {
      await c.close();
    }
  });

  test('an API server that never answers: --timeout is honoured', async () => {
    const c = await startCluster({ hangPaths: ['/api/v1/namespaces/default/pods'] });
    try {
      const m = await failure(getDump(c, PRODUCTPAGE, { timeout: '300ms' }));
      assert.match(m, /^timed out after 300ms waiting for the API server at .* to get pod productpage-v1-7d4b8d9b7c-x2x9z in namespace default \(raise --timeout\)$/);
    } finally {
      await c.close();
    }
  });

  test('a port-forward upgrade that is never answered: the handshake times out', async () => {
    const c = await startCluster({ hangPaths: [`/api/v1/namespaces/default/pods/${PRODUCTPAGE}/portforward`] });
    try {
      const m = await failure(getDump(c, PRODUCTPAGE, { timeout: '300ms' }));
      assert.match(m, /^timed out after 300ms waiting for /);
    } finally {
      await c.close();
    }
  });

  test('an Envoy that never answers: timeout names the pod and path', async () => {
    const c = await startCluster({ envoyHang: ['/config_dump'] });
    try {
      const m = await failure(getDump(c, PRODUCTPAGE, { timeout: '300ms' }));
      assert.match(m, /^timed out after 300ms waiting for GET \/config_dump from pod productpage-v1-7d4b8d9b7c-x2x9z\.default port 15000/);
    } finally {
      await c.close();
    }
  });

  test('a port-forward that drops mid-transfer is an error, not a short dump', async () => {
    const c = await startCluster({ dropAfterBytes: 4000 });
    try {
      const m = await failure(getDump(c, PRODUCTPAGE));
      assert.match(m, /^port-forward to pod productpage-v1-7d4b8d9b7c-x2x9z\.default port 15000 closed after \d+ bytes while reading \/config_dump, before the response was complete/);
    } finally {
      await c.close();
    }
  });

  test('nothing listening on the admin port: the kubelet error is passed on', async () => {
    const c = await startCluster();
    try {
      const m = await failure(getDump(c, PRODUCTPAGE, { proxyAdminPort: 15999 }));
      assert.match(m, /port-forward to pod productpage-v1-7d4b8d9b7c-x2x9z\.default port 15999 failed: error forwarding port 15999 .*connection refused/);
    } finally {
      await c.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
