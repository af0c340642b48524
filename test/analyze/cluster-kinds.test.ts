import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AnalyzeCommandOptions } from '../../src/commands/analyze.js';
import { runAnalyze } from './run.js';
import { type ApiServer, type KubeObject, startApiServer, writeKubeconfig } from '../harness/apiserver.js';
import { scratchDir } from '../helpers.js';

// The kinds the istioctl analyzers need, read from the API-server stand-in: webhook configurations,
// istio-system ConfigMaps (injector values, mesh config, mesh networks), Nodes, GRPCRoutes,
// ProxyConfigs; and a second cluster's Services through --remote-contexts.
const tmp = scratchDir('meshctl-analyze-kinds-');

const injector = (name: string, url?: string): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name },
  webhooks: [{
    name: 'namespace.sidecar-injector.istio.io',
    clientConfig: url ? { url } : { service: { name: 'istiod', namespace: 'istio-system', path: '/inject' } },
    namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } },
  }],
} as KubeObject);

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { selector: { app: 'istiod' }, ports: [{ name: 'https-webhook', port: 443 }] } },
  injector('istio-sidecar-injector'),
  injector('istio-sidecar-injector-external', 'https://192.0.2.10:15017/inject'),
  {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'istio-validator-istio-system' },
    webhooks: [{ name: 'rev.validation.istio.io', clientConfig: {} }],
  } as KubeObject,
  {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector', namespace: 'istio-system' },
    data: { values: '{"global":{"hub":"docker.io/istio","tag":"1.24.2","proxy":{"image":"proxyv2"}}}' },
  } as KubeObject,
  {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' },
    data: {
      mesh: 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"\n    ISTIO_META_DNS_AUTO_ALLOCATE: "true"\n',
      meshNetworks: 'networks:\n  network1:\n    endpoints:\n    - fromRegistry: Kubernetes\n    - fromRegistry: nowhere\n',
    },
  } as KubeObject,
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/region': 'eu-1' } } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'cart', namespace: 'shop' }, spec: { selector: { app: 'cart' }, ports: [{ name: 'http', port: 8080 }] } },
  {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cart-1', namespace: 'shop', labels: { app: 'cart' } },
    spec: {
      nodeName: 'node-a', securityContext: { runAsUser: 1337 },
      containers: [{ name: 'cart', image: 'cart:1' }, { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.23.0-distroless' }],
    },
  },
  {
    apiVersion: 'networking.istio.io/v1beta1', kind: 'ProxyConfig', metadata: { name: 'distroless', namespace: 'shop' },
    spec: { image: { imageType: 'distroless' } },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'cart', namespace: 'shop' },
    spec: { host: 'cart', subsets: [{ name: 'eu', labels: { 'topology.kubernetes.io/region': 'eu-1' } }, { name: 'us', labels: { 'topology.kubernetes.io/region': 'us-1' } }] },
  },
  {
    apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'db', namespace: 'shop' },
    spec: { hosts: ['db.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'cart', namespace: 'shop' },
    spec: { parentRefs: [{ name: 'cart', kind: 'Service', group: '' }] },
    status: { parents: [{ parentRef: { name: 'cart' }, conditions: [{ type: 'Accepted', status: 'False', reason: 'NoWaypoint', message: 'no waypoint' }] }] },
  } as KubeObject,
];

const remoteObjects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'cart', namespace: 'shop' }, spec: { selector: { app: 'cart' }, ports: [{ name: 'grpc', port: 8080 }] } },
];

let api: ApiServer;
let remote: ApiServer;
let kubeconfig: string;
before(async () => {
  api = await startApiServer({ objects });
  remote = await startApiServer({ objects: remoteObjects });
  kubeconfig = await writeKubeconfig(path.join(tmp, 'kubeconfig'), {
    server: api.url, namespace: 'shop', context: 'primary', otherContexts: [{ name: 'east', server: remote.url }],
  });
});
after(async () => {
  await api.close();
  await remote.close();
});

const run = (files: string[], opts: Partial<AnalyzeCommandOptions> = {}) => runAnalyze(files, { kubeconfig, timeout: '5s', allNamespaces: true, ...opts });
const heads = (lines: string[]) => lines.map((l) => l.slice(0, l.indexOf(')') + 1));

