import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { canonicalQuantity } from '../../src/inject/quantity.js';
import { fixture } from '../helpers.js';
import { type Obj, inject } from './util.js';

const read = (name: string) => readFileSync(fixture('inject', name), 'utf8');
const load = (text: string) => yaml.loadAll(text).filter((d) => d !== null) as Obj[];

function owner(doc: Obj): string | undefined {
  const text = JSON.stringify(doc);
  return /"ISTIO_META_OWNER","value":"([^"]+)"/.exec(text)?.[1];
}

test('our fixtures inject to the expected outputs (compared as YAML data)', () => {
  for (const [input, expected] of [
    ['shop-web.yaml', 'shop-web.injected.yaml'],
    ['shop-mixed.yaml', 'shop-mixed.injected.yaml'],
    ['shop-list.yaml', 'shop-list.injected.yaml'],
  ]) {
    assert.deepEqual(load(inject(read(input)).text), load(read(expected)), input);
  }
});

test('every workload kind gets the sidecar with its owner; other kinds pass through untouched and in order', () => {
  const r = inject(read('shop-mixed.yaml'));
  const kinds = r.docs.map((d) => d.kind);
  assert.deepEqual(kinds, ['ConfigMap', 'StatefulSet', 'Pod', 'Job', 'ReplicaSet', 'ReplicationController', 'DeploymentConfig', 'DaemonSet', 'Deployment', 'VirtualService']);
  assert.deepEqual(r.docs.map(owner), [
    undefined,
    'kubernetes://apis/apps/v1/namespaces/shop/statefulsets/orders-db',
    'kubernetes://apis/v1/namespaces/shop/pods/debug-shell',
    'kubernetes://apis/batch/v1/namespaces/default/jobs/reindex',
    'kubernetes://apis/apps/v1/namespaces/default/replicasets/legacy-rs',
    'kubernetes://apis/v1/namespaces/default/replicationcontrollers/legacy-rc',
    'kubernetes://apis/apps.openshift.io/v1/namespaces/default/deploymentconfigs/catalog',
    undefined,
    undefined,
    undefined,
  ]);
  assert.equal(r.changed, 6);
  // untouched documents keep their exact text, comments included
  assert.ok(r.text.startsWith('# Everything the shop deploys'));
  assert.ok(r.text.includes('  name: orders-config   # kept, comment and all\n'));
  assert.ok(r.text.includes('  http: [{route: [{destination: {host: web}}]}]'));
  assert.ok(r.text.includes('      hostNetwork: true\n      containers: [{name: agent, image: node-agent:1}]\n'));
  assert.equal(r.notes.length, 2);
});

test('a kind: List has its workloads injected in place and everything else kept', () => {
  const r = inject(read('shop-list.yaml'));
  const items = r.docs[0].items as Obj[];
  assert.deepEqual(items.map((i) => i.kind), ['Service', 'CronJob', 'Deployment']);
  assert.deepEqual(items[0], (load(read('shop-list.yaml'))[0].items as Obj[])[0]);
  assert.equal(owner(items[1]), 'kubernetes://apis/batch/v1/namespaces/shop/cronjobs/cart-cleanup');
  assert.equal(owner(items[2]), 'kubernetes://apis/apps/v1/namespaces/shop/deployments/cart');
});

test("a CronJob's injected metadata goes on its job template, as istioctl writes it", () => {
  const r = inject(read('shop-list.yaml'));
  const cron = (r.docs[0].items as Obj[])[1] as { spec: { jobTemplate: { metadata: Obj; spec: { template: { metadata: Obj } } } } };
  assert.match(String((cron.spec.jobTemplate.metadata.annotations as Obj)['sidecar.istio.io/status']), /istio-proxy/);
  assert.deepEqual(cron.spec.jobTemplate.spec.template.metadata, { labels: { app: 'cart-cleanup' } });
});

test('a pod owned by a ReplicaSet is attributed to its Deployment', () => {
  // as a pod saved from a cluster has it: a generated name (the injector looks at owners only then)
  const pod = `apiVersion: v1
kind: Pod
metadata:
  name: web-6d4cf56db6-x2x9z
  generateName: web-6d4cf56db6-
  namespace: shop
  labels: {app: web, pod-template-hash: 6d4cf56db6}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4cf56db6, controller: true, uid: x}]
spec:
  containers: [{name: web, image: web:1}]
`;
  const doc = inject(pod).docs[0];
  assert.equal(owner(doc), 'kubernetes://apis/apps/v1/namespaces/shop/deployments/web');
  assert.match(JSON.stringify(doc), /"ISTIO_META_WORKLOAD_NAME","value":"web"/);
});

test('unknown fields, status and user init containers survive; istio-init and istio-proxy come first', () => {
  const doc = inject(read('shop-web.yaml')).docs[0] as { status: Obj; spec: { template: { spec: { initContainers: Obj[]; containers: Obj[] } } } };
  assert.deepEqual(doc.status, { observedGeneration: 7, replicas: 3 });
  const spec = doc.spec.template.spec;
  assert.deepEqual(spec.initContainers.map((c) => c.name), ['istio-init', 'istio-proxy', 'migrate']);
  assert.equal(spec.containers[0]['x-shop-owner'], 'storefront');
  assert.equal(spec.initContainers[1].restartPolicy, 'Always');
});

test('resource quantities are written in canonical form', () => {
  const cases: [string, string][] = [
    ['2000m', '2'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['0.5', '500m'],
    ['100m', '100m'],
    ['1000', '1k'],
    ['0.5Gi', '512Mi'],
    ['512', '512'],
    ['1.5', '1500m'],
    ['abc', 'abc'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, input);
});

test('strings that YAML 1.1 (kubectl) would read as numbers or booleans stay quoted', () => {
  const text = `apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {build: "1_000", flag: "yes", mode: "on", plain: v1_2}
spec:
  containers: [{name: c, image: c:1}]
`;
  const out = inject(text).text;
  assert.match(out, /build: '1_000'/);
  assert.match(out, /flag: 'yes'/);
  assert.match(out, /mode: 'on'/);
  assert.match(out, /plain: v1_2/);
});

test('a JSON manifest comes back as JSON', () => {
  const json = JSON.stringify(yaml.load(read('shop-web.yaml')), null, 2);
  const r = inject(json);
  const parsed = JSON.parse(r.text) as Obj;
  assert.deepEqual(parsed, load(read('shop-web.injected.yaml'))[0]);
});

test('comment lines before and after an injected document are kept in place', () => {
  const text = '# head\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: c:1}]\n# tail\n---\n# next\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n';
  const out = inject(text).text;
  assert.ok(out.startsWith('# head\napiVersion: v1\nkind: Pod\n'));
  assert.match(out, /\nstatus: \{\}\n# tail\n---\n# next\napiVersion: v1\nkind: Service\nmetadata: \{name: s\}\n$/);
});
