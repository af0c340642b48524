import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import yaml from 'js-yaml';
import { type ApiServer, type KubeObject, startApiServer, writeKubeconfig } from '../harness/apiserver.js';
import { fixture, isOneLineError, runCli, scratchDir } from '../helpers.js';

const read = (name: string) => readFileSync(fixture('inject', name), 'utf8');
const load = (text: string) => yaml.loadAll(text).filter((d) => d !== null);
const dir = scratchDir('meshctl-inject-live-');
/** No kubeconfig of the machine running the tests may leak in. */
const env = { HOME: dir, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined };

function configMap(name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'istio-system' }, data };
}

let withConfig: ApiServer;
let empty: ApiServer;
let denied: ApiServer;
const kubeconfigs: Record<string, string> = {};

before(async () => {
  const injector = yaml.load(read('injector-configmap.yaml')) as { data: Record<string, string> };
  const mesh = yaml.load(read('mesh-configmap.yaml')) as { data: Record<string, string> };
  withConfig = await startApiServer({ objects: [configMap('istio-sidecar-injector-canary', injector.data), configMap('istio-canary', mesh.data)] });
  empty = await startApiServer({ objects: [] });
  denied = await startApiServer({ objects: [], deny: [{ verb: 'get', resource: 'configmaps' }] });
  for (const [k, s] of Object.entries({ withConfig, empty, denied })) {
    kubeconfigs[k] = await writeKubeconfig(path.join(dir, `${k}.yaml`), { server: s.url });
  }
});

after(async () => {
  await Promise.all([withConfig.close(), empty.close(), denied.close()]);
});

test("live mode reads the revision's injector and mesh ConfigMaps and injects as with the same files", async () => {
  const live = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--kubeconfig', kubeconfigs.withConfig, '--revision', 'canary'], { env });
  assert.equal(live.code, 0, live.stderr);
  const files = await runCli(
    ['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--injectConfigFile', fixture('inject', 'injector-configmap.yaml'), '--meshConfigFile', fixture('inject', 'mesh-configmap.yaml')],
    { env },
  );
  assert.deepEqual(load(live.stdout), load(files.stdout));
  assert.match(live.stdout, /istiod-canary\.istio-system\.svc:15012/);
  assert.match(live.stdout, /value: shop\.example/);
  assert.ok(withConfig.requests.some((r) => r.startsWith('GET /api/v1/namespaces/istio-system/configmaps/istio-sidecar-injector-canary')));
  assert.ok(withConfig.requests.some((r) => r.startsWith('GET /api/v1/namespaces/istio-system/configmaps/istio-canary')));
});

test('live mode falls back to the built-in defaults, with notes, when the ConfigMaps are missing', async () => {
  const r = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml')], { env: { ...env, KUBECONFIG: kubeconfigs.empty } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(load(r.stdout), load(read('shop-web.injected.yaml')));
  assert.match(r.stderr, /ConfigMap istio-system\/istio-sidecar-injector not found/);
  assert.match(r.stderr, /ConfigMap istio-system\/istio not found/);
});

test('a forbidden ConfigMap read is one clear error and no output', async () => {
  const out = path.join(dir, 'never.yaml');
  const r = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml'), '--kubeconfig', kubeconfigs.denied, '-o', out], { env });
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /^Error: reading the injector settings: .*configmaps.*--offline/);
  assert.equal(r.stdout, '');
  assert.throws(() => readFileSync(out));
});

test('without any kubeconfig the built-in defaults are used, with a note', async () => {
  const r = await runCli(['kube-inject', '-f', fixture('inject', 'shop-web.yaml')], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^note: no kubeconfig found; using Istio's built-in injection settings/);
});

test('malformed input is reported before the cluster is asked anything', async () => {
  const before = empty.requests.length;
  const r = await runCli(['kube-inject', '-f', '-', '--kubeconfig', kubeconfigs.empty], { stdin: 'kind: Pod\nmetadata: {name: [\n', env });
  assert.equal(r.code, 1);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /^Error: stdin: document 1: not valid JSON or YAML/);
  assert.equal(empty.requests.length, before);
});