test('cluster mode reads webhooks, istio-system ConfigMaps, Nodes, GRPCRoutes and ProxyConfigs for the istioctl analyzers', async () => {
  const before = api.requests.length;
  const r = await run([]);
  assert.deepEqual(heads(r.lines), [
    'Error [IST0126] (MeshNetworks istio-system/meshnetworks)',
    'Error [IST0139] (MutatingWebhookConfiguration istio-sidecar-injector)',
    'Error [IST0139] (MutatingWebhookConfiguration istio-sidecar-injector-external)',
    'Error [IST0173] (DestinationRule shop/cart)',
    'Warning [IST0144] (Pod shop/cart-1)',
    'Warning [IST0158] (Namespace shop)',
    'Warning [IST0163] (ValidatingWebhookConfiguration istio-validator-istio-system)',
    'Warning [IST0171] (GRPCRoute shop/cart)',
    'Info [IST0164] (MutatingWebhookConfiguration istio-sidecar-injector-external)',
  ], r.stdout);
  // the subset on the pod's node region selects it; the other does not
  assert.ok(r.lines.some((l) => l.includes('The Subset us defined')), r.stdout);
  // the mesh config in the istio ConfigMap allocates ServiceEntry addresses: no IST0134
  assert.ok(!r.lines.some((l) => l.includes('IST0134')));
  // the injector's proxy image, not the namespace's distroless variant of an older one
  assert.ok(r.lines.some((l) => l.includes('(pod names: [cart-1])')));
  // (lists are paginated as every command's are: compare paths, not the ?limit=… query)
  const requests = api.requests.slice(before).map((q) => q.replace(/\?.*$/, ''));
  for (const p of [
    'GET /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', 'GET /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
    'GET /api/v1/namespaces/istio-system/configmaps', 'GET /api/v1/nodes', 'GET /apis/gateway.networking.k8s.io/v1/grpcroutes',
    'GET /apis/networking.istio.io/v1beta1/proxyconfigs',
  ]) {
    assert.ok(requests.includes(p), `${p} not in\n${requests.join('\n')}`);
  }
});

test('--remote-contexts: the other cluster\'s Services, named by their context, against this one\'s', async () => {
  const r = await run([], { remoteContexts: ['east'], analyzer: ['services.MultiClusterServiceAnalyzer'] });
  assert.deepEqual(r.lines, [
    'Warning [IST0170] (Service shop/cart) The service cart in namespace "shop" is inconsistent across clusters ["east" "primary"], which can lead to undefined behaviors. The inconsistent behaviors are: service ports are inconsistent.',
  ], r.stderr);
  // only Services are read from a remote cluster
  assert.deepEqual(remote.requests.filter((q) => !q.startsWith('GET /api/v1/services')), []);
  const missing = await run([], { remoteContexts: ['nowhere'] });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /nowhere/);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
});

test('webhook configurations one may not list: a warning, and the image: auto check stands down', async () => {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gw', namespace: 'edge' },
    spec: { template: { metadata: { labels: { istio: 'gw' } }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } } },
  } as KubeObject;
  const edge: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'edge' } };
  const denied = await startApiServer({ objects: [edge, deployment], deny: [{ verb: 'list', resource: 'mutatingwebhookconfigurations' }] });
  const open = await startApiServer({ objects: [edge, deployment, injector('istio-sidecar-injector')] });
  try {
    const kc1 = await writeKubeconfig(path.join(tmp, 'denied'), { server: denied.url, namespace: 'edge' });
    const r1 = await runAnalyze([], { kubeconfig: kc1, timeout: '5s', analyzer: ['injection.ImageAutoAnalyzer'] });
    assert.match(r1.stderr, /Warning: not allowed to list mutatingwebhookconfigurations\.admissionregistration\.k8s\.io/);
    assert.deepEqual(r1.lines, []);
    const kc2 = await writeKubeconfig(path.join(tmp, 'open'), { server: open.url, namespace: 'edge' });
    const r2 = await runAnalyze([], { kubeconfig: kc2, timeout: '5s', analyzer: ['injection.ImageAutoAnalyzer'] });
    assert.deepEqual(heads(r2.lines), ['Warning [IST0146] (Deployment edge/gw)']);
  } finally {
    await denied.close();
    await open.close();
  }
});
