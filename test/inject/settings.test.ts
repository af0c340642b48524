import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { resolveSettings } from '../../src/inject/config.js';
import { clusterProvider, fileProvider } from '../../src/inject/providers.js';
import { injectText, uninjectText } from '../../src/inject/run.js';
import { fixture, scratchDir } from '../helpers.js';

const load = (text: string) => yaml.loadAll(text).filter((d) => d !== null);
const read = (name: string) => readFileSync(fixture('inject', name), 'utf8');
const web = { name: 'shop-web.yaml', text: read('shop-web.yaml') };

async function fromFiles(files: Parameters<typeof fileProvider>[0], flags = {}) {
  const raw = await fileProvider(files).load();
  return { raw, settings: resolveSettings(raw, flags) };
}

test('--meshConfigFile (istio ConfigMap) and --valuesFile (plain values) shape the sidecar', async () => {
  const { settings, raw } = await fromFiles({ meshConfigFile: fixture('inject', 'mesh-configmap.yaml'), valuesFile: fixture('inject', 'values.yaml') });
  assert.equal(raw.notes, undefined);
  const out = injectText(web, settings).text;
  assert.deepEqual(load(out), load(read('shop-web.mesh-values.injected.yaml')));
  assert.match(out, /value: shop\.example/);
  assert.match(out, /image: registry\.example\.com\/istio\/proxyv2:1\.27\.3/);
});

test('a mesh config given as plain YAML works the same as the ConfigMap', async (t) => {
  const cm = yaml.load(read('mesh-configmap.yaml')) as { data: { mesh: string } };
  const { writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const file = path.join(scratchDir('meshctl-mesh-', t), 'mesh.yaml');
  writeFileSync(file, cm.data.mesh);
  const a = injectText(web, (await fromFiles({ meshConfigFile: file })).settings).text;
  const b = injectText(web, (await fromFiles({ meshConfigFile: fixture('inject', 'mesh-configmap.yaml') })).settings).text;
  assert.equal(a, b);
});

test('--injectConfigFile brings values, revision, neverInjectSelector and injectedAnnotations, with a note about templates', async () => {
  const { settings, raw } = await fromFiles({ injectConfigFile: fixture('inject', 'injector-configmap.yaml') });
  assert.match(raw.notes?.[0] ?? '', /template texts are not interpreted/);
  const out = injectText(web, settings);
  assert.deepEqual(load(out.text), load(read('shop-web.canary.injected.yaml')));
  const never = { name: 'never.yaml', text: web.text.replace('app.kubernetes.io/version: v2.3.1', 'app.kubernetes.io/version: v2.3.1\n        shop.example/no-mesh: "yes"') };
  const n = injectText(never, settings);
  assert.equal(n.text, never.text);
  assert.match(n.notes[0], /neverInjectSelector/);
});

test('--valuesFile beats the values inside --injectConfigFile; flags beat both', async () => {
  const { settings } = await fromFiles(
    { injectConfigFile: fixture('inject', 'injector-configmap.yaml'), valuesFile: fixture('inject', 'values.yaml') },
    { tag: '9.9.9' },
  );
  const out = injectText(web, settings).text;
  assert.match(out, /image: registry\.example\.com\/istio\/proxyv2:9\.9\.9/);
  assert.match(out, /--proxyLogLevel=info/);
  assert.match(out, /istiod-canary\.istio-system\.svc:15012/, 'the revision from the ConfigMap values stays');
});

test('--revision, --hub, --tag and --image', () => {
  const r = injectText(web, resolveSettings({ origin: 'test' }, { revision: 'blue', hub: 'h.example/i', tag: '7' })).text;
  assert.match(r, /istio\.io\/rev: blue/);
  assert.match(r, /value: istiod-blue\.istio-system\.svc:15012/);
  assert.match(r, /"revision":"blue"/);
  assert.equal((r.match(/image: h\.example\/i\/proxyv2:7/g) ?? []).length, 2);
  const i = injectText(web, resolveSettings({ origin: 'test' }, { image: 'x.example/proxy:dev' })).text;
  assert.equal((i.match(/image: x\.example\/proxy:dev/g) ?? []).length, 2);
  // uninject recognises the revision it was injected with
  assert.deepEqual(load(uninjectText({ name: 'x', text: r }).text), load(web.text.replace('port: http', 'port: 8080')));
});

test('missing and malformed settings files are clear errors', async () => {
  await assert.rejects(fromFiles({ valuesFile: 'nope.yaml' }), /^MeshctlError: nope\.yaml: no such file/);
  await assert.rejects(fromFiles({ meshConfigFile: fixture('inject', 'injector-configmap.yaml') }), /has no data\.mesh key/);
  await assert.rejects(fromFiles({ valuesFile: fixture('inject', 'mesh-configmap.yaml') }), /has no data\.values key/);
  await assert.rejects(fromFiles({ valuesFile: fixture('inject', 'shop-mixed.yaml') }), /not valid YAML/);
});

test('the cluster provider reads istio-sidecar-injector[-REV] and istio[-REV], falling back to defaults with notes', async () => {
  const cm = yaml.load(read('injector-configmap.yaml')) as { data: Record<string, string> };
  const mesh = yaml.load(read('mesh-configmap.yaml')) as { data: Record<string, string> };
  const asked: string[] = [];
  const reader = async (ns: string, name: string) => {
    asked.push(`${ns}/${name}`);
    if (name === 'istio-sidecar-injector-canary') return cm.data;
    if (name === 'istio-canary') return mesh.data;
    return undefined;
  };
  const raw = await clusterProvider(reader, { istioNamespace: 'istio-system', revision: 'canary' }).load();
  assert.deepEqual(asked.sort(), ['istio-system/istio-canary', 'istio-system/istio-sidecar-injector-canary']);
  assert.deepEqual(raw.notes, []);
  const out = injectText(web, resolveSettings(raw, {})).text;
  assert.match(out, /istiod-canary\.istio-system\.svc:15012/);
  assert.match(out, /value: shop\.example/);

  const missing = await clusterProvider(reader, { istioNamespace: 'mesh', revision: undefined }).load();
  assert.equal(missing.notes?.length, 2);
  assert.match(missing.notes![0], /ConfigMap mesh\/istio-sidecar-injector not found/);
  assert.deepEqual(load(injectText(web, resolveSettings(missing, {})).text), load(read('shop-web.injected.yaml')));
});
