import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AnalyzeCommandOptions } from '../../src/commands/analyze.js';
import { ingressObjects } from './objects.js';
import { runAnalyze } from './run.js';
import { type ApiServer, type KubeObject, type RbacDenial, startApiServer, writeKubeconfig } from '../harness/apiserver.js';
import { scratchDir } from '../helpers.js';

// analyze against the API-server stand-in: client-node's real REST code over a loopback socket.
const tmp = scratchDir('meshctl-analyze-kube-');

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'istio-injection': 'enabled' } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'default' }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] } },
  {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'reviews-v1-abc', namespace: 'default', labels: { app: 'reviews', version: 'v1' } },
    spec: { containers: [{ name: 'reviews', image: 'reviews:1' }] },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'default' },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews.bogus' } }] }] },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'default' },
    spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'public', namespace: 'default' },
    spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls: { mode: 'SIMPLE', credentialName: 'web-cert' } }] },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'elsewhere', namespace: 'other' },
    spec: { hosts: ['x'], http: [{ route: [{ destination: { host: 'nowhere' } }] }] },
  },
];

let api: ApiServer;
let kubeconfig: string;
before(async () => {
  api = await startApiServer({ objects });
  kubeconfig = await writeKubeconfig(path.join(tmp, 'kubeconfig'), { server: api.url, namespace: 'default' });
});
after(async () => {
  await api.close();
});

const run = (files: string[], opts: Partial<AnalyzeCommandOptions> = {}) => runAnalyze(files, { kubeconfig, timeout: '5s', ...opts });

/** A request without its query string. */
const pathOf = (request: string) => request.replace(/\?.*$/, '');

test('no files: the cluster is analyzed through client-node, findings in the context namespace', async () => {
  const before = api.requests.length;
  const r = await run([]);
  assert.equal(r.code, 79, r.stderr);
  assert.deepEqual(r.lines, [
    // no gateway pod: istioctl says so, and checks no credential (it cannot know the namespace)
    'Error [IST0101] (Gateway default/public) Referenced selector not found: "istio=ingressgateway"',
    'Error [IST0101] (VirtualService default/reviews) Referenced host not found: "reviews.bogus"',
    'Error [IST0173] (DestinationRule default/reviews) The Subset v2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).',
    'Warning [IST0103] (Pod default/reviews-v1-abc) The pod default/reviews-v1-abc is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.',
  ]);
  // (lists are paginated as every command's are: compare paths, not the ?limit=… query)
  const requests = api.requests.slice(before).map(pathOf);
  assert.ok(requests.includes('GET /apis/networking.istio.io/v1/virtualservices'), requests.join('\n'));
  assert.ok(requests.includes('GET /api/v1/pods'));
  assert.ok(requests.includes('GET /api/v1/namespaces'));
});

test('-A reports every namespace; -n another one', async () => {
  const all = await run([], { allNamespaces: true });
  assert.ok(all.lines.some((l) => l.includes('(VirtualService other/elsewhere)')));
  assert.ok(all.lines.some((l) => l.startsWith('Info [IST0102] (Namespace other)')));
  const other = await run([], { namespace: 'other' });
  assert.deepEqual(other.lines.map((l) => l.slice(0, l.indexOf(')') + 1)), ['Error [IST0101] (VirtualService other/elsewhere)', 'Info [IST0102] (Namespace other)']);
});

test('--use-kube merges files over the cluster: a fixed VirtualService replaces the broken one', async () => {
  const file = path.join(tmp, 'reviews-fixed.yaml');
  writeFileSync(file, 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v3\n');
  const r = await run([file], { useKube: true });
  assert.ok(!r.lines.some((l) => l.includes('reviews.bogus')), r.stdout);
  assert.ok(r.lines.includes(`Error [IST0101] (VirtualService default/reviews ${file}:11) Referenced host+subset in destinationrule not found: "reviews+v3"`), r.stdout);
  const filesOnly = await run([file]);
  assert.ok(!filesOnly.lines.some((l) => l.includes('Gateway')), 'files alone do not read the cluster');
});

test('forbidden secrets: a warning, and the credential check is not guessed', async () => {
  const deny: RbacDenial[] = [{ verb: 'list', resource: 'secrets' }];
  const restricted = await startApiServer({ objects, deny });
  try {
    const kc = await writeKubeconfig(path.join(tmp, 'restricted'), { server: restricted.url, namespace: 'default' });
    const r = await run([], { kubeconfig: kc });
    assert.match(r.stderr, /^Warning: not allowed to list secrets; the checks that need them are skipped$/m);
    assert.ok(!r.lines.some((l) => l.includes('credentialName')), r.stdout);
    assert.ok(r.lines.some((l) => l.includes('reviews.bogus')));
  } finally {
    await restricted.close();
  }
});

test('an unreachable API server is one clear error, exit 1', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const kc = await writeKubeconfig(path.join(tmp, 'dead'), { server: `http://127.0.0.1:${port}` });
  const r = await run([], { kubeconfig: kc });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /127\.0\.0\.1/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const missing = await run([], { kubeconfig: path.join(tmp, 'none') });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such file/);
});

/** A second cluster, for the kinds the newer analyzers read: gateway pods and their secrets, Telemetry, WasmPlugin, CRDs, the mesh config. */
function newerKinds(): KubeObject[] {
  return [
    ...ingressObjects('web-cert'),
    {
      apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'public', namespace: 'default' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls: { mode: 'SIMPLE', credentialName: 'web-cert' } }] },
    },
    {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'edge-1', namespace: 'default', labels: { 'gateway.networking.k8s.io/gateway-name': 'edge' } },
      spec: { containers: [{ name: 'istio-proxy', image: 'proxyv2' }] },
    },
    {
      apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: { name: 'edge-wasm', namespace: 'default' },
      spec: { selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'edge' } }, url: 'oci://registry.example.com/edge:1' },
    },
    {
      apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'mesh-default', namespace: 'istio-system' },
      spec: { accessLogging: [{}], tracing: [{ providers: [{ name: 'lightstep' }] }] },
    },
    {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: 'extensionProviders:\n- name: lightstep\n  lightstep: {service: ls.istio-system.svc.cluster.local, port: 8080}\n' },
    },
    {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
      metadata: { name: 'grpcroutes.gateway.networking.k8s.io', annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.0.0' } },
      spec: { group: 'gateway.networking.k8s.io', names: { kind: 'GRPCRoute', plural: 'grpcroutes' }, scope: 'Namespaced', versions: [] },
    },
  ];
}

test('newer kinds: gateway pods and secrets, WasmPlugin, Telemetry, the mesh ConfigMap and Gateway API CRDs are read', async () => {
  const server = await startApiServer({ objects: newerKinds() });
  try {
    const kc = await writeKubeconfig(path.join(tmp, 'newer'), { server: server.url, namespace: 'default' });
    const r = await run([], { kubeconfig: kc, allNamespaces: true });
    assert.deepEqual(r.lines, [
      'Error [IST0161] (Gateway default/public) The credential referenced by the Gateway public in namespace istio-system is invalid, which can cause the traffic not to work as expected.',
      'Warning [IST0002] (Telemetry istio-system/mesh-default) Deprecated: The Lightstep provider lightstep is deprecated, please migrate to OpenTelemetry provider.',
      'Warning [IST0157] (Telemetry istio-system/mesh-default) The Telemetry mesh-default in namespace "istio-system" with empty providers will be ignored.',
      'Warning [IST0166] (WasmPlugin default/edge-wasm) Ineffective selector on Kubernetes Gateway edge. Use the TargetRef field instead.',
      'Warning [IST0176] (CustomResourceDefinition grpcroutes.gateway.networking.k8s.io) Gateway API CRD "grpcroutes.gateway.networking.k8s.io" is at version "1.0.0" but Istio requires at least "1.1.0"; resources of this kind will not be processed. Upgrade the Gateway API CRDs to satisfy the minimum version.',
    ]);
    const requests = server.requests.map(pathOf);
    assert.ok(requests.includes('GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/grpcroutes.gateway.networking.k8s.io'), requests.join('\n'));
    assert.ok(requests.includes('GET /api/v1/namespaces/istio-system/configmaps'));
    assert.ok(requests.includes('GET /apis/extensions.istio.io/v1alpha1/wasmplugins'));
  } finally {
    await server.close();
  }
});

test('forbidden secrets with the gateway pods known: a missing credential is not reported, an invalid one cannot be seen', async () => {
  const objects = newerKinds().filter((o) => o.kind !== 'Secret');
  const server = await startApiServer({ objects, deny: [{ verb: 'list', resource: 'secrets' }] });
  try {
    const kc = await writeKubeconfig(path.join(tmp, 'nosecrets'), { server: server.url, namespace: 'default' });
    const r = await run([], { kubeconfig: kc, allNamespaces: true });
    assert.match(r.stderr, /not allowed to list secrets/);
    assert.ok(!r.lines.some((l) => l.includes('credential')), r.stdout);
    // the same cluster with secrets readable but web-cert gone: now it is really missing
    const open = await startApiServer({ objects });
    try {
      const kc2 = await writeKubeconfig(path.join(tmp, 'gone'), { server: open.url, namespace: 'default' });
      const r2 = await run([], { kubeconfig: kc2, allNamespaces: true });
      assert.ok(r2.lines.includes('Error [IST0101] (Gateway default/public) Referenced credentialName not found: "web-cert"'), r2.stdout);
    } finally {
      await open.close();
    }
  } finally {
    await server.close();
  }
});
